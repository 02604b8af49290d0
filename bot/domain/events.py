"""Domain events: what happened to a case, published in the transaction that did it.

The domain records each change in the case's history (CaseEvent rows) and publishes one of
these to an `EventPublisher`. The Telegram adapter's notifier turns them into outbox rows in
the same transaction; the domain never builds a message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Agency, AnswerDraft, Case


@dataclass(frozen=True)
class CaseChange:
    """Base class: something happened to `case`."""

    case: Case


@dataclass(frozen=True)
class CaseFiled(CaseChange):
    agency: Agency
    attachments: Sequence[dict[str, Any]] = ()


@dataclass(frozen=True)
class CaseTaken(CaseChange):
    pass


@dataclass(frozen=True)
class CaseAnswered(CaseChange):
    text: str
    attachments: Sequence[dict[str, Any]] = ()


@dataclass(frozen=True)
class CaseReassigned(CaseChange):
    """ "Nhận thay": `official` took the case over from `previous`."""

    previous: Any  # bot.domain.cases.Actor
    official: Any


@dataclass(frozen=True)
class AnswerAwaitingApproval(CaseChange):
    """An official's confirmed answer waits for the agency's lead (NĐ 20/2008/NĐ-CP)."""

    draft: AnswerDraft


@dataclass(frozen=True)
class AnswerReturned(CaseChange):
    """The lead sent a draft answer back to its author with a comment."""

    draft: AnswerDraft


@dataclass(frozen=True)
class InfoRequested(CaseChange):
    question: str


@dataclass(frozen=True)
class CitizenInfoAdded(CaseChange):
    text: str
    attachments: Sequence[dict[str, Any]] = ()


@dataclass(frozen=True)
class CaseTransferred(CaseChange):
    old_agency: str
    target: Agency


@dataclass(frozen=True)
class CaseExtended(CaseChange):
    agency: Agency | None
    old_due: datetime
    reason: str


@dataclass(frozen=True)
class CaseRejected(CaseChange):
    reason: str


@dataclass(frozen=True)
class CaseRated(CaseChange):
    rating: str


@dataclass(frozen=True)
class RatingCommented(CaseChange):
    text: str


@dataclass(frozen=True)
class ReminderDue(CaseChange):
    """The agency must be reminded: `days_left` whole local days to the due date."""

    agency: Agency | None
    days_left: int
    can_extend: bool
    # A draft answer waiting for the lead since then: the clock does not stop for it.
    awaiting_approval_since: datetime | None = None


@dataclass(frozen=True)
class EscalationDue(CaseChange):
    """The case is past its due date: the parent agency and the admins must learn it."""

    agency: Agency | None
    parent: Agency | None
    overdue_days: int


@dataclass(frozen=True)
class ProgressDue(CaseChange):
    """The citizen is owed an update on where the case stands."""

    agency: Agency | None


@dataclass(frozen=True)
class ReportDue:
    """A scheduled report for one period (weekly, monthly, quarterly) must go out."""

    kind: str
    period: Any  # bot.domain.reports.Period
    agencies: Sequence[Agency] = field(default_factory=tuple)  # every agency, by name
    figures: dict[str, Any] = field(default_factory=dict)
    late: Sequence[Any] = field(default_factory=tuple)
    # Weekly: the week before's figures (for the change) and median reply days per agency
    # (None: all agencies).
    previous: dict[str, Any] = field(default_factory=dict)
    medians: dict[str | None, float] = field(default_factory=dict)


DomainEvent = CaseChange | ReportDue


class EventPublisher(Protocol):
    """Turns domain events into their effects (messages) in the caller's transaction."""

    async def publish(self, session: AsyncSession, event: DomainEvent) -> int:
        """Handle one event; return how many messages it queued."""
        ...


class NullPublisher:
    """Publishes nowhere: for tools that change cases without telling anyone."""

    async def publish(self, session: AsyncSession, event: DomainEvent) -> int:
        return 0
