"""The case lifecycle: intake, routing, the reply clock, and every later change.

Each change appends a CaseEvent row (who, what, when) to the case's history and publishes a
domain event (`bot.domain.events`) in the same transaction; the Telegram adapter turns events
into messages. Nothing here knows about Telegram; callers pass an AsyncSession and own the
commit.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.domain.codes import new_tracking_code
from bot.domain.errors import NotAllowed, UserFacingError
from bot.domain.events import (
    CaseAnswered,
    CaseExtended,
    CaseFiled,
    CaseRated,
    CaseReassigned,
    CaseRejected,
    CaseTaken,
    CaseTransferred,
    CitizenInfoAdded,
    EventPublisher,
    InfoRequested,
    NullPublisher,
    RatingCommented,
)
from bot.domain.intake import clean_text, content_fingerprint
from bot.domain.reply_clock import (
    DayUnit,
    HolidayOverride,
    WorkCalendar,
    compute_due,
    days_left,
    end_of_day,
)
from bot.domain.reply_clock import working_days_between as count_working_days
from bot.domain.routing import Place, RouteDecision, Rule, route_case
from bot.domain.schedule import Schedule
from bot.domain.statuses import FINAL_STATUSES, OPEN_STATUSES, Kind, Status, check_transition
from bot.settings import CaseSettings
from knowledge.places import Gazetteer
from knowledge.records import COMMUNE_KINDS
from storage.models import Agency, Case, CaseEvent
from storage.repositories import (
    AgencyRepo,
    CaseRepo,
    EventRepo,
    HolidayRepo,
    MessageLinkRepo,
    ProcedureRepo,
    RoutingRuleRepo,
)


@dataclass(frozen=True)
class Actor:
    """Who did something: a citizen, an official (in a group), an admin, or the system."""

    kind: str
    id: int | None = None
    name: str | None = None


SYSTEM = Actor("system")


@dataclass
class Draft:
    """Typed FSM data of the intake conversation."""

    draft_id: str
    kind: str | None = None
    content: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    procedure_code: str | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    remember: bool = True
    complaint_ack: bool = False
    # Where the case is, when its procedure is done at a commune (see bot.domain.routing).
    unit_status: str | None = None  # "resolved" | "unresolved" | "outside"
    unit_code: str | None = None
    unit_name: str | None = None
    unit_how: str | None = None
    place: str | None = None  # the place the case is about, when not the citizen's address
    latitude: float | None = None
    longitude: float | None = None

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Draft:
        known = {k: v for k, v in data.get("draft", {}).items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def to_data(self) -> dict[str, Any]:
        return {"draft": dict(self.__dict__)}

    @property
    def located(self) -> Place | None:
        """The commune the intake settled on, if it asked."""
        if self.unit_status is None:
            return None
        return Place(self.unit_status, self.unit_code, self.unit_name, self.unit_how or "")

    def forget_place(self) -> None:
        """The address or the procedure changed: the commune is asked again."""
        self.unit_status = self.unit_code = self.unit_name = self.unit_how = None
        self.place = None
        self.latitude = self.longitude = None

    @property
    def complete(self) -> bool:
        return bool(
            self.kind and self.content and self.name and self.address and (self.phone or self.email)
        )


class CaseService:
    def __init__(
        self,
        *,
        settings: CaseSettings,
        clock: Clock,
        tz: ZoneInfo,
        events: EventPublisher | None = None,
        places: Gazetteer | Callable[[], Gazetteer] | None = None,
        schedule: Schedule | None = None,
    ) -> None:
        self.settings = settings
        # The province's communes (None: commune routing off, PROVINCE_CODE empty); given as
        # a loader, they are read on first use (a command that files nothing never does).
        self._places = places
        self.clock = clock
        self.tz = tz
        self.events: EventPublisher = events or NullPublisher()
        # When the tick must look at a case next; kept up to date on every change.
        self.schedule = schedule or Schedule(
            tz=tz, thresholds=frozenset(n for n in settings.reminder_days_before if n > 0) | {0},
            progress_days=settings.progress_update_days,
        )  # fmt: skip
        self._calendar: tuple[tuple[HolidayOverride, ...], WorkCalendar] | None = None

    @property
    def places(self) -> Gazetteer | None:
        if callable(self._places):
            self._places = self._places()
        return self._places

    # ---- the reply clock -------------------------------------------------------------
    async def calendar(self, session: AsyncSession) -> WorkCalendar:
        """The working-day calendar with the admins' overrides (rebuilt when they change)."""
        overrides = tuple(
            HolidayOverride(day=o.day, kind=o.kind, name=o.name)  # type: ignore[arg-type]
            for o in await HolidayRepo(session).all()
        )
        if self._calendar is None or self._calendar[0] != overrides:
            self._calendar = (overrides, WorkCalendar(overrides))
        return self._calendar[1]

    async def due_for(
        self, session: AsyncSession, agency: Agency | None, start: datetime
    ) -> datetime:
        """When a case received at `start` by `agency` must be answered."""
        days = (
            agency.reply_days if agency and agency.reply_days else None
        ) or self.settings.reply_days
        return compute_due(
            start,
            days,
            DayUnit(self.settings.reply_unit),
            await self.calendar(session),
            self.tz,
        )

    # ---- lookups ---------------------------------------------------------------------
    async def by_code(self, session: AsyncSession, code: str) -> Case | None:
        """A case by tracking code."""
        return await CaseRepo(session).by_code(code.strip().upper())

    async def by_id(self, session: AsyncSession, case_id: int) -> Case | None:
        """A case by id."""
        return await CaseRepo(session).by_id(case_id)

    async def of_citizen(
        self, session: AsyncSession, citizen_id: int, limit: int = 10
    ) -> Sequence[Case]:
        """The citizen's latest cases."""
        return await CaseRepo(session).of_citizen(citizen_id, limit)

    async def by_message(self, session: AsyncSession, chat_id: int, message_id: int) -> Case | None:
        """The case a bot message in this chat belongs to (replies map through this table)."""
        link = await MessageLinkRepo(session).get(chat_id, message_id)
        return await CaseRepo(session).by_id(link.case_id) if link else None

    async def history(self, session: AsyncSession, case: Case) -> list[CaseEvent]:
        """The case's events, oldest first."""
        return await EventRepo(session).of_case(case.id)

    # ---- intake ----------------------------------------------------------------------
    async def check_limits(
        self, session: AsyncSession, citizen_id: int, content: str | None
    ) -> None:
        """Refuse a case over the daily limit or a resubmission of the same content."""
        now = self.clock.now()
        local_midnight = now.astimezone(self.tz).replace(hour=0, minute=0, second=0, microsecond=0)
        today = await CaseRepo(session).count_filed_since(citizen_id, local_midnight)
        if today >= self.settings.daily_limit:
            raise UserFacingError("case.daily_limit", limit=self.settings.daily_limit)
        if content and self.settings.duplicate_window_minutes:
            since = now - timedelta(minutes=self.settings.duplicate_window_minutes)
            same = await CaseRepo(session).same_content_since(
                citizen_id, content_fingerprint(content), since
            )
            if same:
                raise UserFacingError("case.duplicate", code=same)

    async def route(
        self,
        session: AsyncSession,
        procedure_code: str | None,
        content: str,
        place: Place | None = None,
    ) -> RouteDecision:
        """Pick the agency for a new case (`place`: the commune the intake settled on)."""
        agencies = {a.code: a for a in await AgencyRepo(session).all_records()}
        procedure = await ProcedureRepo(session).get(procedure_code) if procedure_code else None
        rules = [
            Rule(id=r.id, agency=r.agency, field=r.field, keyword=r.keyword)
            for r in await RoutingRuleRepo(session).all()
        ]
        mentioned = None
        if self.places is not None:
            found = self.places.mentioned_commune(content)
            if found.unit is not None:
                mentioned = Place("resolved", found.unit.code, found.unit.name, found.rule)
        return route_case(
            procedure=procedure,
            content=content,
            rules=rules,
            agencies=agencies,
            default_agency=self.settings.default_agency,
            place=place,
            mentioned=mentioned,
        )

    async def submit(
        self, session: AsyncSession, draft: Draft, *, citizen: Actor, chat_id: int, locale: str
    ) -> Case:
        """File the draft as a case: code, routing, due date, history; publishes CaseFiled."""
        if not draft.complete:
            raise UserFacingError("case.incomplete")
        existing = await CaseRepo(session).by_source_key(draft.draft_id)
        if existing is not None:  # the same draft submitted twice (double tap, re-delivery)
            return existing
        assert citizen.id is not None and draft.content is not None and draft.kind is not None
        await self.check_limits(session, citizen.id, draft.content)
        now = self.clock.now()
        decision = await self.route(session, draft.procedure_code, draft.content, draft.located)
        agency = await AgencyRepo(session).get(decision.agency)
        if agency is None:
            raise UserFacingError("case.no_agency")
        due = await self.due_for(session, agency, now)
        prefix = (
            self.settings.code_prefix_feedback
            if draft.kind == Kind.FEEDBACK
            else self.settings.code_prefix_suggestion
        )
        code = await self._unique_code(session, prefix)
        case = Case(
            code=code,
            kind=draft.kind,
            content=draft.content,
            content_hash=content_fingerprint(draft.content),
            procedure_code=draft.procedure_code,
            citizen_id=citizen.id,
            citizen_chat_id=chat_id,
            citizen_name=draft.name or "",
            citizen_phone=draft.phone,
            citizen_email=draft.email,
            citizen_address=draft.address or "",
            citizen_locale=locale,
            agency=agency.code,
            routing_rule=decision.rule,
            unit_code=decision.unit_code,
            unit_status=decision.unit_status,
            place=draft.place,
            latitude=draft.latitude,
            longitude=draft.longitude,
            status=Status.RECEIVED,
            received_at=now,
            due_at=due,
            original_due_at=due,
            extensions=0,
            transferred_late=0,
            source_key=draft.draft_id,
        )
        case.next_action_at = self.schedule.next_action(case, now)
        await CaseRepo(session).add(case)
        attachments = draft.attachments[: self.settings.max_attachments]
        CaseRepo(session).add_attachments(case.id, attachments, "citizen")
        self.record_event(
            session,
            case,
            citizen,
            "received",
            None,
            Status.RECEIVED,
            {
                "agency": agency.code,
                "rule": decision.rule,
                "due_at": due.isoformat(),
                **self._unit_details(decision),
            },
        )
        await session.flush()
        await self.events.publish(session, CaseFiled(case, agency, tuple(attachments)))
        return case

    def _unit_details(self, decision: RouteDecision) -> dict[str, Any]:
        """The commune that routed the case, for its history (empty when none was needed)."""
        if decision.unit_status is None:
            return {}
        unit = (
            self.places.commune(decision.unit_code) if self.places and decision.unit_code else None
        )
        return {
            "unit_status": decision.unit_status,
            "unit_code": decision.unit_code,
            "unit_name": unit.name if unit else None,
        }

    async def _unique_code(self, session: AsyncSession, prefix: str) -> str:
        for _ in range(20):
            code = new_tracking_code(prefix)
            if not await CaseRepo(session).code_taken(code):
                return code
        raise RuntimeError("could not find a free tracking code")  # pragma: no cover

    def record_event(
        self,
        session: AsyncSession,
        case: Case,
        actor: Actor,
        action: str,
        from_status: str | None,
        to_status: str | None,
        details: dict[str, Any] | None = None,
    ) -> CaseEvent:
        """Append one event to the case's history (who, what, when)."""
        return EventRepo(session).add(
            case.id,
            at=self.clock.now(),
            actor_kind=actor.kind,
            actor_id=actor.id,
            actor_name=actor.name,
            action=action,
            from_status=from_status,
            to_status=to_status,
            details=details,
        )

    async def _move(
        self,
        session: AsyncSession,
        case: Case,
        to: Status,
        actor: Actor,
        action: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        """The one place a status changes: checked against TRANSITIONS, then recorded."""
        check_transition(case.code, case.status, to)
        before = case.status
        case.status = to
        # The due date may have moved too (extension, transfer): reschedule the tick's look.
        case.next_action_at = self.schedule.next_action(case, self.clock.now())
        self.record_event(session, case, actor, action, before, to, details)
        await session.flush()

    # ---- officials -------------------------------------------------------------------
    async def ensure_can_act(
        self,
        session: AsyncSession,
        case: Case,
        *,
        chat_id: int,
        user_id: int,
        admin_ids: Collection[int],
    ) -> Agency | None:
        """Only the group bound to the case's current agency, or an admin, may act."""
        agency = await AgencyRepo(session).get(case.agency)
        in_agency_group = agency is not None and agency.chat_id == chat_id
        if not in_agency_group and user_id not in admin_ids:
            raise NotAllowed("case.not_your_case", code=case.code)
        if case.status in FINAL_STATUSES:
            raise NotAllowed("case.already_final", code=case.code)
        return agency

    async def lock(self, session: AsyncSession, case_id: int) -> Case | None:
        """The case, re-read under its row lock (PostgreSQL: SELECT … FOR UPDATE), so two
        officials acting at once are serialised and the second sees the first's change."""
        return await CaseRepo(session).by_id(case_id, lock=True)

    async def take(self, session: AsyncSession, case: Case, official: Actor) -> bool:
        """The official becomes the assignee; False when they already are (a double tap).

        A case someone else holds is not taken silently: that needs `take_over`."""
        if case.status == Status.ANSWERED:
            raise NotAllowed("case.already_answered", code=case.code)
        if case.assignee_id == official.id:
            return False
        if case.assignee_id is not None:
            raise NotAllowed("case.taken_by", code=case.code, name=case.assignee_name or "")
        await self._move(session, case, Status.ASSIGNED, official, "assigned")
        case.assignee_id, case.assignee_name = official.id, official.name
        await self.events.publish(session, CaseTaken(case))
        return True

    async def take_over(self, session: AsyncSession, case: Case, official: Actor) -> bool:
        """ "Nhận thay": the official replaces the current assignee, who is told in the group."""
        if case.assignee_id is None:
            return await self.take(session, case, official)
        if case.assignee_id == official.id:
            return False
        previous = Actor("official", case.assignee_id, case.assignee_name)
        self.record_event(
            session,
            case,
            official,
            "reassigned",
            case.status,
            case.status,
            {"from_id": previous.id, "from_name": previous.name},
        )
        case.assignee_id, case.assignee_name = official.id, official.name
        await session.flush()
        await self.events.publish(session, CaseReassigned(case, previous, official))
        return True

    async def answer(
        self,
        session: AsyncSession,
        case: Case,
        official: Actor,
        text: str,
        attachments: Sequence[dict[str, Any]] = (),
        *,
        approved_by: Actor | None = None,
    ) -> None:
        """The agency's answer reaches the citizen, who is asked to rate it."""
        if case.status not in OPEN_STATUSES:
            raise NotAllowed("case.not_open", code=case.code)
        text = clean_text(text)
        if case.assignee_id is None:
            case.assignee_id, case.assignee_name = official.id, official.name
        now = self.clock.now()
        details: dict[str, Any] = {
            "text": text,
            "attachments": len(attachments),
            "on_time": now <= case.due_at,
        }
        if approved_by is not None:
            details |= {"approved_by": approved_by.id, "approved_by_name": approved_by.name}
        await self._move(session, case, Status.ANSWERED, official, "answered", details)
        case.answered_at = now
        CaseRepo(session).add_attachments(case.id, attachments, "official")
        await self.events.publish(session, CaseAnswered(case, text, tuple(attachments)))

    async def request_info(
        self, session: AsyncSession, case: Case, official: Actor, question: str
    ) -> None:
        """Ask the citizen for more information; their reply comes back to the group."""
        if case.status not in OPEN_STATUSES:
            raise NotAllowed("case.not_open", code=case.code)
        question = clean_text(question)
        await self._move(
            session, case, Status.IN_PROGRESS, official, "info_requested", {"question": question}
        )
        await self.events.publish(session, InfoRequested(case, question))

    async def citizen_info(
        self,
        session: AsyncSession,
        case: Case,
        citizen: Actor,
        text: str,
        attachments: Sequence[dict[str, Any]] = (),
    ) -> None:
        """The citizen's extra information, posted back to the group as a reply to the card."""
        if case.status in FINAL_STATUSES:
            raise NotAllowed("case.already_final", code=case.code)
        self.record_event(
            session,
            case,
            citizen,
            "info_added",
            case.status,
            case.status,
            {"text": text, "attachments": len(attachments)},
        )
        CaseRepo(session).add_attachments(case.id, attachments, "citizen")
        await session.flush()
        await self.events.publish(session, CitizenInfoAdded(case, text, tuple(attachments)))

    async def transfer(
        self, session: AsyncSession, case: Case, to_code: str, reason: str, official: Actor
    ) -> None:
        """Move the case to the competent agency (NĐ 20/2008 Điều 9: within 5 working days)."""
        if case.status not in OPEN_STATUSES:
            raise NotAllowed("case.not_open", code=case.code)
        target = await AgencyRepo(session).get(to_code)
        if target is None:
            raise UserFacingError("case.unknown_agency", agency=to_code)
        if target.code == case.agency:
            raise UserFacingError("case.same_agency")
        reason = clean_text(reason)
        now = self.clock.now()
        waited = count_working_days(case.received_at, now, await self.calendar(session), self.tz)
        late = waited > self.settings.transfer_working_days
        old_agency = case.agency
        old_due = case.due_at
        if self.settings.transfer_clock == "restart":
            case.due_at = await self.due_for(session, target, now)
        await self._move(
            session,
            case,
            Status.TRANSFERRED,
            official,
            "transferred",
            {
                "from": old_agency,
                "to": target.code,
                "reason": reason,
                "late": late,
                "working_days": waited,
                "due_before": old_due.isoformat(),
                "due_after": case.due_at.isoformat(),
            },
        )
        if late:
            case.transferred_late += 1
        if target.kind in COMMUNE_KINDS and target.unit_code and case.unit_status is not None:
            # An official placed the case in a commune by hand: it is no longer unresolved.
            case.unit_code, case.unit_status = target.unit_code, "resolved"
        case.agency = target.code
        case.assignee_id = case.assignee_name = None
        await self.events.publish(session, CaseTransferred(case, old_agency, target))

    async def extend(
        self,
        session: AsyncSession,
        case: Case,
        new_due_local: datetime,
        reason: str,
        official: Actor,
    ) -> None:
        """Move the due date once, at least a day before it, with the apology letter
        (NĐ 61/2018 Điều 19 khoản 9, now NĐ 118/2025)."""
        if case.status not in OPEN_STATUSES:
            raise NotAllowed("case.not_open", code=case.code)
        if case.extensions >= self.settings.max_extensions:
            raise UserFacingError("case.extension_used", code=case.code)
        reason = clean_text(reason)
        now = self.clock.now()
        tz = self.tz
        if days_left(now, case.due_at, tz) < self.settings.extension_min_days_before:
            raise UserFacingError(
                "case.extension_too_late",
                code=case.code,
                days=self.settings.extension_min_days_before,
            )
        calendar = await self.calendar(session)
        new_day = new_due_local.astimezone(tz).date()
        if not calendar.is_working_day(new_day):
            new_day = calendar.next_working_day(new_day)
        new_due = end_of_day(new_day, tz)
        if new_due <= case.due_at:
            raise UserFacingError("case.extension_not_later")
        old_due = case.due_at
        case.due_at = new_due
        case.extensions += 1
        target = Status.EXTENDED
        await self._move(
            session,
            case,
            target,
            official,
            "extended",
            {
                "reason": reason,
                "old_due_at": old_due.isoformat(),
                "new_due_at": new_due.isoformat(),
            },
        )
        agency = await AgencyRepo(session).get(case.agency)
        await self.events.publish(session, CaseExtended(case, agency, old_due, reason))

    async def reject(self, session: AsyncSession, case: Case, reason: str, official: Actor) -> None:
        """Không thụ lý: not PAKN, a duplicate, not enough information, outside competence."""
        await self._move(session, case, Status.REJECTED, official, "rejected", {"reason": reason})
        case.closed_at = self.clock.now()
        await self.events.publish(session, CaseRejected(case, reason))

    async def rate(self, session: AsyncSession, case: Case, citizen: Actor, rating: str) -> None:
        """The citizen rates the answer; "không hài lòng" goes to the agency's group."""
        if case.citizen_id != citizen.id:
            raise NotAllowed("case.not_yours")
        if case.status != Status.ANSWERED or case.rating:
            raise UserFacingError("case.rating_closed", code=case.code)
        case.rating = rating
        await self._move(session, case, Status.CLOSED, citizen, "rated", {"rating": rating})
        case.closed_at = self.clock.now()
        await self.events.publish(session, CaseRated(case, rating))

    async def rating_comment(
        self, session: AsyncSession, case: Case, citizen: Actor, text: str
    ) -> None:
        """An optional comment after the rating."""
        if case.citizen_id != citizen.id:
            raise NotAllowed("case.not_yours")
        case.rating_comment = text
        self.record_event(
            session, case, citizen, "rating_comment", case.status, case.status, {"text": text}
        )
        await session.flush()
        await self.events.publish(session, RatingCommented(case, text))
