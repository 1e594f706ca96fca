"""`python -m bot run`: start every channel whose settings are present, behind one webhook server;
with none configured, an interactive console chat."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from bot import metrics
from bot.channels.base import Channel
from bot.channels.connections import ConnectionLimits
from bot.channels.webhook import WebhookServer
from bot.config import Settings
from bot.conversation import Conversation
from bot.warmup import Warmup

log = logging.getLogger("bot.app")
PURGE_INTERVAL = 86400.0  # DATA_RETENTION_DAYS is applied at start and then daily

NO_CHANNEL_HINT = (
    "No chat channel is configured, so this is the console chat.\n"
    "To serve Telegram set TELEGRAM_BOT_TOKEN; for the Zalo Bot Platform set ZALO_BOT_TOKEN; for a Zalo "
    "Official Account set ZALO_OA_APP_ID, ZALO_OA_SECRET_KEY, ZALO_APP_SECRET, ZALO_OA_ACCESS_TOKEN and "
    "ZALO_OA_REFRESH_TOKEN (see .env.example).\n"
)


def build_channels(settings: Settings, conversation: Conversation, server: WebhookServer) -> list[Channel]:
    channels: list[Channel] = []
    if settings.telegram_enabled:
        from bot.channels.telegram import TelegramChannel

        channels.append(TelegramChannel(settings, conversation, server))
    if settings.zalo_bot_enabled:
        from bot.channels.zalo_bot import ZaloBotChannel

        channels.append(ZaloBotChannel(settings, conversation, server))
    if settings.zalo_oa_enabled:
        from bot.channels.zalo_oa import ZaloOAChannel

        channels.append(ZaloOAChannel(settings, conversation, server))
    return channels


async def _index_check(conversation: Conversation, warmup: Warmup) -> tuple[bool, str]:
    if not warmup.done:  # the warm-up is opening the index: /readyz must not wait for it
        return False, "opening"
    try:
        manifest = await asyncio.to_thread(conversation.assistant.engine.manifest)
    except Exception as exc:
        return False, f"index: {type(exc).__name__}"
    metrics.set_index_size(manifest.documents, manifest.chunks)
    return True, f"{manifest.documents} documents, {manifest.chunks} passages"


async def _retention(conversation: Conversation, stop: asyncio.Event) -> None:
    """Delete rows older than DATA_RETENTION_DAYS now and then once a day."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(conversation.purge_old)
        except Exception:
            log.exception("retention purge failed; trying again later")
        try:
            await asyncio.wait_for(stop.wait(), PURGE_INTERVAL)
        except TimeoutError:
            pass


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> None:
    conversation = Conversation.create(settings)
    stop = stop or asyncio.Event()
    retention = asyncio.get_running_loop().create_task(_retention(conversation, stop))
    server = WebhookServer(settings.webhook_host, settings.webhook_port, limits=ConnectionLimits(
        settings.webhook_max_connections, settings.webhook_header_timeout, settings.webhook_body_timeout,
        settings.webhook_idle_timeout))
    channels = build_channels(settings, conversation, server)
    if not channels:
        from bot.channels.console import run_console

        sys.stdout.write(NO_CHANNEL_HINT)
        logging.getLogger().setLevel(logging.WARNING)  # the chat is on this terminal: keep it clean
        try:
            await run_console(conversation)
        finally:
            stop.set()
            await retention
        return
    metrics.watch_index(conversation.assistant.engine.manifest)
    warmup = Warmup()
    server.add_readiness_check("warm-up", warmup.check)
    server.add_readiness_check("index", lambda: _index_check(conversation, warmup))
    for channel in channels:
        server.add_readiness_check(channel.name, channel.ready)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):  # from the start: a stop during the warm-up is clean
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    # /healthz and /readyz (503) answer during the warm-up; webhook requests wait for its end
    server.hold_webhooks()
    try:
        await server.start()
    except OSError as exc:
        if server.has_webhooks:
            raise SystemExit(f"Cannot listen on {settings.webhook_host}:{settings.webhook_port} for webhooks: "
                             f"{exc.strerror or exc}. Set WEBHOOK_HOST/WEBHOOK_PORT.") from exc
        # polling channels still work; only /healthz, /readyz and /metrics are missing
        log.error("health/metrics server not started", extra={"port": settings.webhook_port,
                                                              "error": exc.strerror or str(exc)})
    sync_task = None
    if settings.sync_interval:
        sync_task = asyncio.create_task(conversation.syncer.every(settings.sync_interval, stop))
        log.info("portal sync scheduled", extra={"every_seconds": settings.sync_interval})
    try:
        # the model, the index generation and one full answer, before any channel polls or is ready
        warming = asyncio.ensure_future(warmup.run(conversation))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({warming, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if stop.is_set():
            warming.cancel()
            await asyncio.gather(warming, return_exceptions=True)
            return
        for channel in channels:
            await channel.start()
        server.open_webhooks()
        log.info("bot running", extra={"channels": [c.name for c in channels], "port": server.bound_port,
                                       "warm_up_seconds": round(warmup.seconds or 0.0, 3)})
        await stop.wait()
    finally:
        if sync_task is not None:
            sync_task.cancel()
            await asyncio.gather(sync_task, return_exceptions=True)
        for channel in reversed(channels):
            try:
                await channel.stop()
            except Exception:
                log.exception("channel did not stop cleanly", extra={"channel": channel.name})
        await server.stop()
        stop.set()
        await retention
        conversation.workers.shutdown(wait=False)
        conversation.assistant.engine.close()
        conversation.db.close()
