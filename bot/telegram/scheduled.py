"""Messages of the periodic tick: reminders, escalations, progress updates and reports,
rendered from the domain's ReminderDue / EscalationDue / ProgressDue / ReportDue events."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from babel.numbers import format_decimal
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import events as ev
from bot.domain.reports import Figures, LateCase, Period, group_late, percent, previous
from bot.settings import Settings
from bot.telegram.charts import ChartLabels, ChartRow, chart_payload
from storage.models import Agency, Case
from storage.repositories import AdminRepo, CitizenRepo

if TYPE_CHECKING:
    from bot.telegram.notifier import Notifier


# The language of the copy being rendered (an admin's own, see ScheduledMessages.by_language).
_speaking: ContextVar[str | None] = ContextVar("report_locale", default=None)


class ScheduledMessages:
    """Renders the tick's events for groups (in the groups' language), admins and citizens."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.default_locale = settings.bot.locale  # groups, and admins who never chose one
        self.admin_ids = list(settings.bot.admin_ids)
        self.tz = settings.bot.tz

    async def handle(self, n: Notifier, session: AsyncSession, event: ev.DomainEvent) -> None:
        match event:
            case ev.ReminderDue():
                await self.remind(n, session, event)
            case ev.EscalationDue():
                await self.escalate(n, session, event)
            case ev.ProgressDue():
                await self.progress(n, session, event)
            case ev.ReportDue(kind="monthly"):
                await self.monthly(n, session, event)
            case ev.ReportDue():
                await self.figures(n, session, event)
            case _:  # pragma: no cover - every event type is handled above
                raise TypeError(type(event).__name__)

    @property
    def locale(self) -> str:
        """The language being written in: the groups' by default, an admin's own (/lang)
        while their copy is rendered (see `by_language`)."""
        return _speaking.get() or self.default_locale

    @contextmanager
    def speaking(self, locale: str) -> Iterator[None]:
        token = _speaking.set(locale)
        try:
            yield
        finally:
            _speaking.reset(token)

    async def by_language(
        self, n: Notifier, session: AsyncSession, chats: Sequence[int]
    ) -> list[tuple[str, list[int]]]:
        """Readers grouped by the language they chose with /lang (chats that never did, and
        group chats, read the default), so that each gets the report in their language."""
        groups: dict[str, list[int]] = {}
        repo = CitizenRepo(session)
        for chat in chats:
            person = await repo.get(chat) if chat > 0 else None
            chosen = person.locale if person is not None and person.locale else None
            groups.setdefault(n.r.locale_of(chosen or self.default_locale), []).append(chat)
        return sorted(groups.items())

    def render(self, n: Notifier, name: str, **ctx: Any) -> str:
        return str(n.r.render(name, self.locale, **ctx))

    async def admins(self, session: AsyncSession) -> list[int]:
        """ADMIN_IDS and the admins added from Telegram, each once."""
        return list(dict.fromkeys([*self.admin_ids, *sorted(await AdminRepo(session).ids())]))

    async def report_chats(self, session: AsyncSession) -> list[int]:
        """Who reads the all-agency reports: the leadership chats, ADMIN_IDS and the admins
        added from Telegram, each once."""
        chats = [*self.settings.reports.leadership_chat_ids, *await self.admins(session)]
        return list(dict.fromkeys(chats))

    @staticmethod
    def groups(event: ev.ReportDue) -> list[Agency]:
        """Agencies with a bound group, by name."""
        return [a for a in event.agencies if a.chat_id is not None]

    @staticmethod
    def agency_name(agency: Agency | None, case: Case) -> str:
        return agency.name if agency else case.agency

    async def remind(self, n: Notifier, session: AsyncSession, event: ev.ReminderDue) -> None:
        """A reply to the case card in the agency's group; admins stand in for a group that is
        not bound yet."""
        case, agency = event.case, event.agency
        bound = agency is not None and agency.chat_id is not None
        text = self.render(
            n,
            "reminder.html",
            mode="reminder",
            case=case,
            agency_name=self.agency_name(agency, case),
            days_left=event.days_left,
            can_extend=event.can_extend,
            awaiting_since=event.awaiting_approval_since,
            no_group=not bound,
            parent_unbound=None,
        )
        if agency is not None and agency.chat_id is not None:
            reply_to = await n.card_message_id(session, case, agency.chat_id)
            await n.send(
                session,
                agency.chat_id,
                text,
                purpose="reminder",
                case=case,
                link_kind="notice",
                reply_to=reply_to,
            )
        else:
            for admin in await self.admins(session):
                await n.send(session, admin, text, purpose="reminder", case=case)

    async def escalate(self, n: Notifier, session: AsyncSession, event: ev.EscalationDue) -> None:
        if event.parent is not None and event.parent.chat_id is not None:
            text = self.escalation_text(n, event)
            await n.send(session, event.parent.chat_id, text, purpose="escalation", case=event.case)
        for locale, chats in await self.by_language(n, session, await self.admins(session)):
            with self.speaking(locale):
                text = self.escalation_text(n, event)
            for admin in chats:
                await n.send(session, admin, text, purpose="escalation", case=event.case)

    def escalation_text(self, n: Notifier, event: ev.EscalationDue) -> str:
        case, parent = event.case, event.parent
        parent_bound = parent is not None and parent.chat_id is not None
        return self.render(
            n,
            "reminder.html",
            mode="escalation",
            case=case,
            agency_name=self.agency_name(event.agency, case),
            overdue_days=event.overdue_days,
            can_extend=False,
            awaiting_since=None,
            no_group=False,
            parent_unbound=parent.name if parent is not None and not parent_bound else None,
        )

    async def progress(self, n: Notifier, session: AsyncSession, event: ev.ProgressDue) -> None:
        case = event.case
        loc = n.r.locale_of(case.citizen_locale)
        text = n.r.t(
            "reports.progress_update",
            loc,
            code=case.code,
            agency=self.agency_name(event.agency, case),
            status=n.r.plain(f"status.{case.status}", loc),
            due=case.due_at,
        )
        await n.send(session, case.citizen_chat_id, str(text), purpose="progress_update", case=case)

    async def figures(self, n: Notifier, session: AsyncSession, event: ev.ReportDue) -> None:
        """The weekly summary or the quarterly figures: each group its own, admins all."""
        period: Period = event.period
        by_agency: dict[str, Figures] = event.figures
        if period.kind == "weekly":
            template, purpose = "weekly_summary.html", "report_weekly"
            extra: dict[str, Any] = {"week": period.start.isocalendar()[1]}
        else:
            template, purpose = "quarterly.html", "report_quarterly"
            year, quarter = period.key.split("-Q")
            extra = {"quarter": int(quarter), "year": int(year)}
        names = {a.code: a.name for a in event.agencies}

        def text(
            agency: Agency | None,
            figures: Figures,
            rows: list[tuple[str, Figures]],
            unresolved: Sequence[str] = (),
        ) -> str:
            code = agency.code if agency else None
            before = (
                event.previous.get(code, Figures())
                if code
                else sum(event.previous.values(), Figures())
            )
            return self.render(
                n,
                template,
                period=period,
                agency=agency,
                f=figures,
                p=before,
                change=self.change,
                median=self.days(event.medians.get(code)),
                rows=rows,
                pct=lambda r: percent(r, self.locale),
                target=self.settings.reports.satisfaction_target,
                transfer_days=self.settings.cases.transfer_working_days,
                unresolved=unresolved,
                **extra,
            )

        if period.kind == "weekly":
            await self.weekly_charts(n, session, event)
        for agency in self.groups(event):
            assert agency.chat_id is not None
            figures = by_agency.get(agency.code, Figures())
            await n.send(
                session, agency.chat_id, text(agency, figures, []), case=None, purpose=purpose
            )
        readers = await self.report_chats(session)
        if readers:
            total = sum(by_agency.values(), Figures())
            rows = sorted(
                ((names.get(code, code), f) for code, f in by_agency.items()),
                key=lambda row: row[0],
            )
            for locale, chats in await self.by_language(n, session, readers):
                with self.speaking(locale):
                    body = text(None, total, rows, event.unresolved)
                for chat in chats:
                    await n.send(session, chat, body, case=None, purpose=purpose)

    # ---- the weekly chart --------------------------------------------------------------
    def change(self, now: int, before: int | None) -> str:
        if before is None:
            return ""
        delta = now - before
        return f"▲{delta}" if delta > 0 else f"▼{-delta}" if delta < 0 else "="

    def days(self, value: float | None) -> str:
        if value is None:
            return ""
        return format_decimal(round(value, 1), format="#,##0.#", locale=self.locale)

    def caption(
        self,
        n: Notifier,
        event: ev.ReportDue,
        agency: Agency | None,
        now: Figures,
        before: Figures,
        median: float | None,
    ) -> str:
        return self.render(
            n,
            "weekly_caption.html",
            period=event.period,
            week=event.period.start.isocalendar()[1],
            agency=agency,
            f=now,
            p=before,
            median=self.days(median),
            change=self.change,
            pct=lambda r: percent(r, self.locale),
            target=self.settings.reports.satisfaction_target,
        )

    def labels(self, n: Notifier, title: str) -> ChartLabels:
        def p(key: str, **params: Any) -> str:
            return n.r.plain(key, self.locale, **params)

        target = percent(self.settings.reports.satisfaction_target, self.locale)
        return ChartLabels(
            title=title,
            received=p("chart.received"),
            answered=p("chart.answered"),
            overdue=p("chart.overdue"),
            on_time=p("chart.on_time"),
            target=p("chart.target", pct=target),
            count_axis=p("chart.count_axis"),
            rate_axis=p("chart.rate_axis"),
        )

    @staticmethod
    def chart_row(label: str, f: Figures) -> ChartRow:
        return ChartRow(label, f.received, f.answered, f.overdue_open, f.on_time_ratio)

    async def weekly_charts(self, n: Notifier, session: AsyncSession, event: ev.ReportDue) -> None:
        """Each group: its own week against the week before; leadership and admins: every
        agency. A photo with a short caption, through the outbox like every message."""
        period: Period = event.period
        week = period.start.isocalendar()[1]
        last = previous(period, self.tz)
        last_week = last.start.isocalendar()[1]
        target = self.settings.reports.satisfaction_target
        by_agency: dict[str, Figures] = event.figures
        before: dict[str, Figures] = event.previous
        title = n.r.plain(
            "chart.title", self.locale, week=week, start=period.start, end=period.last_moment
        )
        for agency in self.groups(event):
            assert agency.chat_id is not None
            now = by_agency.get(agency.code, Figures())
            then = before.get(agency.code, Figures())
            rows = [
                self.chart_row(n.r.plain("chart.week", self.locale, week=last_week), then),
                self.chart_row(n.r.plain("chart.week", self.locale, week=week), now),
            ]
            labels = self.labels(n, f"{title} · {agency.name}")
            caption = self.caption(n, event, agency, now, then, event.medians.get(agency.code))
            # Drawn by the outbox when it is sent (see chart_payload).
            await n.enqueue(
                session,
                chat_id=agency.chat_id,
                method="upload_photo",
                payload=chart_payload(
                    rows, target, labels, f"tuan-{week}-{agency.code}.png", caption
                ),
                purpose="weekly_chart",
            )
        readers = await self.report_chats(session)
        names = {a.code: a.name for a in event.agencies}
        total = sum(by_agency.values(), Figures())
        for locale, chats in await self.by_language(n, session, readers):
            with self.speaking(locale):
                title = n.r.plain(
                    "chart.title",
                    self.locale,
                    week=week,
                    start=period.start,
                    end=period.last_moment,
                )
                rows = [
                    self.chart_row(names.get(code, code), f)
                    for code, f in sorted(by_agency.items(), key=lambda kv: names.get(kv[0], kv[0]))
                ]
                if not rows:
                    rows = [
                        self.chart_row(n.r.plain("reports.all_agencies", self.locale), Figures())
                    ]
                labels = self.labels(n, title)
                caption = self.caption(
                    n, event, None, total, sum(before.values(), Figures()), event.medians.get(None)
                )
            payload = chart_payload(rows, target, labels, f"tuan-{week}.png", caption)
            for chat in chats:
                await n.enqueue(
                    session,
                    chat_id=chat,
                    method="upload_photo",
                    payload=payload,
                    purpose="weekly_chart",
                )

    def late_lines(self, n: Notifier, items: Sequence[LateCase]) -> dict[int, str]:
        """Each late case's line in the current language, written once for every message that
        lists it (the agency's own and the all-agency list: thousands of lines a month)."""
        r, loc = n.r, self.locale
        return {
            c.case_id: (
                r.t("reports.late_answered", loc, due=c.due_at, at=c.answered_at, n=c.late_days)
                if c.answered_at
                else r.t("reports.late_open", loc, due=c.due_at, n=c.late_days)
            )
            for c in items
        }

    async def monthly(self, n: Notifier, session: AsyncSession, event: ev.ReportDue) -> None:
        """The list of late handling, by agency and by official."""
        groups = group_late(event.late)
        month = f"{event.period.start.astimezone(self.tz):%m/%Y}"
        written = {self.locale: self.late_lines(n, event.late)}
        lines = written[self.locale]
        for agency in self.groups(event):
            assert agency.chat_id is not None
            own = [g for g in groups if g.code == agency.code]
            body = self.render(
                n, "monthly_late.html", month=month, agency=agency, groups=own, lines=lines
            )
            await n.send(session, agency.chat_id, body, case=None, purpose="report_monthly")
        readers = await self.report_chats(session)
        for locale, chats in await self.by_language(n, session, readers):
            with self.speaking(locale):
                if self.locale not in written:
                    written[self.locale] = self.late_lines(n, event.late)
                lines = written[self.locale]
                body = self.render(
                    n, "monthly_late.html", month=month, agency=None, groups=groups, lines=lines
                )
            for chat in chats:
                await n.send(session, chat, body, case=None, purpose="report_monthly")
