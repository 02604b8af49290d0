"""The PAKN intake conversation: kind → content (+ files) → procedure → name → contact →
address → summary → submit. `/cancel` works at every step (registered in `common`)."""

from __future__ import annotations

import secrets
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.domain.cases import Actor, CaseService, Draft
from bot.domain.errors import UserFacingError
from bot.domain.intake import (
    looks_like_complaint,
    normalize_phone,
    parse_contact,
    validate_address,
    validate_content,
    validate_name,
)
from bot.domain.knowledge import KnowledgeService
from bot.domain.statuses import Kind
from bot.settings import Settings
from bot.telegram.callbacks import DraftCB, DraftProcedureCB, FeedbackStartCB, KindCB, MenuCB
from bot.telegram.keyboards import Keyboards
from bot.telegram.middlewares import Provide
from bot.telegram.rendering import Renderer
from handlers.states import Intake
from storage.repositories import CitizenRepo


class Flow:
    """The draft in the FSM, and the one place that decides which step comes next."""

    def __init__(
        self, state: FSMContext, renderer: Renderer, keyboards: Keyboards, locale: str
    ) -> None:
        self.state, self.r, self.kb, self.loc = state, renderer, keyboards, locale

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Flow:
        """Built for each update from the dispatcher's data (see `Provide`)."""
        return cls(data["state"], data["renderer"], data["keyboards"], data["locale"])

    async def load(self) -> tuple[Draft, dict[str, Any]]:
        data = await self.state.get_data()
        return Draft.from_data(data), data

    async def save(self, draft: Draft) -> None:
        await self.state.update_data(**draft.to_data())

    async def advance(
        self, event: Message | CallbackQuery, *, flags: dict[str, Any] | None = None, **fields: Any
    ) -> None:
        """Set draft fields and step flags, then ask for the next missing thing."""
        if isinstance(event, CallbackQuery):
            await event.answer()
            if not isinstance(event.message, Message):
                return
            message = event.message
        else:
            message = event
        if flags:
            await self.state.update_data(**flags)
        draft, data = await self.load()
        for name, value in fields.items():
            setattr(draft, name, value)
        await self.next(message, draft, data)

    async def next(self, message: Message, draft: Draft, data: dict[str, Any]) -> None:
        await self.save(draft)
        t, loc, say = self.r.t, self.loc, message.answer
        if not draft.kind:
            await self.state.set_state(Intake.kind)
            await say(t("intake.ask_kind", loc), reply_markup=self.kb.kinds(loc))
        elif not draft.content:
            await self.state.set_state(Intake.content)
            await say(t("intake.ask_content", loc, kind=t(f"kind.{draft.kind}", loc)))
        elif looks_like_complaint(draft.content) and not draft.complaint_ack:
            await self.state.set_state(Intake.complaint)
            await say(t("intake.complaint", loc), reply_markup=self.kb.complaint(loc))
        elif not data.get("attachments_done"):
            await self.state.set_state(Intake.attachments)
            await say(
                t("intake.ask_attachments", loc, max=data["max_attachments"]),
                reply_markup=self.kb.attachments(loc, len(draft.attachments)),
            )
        elif not draft.procedure_code and not data.get("procedure_done"):
            await self.state.set_state(Intake.procedure)
            await say(
                t("intake.ask_procedure", loc), reply_markup=self.kb.procedure_choice(loc, [])
            )
        elif data.get("profile") and not data.get("reuse_decided") and not draft.name:
            await self.state.set_state(Intake.reuse)
            await say(
                self.r.render("reuse_profile.html", loc, profile=data["profile"]),
                reply_markup=self.kb.reuse_profile(loc),
            )
        elif not draft.name:
            await self.state.set_state(Intake.name)
            await say(t("intake.ask_name", loc))
        elif not (draft.phone or draft.email):
            await self.state.set_state(Intake.contact)
            await say(t("intake.ask_contact", loc), reply_markup=self.kb.share_contact(loc))
        elif not draft.address:
            await self.state.set_state(Intake.address)
            await say(t("intake.ask_address", loc), reply_markup=ReplyKeyboardRemove())
        else:
            await self.state.set_state(Intake.summary)
            await say(
                self.r.render(
                    "draft_summary.html", loc, d=draft, procedure_name=data.get("procedure_name")
                ),
                reply_markup=self.kb.summary(loc, draft.remember),
            )


async def begin(
    message: Message,
    user_id: int,
    flow: Flow,
    session: AsyncSession,
    cases: CaseService,
    settings: Settings,
    *,
    draft: Draft,
    extra: dict[str, Any] | None = None,
) -> None:
    """Start a new draft (after checking the daily limit, so nobody types in vain)."""
    await cases.check_limits(session, user_id, None)
    citizen = await CitizenRepo(session).get(user_id)
    profile = None
    if citizen and citizen.full_name and (citizen.phone or citizen.email) and citizen.address:
        profile = {
            "name": citizen.full_name,
            "phone": citizen.phone,
            "email": citizen.email,
            "address": citizen.address,
        }
    data = {
        "max_attachments": settings.cases.max_attachments,
        "profile": profile,
        **(extra or {}),
        **draft.to_data(),
    }
    await flow.state.set_data(data)
    await flow.next(message, draft, data)


def _new_draft() -> Draft:
    # The draft id is the case's idempotency key: one draft can never become two cases.
    return Draft(draft_id=f"draft:{secrets.token_hex(12)}")


async def start_command(
    message: Message, flow: Flow, session: AsyncSession, cases: CaseService, settings: Settings
) -> None:
    assert message.from_user is not None
    await begin(message, message.from_user.id, flow, session, cases, settings, draft=_new_draft())


async def already_drafting(message: Message, renderer: Renderer, locale: str) -> None:
    await message.answer(renderer.t("intake.already", locale))


async def start_button(
    callback: CallbackQuery,
    callback_data: MenuCB | FeedbackStartCB,
    flow: Flow,
    session: AsyncSession,
    cases: CaseService,
    settings: Settings,
    knowledge: KnowledgeService,
) -> None:
    await callback.answer()
    if not isinstance(callback.message, Message):
        return
    if await flow.state.get_state() is not None:
        await callback.message.answer(flow.r.t("intake.already", flow.loc))
        return
    draft = _new_draft()
    extra: dict[str, Any] = {}
    if isinstance(callback_data, FeedbackStartCB) and callback_data.source == "procedure":
        record = knowledge.snapshot.procedures.get(callback_data.code)
        if record is not None:
            draft.procedure_code = record.code
            extra["procedure_name"] = record.name
    elif isinstance(callback_data, FeedbackStartCB) and callback_data.source == "question":
        question = (await flow.state.get_data()).get("last_question")
        draft.kind = Kind.SUGGESTION
        if question:
            try:
                draft.content = validate_content(
                    question,
                    min_chars=settings.cases.min_text_chars,
                    max_chars=settings.cases.max_text_chars,
                )
            except UserFacingError:
                draft.content = None  # too short to stand as a case: ask for it
    await begin(
        callback.message, callback.from_user.id, flow, session, cases, settings,
        draft=draft, extra=extra,
    )  # fmt: skip


async def cancel_button(
    callback: CallbackQuery, state: FSMContext, renderer: Renderer, keyboards: Keyboards,
    locale: str,
) -> None:  # fmt: skip
    await state.clear()
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(
            renderer.t("common.cancelled", locale), reply_markup=ReplyKeyboardRemove()
        )
        await callback.message.answer(
            renderer.t("start.intro", locale), reply_markup=keyboards.main_menu(locale)
        )


async def kind_chosen(callback: CallbackQuery, callback_data: KindCB, flow: Flow) -> None:
    await flow.advance(callback, kind=callback_data.kind)


def _attachment_of(message: Message, max_mb: int) -> dict[str, Any] | None:
    """The photo or document of a message as we store it (Telegram file id only)."""
    if message.photo:
        biggest = message.photo[-1]
        size = biggest.file_size or 0
        item = {"kind": "photo", "file_id": biggest.file_id, "file_name": None}
    elif message.document:
        size = message.document.file_size or 0
        item = {
            "kind": "document",
            "file_id": message.document.file_id,
            "file_name": message.document.file_name,
        }
    else:
        return None
    if size > max_mb * 1024 * 1024:
        raise UserFacingError("intake.file_too_big", max=max_mb)
    return item


async def content_given(message: Message, flow: Flow, settings: Settings) -> None:
    content = validate_content(
        message.text or message.caption,
        min_chars=settings.cases.min_text_chars,
        max_chars=settings.cases.max_text_chars,
    )
    draft, _ = await flow.load()
    attachment = _attachment_of(message, settings.cases.max_file_mb)
    attachments = list(draft.attachments)
    if attachment and len(attachments) < settings.cases.max_attachments:
        attachments.append(attachment)
    await flow.advance(message, content=content, complaint_ack=False, attachments=attachments)


async def complaint_is_pakn(callback: CallbackQuery, flow: Flow) -> None:
    await flow.advance(callback, complaint_ack=True)


async def attachment_given(message: Message, flow: Flow, settings: Settings) -> None:
    draft, _ = await flow.load()
    limit = settings.cases.max_attachments
    if len(draft.attachments) >= limit:
        await message.answer(
            flow.r.t("intake.attach_full", flow.loc, max=limit),
            reply_markup=flow.kb.attachments(flow.loc, len(draft.attachments)),
        )
        return
    attachment = _attachment_of(message, settings.cases.max_file_mb)
    assert attachment is not None
    if any(a["file_id"] == attachment["file_id"] for a in draft.attachments):
        return  # the same file delivered twice
    draft.attachments.append(attachment)
    await flow.save(draft)
    await message.answer(
        flow.r.t("intake.attach_ok", flow.loc, n=len(draft.attachments), max=limit),
        reply_markup=flow.kb.attachments(flow.loc, len(draft.attachments)),
    )


async def attachments_done(callback: CallbackQuery, flow: Flow) -> None:
    await flow.advance(callback, flags={"attachments_done": True})


async def procedure_search(message: Message, flow: Flow, knowledge: KnowledgeService) -> None:
    await knowledge.refresh()  # picks up imports made by admins, in any process
    response = knowledge.search((message.text or "")[:500], limit=4)
    hits = [(h.code, h.name) for h in response.hits]
    key = "intake.procedure_pick" if hits else "intake.procedure_none"
    await message.answer(
        flow.r.t(key, flow.loc), reply_markup=flow.kb.procedure_choice(flow.loc, hits)
    )


async def procedure_chosen(
    callback: CallbackQuery,
    callback_data: DraftProcedureCB,
    flow: Flow,
    knowledge: KnowledgeService,
) -> None:
    record = knowledge.snapshot.procedures.get(callback_data.code)
    if record is None:
        await callback.answer(flow.r.plain("search.gone", flow.loc), show_alert=True)
        return
    await flow.advance(
        callback,
        flags={"procedure_done": True, "procedure_name": record.name},
        procedure_code=record.code,
    )


async def procedure_skipped(callback: CallbackQuery, flow: Flow) -> None:
    await flow.advance(
        callback, flags={"procedure_done": True, "procedure_name": None}, procedure_code=None
    )


async def reuse_decided(callback: CallbackQuery, callback_data: DraftCB, flow: Flow) -> None:
    _, data = await flow.load()
    profile = data.get("profile") or {}
    fields: dict[str, Any] = {}
    if callback_data.action == "reuse" and profile:
        fields = {key: profile.get(key) for key in ("name", "phone", "email", "address")}
    await flow.advance(callback, flags={"reuse_decided": True}, **fields)


async def name_given(message: Message, flow: Flow) -> None:
    await flow.advance(message, name=validate_name(message.text))


async def contact_shared(message: Message, flow: Flow) -> None:
    assert message.contact is not None
    phone = normalize_phone(message.contact.phone_number)
    if phone is None:
        raise UserFacingError("intake.phone_invalid", value=message.contact.phone_number)
    await flow.advance(message, phone=phone)


async def contact_typed(message: Message, flow: Flow) -> None:
    contact = parse_contact(message.text)
    await flow.advance(message, phone=contact.phone, email=contact.email)


async def address_given(message: Message, flow: Flow) -> None:
    await flow.advance(message, address=validate_address(message.text))


# What each "✏️" button on the summary clears, so the flow asks for it again.
_EDIT_CLEARS: dict[str, dict[str, Any]] = {
    "content": {"content": None},
    "kind": {"kind": None},
    "name": {"name": None},
    "contact": {"phone": None, "email": None},
    "address": {"address": None},
    "procedure": {"procedure_code": None},
}


async def edit_field(callback: CallbackQuery, callback_data: DraftCB, flow: Flow) -> None:
    clears = _EDIT_CLEARS.get(callback_data.field)
    if clears is None:
        await callback.answer()
        return
    flags = (
        {"procedure_done": False, "procedure_name": None} if "procedure_code" in clears else None
    )
    await flow.advance(callback, flags=flags, **clears)


async def toggle_remember(callback: CallbackQuery, flow: Flow) -> None:
    await callback.answer()
    draft, _ = await flow.load()
    draft.remember = not draft.remember
    await flow.save(draft)
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(
            reply_markup=flow.kb.summary(flow.loc, draft.remember)
        )


async def submit(
    callback: CallbackQuery, flow: Flow, session: AsyncSession, cases: CaseService, clock: Clock
) -> None:
    draft, _ = await flow.load()
    user = callback.from_user
    chat_id = callback.message.chat.id if callback.message else user.id
    case = await cases.submit(
        session, draft, citizen=Actor("citizen", user.id, user.full_name), chat_id=chat_id,
        locale=flow.loc,
    )  # fmt: skip
    if draft.remember:
        citizen = await CitizenRepo(session).get_or_create(user.id, clock.now())
        citizen.full_name, citizen.phone, citizen.email = draft.name, draft.phone, draft.email
        citizen.address, citizen.updated_at = draft.address, clock.now()
    await flow.state.clear()
    # The acknowledgement with the code travels through the outbox (persisted with the case);
    # here we only close the summary so it cannot be pressed again.
    await callback.answer(flow.r.plain("intake.submitted_toast", flow.loc, code=case.code))
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)


_BUTTON_STEPS = {
    Intake.kind.state,
    Intake.complaint.state,
    Intake.reuse.state,
    Intake.summary.state,
}


async def wrong_input(message: Message, flow: Flow) -> None:
    current = await flow.state.get_state()
    key = "intake.use_buttons" if current in _BUTTON_STEPS else "intake.type_text"
    await message.answer(flow.r.t(key, flow.loc))


def create_router() -> Router:
    """A fresh router with this module's handlers (a router has one parent, so every
    dispatcher gets its own)."""
    router = Router(name=__name__)
    router.message.middleware(Provide("flow", Flow.from_data))
    router.callback_query.middleware(Provide("flow", Flow.from_data))
    router.message.register(start_command, Command("phananh"), StateFilter(None))
    router.message.register(already_drafting, Command("phananh"))
    router.callback_query.register(start_button, MenuCB.filter(F.action == "feedback"))
    router.callback_query.register(start_button, FeedbackStartCB.filter())
    router.callback_query.register(cancel_button, DraftCB.filter(F.action == "cancel"))
    router.callback_query.register(
        kind_chosen, Intake.kind, KindCB.filter(F.kind.in_({Kind.FEEDBACK, Kind.SUGGESTION}))
    )
    router.message.register(content_given, Intake.content, F.text | F.caption)
    router.callback_query.register(
        complaint_is_pakn, Intake.complaint, DraftCB.filter(F.action == "proceed")
    )
    router.message.register(attachment_given, Intake.attachments, F.photo | F.document)
    router.callback_query.register(
        attachments_done, Intake.attachments, DraftCB.filter(F.action == "done")
    )
    router.message.register(procedure_search, Intake.procedure, F.text)
    router.callback_query.register(procedure_chosen, Intake.procedure, DraftProcedureCB.filter())
    router.callback_query.register(
        procedure_skipped, Intake.procedure, DraftCB.filter(F.action == "skip")
    )
    router.callback_query.register(
        reuse_decided, Intake.reuse, DraftCB.filter(F.action.in_({"reuse", "fresh"}))
    )
    router.message.register(name_given, Intake.name, F.text)
    router.message.register(contact_shared, Intake.contact, F.contact)
    router.message.register(contact_typed, Intake.contact, F.text)
    router.message.register(address_given, Intake.address, F.text)
    router.callback_query.register(edit_field, Intake.summary, DraftCB.filter(F.action == "edit"))
    router.callback_query.register(
        toggle_remember, Intake.summary, DraftCB.filter(F.action == "remember")
    )
    router.callback_query.register(submit, Intake.summary, DraftCB.filter(F.action == "submit"))
    router.message.register(wrong_input, StateFilter(Intake))
    return router
