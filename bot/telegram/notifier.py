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
from storage.models import Agency, Case, OutboxMessage
from storage.repositories import (
    AdminRepo,
    AgencyRepo,
    ApproverRepo,
    CaseRepo,
    MessageLinkRepo,
    OutboxRepo,
    ProcedureRepo,
)

# Messages in a group that carry the citizen's own words or files (the card is edited instead).
PERSONAL_KINDS = ("attachment", "info")


def card_kind(part: int) -> str:
    """The link kind of a card's message: "card" for its first, "card:<n>" for the n-th
    continuation of a card longer than one Telegram message."""
    return "card" if part == 0 else f"card:{part}"


def card_part(kind: str) -> int:
    """Which part of a card a message with this link kind is."""
    return int(kind.split(":", 1)[1]) if kind.startswith("card:") else 0


def is_card(kind: str) -> bool:
    """Whether a linked message is (a part of) a case card."""
    return kind == "card" or kind.startswith("card:")


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
        self._last_split: tuple[str, list[str]] | None = None
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
        # The same report goes to every admin: it is split once.
        last = self._last_split
        if last is not None and last[0] == text:
            parts = last[1]
        else:
            parts = split_html(text)
            self._last_split = (text, parts)
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
                link_kind=link_kind,
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
        # Rendered again when it is sent (see `render`): what the group sees is the case as
        # it is then, and a card for a group the case has meanwhile left is not sent at all.
        # A card longer than one message goes in parts; the first carries the buttons.
        parts = split_html(await self.card_text(session, case))
        for i, text in enumerate(parts):
            await self.enqueue(
                session,
                chat_id=agency.chat_id,
                method="send_message",
                payload={
                    "text": text,
                    "reply_markup": keyboard_payload(self.card_markup(case)) if i == 0 else None,
                    "render": "card",
                    "part": i,
                },
                case_id=case.id,
                link_kind=card_kind(i),
                purpose="card",
            )
        items = [{"kind": a["kind"], "file_id": a["file_id"]} for a in attachments]
        await self._attachments(session, agency.chat_id, case, items, "attachment")

    async def refresh_card(self, session: AsyncSession, case: Case) -> None:
        """Edit every copy of the card in place (status, assignee, due date)."""
        agency = await AgencyRepo(session).get(case.agency)
        if agency is None or agency.chat_id is None:
            return
        # A card still in the outbox is rendered when it is sent: nothing to do for it.
        await self._edit_cards(session, case, agency.chat_id)

    async def _edit_cards(self, session: AsyncSession, case: Case, chat_id: int) -> None:
        """Queue an edit of each delivered part of each copy of the card in the chat, rendered
        when it is sent; a message that already has an edit waiting gets no second one (the
        last state wins, and Telegram's per-chat limit is not spent on states nobody sees)."""
        outbox = OutboxRepo(session)
        for link in await MessageLinkRepo(session).cards(case.id, chat_id):
            if await outbox.pending_edit(chat_id, link.message_id) is not None:
                continue
            await self.enqueue(
                session,
                chat_id=chat_id,
                method="edit_message_text",
                payload={
                    "message_id": link.message_id,
                    "render": "card",
                    "part": card_part(link.kind),
                    "text": "",
                },
                case_id=case.id,
                purpose="card_edit",
            )

    async def card_transferred_away(
        self, session: AsyncSession, case: Case, old_code: str, target: Agency
    ) -> None:
        """Nothing personal stays in the old group: every copy of the card says "đã chuyển"
        without the citizen's details or buttons, the citizen's files and information posted
        there are deleted (Telegram lets a bot delete its messages for 48 hours; older ones
        stay and the failure is recorded), and what was still waiting to go there is not sent.
        The files are posted again to the new agency with its card."""
        old = await AgencyRepo(session).get(old_code)
        if old is None or old.chat_id is None:
            return
        await self.scrub(session, case, old.chat_id)

    async def scrub(self, session: AsyncSession, case: Case, chat_id: int) -> None:
        """Remove the case's personal data from a group that no longer handles it."""
        await OutboxRepo(session).cancel_pending(case.id, chat_id, "case transferred")
        await self._edit_cards(session, case, chat_id)
        links = await MessageLinkRepo(session).of_case(case.id, chat_id, PERSONAL_KINDS)
        for link in links:
            await self._delete(session, case, chat_id, link.message_id)

    async def _delete(
        self, session: AsyncSession, case: Case, chat_id: int, message_id: int
    ) -> None:
        await self.enqueue(
            session,
            chat_id=chat_id,
            method="delete_message",
            payload={"message_id": message_id},
            case_id=case.id,
            purpose="scrub",
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

    # ---- rendering at send time (called by the outbox sender) ------------------------
    async def render(self, session: AsyncSession, row: OutboxMessage) -> dict[str, Any] | None:
        """The payload of a card or card edit from the case as it is now; None when the
        message has nothing to say any more (a new card for a group the case has left)."""
        case = await CaseRepo(session).by_id(row.case_id) if row.case_id else None
        if case is None:
            return None
        agency = await AgencyRepo(session).get(case.agency)
        part = int(row.payload.get("part") or 0)
        if agency is not None and row.chat_id == agency.chat_id:
            parts = split_html(await self.card_text(session, case))
            return {
                # A card that grew since it was posted ends in its last message.
                "text": parts[part] if part < len(parts) else "…",
                "reply_markup": keyboard_payload(self.card_markup(case)) if part == 0 else None,
            }
        if row.method != "edit_message_text":
            return None
        if part:
            return {"text": "…", "reply_markup": None}
        text = self.r.render("card_transferred.html", self.group_locale, case=case, target=agency)
        return {"text": text, "reply_markup": None}

    async def delivered(
        self, session: AsyncSession, row: OutboxMessage, message_ids: Sequence[int]
    ) -> None:
        """After a card or the citizen's words or files reached a group: possible earlier
        copies are checked (see `probe_copies`); a copy found by such a check gets its card
        state back (the check took its buttons off); a copy that landed in a group the case
        has meanwhile left (it was on its way during the transfer) is scrubbed at once."""
        if row.case_id is None or not row.link_kind:
            return
        if not is_card(row.link_kind) and row.link_kind not in PERSONAL_KINDS:
            return
        case = await CaseRepo(session).by_id(row.case_id)
        if case is None:
            return
        if row.chat_id in self.admin_ids or row.chat_id == case.citizen_chat_id:
            return
        copies = (row.payload or {}).get("possible_copies")
        if copies and row.method != "probe_copy":
            await self.probe_copies(session, case, row, copies)
        agency = await AgencyRepo(session).get(case.agency)
        if agency is not None and agency.chat_id == row.chat_id:
            if row.method == "probe_copy" and is_card(row.link_kind):
                await self._edit_cards(session, case, row.chat_id)  # its buttons back
            return
        if is_card(row.link_kind):
            await self._edit_cards(session, case, row.chat_id)
        else:
            for message_id in message_ids:
                await self._delete(session, case, row.chat_id, message_id)

    async def probe_copies(
        self, session: AsyncSession, case: Case, row: OutboxMessage, copies: dict[str, Any]
    ) -> None:
        """A card or the citizen's words or files delivered after an unsure attempt: each id
        that may hold an earlier copy is checked by the sender (`probe_copy`); a copy found
        is linked to the case like any other, so a transfer scrubs it. A card is also known
        by its code and labels, since it may have been rendered in another state then."""
        match = dict(copies.get("match") or {})
        if is_card(row.link_kind or "") and card_part(row.link_kind or "") == 0:
            match["needles"] = [
                case.code,
                self.r.plain("card.received", self.group_locale),
                self.r.plain("card.due", self.group_locale),
            ]
        for message_id in copies.get("ids") or ():
            await self.enqueue(
                session,
                chat_id=row.chat_id,
                method="probe_copy",
                payload={"message_id": message_id, "match": match, "copy_of": row.id},
                case_id=case.id,
                link_kind=row.link_kind,
                purpose="reconcile",
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
