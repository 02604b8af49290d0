"""The PAKN intake conversation: kind → content (+ files) → procedure → name → contact →
address → summary → submit. `/cancel` works at every step (registered in `common`)."""

from __future__ import annotations

import secrets
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove, User
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import DraftCB, DraftProcedureCB, FeedbackStartCB, KindCB, MenuCB
from bot.clock import Clock
from bot.errors import UserFacingError
from bot.keyboards import Keyboards
from bot.rendering import Renderer
from bot.services.cases import Actor, CaseService, Draft
from bot.services.intake import (
    looks_like_complaint,
    normalize_phone,
    parse_contact,
    validate_address,
    validate_content,
    validate_name,
)
from bot.services.knowledge import KnowledgeService
from bot.services.statuses import Kind
from bot.settings import Settings
from handlers.states import Intake
from storage.repositories import CitizenRepo

router = Router(name=__name__)


class Flow:
    """Asks for whatever the draft still lacks; one place decides the order of steps."""

    def __init__(
        self,
        message: Message,
        state: FSMContext,
        renderer: Renderer,
        keyboards: Keyboards,
        locale: str,
    ) -> None:
        self.message, self.state, self.r, self.kb, self.loc = (
            message,
            state,
            renderer,
            keyboards,
            locale,
        )

    async def save(self, draft: Draft) -> None:
        await self.state.update_data(**draft.to_data())

    async def next(self, draft: Draft, data: dict[str, Any]) -> None:
        await self.save(draft)
        t, loc, say = self.r.t, self.loc, self.message.answer
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


def _flow(
    message: Message, state: FSMContext, renderer: Renderer, keyboards: Keyboards, locale: str
) -> Flow:
    return Flow(message, state, renderer, keyboards, locale)


async def _load(state: FSMContext) -> tuple[Draft, dict[str, Any]]:
    data = await state.get_data()
    return Draft.from_data(data), data


async def begin(
    message: Message,
    user: User,
    state: FSMContext,
    session: AsyncSession,
    cases: CaseService,
    settings: Settings,
    renderer: Renderer,
    keyboards: Keyboards,
    locale: str,
    *,
    draft: Draft,
    extra: dict[str, Any] | None = None,
) -> None:
    """Start a new draft (after checking the daily limit, so nobody types in vain)."""
    await cases.check_limits(session, user.id, None)
    citizen = await CitizenRepo(session).get(user.id)
    profile = None
    if citizen and citizen.full_name and (citizen.phone or citizen.email) and citizen.address:
        profile = {
            "name": citizen.full_name,
            "phone": citizen.phone,
            "email": citizen.email,
            "address": citizen.address,
        }
    await state.set_data(
        {
            "max_attachments": settings.cases.max_attachments,
            "profile": profile,
            **(extra or {}),
            **draft.to_data(),
        }
    )
    await _flow(message, state, renderer, keyboards, locale).next(draft, await state.get_data())


def _new_draft(**kwargs: Any) -> Draft:
    # The draft id is the case's idempotency key: one draft can never become two cases.
    return Draft(draft_id=f"draft:{secrets.token_hex(12)}", **kwargs)


@router.message(Command("phananh"), StateFilter(None))
async def start_command(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    cases: CaseService,
    settings: Settings,
    renderer: Renderer,
    keyboards: Keyboards,
    locale: str,
) -> None:
    assert message.from_user is not None
    await begin(
        message,
        message.from_user,
        state,
        session,
        cases,
        settings,
        renderer,
        keyboards,
        locale,
        draft=_new_draft(),
    )


@router.message(Command("phananh"))
async def already_drafting(message: Message, renderer: Renderer, locale: str) -> None:
    await message.answer(renderer.t("intake.already", locale))


@router.callback_query(MenuCB.filter(F.action == "feedback"))
@router.callback_query(FeedbackStartCB.filter())
async def start_button(
    callback: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    cases: CaseService,
    settings: Settings,
    renderer: Renderer,
    keyboards: Keyboards,
    knowledge: KnowledgeService,
    locale: str,
    callback_data: MenuCB | FeedbackStartCB,
) -> None:
    await callback.answer()
    if not isinstance(callback.message, Message):
        return
    if await state.get_state() is not None:
        await callback.message.answer(renderer.t("intake.already", locale))
        return
    draft = _new_draft()
    extra: dict[str, Any] = {}
    if isinstance(callback_data, FeedbackStartCB) and callback_data.source == "procedure":
        record = knowledge.snapshot.procedures.get(callback_data.code)
        if record is not None:
            draft.procedure_code, draft.procedure_fixed = record.code, True
            extra["procedure_name"] = record.name
    elif isinstance(callback_data, FeedbackStartCB) and callback_data.source == "question":
        question = (await state.get_data()).get("last_question")
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
        callback.message,
        callback.from_user,
        state,
        session,
        cases,
        settings,
        renderer,
        keyboards,
        locale,
        draft=draft,
        extra=extra,
    )


@router.callback_query(DraftCB.filter(F.action == "cancel"))
async def cancel_button(
    callback: CallbackQuery,
    state: FSMContext,
    renderer: Renderer,
    keyboards: Keyboards,
    locale: str,
) -> None:
    await state.clear()
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.answer(
            renderer.t("common.cancelled", locale), reply_markup=ReplyKeyboardRemove()
        )
        await callback.message.answer(
            renderer.t("start.intro", locale), reply_markup=keyboards.main_menu(locale)
        )


@router.callback_query(Intake.kind, KindCB.filter())
async def kind_chosen(
    callback: CallbackQuery,
    callback_data: KindCB,
    state: FSMContext,
    renderer: Renderer,
    keyboards: Keyboards,
    locale: str,
) -> None:
    await callback.answer()
    if callback_data.kind not in (Kind.FEEDBACK, Kind.SUGGESTION) or not isinstance(
        callback.message, Message
    ):
        return
    draft, data = await _load(state)
    draft.kind = callback_data.kind
    draft.editing = False
    await _flow(callback.message, state, renderer, keyboards, locale).next(draft, data)


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


@router.message(Intake.content, F.text | F.caption)
async def content_given(
    message: Message,
    state: FSMContext,
    settings: Settings,
    renderer: Renderer,
    keyboards: Keyboards,
    locale: str,
) -> None:
    draft, data = await _load(state)
    draft.content = validate_content(
        message.text or message.caption,
        min_chars=settings.cases.min_text_chars,
        max_chars=settings.cases.max_text_chars,
    )
    draft.complaint_ack = False
    attachment = _attachment_of(message, settings.cases.max_file_mb)
    if attachment and len(draft.attachments) < settings.cases.max_attachments:
        draft.attachments.append(attachment)
    await _flow(message, state, renderer, keyboards, locale).next(draft, data)


@router.callback_query(Intake.complaint, DraftCB.filter(F.action == "proceed"))
async def complaint_is_pakn(
    callback: CallbackQuery,
    state: FSMContext,
    renderer: Renderer,
    keyboards: Keyboards,
    locale: str,
) -> None:
    await callback.answer()
    if not isinstance(callback.message, Message):
        return
    draft, data = await _load(state)
    draft.complaint_ack = True
    await _flow(callback.message, state, renderer, keyboards, locale).next(draft, data)


@router.message(Intake.attachments, F.photo | F.document)
async def attachment_given(
    message: Message,
    state: FSMContext,
    settings: Settings,
    renderer: Renderer,
    keyboards: Keyboards,
    locale: str,
) -> None:
    draft, data = await _load(state)
    if len(draft.attachments) >= settings.cases.max_attachments:
        await message.answer(
            renderer.t("intake.attach_full", locale, max=settings.cases.max_attachments),
            reply_markup=keyboards.attachments(locale, len(draft.attachments)),
        )
        return
    attachment = _attachment_of(message, settings.cases.max_file_mb)
    assert attachment is not None
    if any(a["file_id"] == attachment["file_id"] for a in draft.attachments):
        return  # the same file delivered twice
    draft.attachments.append(attachment)
    await state.update_data(**draft.to_data())
    await message.answer(
        renderer.t(
            "intake.attach_ok", locale, n=len(draft.attachments), max=settings.cases.max_attachments
        ),
        reply_markup=keyboards.attachments(locale, len(draft.attachments)),
    )


@router.callback_query(Intake.attachments, DraftCB.filter(F.action == "done"))
async def attachments_done(
    callback: CallbackQuery,
    state: FSMContext,
    renderer: Renderer,
    keyboards: Keyboards,
    locale: str,
) -> None:
    await callback.answer()
    if not isinstance(callback.message, Message):
        return
    await state.update_data(attachments_done=True)
    draft, data = await _load(state)
    await _flow(callback.message, state, renderer, keyboards, locale).next(draft, data)


@router.message(Intake.procedure, F.text)
async def procedure_search(
    message: Message,
    state: FSMContext,
    knowledge: KnowledgeService,
    renderer: Renderer,
    keyboards: Keyboards,
    locale: str,
) -> None:
    response = knowledge.search((message.text or "")[:500], limit=4)
    hits = [(h.code, h.name) for h in response.hits]
    key = "intake.procedure_pick" if hits else "intake.procedure_none"
    await message.answer(
        renderer.t(key, locale), reply_markup=keyboards.procedure_choice(locale, hits)
    )


@router.callback_query(Intake.procedure, DraftProcedureCB.filter())
async def procedure_chosen(
    callback: CallbackQuery,
    callback_data: DraftProcedureCB,
    state: FSMContext,
    knowledge: KnowledgeService,
    renderer: Renderer,
    keyboards: Keyboards,
    locale: str,
) -> None:
    await callback.answer()
    record = knowledge.snapshot.procedures.get(callback_data.code)
    if record is None or not isinstance(callback.message, Message):
        return
    draft, data = await _load(state)
    draft.procedure_code = record.code
    await state.update_data(procedure_done=True, procedure_name=record.name)
    data.update(procedure_done=True, procedure_name=record.name)
    await _flow(callback.message, state, renderer, keyboards, locale).next(draft, data)


@router.callback_query(Intake.procedure, DraftCB.filter(F.action == "skip"))
async def procedure_skipped(
    callback: CallbackQuery,
    state: FSMContext,
    renderer: Renderer,
    keyboards: Keyboards,
    locale: str,
) -> None:
    await callback.answer()
    if not isinstance(callback.message, Message):
        return
    draft, data = await _load(state)
    draft.procedure_code = None
    await state.update_data(procedure_done=True, procedure_name=None)
    data.update(procedure_done=True, procedure_name=None)
    await _flow(callback.message, state, renderer, keyboards, locale).next(draft, data)


@router.callback_query(Intake.reuse, DraftCB.filter(F.action.in_({"reuse", "fresh"})))
async def reuse_decided(
    callback: CallbackQuery,
    callback_data: DraftCB,
    state: FSMContext,
    renderer: Renderer,
    keyboards: Keyboards,
    locale: str,
) -> None:
    await callback.answer()
    if not isinstance(callback.message, Message):
        return
    draft, data = await _load(state)
    profile = data.get("profile") or {}
    if callback_data.action == "reuse" and profile:
        draft.name, draft.phone = profile.get("name"), profile.get("phone")
        draft.email, draft.address = profile.get("email"), profile.get("address")
    await state.update_data(reuse_decided=True)
    data["reuse_decided"] = True
    await _flow(callback.message, state, renderer, keyboards, locale).next(draft, data)


@router.message(Intake.name, F.text)
async def name_given(
    message: Message, state: FSMContext, renderer: Renderer, keyboards: Keyboards, locale: str
) -> None:
    draft, data = await _load(state)
    draft.name = validate_name(message.text)
    await _flow(message, state, renderer, keyboards, locale).next(draft, data)


@router.message(Intake.contact, F.contact)
async def contact_shared(
    message: Message, state: FSMContext, renderer: Renderer, keyboards: Keyboards, locale: str
) -> None:
    assert message.contact is not None
    phone = normalize_phone(message.contact.phone_number)
    if phone is None:
        raise UserFacingError("intake.phone_invalid", value=message.contact.phone_number)
    draft, data = await _load(state)
    draft.phone = phone
    await _flow(message, state, renderer, keyboards, locale).next(draft, data)


@router.message(Intake.contact, F.text)
async def contact_typed(
    message: Message, state: FSMContext, renderer: Renderer, keyboards: Keyboards, locale: str
) -> None:
    contact = parse_contact(message.text)
    draft, data = await _load(state)
    draft.phone, draft.email = contact.phone, contact.email
    await _flow(message, state, renderer, keyboards, locale).next(draft, data)


@router.message(Intake.address, F.text)
async def address_given(
    message: Message, state: FSMContext, renderer: Renderer, keyboards: Keyboards, locale: str
) -> None:
    draft, data = await _load(state)
    draft.address = validate_address(message.text)
    await _flow(message, state, renderer, keyboards, locale).next(draft, data)


_EDIT_CLEARS = {
    "content": ("content",),
    "kind": ("kind",),
    "name": ("name",),
    "contact": ("phone", "email"),
    "address": ("address",),
    "procedure": ("procedure_code",),
}


@router.callback_query(Intake.summary, DraftCB.filter(F.action == "edit"))
async def edit_field(
    callback: CallbackQuery,
    callback_data: DraftCB,
    state: FSMContext,
    renderer: Renderer,
    keyboards: Keyboards,
    locale: str,
) -> None:
    await callback.answer()
    if callback_data.field not in _EDIT_CLEARS or not isinstance(callback.message, Message):
        return
    draft, data = await _load(state)
    for attr in _EDIT_CLEARS[callback_data.field]:
        setattr(draft, attr, None)
    if callback_data.field == "procedure":
        draft.procedure_fixed = False
        await state.update_data(procedure_done=False, procedure_name=None)
        data.update(procedure_done=False, procedure_name=None)
    await _flow(callback.message, state, renderer, keyboards, locale).next(draft, data)


@router.callback_query(Intake.summary, DraftCB.filter(F.action == "remember"))
async def toggle_remember(
    callback: CallbackQuery, state: FSMContext, keyboards: Keyboards, locale: str
) -> None:
    await callback.answer()
    draft, _ = await _load(state)
    draft.remember = not draft.remember
    await state.update_data(**draft.to_data())
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(
            reply_markup=keyboards.summary(locale, draft.remember)
        )


@router.callback_query(Intake.summary, DraftCB.filter(F.action == "submit"))
async def submit(
    callback: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    cases: CaseService,
    clock: Clock,
    renderer: Renderer,
    locale: str,
) -> None:
    draft, _ = await _load(state)
    user = callback.from_user
    chat_id = callback.message.chat.id if callback.message else user.id
    case = await cases.submit(
        session,
        draft,
        citizen=Actor("citizen", user.id, user.full_name),
        chat_id=chat_id,
        locale=locale,
    )
    repo = CitizenRepo(session)
    if draft.remember:
        citizen = await repo.get_or_create(user.id, clock.now())
        citizen.full_name, citizen.phone, citizen.email = draft.name, draft.phone, draft.email
        citizen.address, citizen.updated_at = draft.address, clock.now()
    await state.clear()
    # The acknowledgement with the code travels through the outbox (persisted with the case);
    # here we only close the summary so it cannot be pressed again.
    await callback.answer(renderer.plain("intake.submitted_toast", locale, code=case.code))
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)


@router.message(StateFilter(Intake))
async def wrong_input(message: Message, state: FSMContext, renderer: Renderer, locale: str) -> None:
    current = await state.get_state()
    key = (
        "intake.use_buttons"
        if current
        in {Intake.kind.state, Intake.complaint.state, Intake.reuse.state, Intake.summary.state}
        else "intake.type_text"
    )
    await message.answer(renderer.t(key, locale))
