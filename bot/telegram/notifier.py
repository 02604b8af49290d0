"""The notifier: turns domain events into messages, rendered and written to the outbox in the
same transaction (never sent directly)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock, SystemClock
from bot.domain import events as ev
from bot.domain.reply_clock import days_left
from bot.domain.statuses import OPEN_STATUSES, Status
from bot.telegram.keyboards import Keyboards
from bot.telegram.outbox import ALERT_PURPOSE, enqueue, keyboard_payload
from bot.telegram.rendering import Renderer, mention, split_html
from storage.models import Agency, Case
from storage.repositories import (
    AdminRepo,
    AgencyRepo,
    ApproverRepo,
    CaseRepo,
    MessageLinkRepo,
    OutboxRepo,
    ProcedureRepo,
)


class Notifier:
    """Implements `bot.domain.events.EventPublisher` for Telegram."""

    def __init__(
        self,
        *,
        renderer: Renderer,
        keyboards: Keyboards,
        clock: Clock,
        tz: ZoneInfo,
        admin_ids: Sequence[int],
        group_locale: str,
        max_extensions: int,
    ) -> None:
        self.r = renderer
        self.kb = keyboards
        self.clock = clock
        self.tz = tz
        self.admin_ids = list(admin_ids)
        self.group_locale = group_locale
        self.max_extensions = max_extensions
        self.scheduled: Any = None  # bot.telegram.scheduled.ScheduledMessages, set by the factory
        self._queued = 0
        self.outbox_clock: Clock = SystemClock()

    async def publish(self, session: AsyncSession, event: ev.DomainEvent) -> int:
        """Queue the messages `event` causes; return how many outbox rows were written."""
        before = self._queued
        await self._dispatch(session, event)
        return self._queued - before

    async def _dispatch(self, session: AsyncSession, event: ev.DomainEvent) -> None:
        match event:
            case ev.CaseFiled(case=case, agency=agency, attachments=items):
                await self.acknowledge(session, case, agency)
                await self.post_card(session, case, agency, items)
            case ev.CaseTaken(case=case):
                await self.refresh_card(session, case)
            case ev.CaseAnswered(case=case, text=text, attachments=items):
                await self.answer_to_citizen(session, case, text, items)
                await self.to_group(session, case, "group.answer_sent", code=case.code)
                await self.refresh_card(session, case)
            case ev.CaseReassigned(case=case, previous=previous, official=official):
                await self.to_group(
                    session,
                    case,
                    "group.taken_over",
                    previous=Markup(mention(previous.id, previous.name)),
                    code=case.code,
                    name=official.name,
                )
                await self.refresh_card(session, case)
            case ev.AnswerAwaitingApproval(case=case, draft=draft):
                await self.approval_request(session, case, draft)
            case ev.AnswerReturned(case=case, draft=draft):
                await self.to_group(
                    session,
                    case,
                    "approval.returned",
                    author=Markup(mention(draft.author_id, draft.author_name)),
                    name=draft.approver_name,
                    code=case.code,
                    comment=draft.comment,
                )
            case ev.InfoRequested(case=case, question=question):
                await self.info_request_to_citizen(session, case, question)
                await self.refresh_card(session, case)
            case ev.CitizenInfoAdded(case=case, text=text, attachments=items):
                await self.citizen_info_to_group(session, case, text, items)
            case ev.CaseTransferred(case=case, old_agency=old, target=target):
                await self.card_transferred_away(session, case, old, target)
                evidence = await CaseRepo(session).attachments(case.id, "citizen")
                items = [{"kind": a.kind, "file_id": a.file_id} for a in evidence]
                await self.post_card(session, case, target, items)
                await self.to_citizen(
                    session,
                    case,
                    "citizen.transferred",
                    code=case.code,
                    agency=target.name,
                    due=case.due_at,
                )
            case ev.CaseExtended(case=case, agency=agency, old_due=old_due, reason=reason):
                await self.apology_letter(session, case, agency, old_due, reason)
                await self.refresh_card(session, case)
            case ev.CaseRejected(case=case, reason=reason):
                await self.to_citizen(
                    session,
                    case,
                    "citizen.rejected",
                    code=case.code,
                    reason=self.reason_text(reason, case.citizen_locale),
                )
                await self.refresh_card(session, case)
            case ev.CaseRated(case=case, rating=rating):
                if rating == "bad":
                    await self.to_group(session, case, "group.unsatisfied", code=case.code)
                await self.refresh_card(session, case)
            case ev.RatingCommented(case=case, text=text):
                if case.rating == "bad":
                    await self.to_group(
                        session, case, "group.unsatisfied_comment", code=case.code, comment=text
                    )
            case _:
                await self._dispatch_scheduled(session, event)

    async def _dispatch_scheduled(self, session: AsyncSession, event: ev.DomainEvent) -> None:
        """Reminders, escalations, progress updates and reports (see `bot.telegram.scheduled`)."""
        if self.scheduled is None:  # pragma: no cover - wired by create_app
            raise RuntimeError(f"no handler for {type(event).__name__}")
        await self.scheduled.handle(self, session, event)

    async def enqueue(self, session: AsyncSession, **fields: Any) -> None:
        """One outbox row in the caller's transaction, due now in real time: the sender
        schedules in real time, whatever the domain clock says (a tick run with --now in the
        future must not post-date its messages)."""
        await enqueue(session, now=self.outbox_clock.now(), **fields)
        self._queued += 1

    # ---- helpers ---------------------------------------------------------------------
    async def send(
        self,
        session: AsyncSession,
        chat_id: int,
        text: str,
        *,
        case: Case | None,
        link_kind: str | None = None,
        purpose: str = "",
        markup: Any = None,
        reply_to: int | None = None,
    ) -> int:
        """Queue `text` in parts under Telegram's 4096-character limit; return how many."""
        parts = split_html(text)
        for i, part in enumerate(parts):
            payload: dict[str, Any] = {"text": part}
            if i == len(parts) - 1 and markup is not None:
                payload["reply_markup"] = keyboard_payload(markup)
            if i == 0 and reply_to:
                payload["reply_to_message_id"] = reply_to
            await self.enqueue(
                session,
                chat_id=chat_id,
                method="send_message",
                payload=payload,
                case_id=case.id if case else None,
                # A card longer than one message: the first part is "card", the rest
                # "card_more", so a refresh edits each part in its own message.
                link_kind="card_more" if link_kind == "card" and i > 0 else link_kind,
                purpose=purpose,
            )
        return len(parts)

    async def _attachments(
        self,
        session: AsyncSession,
        chat_id: int,
        case: Case,
        items: Sequence[dict[str, Any]],
        link_kind: str | None,
        reply_to: int | None = None,
    ) -> None:
        for att in items:
            method = "send_photo" if att["kind"] == "photo" else "send_document"
            payload: dict[str, Any] = {"file_id": att["file_id"]}
            if reply_to:
                payload["reply_to_message_id"] = reply_to
            await self.enqueue(
                session,
                chat_id=chat_id,
                method=method,
                payload=payload,
                case_id=case.id,
                link_kind=link_kind,
                purpose="attachment",
            )

    async def alert_admins(
        self, session: AsyncSession, key: str, case: Case | None = None, **params: Any
    ) -> None:
        # ADMIN_IDS and the admins added from Telegram (`/admins add`).
        stored = sorted(await AdminRepo(session).ids())
        for admin in dict.fromkeys([*self.admin_ids, *stored]):
            await self.send(
                session,
                admin,
                self.r.t(key, self.group_locale, **params),
                case=case,
                purpose=ALERT_PURPOSE,
            )

    def reason_text(self, reason: str, locale: str) -> str:
        key = f"reason.{reason}"
        return self.r.plain(key, locale) if key in self.r.catalogs["vi"] else reason

    async def card_message_id(self, session: AsyncSession, case: Case, chat_id: int) -> int | None:
        """The newest case card in the chat (notices reply to it)."""
        return await MessageLinkRepo(session).newest(case.id, chat_id, "card")

    # ---- the citizen -----------------------------------------------------------------
    async def acknowledge(self, session: AsyncSession, case: Case, agency: Agency) -> None:
        text = self.r.render("case_ack.html", case.citizen_locale, case=case, agency=agency)
        await self.send(session, case.citizen_chat_id, text, case=case, purpose="ack")

    async def to_citizen(self, session: AsyncSession, case: Case, key: str, **params: Any) -> None:
        await self.send(
            session,
            case.citizen_chat_id,
            self.r.t(key, case.citizen_locale, **params),
            case=case,
            purpose=key,
        )

    async def answer_to_citizen(
        self, session: AsyncSession, case: Case, text: str, attachments: Sequence[dict[str, Any]]
    ) -> None:
        agency = await AgencyRepo(session).get(case.agency)
        body = self.r.render(
            "answer.html", case.citizen_locale, case=case, agency=agency, text=text
        )
        await self.send(
            session, case.citizen_chat_id, body, case=case, link_kind="answer", purpose="answer"
        )
        await self._attachments(session, case.citizen_chat_id, case, attachments, "answer")
        await self.send(
            session,
            case.citizen_chat_id,
            self.r.t("citizen.rate_prompt", case.citizen_locale, code=case.code),
            case=case,
            purpose="rate_prompt",
            markup=self.kb.rating(case.citizen_locale, case.id),
        )

    async def info_request_to_citizen(
        self, session: AsyncSession, case: Case, question: str
    ) -> None:
        agency = await AgencyRepo(session).get(case.agency)
        body = self.r.render(
            "info_request.html", case.citizen_locale, case=case, agency=agency, question=question
        )
        await self.send(
            session,
            case.citizen_chat_id,
            body,
            case=case,
            link_kind="info_request",
            purpose="info_request",
        )

    async def apology_letter(
        self,
        session: AsyncSession,
        case: Case,
        agency: Agency | None,
        old_due: datetime,
        reason: str,
    ) -> None:
        body = self.r.render(
            "apology.html",
            case.citizen_locale,
            case=case,
            agency=agency,
            old_due=old_due,
            reason=reason,
        )
        await self.send(session, case.citizen_chat_id, body, case=case, purpose="apology")

    # ---- the agency group ------------------------------------------------------------
    async def card_text(self, session: AsyncSession, case: Case, *, personal: bool = True) -> str:
        agency = await AgencyRepo(session).get(case.agency)
        procedure = (
            await ProcedureRepo(session).get(case.procedure_code) if case.procedure_code else None
        )
        left = days_left(self.clock.now(), case.due_at, self.tz)
        return self.r.render(
            "case_card.html",
            self.group_locale,
            case=case,
            agency=agency,
            procedure=procedure,
            days_left=left,
            personal=personal,
            is_open=Status(case.status) in OPEN_STATUSES,
            attachments=len(await CaseRepo(session).attachments(case.id)),
        )

    def card_markup(self, case: Case) -> Any:
        return self.kb.case_card(
            self.group_locale,
            case.id,
            case.status,
            assigned=case.assignee_id is not None,
            can_extend=case.extensions < self.max_extensions,
        )

    async def post_card(
        self,
        session: AsyncSession,
        case: Case,
        agency: Agency,
        attachments: Sequence[dict[str, Any]] = (),
    ) -> None:
        """The case card in the agency's group, with the citizen's attachments under it."""
        if agency.chat_id is None:
            # The case still belongs to the agency; admins learn it waits for a group.
            await self.alert_admins(
                session,
                "admin.no_chat",
                case,
                code=case.code,
                agency=agency.name,
                agency_code=agency.code,
            )
            return
        text = await self.card_text(session, case)
        await self.send(
            session,
            agency.chat_id,
            text,
            case=case,
            link_kind="card",
            purpose="card",
            markup=self.card_markup(case),
        )
        items = [{"kind": a["kind"], "file_id": a["file_id"]} for a in attachments]
        await self._attachments(session, agency.chat_id, case, items, "attachment")

    async def card_messages(self, session: AsyncSession, case: Case, chat_id: int) -> list[int]:
        """The message ids of the newest card in the chat: its first part, then the rest."""
        links = MessageLinkRepo(session)
        head = await links.newest(case.id, chat_id, "card")
        if head is None:
            return []
        return [head, *await links.after(case.id, chat_id, "card_more", head)]

    async def refresh_card(self, session: AsyncSession, case: Case) -> None:
        """Edit the card in place (status, assignee, due date), each part in its message."""
        agency = await AgencyRepo(session).get(case.agency)
        if agency is None or agency.chat_id is None:
            return
        parts = split_html(await self.card_text(session, case))
        markup = keyboard_payload(self.card_markup(case))
        messages = await self.card_messages(session, case, agency.chat_id)
        if not messages:
            # The card itself is still in the outbox: render it anew there.
            pending = await OutboxRepo(session).pending_link(case.id, agency.chat_id, "card")
            if pending is not None:
                pending.payload = {"text": parts[0], "reply_markup": markup}
            return
        if len(parts) > len(messages):  # longer than when posted: the last message ends it
            parts = [*parts[: len(messages) - 1], parts[len(messages) - 1][:3900] + "…"]
        for i, message_id in enumerate(messages):
            payload: dict[str, Any] = {"text": parts[i] if i < len(parts) else "…"}
            payload["message_id"] = message_id
            if i == len(messages) - 1:
                payload["reply_markup"] = markup
            await self.enqueue(
                session,
                chat_id=agency.chat_id,
                method="edit_message_text",
                payload=payload,
                case_id=case.id,
                purpose="card_edit",
            )

    async def card_transferred_away(
        self, session: AsyncSession, case: Case, old_code: str, target: Agency
    ) -> None:
        """The old group's card says "đã chuyển" and no longer shows personal data (in any
        of its parts)."""
        old = await AgencyRepo(session).get(old_code)
        if old is None or old.chat_id is None:
            return
        text = self.r.render("card_transferred.html", self.group_locale, case=case, target=target)
        for i, message_id in enumerate(await self.card_messages(session, case, old.chat_id)):
            await self.enqueue(
                session,
                chat_id=old.chat_id,
                method="edit_message_text",
                payload={"text": text if i == 0 else "…", "message_id": message_id},
                case_id=case.id,
                purpose="card_edit",
            )

    async def approval_request(self, session: AsyncSession, case: Case, draft: Any) -> None:
        """The draft answer in the agency's group, with Duyệt / Trả lại for its approvers."""
        agency = await AgencyRepo(session).get(case.agency)
        if agency is None or agency.chat_id is None:
            return
        approvers = ", ".join(a.name for a in await ApproverRepo(session).of_agency(agency.code))
        body = self.r.render(
            "approval_request.html", self.group_locale, case=case, draft=draft, approvers=approvers
        )
        await self.send(
            session,
            agency.chat_id,
            body,
            case=case,
            link_kind="notice",
            purpose="approval_request",
            markup=self.kb.approval(self.group_locale, draft.id),
            reply_to=await self.card_message_id(session, case, agency.chat_id),
        )

    async def to_group(self, session: AsyncSession, case: Case, key: str, **params: Any) -> None:
        agency = await AgencyRepo(session).get(case.agency)
        if agency is None or agency.chat_id is None:
            await self.alert_admins(session, key, case, **params)
            return
        reply_to = await self.card_message_id(session, case, agency.chat_id)
        await self.send(
            session,
            agency.chat_id,
            self.r.t(key, self.group_locale, **params),
            case=case,
            link_kind="notice",
            purpose=key,
            reply_to=reply_to,
        )

    async def citizen_info_to_group(
        self, session: AsyncSession, case: Case, text: str, attachments: Sequence[dict[str, Any]]
    ) -> None:
        agency = await AgencyRepo(session).get(case.agency)
        if agency is None or agency.chat_id is None:
            await self.alert_admins(
                session,
                "admin.no_chat",
                case,
                code=case.code,
                agency=case.agency,
                agency_code=case.agency,
            )
            return
        reply_to = await self.card_message_id(session, case, agency.chat_id)
        body = self.r.render("citizen_info.html", self.group_locale, case=case, text=text)
        await self.send(
            session,
            agency.chat_id,
            body,
            case=case,
            link_kind="info",
            purpose="citizen_info",
            reply_to=reply_to,
        )
        await self._attachments(session, agency.chat_id, case, attachments, "info", reply_to)
