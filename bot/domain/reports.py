"""Figures for the reports the provincial plans ask for (the provinces' KSTTHC plans and
Thông tư 01/2020/TT-VPCP).

Everything is computed from the cases' own timestamps, so a report for a past period gives the
same numbers whenever it is run:

* received — ``received_at`` in the period;
* answered — ``answered_at`` in the period; on time when ``answered_at <= due_at``, late
  otherwise (``due_at`` is the current due date, i.e. after the one allowed extension);
* open — received before the end and neither answered nor closed by then (or open now);
  overdue when its due date passed before the end;
* rejected — closed as "không thụ lý" in the period;
* transferred — cases this agency transferred away in the period (a transfer belongs to the
  agency that made it, `details["from"]` of the event); late when the transfer came after the
  5 working days of NĐ 20/2008 Điều 9 (the event's ``late`` flag, the same fact that counts in
  ``Case.transferred_late``);
* ratings — cases rated in the period (rating a case closes it).

Every other figure belongs to the agency that holds the case now: with the default
"carry-over" clock the agency a case was transferred to answers for its lateness.

The SQL lives in `storage.repositories.reports`.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.statuses import OPEN_STATUSES, Status
from storage.repositories.reports import ReportRepo

# The provincial KSTTHC plans: "phấn đấu đạt tối thiểu 90% người dân, doanh nghiệp hài lòng".
SATISFACTION_TARGET = 0.9

# Nghị định 09/2019/NĐ-CP Điều 12 and Thông tư 01/2020/TT-VPCP: a quarterly report counts from
# the 15th of the month before the quarter to the 14th of the quarter's last month, and is due
# by the 19th of that month (Bến Tre KH 7092/KH-UBND, 31/12/2020). *(check the article numbers)*
QUARTER_CUTOFF_DAY = 15


@dataclass(frozen=True)
class Figures:
    """Counts for one period and one agency (or all agencies)."""

    received: int = 0
    answered: int = 0
    on_time: int = 0
    late: int = 0
    open: int = 0
    overdue_open: int = 0
    rejected: int = 0
    transferred: int = 0
    transferred_late: int = 0
    good: int = 0
    neutral: int = 0
    bad: int = 0

    @property
    def rated(self) -> int:
        return self.good + self.neutral + self.bad

    @property
    def satisfaction(self) -> float | None:
        """Share of "hài lòng" among the ratings; None when nobody rated."""
        return self.good / self.rated if self.rated else None

    @property
    def on_time_ratio(self) -> float | None:
        """Share of answers given on time; None when nothing was answered."""
        return self.on_time / self.answered if self.answered else None

    def meets(self, target: float = SATISFACTION_TARGET) -> bool | None:
        """Whether satisfaction reaches `target`; None when nobody rated."""
        s = self.satisfaction
        return None if s is None else s >= target

    @property
    def meets_target(self) -> bool | None:
        """Against the plans' default target (REPORT_SATISFACTION_TARGET may differ)."""
        return self.meets()

    @property
    def empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )


@dataclass(frozen=True)
class Period:
    """A report period: half-open [start, end), with the key it is recorded under."""

    kind: str  # weekly | monthly | quarterly
    key: str  # 2026-W48 | 2026-11 | 2026-Q4
    start: datetime
    end: datetime

    @property
    def last_moment(self) -> datetime:
        """The last second inside the period (for "đến ngày …" in a report)."""
        return self.end - timedelta(seconds=1)


@dataclass(frozen=True)
class LateCase:
    """A case answered after its due date, or still unanswered past it, in a period."""

    case_id: int
    code: str
    kind: str
    agency: str
    agency_name: str
    assignee_name: str | None
    status: str
    received_at: datetime
    due_at: datetime
    answered_at: datetime | None
    late_days: int


@dataclass
class AssigneeLate:
    name: str | None
    cases: list[LateCase] = field(default_factory=list)


@dataclass
class AgencyLate:
    code: str
    name: str
    assignees: list[AssigneeLate] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(len(a.cases) for a in self.assignees)


# ---- periods ---------------------------------------------------------------------------
def _midnight(d: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(d, time(0), tzinfo=tz)


def week_before(today: date, tz: ZoneInfo) -> Period:
    """The ISO week (Monday–Sunday, local) that ended before the week of ``today``."""
    monday = today - timedelta(days=today.weekday())
    start = monday - timedelta(days=7)
    year, week, _ = start.isocalendar()
    return Period("weekly", f"{year}-W{week:02d}", _midnight(start, tz), _midnight(monday, tz))


def month_before(today: date, tz: ZoneInfo) -> Period:
    """The calendar month before the month of ``today``."""
    first = today.replace(day=1)
    start = (first - timedelta(days=1)).replace(day=1)
    return Period(
        "monthly", f"{start.year}-{start.month:02d}", _midnight(start, tz), _midnight(first, tz)
    )


def week_of(day: date, tz: ZoneInfo) -> Period:
    """The ISO week (Monday–Sunday, local) that contains ``day``."""
    return week_before(day + timedelta(days=7), tz)


def previous(period: Period, tz: ZoneInfo) -> Period:
    """The period of the same kind just before ``period``."""
    first = period.start.astimezone(tz).date()
    if period.kind == "weekly":
        return week_before(first, tz)
    if period.kind == "monthly":
        return month_before(first, tz)
    return quarter_of(first - timedelta(days=1), tz)


def last_quarter(today: date, tz: ZoneInfo) -> Period:
    """The newest quarter whose data cut-off (the 15th) has passed by ``today``."""
    period = quarter_of(today, tz)
    if period.end.date() > today:
        period = previous(period, tz)
    return period


def parse_day(text: str) -> date:
    """A day as people write it here (dd/mm/yyyy, d/m/yyyy, dd-mm-yyyy) or ISO (yyyy-mm-dd)."""
    value = text.strip()
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    parts = value.replace("-", "/").replace(".", "/").split("/")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a date: {text!r}")
    day, month, year = (int(p) for p in parts)
    return date(year, month, day)


def custom_period(kind: str, first: date, last: date, tz: ZoneInfo) -> Period:
    """A period chosen by hand: from ``first`` to ``last`` inclusive (local days)."""
    key = f"{first.isoformat()}..{last.isoformat()}"
    return Period(kind, key, _midnight(first, tz), _midnight(last + timedelta(days=1), tz))


def quarter_of(today: date, tz: ZoneInfo) -> Period:
    """The quarter ``today`` is in, with the data cut-off of NĐ 09/2019 (15th to 14th)."""
    quarter = (today.month - 1) // 3 + 1
    last_month = quarter * 3
    end = date(today.year, last_month, QUARTER_CUTOFF_DAY)
    before = last_month - 3
    start = (
        date(today.year, before, QUARTER_CUTOFF_DAY)
        if before
        else date(today.year - 1, 12, QUARTER_CUTOFF_DAY)
    )
    return Period("quarterly", f"{today.year}-Q{quarter}", _midnight(start, tz), _midnight(end, tz))


# ---- figures ---------------------------------------------------------------------------
_OPEN = [s.value for s in OPEN_STATUSES]


async def figures_by_agency(
    session: AsyncSession, start: datetime, end: datetime, agency: str | None = None
) -> dict[str, Figures]:
    """Figures for [start, end) for each agency that has any (or just ``agency``)."""
    repo = ReportRepo(session)
    counts = await repo.counts_by_agency(
        start, end, open_statuses=_OPEN, rejected=Status.REJECTED.value, agency=agency
    )
    # Few rows (transfers in one period): count distinct cases here, rather than grouping by
    # a JSON expression, which PostgreSQL and SQLite spell differently.
    moved: dict[str, set[int]] = {}
    moved_late: dict[str, set[int]] = {}
    for case_id, details in await repo.transfers(start, end, agency):
        code = (details or {}).get("from")
        if not code:
            continue
        moved.setdefault(code, set()).add(case_id)
        if details.get("late"):
            moved_late.setdefault(code, set()).add(case_id)
    for code, ids in moved.items():
        entry = counts.setdefault(code, {})
        entry["transferred"], entry["transferred_late"] = len(ids), len(moved_late.get(code, ()))

    result = {code: Figures(**values) for code, values in counts.items()}
    return {code: figs for code, figs in sorted(result.items()) if not figs.empty}


async def period_figures(
    session: AsyncSession, start: datetime, end: datetime, agency: str | None = None
) -> Figures:
    """Figures for [start, end), for one agency (by code) or for all of them."""
    return sum((await figures_by_agency(session, start, end, agency)).values(), Figures())


async def reply_medians(
    session: AsyncSession, start: datetime, end: datetime, agency: str | None = None
) -> dict[str | None, float]:
    """Median days from receipt to answer of the cases answered in [start, end), per agency
    and (under the key None) over all of them."""
    spans: dict[str | None, list[float]] = {}
    for code, received, answered in await ReportRepo(session).reply_times(start, end, agency):
        days = (answered - received).total_seconds() / 86400
        spans.setdefault(code, []).append(days)
        spans.setdefault(None, []).append(days)
    return {code: statistics.median(values) for code, values in spans.items()}


# ---- late cases ------------------------------------------------------------------------
async def late_cases(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    agency: str | None = None,
    *,
    tz: ZoneInfo | None = None,
) -> list[LateCase]:
    """Cases answered late in [start, end), and cases still unanswered at ``end`` past their
    due date, ordered by agency, assignee and due date (KH of the province: the list published
    on the 5th of each month)."""
    zone = tz or ZoneInfo("Asia/Ho_Chi_Minh")
    found: list[LateCase] = []
    for row in await ReportRepo(session).late(start, end, open_statuses=_OPEN, agency=agency):
        # Lateness in local calendar days: up to the answer, or up to the period's last day.
        stop = row.answered_at if row.answered_at is not None else end - timedelta(seconds=1)
        days = (stop.astimezone(zone).date() - row.due_at.astimezone(zone).date()).days
        found.append(
            LateCase(
                case_id=row.id,
                code=row.code,
                kind=row.kind,
                agency=row.agency,
                agency_name=row.agency_name or row.agency,
                assignee_name=row.assignee_name,
                status=row.status,
                received_at=row.received_at,
                due_at=row.due_at,
                answered_at=row.answered_at,
                late_days=max(days, 1),
            )
        )
    return found


def group_late(items: Iterable[LateCase]) -> list[AgencyLate]:
    """Late cases grouped by agency, then by assignee (the order of ``late_cases`` is kept)."""
    groups: dict[str, AgencyLate] = {}
    for item in items:
        group = groups.setdefault(item.agency, AgencyLate(item.agency, item.agency_name))
        for person in group.assignees:
            if person.name == item.assignee_name:
                person.cases.append(item)
                break
        else:
            group.assignees.append(AssigneeLate(item.assignee_name, [item]))
    return list(groups.values())


def percent(ratio: float | None, locale: str) -> str:
    """A ratio as a percentage with at most one decimal in the locale's own digits (CLDR via
    Babel: 92,5 in Vietnamese, 92.5 in English)."""
    if ratio is None:
        return ""
    return format_decimal(round(ratio * 100, 1), format="#,##0.#", locale=locale)
