"""The periodic tick: deadline reminders, escalation of overdue cases, progress updates to
citizens, and the scheduled reports (DOMAIN.md, "The reply clock", "Late cases", "Reports the
plans ask for").

A tick is idempotent. Each message it queues is recorded in the same transaction as the
outbox rows: a CaseEvent for a case ("reminder" per due date and threshold, one "escalated",
"progress_update" per interval) or a ReportRun for a report period (unique on kind and
period). A second tick at the same moment, or a re-run after a crash, finds the record and
sends nothing. Nothing is sent directly: the outbox worker delivers.

Everything human-facing waits for the working day to start (REPORT_DAY_START_HOUR, local
time), so a group
is not pinged at midnight when a date rolls over; the thresholds are whole local days, so a tick
every minute still catches each of them on its day.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.reply_clock import days_left
from bot.domain.reports import (
    Figures,
    Period,
    figures_by_agency,
    group_late,
    late_cases,
    month_before,
    percent,
    quarter_of,
    week_before,
)
from bot.domain.statuses import OPEN_STATUSES
from storage.models import Agency, Case, CaseEvent, ReportRun

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

# When the tick sends (day start, weekly weekday, monthly and quarterly days, the satisfaction
# target) comes from ReportSettings (REPORT_* variables), with the seeds' dates as defaults.

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


async def run_tick(app: App) -> dict[str, int]:
    """One pass at `app.clock.now()`: queue what is due, once; return what was queued."""
    now = app.clock.now()
    try:
        async with app.sessions.begin() as session:
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
    def __init__(self, app: App, session: AsyncSession, now: datetime) -> None:
        self.app = app
        self.session = session
        self.now = now
        self.tz: ZoneInfo = app.settings.bot.tz
        self.locale: str = app.settings.bot.locale  # groups and admins
        self.admin_ids: list[int] = list(app.settings.bot.admin_ids)
        self.local = now.astimezone(self.tz)
        self.today: date = self.local.date()
        self.timing = app.settings.reports
        self.awake = self.local.time() >= time(self.timing.day_start_hour, 0)
        self.counts = dict.fromkeys(COUNTERS, 0)
        self.agencies: dict[str, Agency] = {}

    # ---- helpers -----------------------------------------------------------------------
    def render(self, name: str, locale: str | None = None, **ctx: Any) -> str:
        return str(self.app.renderer.render(name, locale or self.locale, **ctx))

    async def post(
        self,
        chat_id: int,
        text: str,
        *,
        purpose: str,
        case: Case | None = None,
        link_kind: str | None = None,
        reply_to: int | None = None,
    ) -> None:
        """Queue `text` through the notices (split to Telegram's 4096-character limit)."""
        self.counts["messages"] += await self.app.notices.send(
            self.session,
            chat_id,
            text,
            case=case,
            link_kind=link_kind,
            purpose=purpose,
            reply_to=reply_to,
        )

    async def card_message_id(self, case: Case, chat_id: int) -> int | None:
        """The case card in the group, so a reminder replies to it."""
        return await self.app.notices.card_message_id(self.session, case, chat_id)

    def record(self, case: Case, action: str, details: dict[str, Any]) -> None:
        self.session.add(
            CaseEvent(
                case_id=case.id, at=self.now, actor_kind="system", action=action, details=details
            )
        )

    @staticmethod
    def recorded(case: Case, action: str, **details: Any) -> bool:
        return any(
            e.action == action and all((e.details or {}).get(k) == v for k, v in details.items())
            for e in case.events
        )

    def agency_name(self, code: str) -> str:
        agency = self.agencies.get(code)
        return agency.name if agency else code

    # ---- cases -------------------------------------------------------------------------
    async def cases(self) -> None:
        if not self.awake:
            return
        settings = self.app.settings.cases
        thresholds = {n for n in settings.reminder_days_before if n > 0} | {0}
        progress_days: int = settings.progress_update_days
        self.agencies = {a.code: a for a in await self.session.scalars(select(Agency))}
        query = (
            select(Case)
            .where(Case.status.in_([s.value for s in OPEN_STATUSES]))
            .order_by(Case.id)
            # Serialises concurrent ticks on PostgreSQL (SQLite has one writer anyway).
            .with_for_update()
        )
        if not progress_days:
            # Only cases within reach of a reminder, or past due, need a look.
            horizon = self.today + timedelta(days=max(thresholds) + 1)
            query = query.where(Case.due_at < datetime.combine(horizon, time(0), tzinfo=self.tz))
        for case in await self.session.scalars(query):
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

    async def remind(self, case: Case, left: int) -> None:
        """The agency's group is reminded, as a reply to the case card; admins stand in for a
        group that is not bound yet."""
        settings = self.app.settings.cases
        agency = self.agencies.get(case.agency)
        # The apology with a new date must go out at least a day before the due date, once
        # (NĐ 61/2018 Điều 19 khoản 9): say so while it is still possible.
        can_extend = (
            case.extensions < settings.max_extensions and left >= settings.extension_min_days_before
        )
        bound = agency is not None and agency.chat_id is not None
        text = self.render(
            "reminder.html",
            mode="reminder",
            case=case,
            agency_name=self.agency_name(case.agency),
            days_left=left,
            can_extend=can_extend,
            no_group=not bound,
            parent_unbound=None,
        )
        if agency is not None and agency.chat_id is not None:
            reply_to = await self.card_message_id(case, agency.chat_id)
            await self.post(
                agency.chat_id,
                text,
                purpose="reminder",
                case=case,
                link_kind="notice",
                reply_to=reply_to,
            )
        else:
            for admin in self.admin_ids:
                await self.post(admin, text, purpose="reminder", case=case)
        self.record(case, "reminder", {"days_left": left, "due_at": case.due_at.isoformat()})
        self.counts["reminders"] += 1

    async def escalate(self, case: Case, overdue_days: int) -> None:
        """Once per case: the parent agency's group (when bound) and the admins learn that the
        case is past its due date."""
        agency = self.agencies.get(case.agency)
        parent = self.agencies.get(agency.parent) if agency and agency.parent else None
        parent_bound = parent is not None and parent.chat_id is not None
        text = self.render(
            "reminder.html",
            mode="escalation",
            case=case,
            agency_name=self.agency_name(case.agency),
            overdue_days=overdue_days,
            can_extend=False,
            no_group=False,
            parent_unbound=parent.name if parent is not None and not parent_bound else None,
        )
        notified: list[int] = []
        if parent is not None and parent.chat_id is not None:
            await self.post(parent.chat_id, text, purpose="escalation", case=case)
            notified.append(parent.chat_id)
        for admin in self.admin_ids:
            await self.post(admin, text, purpose="escalation", case=case)
            notified.append(admin)
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
        loc = self.app.renderer.locale_of(case.citizen_locale)
        text = self.app.renderer.t(
            "reports.progress_update",
            loc,
            code=case.code,
            agency=self.agency_name(case.agency),
            status=self.app.renderer.plain(f"status.{case.status}", loc),
            due=case.due_at,
        )
        await self.post(case.citizen_chat_id, str(text), purpose="progress_update", case=case)
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
            self.agencies = {a.code: a for a in await self.session.scalars(select(Agency))}
        for period in periods:
            done = await self.session.scalar(
                select(ReportRun.id).where(
                    ReportRun.kind == period.kind, ReportRun.period == period.key
                )
            )
            if done is not None:
                continue
            self.session.add(ReportRun(kind=period.kind, period=period.key, at=self.now))
            await self.session.flush()
            if period.kind == "monthly":
                await self.monthly(period)
            else:
                await self.figures_report(period)
            self.counts["reports"] += 1
            self.counts[period.kind] += 1

    def groups(self) -> list[Agency]:
        """Agencies with a bound group, by name."""
        bound = [a for a in self.agencies.values() if a.chat_id is not None]
        return sorted(bound, key=lambda a: (a.name, a.code))

    async def figures_report(self, period: Period) -> None:
        """The weekly summary or the quarterly figures: each group its own, admins all."""
        by_agency = await figures_by_agency(self.session, period.start, period.end)
        if period.kind == "weekly":
            template, purpose = "weekly_summary.html", "report_weekly"
            extra: dict[str, Any] = {"week": period.start.isocalendar()[1]}
        else:
            template, purpose = "quarterly.html", "report_quarterly"
            year, quarter = period.key.split("-Q")
            extra = {"quarter": int(quarter), "year": int(year)}

        def text(agency: Agency | None, figures: Figures, rows: list[tuple[str, Figures]]) -> str:
            return self.render(
                template,
                period=period,
                agency=agency,
                f=figures,
                rows=rows,
                pct=lambda r: percent(r, self.locale),
                target=self.timing.satisfaction_target,
                transfer_days=self.app.settings.cases.transfer_working_days,
                **extra,
            )

        for agency in self.groups():
            assert agency.chat_id is not None
            figures = by_agency.get(agency.code, Figures())
            await self.post(agency.chat_id, text(agency, figures, []), purpose=purpose)
        if self.admin_ids:
            total = sum(by_agency.values(), Figures())
            rows = sorted(
                ((self.agency_name(code), f) for code, f in by_agency.items()),
                key=lambda row: row[0],
            )
            body = text(None, total, rows)
            for admin in self.admin_ids:
                await self.post(admin, body, purpose=purpose)

    async def monthly(self, period: Period) -> None:
        """Seed 004: the list of late handling, by agency and by official, on the 5th."""
        items = await late_cases(self.session, period.start, period.end, tz=self.tz)
        groups = group_late(items)
        month = f"{period.start.astimezone(self.tz):%m/%Y}"
        for agency in self.groups():
            assert agency.chat_id is not None
            own = [g for g in groups if g.code == agency.code]
            body = self.render("monthly_late.html", month=month, agency=agency, groups=own)
            await self.post(agency.chat_id, body, purpose="report_monthly")
        if self.admin_ids:
            body = self.render("monthly_late.html", month=month, agency=None, groups=groups)
            for admin in self.admin_ids:
                await self.post(admin, body, purpose="report_monthly")
