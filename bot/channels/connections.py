"""Connection limits of the webhook server: a cap on open connections, a deadline for a request's
head, and (with aiohttp's keep-alive timeout) a deadline for an idle connection.

Each accepted connection is wrapped by a `GuardedConnection` that forwards everything to aiohttp's
own protocol. A connection is *idle* (no request started), *reading* (bytes of a request head
arrived, the handler has not started) or *busy* (a handler is running: the webhook server's
middleware marks start and end). When the cap is reached, the connection that has been quiet the
longest and is not busy is closed to make room, so idle or slow clients can never lock real users
(or /healthz) out; when every connection is busy the new one is closed at once.

- idle:    closed by aiohttp after WEBHOOK_IDLE_TIMEOUT (also a connection that never sends a byte)
- reading: closed after WEBHOOK_HEADER_TIMEOUT if the head is still not complete (slow clients)
- body:    the body must arrive within WEBHOOK_BODY_TIMEOUT (enforced by the webhook server); while
           it is awaited the connection counts as reading, so it may be closed to make room
- busy:    a handler is working on a complete request: never closed by the cap
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("bot.webhook.connections")

# File descriptors kept free for everything else of the process (index, database, outgoing HTTP).
FD_RESERVE = 128


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int = 1000
    header_timeout: float = 10.0
    body_timeout: float = 10.0
    idle_timeout: float = 15.0

    def effective_max(self) -> int:
        """The cap, lowered so that it always stays below the open-file limit."""
        try:
            soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        except (OSError, ValueError):
            return self.max_connections
        if soft == resource.RLIM_INFINITY:
            return self.max_connections
        return max(8, min(self.max_connections, soft - FD_RESERVE))


IDLE, READING, BUSY = "idle", "reading", "busy"


class GuardedConnection(asyncio.Protocol):
    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool
        self.inner: asyncio.Protocol | None = None
        self.transport: asyncio.Transport | None = None
        self.state = IDLE
        self._busy = 0
        self._timer: asyncio.TimerHandle | None = None

    # -- asyncio.Protocol ------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if not self.pool.admit(self):
            transport.abort()
            return
        self.inner = self.pool.make_inner()
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self.inner is None:
            return
        self.pool.touch(self)
        if self.state == IDLE:
            self.state = READING
            self._arm(self.pool.limits.header_timeout)
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received() if self.inner is not None else None

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        self.pool.forget(self)
        if self.inner is not None:
            self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self.inner is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.inner is not None:
            self.inner.resume_writing()

    # -- request life (from the server's middleware) --------------------------------------------
    def request_started(self) -> None:
        self._busy += 1
        self.state = BUSY
        self._cancel()

    def body_started(self) -> None:
        """The handler waits for the request body: evictable meanwhile, so clients that send a head and
        then a slow body cannot pin every slot (the body timeout ends them anyway)."""
        if self._busy:
            self.state = READING

    def body_finished(self) -> None:
        if self._busy:
            self.state = BUSY

    def request_finished(self) -> None:
        self._busy = max(0, self._busy - 1)
        if not self._busy:
            self.state = IDLE
            self.pool.touch(self)

    # -- timers ----------------------------------------------------------------------------------
    def _arm(self, seconds: float) -> None:
        self._cancel()
        self._timer = asyncio.get_running_loop().call_later(seconds, self._head_timed_out)

    def _cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _head_timed_out(self) -> None:
        self._timer = None
        if self.state == READING and self.transport is not None:
            self.pool.closed_slow += 1
            log.warning("webhook connection closed: request head not received in time",
                        extra={"timeout": self.pool.limits.header_timeout})
            self.transport.abort()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()


class ConnectionPool:
    """The protocol factory handed to asyncio's create_server; knows every open connection."""

    def __init__(self, make_inner: Callable[[], asyncio.Protocol], limits: ConnectionLimits) -> None:
        self.make_inner = make_inner
        self.limits = limits
        self.max_connections = limits.effective_max()
        self._open: OrderedDict[GuardedConnection, None] = OrderedDict()  # quietest first
        self._by_transport: dict[int, GuardedConnection] = {}
        self.evicted = 0
        self.refused = 0
        self.closed_slow = 0

    def __call__(self) -> GuardedConnection:
        return GuardedConnection(self)

    def __len__(self) -> int:
        return len(self._open)

    def admit(self, conn: GuardedConnection) -> bool:
        if len(self._open) >= self.max_connections:
            victim = next((c for c in self._open if c.state != BUSY), None)
            if victim is None:
                self.refused += 1
                log.warning("webhook connection refused: every connection is busy",
                            extra={"max_connections": self.max_connections})
                return False
            self.evicted += 1
            log.warning("webhook connection limit reached; closing the longest-quiet connection",
                        extra={"max_connections": self.max_connections})
            self.forget(victim)
            victim.close()
        self._open[conn] = None
        if conn.transport is not None:
            self._by_transport[id(conn.transport)] = conn
        return True

    def touch(self, conn: GuardedConnection) -> None:
        if conn in self._open:
            self._open.move_to_end(conn)

    def forget(self, conn: GuardedConnection) -> None:
        self._open.pop(conn, None)
        if conn.transport is not None and self._by_transport.get(id(conn.transport)) is conn:
            del self._by_transport[id(conn.transport)]

    def for_transport(self, transport: object) -> GuardedConnection | None:
        return self._by_transport.get(id(transport)) if transport is not None else None

    def close_all(self) -> None:
        for conn in list(self._open):
            conn.close()
        self._open.clear()
        self._by_transport.clear()
