"""Configuration from the environment. Secrets are never read from the repository."""
from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from handlers.deployment import default_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path(".data")
    database_url: str = ""
    database_schema: str | None = None  # PostgreSQL schema (search_path), e.g. one per city on a shared server
    secret: bytes = b""
    country: str = "kz"  # kz | kg: the city list and the name of the city body (акимат / мэрия)
    default_language: str = "ru"
    survey_path: str | None = None
    telegram_token: str | None = None
    telegram_api_url: str | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    staff: frozenset[str] = field(default_factory=frozenset)
    researchers: frozenset[str] = field(default_factory=frozenset)
    city: str = "almaty"  # a deployment built into handlers/deployments, or a path to such a YAML file
    file_store: str = "local"
    open311_keys: dict[str, str] = field(default_factory=dict)  # api_key -> the client's name
    notify_interval: float = 2.0  # seconds between looks at the outbox

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        data_dir = Path(env.get("PIKIR_DATA_DIR", ".data"))
        return cls(
            data_dir=data_dir,
            database_url=env.get("DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'pikir.sqlite3'}",
            database_schema=env.get("PIKIR_DB_SCHEMA") or None,
            secret=_secret(env.get("PIKIR_SECRET"), data_dir),
            country=env.get("PIKIR_COUNTRY", "kz").lower(),
            default_language=env.get("PIKIR_DEFAULT_LANGUAGE", "ru"),
            survey_path=env.get("PIKIR_SURVEY") or None,
            telegram_token=env.get("TELEGRAM_TOKEN") or None,
            telegram_api_url=env.get("TELEGRAM_API_URL") or None,
            telegram_webhook_url=env.get("TELEGRAM_WEBHOOK_URL") or None,
            telegram_webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET") or None,
            staff=_ids(env.get("PIKIR_STAFF")),
            researchers=_ids(env.get("PIKIR_RESEARCHERS")),
            city=env.get("PIKIR_CITY") or default_for(env.get("PIKIR_COUNTRY", "kz").lower()),
            file_store=env.get("PIKIR_FILE_STORE", "local"),
            open311_keys=_keys(env.get("PIKIR_OPEN311_KEYS")),
            notify_interval=float(env.get("PIKIR_NOTIFY_INTERVAL", "2")),
        )


def _keys(raw: str | None) -> dict[str, str]:
    """`PIKIR_OPEN311_KEYS="cityportal:KEY1,311app:KEY2"`: each API client's name and its key."""
    pairs = (part.strip().split(":", 1) for part in (raw or "").split(",") if ":" in part)
    return {key.strip(): name.strip() for name, key in pairs if key.strip()}


def _ids(raw: str | None) -> frozenset[str]:
    return frozenset(part.strip() for part in (raw or "").split(",") if part.strip())


def _secret(configured: str | None, data_dir: Path) -> bytes:
    """The pseudonym key. Without PIKIR_SECRET a random key is made once and kept in the data directory,
    so a trial install works out of the box and pseudonyms stay stable across restarts."""
    if configured:
        return configured.encode()
    path = data_dir / "pseudonym.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
        log.warning("PIKIR_SECRET is not set; generated %s (set PIKIR_SECRET in production)", path)
    return path.read_text().strip().encode()
