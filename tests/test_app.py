"""`serve()`: a polling-only bot keeps answering when the health/metrics port is taken, and stops
cleanly."""

from __future__ import annotations

import asyncio
import socket

from bot.app import serve
from tests.fake_zalo import FakeZalo


async def test_polling_bot_answers_even_when_the_health_port_is_busy(make_settings) -> None:  # type: ignore[no-untyped-def]
    fake = await FakeZalo().start()
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    settings = make_settings(ZALO_BOT_TOKEN=fake.bot_token, ZALO_BOT_API_BASE_URL=fake.bot_api_base,
                             WEBHOOK_PORT=str(port), RATE_LIMIT_PER_MINUTE="100")
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop))
    try:
        fake.queue_update(fake.text_event("Who signed Resolution 226/2025/QH15?"))
        sent = await fake.wait_bot_messages(1, seconds=120)
        assert sent and "Tran Thanh Man" in sent[0].text
        assert not task.done()
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        busy.close()
        await fake.stop()
