"""The answering core: a question in, an `Answer` out. `Assistant` is its one entry.

It knows nothing of Telegram or Zalo; channels and the conversation layer only call
`Assistant.answer` and render the `Answer` it returns.
"""

from bot.answering.answer import Answer, Citation
from bot.answering.assistant import Assistant

__all__ = ["Answer", "Assistant", "Citation"]
