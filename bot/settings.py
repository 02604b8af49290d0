"""Settings from the environment and `.env`, one class per section.

Every number the law or the provincial plans fix is a setting here, with that default.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATA_DIR = Path("data")


class _Section(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")


class TelegramSettings(_Section):
    """How to reach Telegram: the token and an optional self-hosted Bot API server."""

    bot_token: SecretStr | None = None
    # Base URL of a custom Bot API server (e.g. http://127.0.0.1:8081); None = Telegram's.
    telegram_api_base: str | None = None
    # Seconds aiogram waits for one HTTP request. Generous: a call that times out may still
    # have been carried out by Telegram, and a message sent again would arrive twice.
    telegram_timeout: float = 60.0
    # A message being sent is claimed this long (at least twice the timeout); a worker that
    # dies while sending leaves its rows to be reconciled once the claim expires.
    outbox_claim_seconds: float = Field(120.0, gt=0)
    # Updates handled at once (UPDATE_WORKERS); the rest wait, stored, in the inbox.
    update_workers: int = Field(8, ge=1, le=64)


class DatabaseSettings(_Section):
    """Where cases live: SQLite file by default, PostgreSQL (asyncpg) to scale out."""

    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_DATA_DIR}/citizen_bot.sqlite3"
    # FSM storage: Redis when set, the database otherwise.
    redis_url: str | None = None
    database_echo: bool = False


class ServerSettings(_Section):
    """How the process is reached: webhook or polling, health and metrics, logs."""

    # Set: Telegram pushes updates to this HTTPS URL (setWebhook on start); unset: polling.
    webhook_url: str | None = None
    # Telegram sends it in X-Telegram-Bot-Api-Secret-Token (setWebhook secret_token); unset,
    # one is derived from the bot token, so every process of one bot agrees on it.
    webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"  # behind the reverse proxy
    webhook_port: int = Field(8080, ge=1, le=65535)
    # Bot API setWebhook max_connections (1-100): parallel requests Telegram makes.
    webhook_max_connections: int = Field(40, ge=1, le=100)
    # Polling mode: /metrics and /healthz on this port (unset: no server). Webhook mode
    # serves them on the webhook's own port.
    metrics_port: int | None = Field(None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"
    # /healthz fails when the tick has not completed for this long, or when a due outbox
    # message has waited this long.
    health_tick_seconds: int = Field(300, ge=60)
    health_outbox_seconds: int = Field(600, ge=30)

    @field_validator("webhook_secret")
    @classmethod
    def _secret_chars(cls, value: SecretStr | None) -> SecretStr | None:
        # Bot API setWebhook: secret_token is 1-256 characters of A-Z, a-z, 0-9, _ and -.
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()
        ):
            raise ValueError("WEBHOOK_SECRET: 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("webhook_url", "metrics_port", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def webhook_path(self) -> str:
        """The path Telegram posts to, taken from WEBHOOK_URL (the proxy passes it through)."""
        return urlsplit(self.webhook_url or "").path or "/webhook"


class RetentionSettings(_Section):
    """How long housekeeping keeps what grows without bound; env prefix RETENTION_."""

    model_config = SettingsConfigDict(
        env_prefix="RETENTION_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Delivered outbox rows (the message ids that matter live on in message_links).
    outbox_days: int = Field(30, ge=1)
    # Handled update ids: Telegram keeps an undelivered update for at most 24 hours (Bot API
    # getUpdates), so two days of ids are enough to recognise any re-delivery.
    updates_days: int = Field(2, ge=2)
    # Conversations (drafts) not touched for this long; also the TTL of Redis FSM keys.
    fsm_days: int = Field(30, ge=1)
    # How often a process runs housekeeping.
    every_minutes: int = Field(60, ge=1)


class BotSettings(_Section):
    """Who administers the bot, and how it talks."""

    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    timezone: str = "Asia/Ho_Chi_Minh"
    locale: Literal["vi", "en"] = "vi"
    # The province the bot serves: its national statistics code (68 = Lâm Đồng, the bundled
    # sample's). Addresses are resolved to its communes; empty turns commune routing off.
    province_code: str | None = "68"

    @field_validator("province_code", mode="before")
    @classmethod
    def _province(cls, value: object) -> object:
        if value is None or (
            isinstance(value, str) and value.strip().lower() in ("", "none", "off")
        ):
            return None
        text = str(value).strip()
        if not text.isdigit() or len(text) > 2:
            raise ValueError("PROVINCE_CODE is the 2-digit national statistics code, e.g. 68")
        return f"{int(text):02d}"

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        # ADMIN_IDS=123,456 (commas or spaces), as admins write it in a .env file.
        if isinstance(value, str):
            return [int(part) for part in value.replace(",", " ").split()]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("timezone")
    @classmethod
    def _valid_tz(cls, value: str) -> str:
        ZoneInfo(value)  # raises for an unknown zone
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class CaseSettings(_Section):
    """PAKN rules (NĐ 20/2008/NĐ-CP, NĐ 61/2018/NĐ-CP); env names are prefixed with CASE_."""

    model_config = SettingsConfigDict(
        env_prefix="CASE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    reply_days: int = Field(10, ge=1, le=365)  # provincial KSTTHC plans: "trong thời gian 10 ngày"
    reply_unit: Literal["calendar", "working"] = "calendar"
    transfer_working_days: int = Field(5, ge=1)  # NĐ 20/2008 Điều 9
    transfer_clock: Literal["carry", "restart"] = "carry"
    default_agency: str = "TTPVHCC"  # the coordinating agency when nothing else matches
    daily_limit: int = Field(5, ge=1)
    duplicate_window_minutes: int = Field(60, ge=0)
    max_text_chars: int = Field(3000, ge=100)
    min_text_chars: int = Field(15, ge=1)
    max_attachments: int = Field(5, ge=0)
    max_file_mb: int = Field(20, ge=1)
    max_extensions: int = Field(1, ge=0)  # NĐ 61/2018 Điều 19 k.9: moved only once
    extension_min_days_before: int = Field(1, ge=0)  # apology at least 1 day before due
    reminder_days_before: Annotated[list[int], NoDecode] = Field(default_factory=lambda: [2, 1])
    progress_update_days: int = Field(0, ge=0)  # TT 02/2017: 7 on national channels; 0 = off
    code_prefix_feedback: str = "PA"
    code_prefix_suggestion: str = "KN"
    # How long a question the bot asks an official in a group (reason, date, correction)
    # waits for its reply before it expires.
    prompt_minutes: int = Field(30, ge=1)

    @field_validator("reminder_days_before", mode="before")
    @classmethod
    def _split_days(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(",", " ").split()]
        return value


class ReportSettings(_Section):
    """When reminders and reports go out; env names are prefixed with REPORT_."""

    model_config = SettingsConfigDict(
        env_prefix="REPORT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    day_start_hour: int = Field(8, ge=0, le=23)  # nothing is pushed to staff before this
    weekly_weekday: int = Field(0, ge=0, le=6)  # Monday
    monthly_day: int = Field(5, ge=1, le=28)  # provincial plans: late list "ngày 05 hàng tháng"
    quarterly_day: int = Field(19, ge=1, le=28)  # TT 01/2020/TT-VPCP: "ngày 19 tháng cuối quý"
    satisfaction_target: float = Field(0.9, ge=0, le=1)  # provincial plans: ≥ 90% satisfied
    # The leadership's chats (a group or people): all-agency reports go there besides admins.
    leadership_chat_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)

    @field_validator("leadership_chat_ids", mode="before")
    @classmethod
    def _split_chats(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(",", " ").split()]
        if isinstance(value, int):
            return [value]
        return value


class SearchSettings(_Section):
    """Knowledge-base answers; env names are prefixed with SEARCH_."""

    model_config = SettingsConfigDict(
        env_prefix="SEARCH_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    suggestions: int = Field(3, ge=1, le=8)
    lexicon_path: Path | None = None  # extra colloquial → official terms (TSV)
    life_events_path: Path | None = None  # extra life events (TSV, as knowledge/data/)
    examples_path: Path | None = None  # extra example phrases (TSV code<TAB>phrase)
    # The built index, kept so a restart on an unchanged KB loads it instead of building it
    # (knowledge/search/cache.py); "" or "off": never kept.
    cache_dir: str = str(DEFAULT_DATA_DIR / "cache")
    import_max_mb: int = Field(5, ge=1)  # a file sent to the bot in a chat
    # A file given to `citizen-bot kb import` on the server: a whole province's list is bigger
    # than what is sensible to send in a chat (and Bot API downloads stop at 20 MB).
    cli_import_max_mb: int = Field(200, ge=1)

    @property
    def cache_path(self) -> Path | None:
        """Where the built index is kept (None: nowhere)."""
        value = self.cache_dir.strip()
        return None if value.lower() in ("", "off", "none") else Path(value)


class Settings:
    """All sections together; built once by `main()` and passed down."""

    def __init__(
        self,
        *,
        telegram: TelegramSettings | None = None,
        database: DatabaseSettings | None = None,
        bot: BotSettings | None = None,
        cases: CaseSettings | None = None,
        search: SearchSettings | None = None,
        reports: ReportSettings | None = None,
        server: ServerSettings | None = None,
        retention: RetentionSettings | None = None,
    ) -> None:
        self.telegram = telegram or TelegramSettings()
        self.database = database or DatabaseSettings()
        self.bot = bot or BotSettings()
        self.cases = cases or CaseSettings()
        self.search = search or SearchSettings()
        self.reports = reports or ReportSettings()
        self.server = server or ServerSettings()
        self.retention = retention or RetentionSettings()

    @classmethod
    def load(cls) -> Settings:
        """Read every section from the environment and `.env`."""
        return cls()
