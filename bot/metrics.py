"""Prometheus metrics (served at /metrics by the webhook server)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# The classic Prometheus text format, which generate_latest() writes.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

REGISTRY = CollectorRegistry(auto_describe=True)

QUESTIONS = Counter("assistant_questions_total", "Questions answered, by channel and language",
                    ["channel", "language"], registry=REGISTRY)
REFUSALS = Counter("assistant_refusals_total", "Questions refused (knowledge base does not cover them)",
                   ["channel", "language"], registry=REGISTRY)
VOTES = Counter("assistant_votes_total", "Votes on answers", ["vote"], registry=REGISTRY)
RATE_LIMITED = Counter("assistant_rate_limited_total", "Messages refused by the per-user rate limit",
                       ["channel"], registry=REGISTRY)
ERRORS = Counter("assistant_errors_total", "Errors while answering", ["channel"], registry=REGISTRY)
ANSWER_SECONDS = Histogram(
    "assistant_answer_seconds", "Time to answer a question",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0), registry=REGISTRY)
INDEX_DOCUMENTS = Gauge("assistant_index_documents", "Documents in the active index", registry=REGISTRY)
INDEX_CHUNKS = Gauge("assistant_index_chunks", "Passages in the active index", registry=REGISTRY)

_index_source: Callable[[], Any] | None = None


def watch_index(manifest: Callable[[], Any] | None) -> None:
    """Read the index size from `manifest()` (anything with .documents and .chunks, e.g.
    SearchEngine.manifest) whenever metrics are rendered, so the gauges follow refreshes."""
    global _index_source
    _index_source = manifest


def set_index_size(documents: int, chunks: int) -> None:
    INDEX_DOCUMENTS.set(documents)
    INDEX_CHUNKS.set(chunks)


def update_index_size() -> None:
    source = _index_source
    if source is None:
        return
    try:
        manifest = source()
    except Exception as exc:  # no index yet: keep the last known values
        logging.getLogger("bot.metrics").debug("index size unavailable", extra={"error": type(exc).__name__})
        return
    set_index_size(int(manifest.documents), int(manifest.chunks))


def render() -> bytes:
    """The metrics in the Prometheus text format (CONTENT_TYPE); may read the index manifest, so
    call it from a worker thread in async code."""
    update_index_size()
    return generate_latest(REGISTRY)
