"""SQLAlchemy models: the same schema on SQLite (default) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

import storage.sanitize  # noqa: F401  - cleans every text value before it is stored

# Stable constraint names so Alembic migrations are the same on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as UTC; SQLite returns naive values otherwise."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), int: Integer()}


class Agency(Base):
    __tablename__ = "agencies"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    chat_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    parent: Mapped[str | None] = mapped_column(String(64))
    reply_days: Mapped[int | None]
    # NĐ 20/2008/NĐ-CP: the head of the agency answers for the reply. When on, an official's
    # confirmed answer waits for one of the agency's approvers before it reaches the citizen.
    approval: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The territory it serves (national statistics code of the province or commune) and what
    # it is (knowledge.records.AGENCY_KINDS): how a commune-level case finds its commune.
    unit_code: Mapped[str | None] = mapped_column(String(8))
    kind: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime]
    # Part of the bundled demo: removed entirely by the first real import.
    sample: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class AgencyApprover(Base):
    """A person who may approve the agency's answers (its lead), set by an admin."""

    __tablename__ = "agency_approvers"

    agency: Mapped[str] = mapped_column(
        ForeignKey("agencies.code", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text, default="")
    added_at: Mapped[datetime]


class Procedure(Base):
    __tablename__ = "procedures"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    field: Mapped[str] = mapped_column(Text, default="")
    level: Mapped[str] = mapped_column(Text, default="")
    agency: Mapped[str] = mapped_column(String(64), default="")
    steps: Mapped[str] = mapped_column(Text, default="")
    channels: Mapped[str] = mapped_column(Text, default="")
    documents: Mapped[str] = mapped_column(Text, default="")
    processing_time: Mapped[str] = mapped_column(Text, default="")
    fee: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str] = mapped_column(Text, default="")
    conditions: Mapped[str] = mapped_column(Text, default="")
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    online: Mapped[str] = mapped_column(String(32), default="")
    url: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[str] = mapped_column(Text, default="")  # ";"-separated
    updated_at: Mapped[datetime]
    # Set when a replacing import left the procedure out: old cases keep showing it, the
    # search no longer answers with it.
    retired_at: Mapped[datetime | None]
    sample: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class LexiconEntry(Base):
    """Admin additions to the bundled colloquial → official lexicon."""

    __tablename__ = "lexicon_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    phrase: Mapped[str] = mapped_column(String(200), unique=True)
    expansion: Mapped[str] = mapped_column(Text)


class LifeEventEntry(Base):
    """Admin additions to the bundled life events (a same key replaces the built-in one)."""

    __tablename__ = "life_event_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(Text)
    triggers: Mapped[str] = mapped_column(Text)  # "|"-separated phrases
    procedures: Mapped[str] = mapped_column(Text)  # "|"-separated wordings or codes, "=weight"


class RoutingRule(Base):
    """Admin rule: a case whose field or text matches goes to `agency`."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    priority: Mapped[int] = mapped_column(default=100)
    field: Mapped[str | None] = mapped_column(Text)
    keyword: Mapped[str | None] = mapped_column(Text)
    agency: Mapped[str] = mapped_column(String(64))


class HolidayOverride(Base):
    """One day of the official schedule that differs from the `holidays` calendar."""

    __tablename__ = "holiday_overrides"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # "off" | "work"
    name: Mapped[str] = mapped_column(Text, default="")


class Citizen(Base):
    """What a citizen chose to let us remember for the next case (deleted by /forget)."""

    __tablename__ = "citizens"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    full_name: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class Case(Base):
    """One PAKN case."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_due_at", "status", "due_at"),
        Index("ix_cases_citizen_received", "citizen_id", "received_at"),
        # Reports read a period's cases through these, never the whole table.
        Index("ix_cases_received_at", "received_at"),
        Index("ix_cases_answered_at", "answered_at"),
        Index("ix_cases_closed_at", "closed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "phan_anh" | "kien_nghi"
    content: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    procedure_code: Mapped[str | None] = mapped_column(String(64))
    citizen_id: Mapped[int] = mapped_column(BigInteger)
    citizen_chat_id: Mapped[int] = mapped_column(BigInteger)
    citizen_name: Mapped[str] = mapped_column(Text)
    citizen_phone: Mapped[str | None] = mapped_column(String(32))
    citizen_email: Mapped[str | None] = mapped_column(String(254))
    citizen_address: Mapped[str] = mapped_column(Text)
    citizen_locale: Mapped[str] = mapped_column(String(8), default="vi")
    agency: Mapped[str] = mapped_column(String(64), index=True)
    routing_rule: Mapped[str] = mapped_column(Text)
    # Where the case is, when routing needed a commune: the commune (statistics code), and
    # "resolved", "unresolved" (address not understood, or no agency for the commune) or
    # "outside" (another province). Admins list the last two (`citizen-bot cases unresolved`).
    unit_code: Mapped[str | None] = mapped_column(String(8))
    unit_status: Mapped[str | None] = mapped_column(String(16), index=True)
    # The place the case is about when it is not the citizen's address, and a shared location.
    place: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))
    assignee_id: Mapped[int | None] = mapped_column(BigInteger)
    assignee_name: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    due_at: Mapped[datetime]
    original_due_at: Mapped[datetime]
    extensions: Mapped[int] = mapped_column(default=0)
    answered_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    transferred_late: Mapped[int] = mapped_column(default=0)  # count of late transfers
    rating: Mapped[str | None] = mapped_column(String(16))
    rating_comment: Mapped[str | None] = mapped_column(Text)
    # When the tick must look at this open case next (a reminder, the escalation, a progress
    # update); None when nothing more is due. The tick reads only the cases due by now.
    next_action_at: Mapped[datetime | None] = mapped_column(index=True)
    # The update that created the case: a re-delivered update never creates a second one.
    source_key: Mapped[str] = mapped_column(String(128), unique=True)
    # Optimistic lock: an UPDATE that finds another version lost a race (two officials acting
    # at once); PostgreSQL also takes the row lock first (SELECT … FOR UPDATE).
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    __mapper_args__ = {"version_id_col": version}

    attachments: Mapped[list[CaseAttachment]] = relationship(
        back_populates="case", order_by="CaseAttachment.id", lazy="raise"
    )
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", lazy="raise"
    )


class CaseAttachment(Base):
    __tablename__ = "case_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "photo" | "document"
    file_id: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(16), default="citizen")  # or "official"

    case: Mapped[Case] = relationship(back_populates="attachments", lazy="raise")


class CaseEvent(Base):
    """Append-only history: every change of a case, with who and when (NĐ 20/2008 Điều 9, 14)."""

    __tablename__ = "case_events"
    # Reports count one kind of event in a period (transfers) through this index.
    __table_args__ = (Index("ix_case_events_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor_kind: Mapped[str] = mapped_column(String(16))  # citizen | official | admin | system
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_name: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    case: Mapped[Case] = relationship(back_populates="events", lazy="raise")


class AnswerDraft(Base):
    """An official's answer before it reaches the citizen: previewed, then confirmed (and,
    where the agency requires it, approved by its lead)."""

    __tablename__ = "answer_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    author_id: Mapped[int] = mapped_column(BigInteger)
    author_name: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    media_group_id: Mapped[str | None] = mapped_column(String(64))
    preview_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # preview | awaiting_approval | sent | cancelled | returned
    status: Mapped[str] = mapped_column(String(20), default="preview")
    approver_id: Mapped[int | None] = mapped_column(BigInteger)
    approver_name: Mapped[str | None] = mapped_column(Text)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OutboxMessage(Base):
    """A message the bot must send; written in the transaction that causes it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
        Index("ix_outbox_chat_status", "chat_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(32))  # send_message | send_photo | ...
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    # After sending, link (chat, message) → case with this kind, so replies map to the case.
    link_kind: Mapped[str | None] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(32))
    sent_message_id: Mapped[int | None] = mapped_column(BigInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # First 5xx/network failure of the current streak: retries stop after a budget of time.
    failing_since: Mapped[datetime | None]
    # Attempts whose outcome is unknown (timeout, or a worker died while sending): Telegram
    # may have delivered them. Such a row is reconciled when it is sent again.
    unsure: Mapped[int] = mapped_column(default=0, server_default="0")
    # Copies delivered (or, after an unsure attempt, possibly delivered) beyond the first.
    duplicates: Mapped[int] = mapped_column(default=0, server_default="0")


class MessageLink(Base):
    """(chat, message) → case: how a reply in a group finds its case (never by text)."""

    __tablename__ = "message_links"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # card | answer | info_request | notice


class InboxUpdate(Base):
    """Every update Telegram handed over: stored before its offset is confirmed (getUpdates)
    or before the webhook answers 200, and marked done in the transaction of its handler.

    An update is therefore handled once, or retried, but never lost: Telegram forgets an
    update once it is confirmed, and re-delivers one that was not (for about a day), which
    the primary key turns away. Done rows are kept as that record for two days."""

    __tablename__ = "inbox"
    __table_args__ = (
        Index("ix_inbox_queue", "bot_id", "status", "update_id"),
        Index("ix_inbox_chat", "bot_id", "chat_id", "update_id"),
        Index("ix_inbox_received_at", "received_at"),
    )

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # The chat the update belongs to: one chat's updates are handled in order.
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    # The update as Telegram sent it (None for one handled without the inbox, e.g. the shell).
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|done|failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None]
    received_at: Mapped[datetime]
    handled_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class FsmRecord(Base):
    """aiogram FSM state and data when no Redis is configured."""

    __tablename__ = "fsm_records"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Housekeeping forgets conversations untouched for RETENTION_FSM_DAYS; days, so the
    # wall clock is precise enough.
    updated_at: Mapped[datetime | None] = mapped_column(
        default=lambda: datetime.now(UTC), onupdate=lambda: datetime.now(UTC), index=True
    )


class ReportRun(Base):
    """A scheduled report (weekly, monthly, quarterly) sent once per period."""

    __tablename__ = "report_runs"
    __table_args__ = (UniqueConstraint("kind", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]


class KbVersion(Base):
    """One applied import (or rollback) of the knowledge base: the KB as it stood after it."""

    __tablename__ = "kb_versions"

    id: Mapped[int] = mapped_column(primary_key=True)  # the version number admins see
    kind: Mapped[str] = mapped_column(String(16))  # procedures | agencies | rollback
    at: Mapped[datetime]
    admin_id: Mapped[int | None] = mapped_column(BigInteger)
    filename: Mapped[str] = mapped_column(Text, default="")
    replace: Mapped[bool] = mapped_column(Boolean, default=False)
    # [field key, header as written in the file] of the import, for /kb export.
    columns: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # gzip'd JSON {"procedures": [...], "agencies": [...]} of the whole KB after the change.
    snapshot: Mapped[bytes] = mapped_column(LargeBinary)


class Admin(Base):
    """An admin added from Telegram by another admin (ADMIN_IDS are admins from settings)."""

    __tablename__ = "admins"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text, default="")
    added_by: Mapped[int | None] = mapped_column(BigInteger)
    added_at: Mapped[datetime]


class RateBooking(Base):
    """A send slot booked by one of the bot's processes (the shared rate limit without Redis),
    or, for keys starting with "block:", the end of a 429 penalty."""

    __tablename__ = "rate_bookings"
    __table_args__ = (Index("ix_rate_bookings_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80))
    at: Mapped[float] = mapped_column(Float, index=True)  # seconds since the epoch
