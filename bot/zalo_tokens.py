"""The Zalo Official Account access token and its single-use refresh token.

An OA access token lasts about 25 hours; a refresh token lasts about three months and can be used
once: every refresh returns a new pair and kills the old refresh token. So the new pair is written
to DATA_DIR/zalo_oa_tokens.json (atomically) before it is used, the saved pair wins over the
environment at start (the environment's refresh token may already be spent), and refreshes never
overlap: an asyncio lock inside the process, a file lock across processes, and a re-read of the
file once the lock is held (another process may have refreshed meanwhile).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from filelock import FileLock

from bot.logging_setup import register_secret
from indexer.fileio import write_atomic

log = logging.getLogger("bot.zalo_oa.tokens")

TOKEN_FILE = "zalo_oa_tokens.json"
LOCK_FILE = "zalo_oa_tokens.lock"
EXPIRY_MARGIN = 120.0  # refresh this many seconds before the recorded expiry
DEFAULT_EXPIRES_IN = 90000  # what Zalo documents (25 h) when an answer lacks a usable value


class TokenRefreshError(Exception):
    """The token could not be refreshed (no refresh token, rejected, or OAuth unreachable)."""


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_at: float | None  # epoch seconds; None when unknown (a pair taken from the environment)

    def expired(self, now: float | None = None) -> bool:
        if not self.access_token:
            return True
        if self.expires_at is None:
            return False
        return (now or time.time()) >= self.expires_at - EXPIRY_MARGIN


class OATokenStore:
    def __init__(self, data_dir: Path, app_id: str, app_secret: str, oauth_base_url: str,
                 env_access_token: str = "", env_refresh_token: str = "", lock_timeout: float = 60.0,
                 http_timeout: float = 20.0) -> None:
        self.path = data_dir / TOKEN_FILE
        self.app_id = app_id
        self.app_secret = app_secret
        self.oauth_url = oauth_base_url.rstrip("/") + "/v4/oa/access_token"
        self.lock_timeout = lock_timeout
        self.http_timeout = http_timeout
        data_dir.mkdir(parents=True, exist_ok=True)
        # thread_local=False: acquired and released from worker threads of the event loop
        self._file_lock = FileLock(str(data_dir / LOCK_FILE), thread_local=False)
        self._lock = asyncio.Lock()
        self.refreshes = 0
        self.last_error = ""
        saved = self._read_file()
        self._pair = saved or TokenPair(env_access_token, env_refresh_token, None)
        self._mask(self._pair)
        self.source = "saved" if saved else "environment"

    @staticmethod
    def _mask(pair: TokenPair) -> None:
        """Tokens learnt at run time are masked in every log line, like the configured ones."""
        register_secret(pair.access_token)
        register_secret(pair.refresh_token)

    @property
    def pair(self) -> TokenPair:
        return self._pair

    def delivered(self) -> None:
        """A message went through with the current token: a past refresh failure no longer holds."""
        if self.last_error:
            log.info("Zalo OA sending works again", extra={"previous_error": self.last_error[:200]})
            self.last_error = ""

    # -- file ------------------------------------------------------------------------------------
    def _read_file(self) -> TokenPair | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.error("saved Zalo OA tokens unreadable; using the environment",
                      extra={"path": str(self.path), "error": type(exc).__name__})
            return None
        if not isinstance(data, dict) or not data.get("refresh_token"):
            return None
        if data.get("app_id") and str(data["app_id"]) != self.app_id:
            log.warning("saved Zalo OA tokens belong to another app id; ignoring them")
            return None
        expires = data.get("expires_at")
        return TokenPair(str(data.get("access_token") or ""), str(data["refresh_token"]),
                         float(expires) if isinstance(expires, int | float) else None)

    def _write_file(self, pair: TokenPair) -> None:
        """Atomically: a temporary file in the same directory, flushed, then renamed over."""
        payload = {"app_id": self.app_id, "access_token": pair.access_token, "refresh_token": pair.refresh_token,
                   "expires_at": pair.expires_at, "refreshed_at": time.time()}
        write_atomic(self.path, json.dumps(payload).encode("utf-8"), mode=0o600)

    # -- tokens ----------------------------------------------------------------------------------
    async def access_token(self, session: aiohttp.ClientSession) -> str:
        """A token believed valid: refreshed first when the recorded expiry has passed."""
        pair = self._pair
        if pair.expired():
            return await self.refresh(session, stale=pair.access_token)
        return pair.access_token

    async def refresh(self, session: aiohttp.ClientSession, stale: str) -> str:
        """Replace the access token `stale` (rejected or expired) and return the new one. When
        someone else (this process or another) has replaced it already, their token is used."""
        async with self._lock:
            current = self._pair
            if current.access_token and current.access_token != stale and not current.expired():
                return current.access_token
            acquired = await asyncio.to_thread(self._acquire_file_lock)
            if not acquired:
                raise TokenRefreshError("timed out waiting for another process's token refresh")
            try:
                saved = self._read_file()
                if saved and saved.access_token and saved.access_token != stale and not saved.expired():
                    self._mask(saved)
                    self._pair = saved
                    self.last_error = ""
                    log.info("using the Zalo OA token another process refreshed")
                    return saved.access_token
                refresh_token = (saved or current).refresh_token
                new = await self._request(session, refresh_token)
                self._mask(new)
                self._write_file(new)  # persisted BEFORE first use: the old refresh token is now dead
                self._pair = new
                self.source = "saved"
                self.refreshes += 1
                self.last_error = ""
                log.info("Zalo OA access token refreshed",
                         extra={"expires_in": round((new.expires_at or 0) - time.time())})
                return new.access_token
            finally:
                self._file_lock.release()

    def _acquire_file_lock(self) -> bool:
        try:
            self._file_lock.acquire(timeout=self.lock_timeout)
        except Exception:
            return False
        return True

    async def _request(self, session: aiohttp.ClientSession, refresh_token: str) -> TokenPair:
        if not refresh_token:
            self.last_error = "no refresh token"
            raise TokenRefreshError("no Zalo OA refresh token is configured (ZALO_OA_REFRESH_TOKEN)")
        if not self.app_secret:
            self.last_error = "no app secret"
            raise TokenRefreshError("ZALO_APP_SECRET is needed to refresh the Zalo OA access token")
        form = {"refresh_token": refresh_token, "app_id": self.app_id, "grant_type": "refresh_token"}
        try:
            async with session.post(self.oauth_url, data=form, headers={"secret_key": self.app_secret},
                                    timeout=aiohttp.ClientTimeout(total=self.http_timeout)) as resp:
                status = resp.status
                try:
                    body: Any = await resp.json(content_type=None)
                except (ValueError, aiohttp.ContentTypeError):
                    body = None
        except (TimeoutError, aiohttp.ClientError) as exc:
            self.last_error = f"OAuth unreachable ({type(exc).__name__})"
            raise TokenRefreshError(f"Zalo OAuth server unreachable: {type(exc).__name__}") from exc
        if not isinstance(body, dict) or not body.get("access_token") or not body.get("refresh_token"):
            detail = ""
            if isinstance(body, dict):
                detail = str(body.get("error_description") or body.get("error_name") or body.get("message") or "")
                detail = f" (error {body.get('error')}: {detail[:200]})" if body.get("error") else detail[:200]
            self.last_error = f"refresh rejected: HTTP {status}{detail}"
            log.error("Zalo OA token refresh rejected", extra={"status": status, "detail": detail})
            raise TokenRefreshError(f"Zalo OA token refresh rejected: HTTP {status}{detail}")
        try:
            expires_in = int(str(body.get("expires_in", DEFAULT_EXPIRES_IN)).strip())
        except ValueError:
            expires_in = DEFAULT_EXPIRES_IN
        return TokenPair(str(body["access_token"]), str(body["refresh_token"]), time.time() + max(expires_in, 0))
