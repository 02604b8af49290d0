"""The periodic tick: deadline reminders, escalation of overdue cases, progress updates to
citizens, and the scheduled reports the provincial plans ask for (weekly, monthly late list,
quarterly figures).

A tick is idempotent. Each message it queues is recorded in the same transaction as the
outbox rows: a CaseEvent for a case ("reminder" per due date and threshold, one "escalated",
"progress_update" per interval) or a ReportRun for a report period (unique on kind and
period). A second tick at the same moment, or a re-run after a crash, finds the record and
sends nothing. This module decides what is due and records it; it publishes a domain event
(ReminderDue, EscalationDue, ProgressDue, ReportDue) for each, and the Telegram adapter
renders and queues the messages.

Everything human-facing waits for the working day to start (REPORT_DAY_START_HOUR, local
time), so a group
is not pinged at midnight when a date rolls over; the thresholds are whole local days, so a tick
every minute still catches each of them on its day.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.domain.events import (
    EscalationDue,
    EventPublisher,
    ProgressDue,
    ReminderDue,
    ReportDue,
)
from bot.domain.reply_clock import days_left
from bot.domain.reports import (
    Period,
    figures_by_agency,
    late_cases,
    month_before,
    previous,
    quarter_of,
    reply_medians,
    week_before,
)
from bot.domain.schedule import Schedule, recorded
from bot.domain.statuses import OPEN_STATUSES
from bot.settings import Settings
from storage.models import Agency, AnswerDraft, Case, CaseEvent
from storage.repositories import (
    TICK_LOCK_KEY,
    AgencyRepo,
    AnswerDraftRepo,
    CaseRepo,
    EventRepo,
    MessageLinkRepo,
    ReportRunRepo,
    try_transaction_lock,
)

log = logging.getLogger(__name__)

# When the tick sends (day start, weekly weekday, monthly and quarterly days, the satisfaction
# target) comes from ReportSettings (REPORT_* variables), with the provincial plans' dates
# as defaults.

# Cases looked at per query, and at most per tick (the rest wait for the next minute).
CASE_BATCH = 500
MAX_CASES_PER_TICK = 5000

# What a tick returns: cases acted on, reports sent (all kinds, then by kind), outbox rows.
COUNTERS = (
    "reminders",
    "escalations",
    "progress_updates",
    "reports",
    "weekly",
    "monthly",
    "quarterly",
    "messages",
)


class TickContext(Protocol):
    """What a tick needs from the application (bot.app.App provides it)."""

    settings: Settings
    clock: Clock
    sessions: async_sessionmaker[AsyncSession]

    @property
    def events(self) -> EventPublisher: ...


async def run_tick(app: TickContext, *, session: AsyncSession | None = None) -> dict[str, int]:
    """One pass at `app.clock.now()`: queue what is due, once; return what was queued.

    With `session`, the pass runs in the caller's transaction and commits nothing: a dry run
    reads what was queued there and rolls it all back.
    """
    now = app.clock.now()
    if session is not None:
        tick = _Tick(app, session, now)
        await tick.cases()
        await tick.reports()
        return tick.counts
    try:
        async with app.sessions.begin() as session:
            # Every process ticks each minute; one at a time decides what is due, so two
            # processes never both find a reminder unrecorded and both send it.
            if not await try_transaction_lock(session, TICK_LOCK_KEY):
                log.info("tick at %s: another process is ticking; skipped", now.isoformat())
                return dict.fromkeys(COUNTERS, 0)
            tick = _Tick(app, session, now)
            await tick.cases()
            await tick.reports()
    except IntegrityError:
        # Another tick (a second process, or `citizen-bot tick` beside the running bot)
        # recorded the same report period first; this whole pass rolled back and the next
        # tick finds everything already recorded.
        log.info("tick at %s lost a race for a report period; nothing queued", now.isoformat())
        return dict.fromkeys(COUNTERS, 0)
    return tick.counts


class _Tick:
    def __init__(self, app: TickContext, session: AsyncSession, now: datetime) -> None:
        self.app = app
        self.session = session
        self.now = now
        self.tz: ZoneInfo = app.settings.bot.tz
        self.local = now.astimezone(self.tz)
        self.today: date = self.local.date()
        self.timing = app.settings.reports
        self.awake = self.local.time() >= time(self.timing.day_start_hour, 0)
        self.counts = dict.fromkeys(COUNTERS, 0)
        self.agencies: dict[str, Agency] = {}
        self.history: dict[int, list[CaseEvent]] = {}
        self.schedule = Schedule.of(app.settings)
        self.awaiting: dict[int, AnswerDraft] = {}

    # ---- helpers -----------------------------------------------------------------------
    async def publish(self, event: Any) -> None:
        self.counts["messages"] += await self.app.events.publish(self.session, event)

    def record(self, case: Case, action: str, details: dict[str, Any]) -> None:
        self.history.setdefault(case.id, []).append(
            EventRepo(self.session).add(
                case.id, at=self.now, actor_kind="system", action=action, details=details
            )
        )

    def recorded(self, case: Case, action: str, **details: Any) -> bool:
        return recorded(self.history.get(case.id, ()), action, **details)

    # ---- cases -------------------------------------------------------------------------
    async def cases(self) -> None:
        """Act on the cases whose next action is due (`Case.next_action_at`), then schedule
        their next one: a tick reads only what is due, however many cases there are."""
        if not self.awake:
            return
        statuses = [s.value for s in OPEN_STATUSES]
        repo = CaseRepo(self.session)
        await self.follow_settings(repo, statuses)
        settings = self.app.settings.cases
        thresholds = self.schedule.thresholds
        progress_days: int = settings.progress_update_days
        looked = 0
        while looked < MAX_CASES_PER_TICK:
            due = await repo.due_for_action(statuses, self.now, CASE_BATCH)
            if not due:
                break
            looked += len(due)
            if not self.agencies:
                self.agencies = {a.code: a for a in await AgencyRepo(self.session).all()}
            self.history = await EventRepo(self.session).of_cases(
                [c.id for c in due], ("reminder", "escalated", "progress_update")
            )
            self.awaiting = await AnswerDraftRepo(self.session).awaiting_approval(
                [c.id for c in due]
            )
            # The cards the reminders and escalations reply to, in one statement.
            links = MessageLinkRepo(self.session)
            await links.preload_newest([c.id for c in due], "card")
            try:
                for case in due:
                    left = days_left(self.now, case.due_at, self.tz)
                    due_key = case.due_at.isoformat()
                    if left in thresholds and not self.recorded(
                        case, "reminder", days_left=left, due_at=due_key
                    ):
                        await self.remind(case, left)
                    if self.now > case.due_at and not self.recorded(case, "escalated"):
                        await self.escalate(case, -left)
                    if progress_days:
                        await self.progress_update(case, progress_days)
                    case.next_action_at = self.schedule.next_action(
                        case, self.now, self.history.get(case.id, ())
                    )
            finally:
                links.forget_preloaded()
            await self.session.flush()
            if len(due) < CASE_BATCH:
                break

    async def follow_settings(self, repo: CaseRepo, statuses: list[str]) -> None:
        """Once per set of schedule settings (reminder days, progress interval, day start,
        time zone): when they change, every open case is looked at again and rescheduled."""
        if await ReportRunRepo(self.session).claim("schedule", self.schedule.fingerprint, self.now):
            moved = await repo.reschedule_all(statuses, self.now)
            log.info("schedule settings changed: %d open cases will be looked at again", moved)

    async def remind(self, case: Case, left: int) -> None:
        """The agency's group is reminded; admins stand in for a group not bound yet."""
        settings = self.app.settings.cases
        # The apology with a new date must go out at least a day before the due date
        # (NĐ 61/2018/NĐ-CP Điều 19 khoản 9): say so while it is still possible.
        can_extend = (
            case.extensions < settings.max_extensions and left >= settings.extension_min_days_before
        )
        waiting = self.awaiting.get(case.id)
        await self.publish(
            ReminderDue(
                case,
                self.agencies.get(case.agency),
                left,
                can_extend,
                awaiting_approval_since=waiting.updated_at if waiting else None,
            )
        )
        self.record(case, "reminder", {"days_left": left, "due_at": case.due_at.isoformat()})
        self.counts["reminders"] += 1

    async def escalate(self, case: Case, overdue_days: int) -> None:
        """Once per case: the parent agency's group (when bound) and the admins learn that the
        case is past its due date."""
        agency = self.agencies.get(case.agency)
        parent = self.agencies.get(agency.parent) if agency and agency.parent else None
        await self.publish(EscalationDue(case, agency, parent, overdue_days))
        notified: list[int] = []
        if parent is not None and parent.chat_id is not None:
            notified.append(parent.chat_id)
        notified.extend(self.app.settings.bot.admin_ids)
        self.record(
            case,
            "escalated",
            {
                "due_at": case.due_at.isoformat(),
                "parent": parent.code if parent else None,
                "notified": notified,
            },
        )
        self.counts["escalations"] += 1

    async def progress_update(self, case: Case, every: int) -> None:
        """Every `every` days while the case is open, the citizen hears where it stands
        (TT 02/2017/TT-VPCP on national channels: every 7 days)."""
        elapsed = (self.today - case.received_at.astimezone(self.tz).date()).days
        step = elapsed // every
        if step < 1 or self.recorded(case, "progress_update", step=step):
            return
        await self.publish(ProgressDue(case, self.agencies.get(case.agency)))
        self.record(case, "progress_update", {"step": step, "days": elapsed})
        self.counts["progress_updates"] += 1

    # ---- reports -----------------------------------------------------------------------
    def due_periods(self) -> list[Period]:
        """The report periods whose sending window includes now.

        Weekly: Mondays only (a missed Monday is not caught up on later days). Monthly: from
        the 5th to the end of the month, quarterly: from the 19th of the quarter's last month
        to its end, so a bot that was down on the day still sends them once.
        """
        if not self.awake:
            return []
        periods = []
        if self.today.weekday() == self.timing.weekly_weekday:
            periods.append(week_before(self.today, self.tz))
        if self.today.day >= self.timing.monthly_day:
            periods.append(month_before(self.today, self.tz))
        if self.today.month % 3 == 0 and self.today.day >= self.timing.quarterly_day:
            periods.append(quarter_of(self.today, self.tz))
        return periods

    async def reports(self) -> None:
        periods = self.due_periods()
        if not periods:
            return
        if not self.agencies:
            self.agencies = {a.code: a for a in await AgencyRepo(self.session).all()}
        for period in periods:
            if not await ReportRunRepo(self.session).claim(period.kind, period.key, self.now):
                continue
            if period.kind == "monthly":
                await self.monthly(period)
            else:
                await self.figures_report(period)
            self.counts["reports"] += 1
            self.counts[period.kind] += 1

    def everyone(self) -> list[Agency]:
        """Every agency, by name (the adapter picks those with a bound group)."""
        return sorted(self.agencies.values(), key=lambda a: (a.name, a.code))

    async def figures_report(self, period: Period) -> None:
        """The weekly summary or the quarterly figures: each group its own, admins all."""
        figures = await figures_by_agency(self.session, period.start, period.end)
        before: dict[str, Any] = {}
        medians: dict[str | None, float] = {}
        unresolved: tuple[str, ...] = ()
        if period.kind == "weekly":
            last = previous(period, self.tz)
            before = dict(await figures_by_agency(self.session, last.start, last.end))
            medians = await reply_medians(self.session, period.start, period.end)
            rows = await CaseRepo(self.session).unresolved_places([s.value for s in OPEN_STATUSES])
            unresolved = tuple(c.code for c in rows)
        await self.publish(
            ReportDue(
                period.kind,
                period,
                self.everyone(),
                figures=figures,
                previous=before,
                medians=medians,
                unresolved=unresolved,
            )
        )

    async def monthly(self, period: Period) -> None:
        """The list of late handling, by agency and by official, published on the 5th."""
        items = await late_cases(self.session, period.start, period.end, tz=self.tz)
        await self.publish(ReportDue(period.kind, period, self.everyone(), late=items))
