"""The bounded pool of worker threads for CPU work (answering a question), sized to the cores.

The event loop hands CPU work here and keeps serving webhooks, polling and replies meanwhile.
More threads than cores would only make every answer slower under a burst (they share the same
cores and the interpreter lock); fewer would leave a core idle while another question waits.
Questions beyond the pool's size wait in its queue, in arrival order.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def cores() -> int:
    """CPUs this process may run on (not the host's count when it is pinned to fewer)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class WorkerPool:
    def __init__(self, size: int | None = None, name: str = "cpu") -> None:
        self.size = max(1, size or cores())
        self._executor = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix=name)

    async def run(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run `fn` on a worker thread (with the caller's context variables) and await its result."""
        loop = asyncio.get_running_loop()
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        return await loop.run_in_executor(self._executor, call)

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking work; jobs not started yet are dropped."""
        self._executor.shutdown(wait=wait, cancel_futures=True)
