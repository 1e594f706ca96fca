"""Prometheus metrics (served at /metrics by the webhook server)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

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


def render() -> bytes:
    return generate_latest(REGISTRY)
