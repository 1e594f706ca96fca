"""The optional LLM composer's answer check (issue 13, finding 9), through the fake OpenAI-compatible
server: a reply that contradicts its cited passage, or adds advice no passage gives, falls back to the
quoted answer; a faithful reply is used, in English and in Vietnamese."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.answering.assistant import Assistant
from bot.config import Settings
from tests.conftest import settings_env
from tests.fake_llm import FakeLLM

pytestmark = pytest.mark.slow

QUESTION_EN = "Do investors pay land rent in the free trade zone?"
QUESTION_VI = "Nhà đầu tư có phải trả tiền thuê đất trong khu thương mại tự do không?"
FACT_EN = "exempt for the whole lease term"
FACT_VI = "được miễn trong toàn bộ thời gian thuê"


@pytest.fixture
async def llm() -> AsyncIterator[FakeLLM]:
    server = FakeLLM()
    await server.start()
    yield server
    await server.stop()


def assistant(built_index: Path, llm: FakeLLM) -> Assistant:
    return Assistant(Settings.from_env(settings_env(built_index, LLM_BASE_URL=llm.base_url, LLM_MODEL="test-model",
                                                    LLM_TIMEOUT="5")))


def citing(template: str) -> object:
    """A model reply that cites, as {n}, the passage of the prompt holding the land-rent fact."""
    def reply(messages: list[dict]) -> str:
        prompt = messages[-1]["content"]
        for number, body in re.findall(r"^\[(\d+)\] (.*?)(?=^\[\d+\] |\nQuestion)", prompt, re.S | re.M):
            if FACT_EN in body or FACT_VI in body:
                return template.format(n=number)
        return "NO_ANSWER"
    return reply


async def ask(built_index: Path, llm: FakeLLM, question: str, template: str):  # type: ignore[no-untyped-def]
    llm.reply = citing(template)  # type: ignore[assignment]
    return await asyncio.to_thread(assistant(built_index, llm).answer, question)


@pytest.mark.parametrize(("question", "reply"), [
    (QUESTION_EN, "Land and water-surface rent is exempt for the whole lease term, with some exceptions [{n}]."),
    (QUESTION_VI, "Tiền thuê đất, thuê mặt nước được miễn trong toàn bộ thời gian thuê, trừ một số trường hợp [{n}]."),
])
async def test_a_faithful_reply_is_used(built_index: Path, llm: FakeLLM, question: str, reply: str) -> None:
    answer = await ask(built_index, llm, question, reply)
    assert answer.composer == "llm", answer.text
    assert reply.split(" [")[0] in answer.text


@pytest.mark.parametrize(("question", "reply", "bad", "fact"), [
    # contradictions: the reply, and one worded like the passage with the negation flipped
    (QUESTION_EN, "Land rent in the free trade zone is charged in full and no exemption applies [{n}].",
     "no exemption applies", FACT_EN),
    (QUESTION_EN, "Land and water-surface rent is not exempt for the whole lease term, with some exceptions [{n}].",
     "is not exempt", FACT_EN),
    (QUESTION_VI, "Tiền thuê đất, thuê mặt nước không được miễn trong toàn bộ thời gian thuê [{n}].",
     "không được miễn", FACT_VI),
    # invented advice after a true sentence
    (QUESTION_EN, "Land and water-surface rent is exempt for the whole lease term [{n}]. "
                  "Pay the rent in cash to the zone officer [{n}].", "cash", FACT_EN),
    (QUESTION_EN, "Land and water-surface rent is exempt for the whole lease term [{n}]. "
                  "You should call the zone hotline to confirm your exemption [{n}].", "hotline", FACT_EN),
    (QUESTION_VI, "Tiền thuê đất, thuê mặt nước được miễn trong toàn bộ thời gian thuê [{n}]. "
                  "Hãy nộp tiền thuê bằng tiền mặt cho cán bộ khu [{n}].", "tiền mặt", FACT_VI),
    # a number the cited passage does not hold, next to one it does
    (QUESTION_EN, "Land and water-surface rent is exempt for the whole lease term of 70 years [{n}].", "70 years",
     FACT_EN),
])
async def test_a_contradicting_or_inventing_reply_falls_back_to_the_quoted_answer(
        built_index: Path, llm: FakeLLM, question: str, reply: str, bad: str, fact: str) -> None:
    answer = await ask(built_index, llm, question, reply)
    assert llm.requests, "the LLM was not asked"
    assert answer.composer == "extractive" and not answer.refused
    assert bad not in answer.text
    assert fact in answer.text
