# Hai Phong policy assistant: one image for the bot (`python -m bot run`, the default) and the
# indexer (`python -m indexer ...`). The knowledge base is indexed at build time, so a container
# answers from the first second; with CHROMA_URL set it uses a Chroma server instead (compose.yaml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 --user-group --shell /usr/sbin/nologin app
WORKDIR /app

# Dependencies from the pinned ranges in pyproject.toml (no dev or optional extras).
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY indexer ./indexer
RUN pip install . && rm -rf build ./*.egg-info

COPY knowledge ./knowledge

ENV DATA_DIR=/app/data \
    KNOWLEDGE_DIR=/app/knowledge \
    WEBHOOK_HOST=0.0.0.0 \
    WEBHOOK_PORT=8080 \
    LOG_FORMAT=json

# Build the index into the image (embedded Chroma under DATA_DIR); the bot's data (staff log,
# chat memory, rate limits, Zalo OA tokens) also lives in DATA_DIR: mount a volume there.
RUN python -m indexer build && chown -R app:app /app/data /app/knowledge

USER app
EXPOSE 8080
VOLUME ["/app/data"]

# Liveness: /healthz answers while the process is up (python's urllib: there is no curl in slim).
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('WEBHOOK_PORT', '8080'), timeout=4)"]

CMD ["python", "-m", "bot", "run"]
