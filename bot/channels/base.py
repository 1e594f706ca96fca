"""What every channel offers the runner."""

from __future__ import annotations

from typing import Protocol


class Channel(Protocol):
    name: str

    async def start(self) -> None:
        """Connect (start polling, or register the webhook) and return; work goes on in tasks."""

    async def stop(self) -> None:
        """Stop polling and close connections."""

    async def ready(self) -> tuple[bool, str]:
        """Whether the channel is connected, with a short detail for /readyz."""
