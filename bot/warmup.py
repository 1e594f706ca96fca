"""Warm-up at start: everything an answer needs is loaded before the bot says it is ready.

The embedding model, the active index generation (vectors, BM25, term tables), the language
detector, the evidence judge's tables and the worker pool are all loaded by answering a few
questions through the same Assistant and pool the channels use. Until that is done `/readyz`
says 503 and no channel polls or handles webhooks, so a deploy never makes the first users wait.
"""

from __future__ import annotations

import logging
import time

from bot.answering.assistant import Assistant
from bot.conversation import Conversation
from bot.language import detect

log = logging.getLogger("bot.warmup")

# One question that is answered (retrieval, evidence, composition) and one that is refused (the
# contact passage); Vietnamese typed without diacritics as many users do.
QUESTIONS = ("What does Resolution 226 allow Hai Phong to do?", "thoi tiet hom nay the nao")
# No marker word of either language: the statistical language detector has to load its models.
DETECTOR_TEXT = "Rotterdam Amsterdam Singapore"


def warm(assistant: Assistant) -> None:
    """Load and exercise everything an answer touches (blocking; run it on a worker)."""
    assistant.engine.snapshot()
    assistant.warm()  # answer units, off-domain examples, word lists
    detect(DETECTOR_TEXT)
    for question in QUESTIONS:
        assistant.answer(question)


class Warmup:
    """The warm-up's state, as a readiness check for /readyz."""

    def __init__(self) -> None:
        self.done = False
        self.seconds: float | None = None
        self.detail = "warming up"

    async def check(self) -> tuple[bool, str]:
        return (True, self.detail) if self.done else (False, "warming up")

    async def run(self, conversation: Conversation) -> None:
        """Warm up on the conversation's worker pool. A failure (no index yet) is logged, not
        raised: the index check keeps /readyz at 503 until an index is there."""
        started = time.perf_counter()
        try:
            await conversation.workers.run(warm, conversation.assistant)
            self.seconds = time.perf_counter() - started
            self.detail = f"warmed up in {self.seconds:.2f} s"
        except Exception as exc:
            log.error("warm-up failed; answers will say the index is not ready until it is built",
                      extra={"error": f"{type(exc).__name__}: {str(exc)[:300]}"})
            self.detail = f"warm-up failed: {type(exc).__name__}"
        finally:
            self.done = True
