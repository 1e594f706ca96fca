"""Stopping a subprocess started by a test or benchmark: SIGTERM, then SIGKILL after a grace period."""

from __future__ import annotations

import asyncio
import signal


async def terminate(proc: asyncio.subprocess.Process, grace: float = 30.0) -> None:
    """Ask the process to stop; kill it if it has not stopped within `grace` seconds."""
    if proc.returncode is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), grace)
    except TimeoutError:
        proc.kill()
        await proc.wait()
