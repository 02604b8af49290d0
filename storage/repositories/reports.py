"""Report queries: per-agency counts, transfers and late cases for a period.

SQL is SQLAlchemy expressions only, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Agency, Case, CaseEvent, ReportRun

MEASURES = (
    "received",
    "answered",
    "on_time",
    "late",
    "open",
    "overdue_open",
    "rejected",
    "good",
    "neutral",
    "bad",
)


def _count(condition: ColumnElement[bool]) -> Any:
    # SUM(CASE …) rather than COUNT(…) FILTER: the same SQL on every backend.
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _within(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column.is_not(None), column >= start, column < end)


def _open_at(end: datetime, open_statuses: Collection[str]) -> ColumnElement[bool]:
    not_answered = or_(Case.answered_at.is_(None), Case.answered_at >= end)
    not_closed = or_(Case.closed_at.is_(None), Case.closed_at >= end)
    return and_(
        Case.received_at < end,
        or_(and_(not_answered, not_closed), Case.status.in_(list(open_statuses))),
    )


def _touching(start: datetime, open_statuses: Collection[str]) -> ColumnElement[bool]:
    """Every case a report on [start, end) can count: received in the period, answered or
    closed since its start, or open now. Each part has its index, so a report reads the
    period's cases rather than the whole table. (A case open at the period's end and not open
    now was answered or closed since: its answered_at or closed_at is after the start.)"""
    return or_(
        Case.received_at >= start,
        Case.answered_at >= start,
        Case.closed_at >= start,
        Case.status.in_(list(open_statuses)),
    )


class ReportRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def counts_by_agency(
        self,
        start: datetime,
        end: datetime,
        *,
        open_statuses: Collection[str],
        rejected: str,
        agency: str | None = None,
    ) -> dict[str, dict[str, int]]:
        """Each agency's counts of MEASURES for [start, end)."""
        answered = _within(Case.answered_at, start, end)
        is_open = _open_at(end, open_statuses)
        closed = _within(Case.closed_at, start, end)
        measures = {
            "received": _within(Case.received_at, start, end),
            "answered": answered,
            "on_time": and_(answered, Case.answered_at <= Case.due_at),
            "late": and_(answered, Case.answered_at > Case.due_at),
            "open": is_open,
            "overdue_open": and_(is_open, Case.due_at < end),
            "rejected": and_(closed, Case.status == rejected),
            "good": and_(closed, Case.rating == "good"),
            "neutral": and_(closed, Case.rating == "neutral"),
            "bad": and_(closed, Case.rating == "bad"),
        }
        query = (
            select(Case.agency, *(_count(cond).label(name) for name, cond in measures.items()))
            .where(_touching(start, open_statuses))
            .group_by(Case.agency)
        )
        if agency is not None:
            query = query.where(Case.agency == agency)
        counts: dict[str, dict[str, int]] = {}
        for row in await self.session.execute(query):
            values = row._mapping
            counts[row.agency] = {name: int(values[name]) for name in measures}
        return counts

    async def transfers(
        self, start: datetime, end: datetime, agency: str | None = None
    ) -> list[tuple[int, dict[str, Any]]]:
        """(case id, event details) of the transfers made in [start, end)."""
        query = select(CaseEvent.case_id, CaseEvent.details).where(
            CaseEvent.action == "transferred", CaseEvent.at >= start, CaseEvent.at < end
        )
        if agency is not None:
            query = query.where(CaseEvent.details["from"].as_string() == agency)
        return [(case_id, details) for case_id, details in await self.session.execute(query)]

    async def reply_times(
        self, start: datetime, end: datetime, agency: str | None = None
    ) -> list[tuple[str, datetime, datetime]]:
        """(agency, received_at, answered_at) of the cases answered in [start, end)."""
        query = select(Case.agency, Case.received_at, Case.answered_at).where(
            _within(Case.answered_at, start, end)
        )
        if agency is not None:
            query = query.where(Case.agency == agency)
        return [(a, r, w) for a, r, w in await self.session.execute(query) if w is not None]

    async def cases_between(self, start: datetime, end: datetime) -> list[tuple[Case, str | None]]:
        """Cases received in [start, end) with their agency's name, oldest first."""
        query = (
            select(Case, Agency.name)
            .outerjoin(Agency, Agency.code == Case.agency)
            .where(Case.received_at >= start, Case.received_at < end)
            .order_by(Case.received_at, Case.id)
        )
        return [(row, name) for row, name in await self.session.execute(query)]

    async def open_by_agency(
        self, now: datetime, open_statuses: Collection[str]
    ) -> dict[str, tuple[int, int]]:
        """Agency → (open cases, of which past their due date) right now."""
        overdue = _count(Case.due_at < now)
        query = (
            select(Case.agency, func.count(), overdue)
            .where(Case.status.in_(list(open_statuses)))
            .group_by(Case.agency)
        )
        return {a: (int(n), int(o)) for a, n, o in await self.session.execute(query)}

    async def late(
        self,
        start: datetime,
        end: datetime,
        *,
        open_statuses: Collection[str],
        agency: str | None = None,
    ) -> list[Any]:
        """Cases answered late in [start, end) or still open past their due date at `end`
        (the columns the list shows, and `agency_name`), by agency, assignee and due date."""
        answered_late = and_(_within(Case.answered_at, start, end), Case.answered_at > Case.due_at)
        overdue_open = and_(_open_at(end, open_statuses), Case.due_at < end)
        query = (
            select(
                Case.id,
                Case.code,
                Case.kind,
                Case.agency,
                Case.assignee_name,
                Case.status,
                Case.received_at,
                Case.due_at,
                Case.answered_at,
                Agency.name.label("agency_name"),
            )
            .outerjoin(Agency, Agency.code == Case.agency)
            .where(_touching(start, open_statuses), or_(answered_late, overdue_open))
            .order_by(Agency.name, Case.agency, Case.assignee_name, Case.due_at, Case.id)
        )
        if agency is not None:
            query = query.where(Case.agency == agency)
        return list(await self.session.execute(query))


class ReportRunRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, kind: str, period: str, now: datetime) -> bool:
        """Record that the report for this period goes out now; False if it already did.

        The (kind, period) pair is unique: a concurrent tick that records it first makes this
        transaction fail at commit, and the caller rolls back everything it queued."""
        done = await self.session.scalar(
            select(ReportRun.id).where(ReportRun.kind == kind, ReportRun.period == period)
        )
        if done is not None:
            return False
        self.session.add(ReportRun(kind=kind, period=period, at=now))
        await self.session.flush()
        return True
