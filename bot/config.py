"""One settings object for the whole bot, read from the environment (and an optional .env file),
validated at start with a clear message. Every setting is documented in .env.example."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

from indexer.settings import IndexSettings, SettingsError

_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
SECRET_FIELDS = frozenset({
    "telegram_bot_token", "telegram_webhook_secret", "zalo_bot_token", "zalo_bot_webhook_secret",
    "zalo_oa_secret_key", "zalo_app_secret", "zalo_oa_access_token", "zalo_oa_refresh_token",
    "llm_api_key",
})


def _int(env: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}.") from exc
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}.")
    return value


def _float(env: dict[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, got {raw!r}.") from exc
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}.")
    return value


def _url(env: dict[str, str], name: str, default: str = "") -> str:
    value = env.get(name, "").strip() or default
    if value and not value.startswith(("http://", "https://")):
        raise SettingsError(f"{name} must be an http:// or https:// URL, got {value!r}.")
    return value.rstrip("/") if value and not value.endswith("/bot") else value


_INTERVAL = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _interval(env: dict[str, str], name: str) -> float:
    """A duration like 30m, 6h or 1d in seconds; empty, 0 or off = 0 (off)."""
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "off", "none", "false"):
        return 0.0
    match = _INTERVAL.match(raw)
    if not match:
        raise SettingsError(f"{name} must be a duration like 30m, 6h or 1d (or off), got {raw!r}.")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if not 1 <= seconds <= 30 * 86400:
        raise SettingsError(f"{name} must be between 1s and 30d, got {raw!r}.")
    return seconds


@dataclass(frozen=True)
class Settings:
    index: IndexSettings
    default_language: str = "vi"
    # answering
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = ""
    llm_timeout: float = 20.0
    memory_turns: int = 4
    memory_ttl_seconds: int = 1800
    rate_limit_per_minute: int = 12
    max_question_chars: int = 2000
    # shared webhook server
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8080
    webhook_port_set: bool = False
    webhook_max_connections: int = 1000
    webhook_header_timeout: float = 10.0
    webhook_body_timeout: float = 10.0
    webhook_idle_timeout: float = 15.0
    # Telegram
    telegram_bot_token: str = ""
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_webhook_url: str = ""
    telegram_webhook_secret: str = ""
    telegram_admin_ids: frozenset[int] = field(default_factory=frozenset)
    telegram_staff_chat_id: int | None = None
    # Zalo Bot Platform
    zalo_bot_token: str = ""
    zalo_bot_api_base_url: str = "https://bot-api.zaloplatforms.com/bot"
    zalo_bot_webhook_url: str = ""
    zalo_bot_webhook_secret: str = ""
    # Zalo Official Account
    zalo_oa_app_id: str = ""
    zalo_oa_secret_key: str = ""
    zalo_app_secret: str = ""
    zalo_oa_access_token: str = ""
    zalo_oa_refresh_token: str = ""
    zalo_oa_api_base_url: str = "https://openapi.zalo.me"
    zalo_oauth_base_url: str = "https://oauth.zaloapp.com"
    zalo_admin_ids: frozenset[str] = field(default_factory=frozenset)
    # portal sync on a schedule (seconds; 0 = off)
    sync_interval: float = 0.0
    zalo_oa_event_max_age_s: int = 300
    # personal data
    data_retention_days: int = 90
    # operations
    log_format: str = "auto"  # auto | json | text
    log_level: str = "INFO"

    @property
    def data_dir(self) -> Path:
        return self.index.data_dir

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_bot_token)

    @property
    def zalo_bot_enabled(self) -> bool:
        return bool(self.zalo_bot_token)

    @property
    def zalo_oa_enabled(self) -> bool:
        return bool(self.zalo_oa_app_id and self.zalo_oa_secret_key)

    def redacted(self) -> dict[str, object]:
        """Settings as safe to log: secrets shown only as set/unset."""
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS:
                out[f.name] = "<set>" if value else ""
            elif f.name != "index":
                out[f.name] = value if not isinstance(value, frozenset) else sorted(value)
        out["embedding_model"] = self.index.embedding_model
        out["chroma_url"] = self.index.chroma_url or ""
        out["data_dir"] = str(self.index.data_dir)
        return out

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, dotenv: Path | None = Path(".env")) -> Settings:
        if env is None:
            env = dict(os.environ)
            if dotenv is not None and dotenv.exists():
                from dotenv import dotenv_values

                for key, value in dotenv_values(dotenv).items():
                    if value is not None:
                        env.setdefault(key, value)
        index = IndexSettings.from_env(env)
        lang = env.get("DEFAULT_LANGUAGE", "vi").strip().lower() or "vi"
        if lang not in ("vi", "en"):
            raise SettingsError(f"DEFAULT_LANGUAGE must be vi or en, got {lang!r}.")

        secret = env.get("TELEGRAM_WEBHOOK_SECRET", "").strip()
        webhook_url = _url(env, "TELEGRAM_WEBHOOK_URL")
        if webhook_url and not secret:
            raise SettingsError("TELEGRAM_WEBHOOK_URL is set: set TELEGRAM_WEBHOOK_SECRET too "
                                "(1-256 characters of A-Z a-z 0-9 _ -); every webhook request is checked against it.")
        if secret and not _SECRET_RE.match(secret):
            raise SettingsError("TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z a-z 0-9 _ -.")
        zalo_secret = env.get("ZALO_BOT_WEBHOOK_SECRET", "").strip()
        zalo_webhook = _url(env, "ZALO_BOT_WEBHOOK_URL")
        if zalo_webhook and not 8 <= len(zalo_secret) <= 256:
            raise SettingsError("ZALO_BOT_WEBHOOK_URL is set: set ZALO_BOT_WEBHOOK_SECRET too (8-256 characters).")

        admin_raw = env.get("TELEGRAM_ADMIN_IDS", "")
        try:
            admins = frozenset(int(x) for x in re.split(r"[,\s]+", admin_raw.strip()) if x)
        except ValueError as exc:
            raise SettingsError("TELEGRAM_ADMIN_IDS must be Telegram user ids (numbers) separated by commas.") from exc
        staff_raw = env.get("TELEGRAM_STAFF_CHAT_ID", "").strip()
        if staff_raw and not re.fullmatch(r"-?\d{1,20}", staff_raw):
            raise SettingsError("TELEGRAM_STAFF_CHAT_ID must be a Telegram chat id (a number; groups are "
                                f"negative, e.g. -1001234567890), got {staff_raw!r}.")
        zalo_admins = frozenset(x for x in re.split(r"[,\s]+", env.get("ZALO_ADMIN_IDS", "").strip()) if x)

        oa_fields = ["ZALO_OA_APP_ID", "ZALO_OA_SECRET_KEY"]
        oa_set = [n for n in (*oa_fields, "ZALO_APP_SECRET", "ZALO_OA_ACCESS_TOKEN", "ZALO_OA_REFRESH_TOKEN")
                  if env.get(n, "").strip()]
        if oa_set and not all(env.get(n, "").strip() for n in oa_fields):
            raise SettingsError("Zalo OA needs ZALO_OA_APP_ID and ZALO_OA_SECRET_KEY (the OA secret key that "
                                "signs webhook events); only " + ", ".join(oa_set) + " are set.")

        log_format = env.get("LOG_FORMAT", "auto").strip().lower() or "auto"
        if log_format not in ("auto", "json", "text"):
            raise SettingsError("LOG_FORMAT must be auto, json or text.")
        llm_base = _url(env, "LLM_BASE_URL")
        llm_model = env.get("LLM_MODEL", "").strip()
        if bool(llm_base) != bool(llm_model):
            raise SettingsError("The LLM composer needs both LLM_BASE_URL and LLM_MODEL (or neither).")

        return cls(
            index=index,
            default_language=lang,
            llm_base_url=llm_base,
            llm_model=llm_model,
            llm_api_key=env.get("LLM_API_KEY", "").strip(),
            llm_timeout=_float(env, "LLM_TIMEOUT", 20.0, 0.1, 300.0),
            memory_turns=_int(env, "MEMORY_TURNS", 4, 0, 50),
            memory_ttl_seconds=_int(env, "MEMORY_TTL_SECONDS", 1800, 10, 7 * 86400),
            rate_limit_per_minute=_int(env, "RATE_LIMIT_PER_MINUTE", 12, 1, 10000),
            max_question_chars=_int(env, "MAX_QUESTION_CHARS", 2000, 50, 100000),
            webhook_host=env.get("WEBHOOK_HOST", "").strip() or "127.0.0.1",
            webhook_port=_int(env, "WEBHOOK_PORT", 8080, 1, 65535),
            webhook_port_set=bool(env.get("WEBHOOK_PORT", "").strip()),
            webhook_max_connections=_int(env, "WEBHOOK_MAX_CONNECTIONS", 1000, 8, 100000),
            webhook_header_timeout=_float(env, "WEBHOOK_HEADER_TIMEOUT", 10.0, 0.1, 300.0),
            webhook_body_timeout=_float(env, "WEBHOOK_BODY_TIMEOUT", 10.0, 0.1, 300.0),
            webhook_idle_timeout=_float(env, "WEBHOOK_IDLE_TIMEOUT", 15.0, 0.1, 3600.0),
            telegram_bot_token=env.get("TELEGRAM_BOT_TOKEN", "").strip(),
            telegram_api_base_url=_url(env, "TELEGRAM_API_BASE_URL", "https://api.telegram.org/bot"),
            telegram_webhook_url=webhook_url,
            telegram_webhook_secret=secret,
            telegram_admin_ids=admins,
            telegram_staff_chat_id=int(staff_raw) if staff_raw else None,
            zalo_bot_token=env.get("ZALO_BOT_TOKEN", "").strip(),
            zalo_bot_api_base_url=_url(env, "ZALO_BOT_API_BASE_URL", "https://bot-api.zaloplatforms.com/bot"),
            zalo_bot_webhook_url=zalo_webhook,
            zalo_bot_webhook_secret=zalo_secret,
            zalo_oa_app_id=env.get("ZALO_OA_APP_ID", "").strip(),
            zalo_oa_secret_key=env.get("ZALO_OA_SECRET_KEY", "").strip(),
            zalo_app_secret=env.get("ZALO_APP_SECRET", "").strip(),
            zalo_oa_access_token=env.get("ZALO_OA_ACCESS_TOKEN", "").strip(),
            zalo_oa_refresh_token=env.get("ZALO_OA_REFRESH_TOKEN", "").strip(),
            zalo_oa_api_base_url=_url(env, "ZALO_OA_API_BASE_URL", "https://openapi.zalo.me"),
            zalo_oauth_base_url=_url(env, "ZALO_OAUTH_BASE_URL", "https://oauth.zaloapp.com"),
            zalo_admin_ids=zalo_admins,
            sync_interval=_interval(env, "SYNC_INTERVAL"),
            zalo_oa_event_max_age_s=_int(env, "ZALO_OA_EVENT_MAX_AGE_S", 300, 5, 86400),
            data_retention_days=_int(env, "DATA_RETENTION_DAYS", 90, 1, 3650),
            log_format=log_format,
            log_level=(env.get("LOG_LEVEL", "INFO").strip().upper() or "INFO"),
        )
