"""Officials work cases in their agency's group.

Groups run the bot in privacy mode (Telegram's default): the bot sees commands, replies to
its own messages and mentions only. So every question the bot asks an official is sent with
ForceReply, and the official's answer to the citizen is a reply to the case card — mapped to
the case through the stored message ids, never through text patterns.

Busy groups: a question the bot asked (a prompt) is answered only by a reply to that very
prompt, by the official who opened it, before it expires; everything else the official does
meanwhile works as usual, and /cancel closes their open prompts. An answer reaches the citizen
only after its author confirms a preview (Gửi), and, where the agency requires it, after an
approver approves it (NĐ 20/2008/NĐ-CP: the head of the agency answers for the reply).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, Filter
from aiogram.fsm.context import FSMContext
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, ForceReply, Message, ReplyParameters, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.domain.answers import AnswerDesk
from bot.domain.cases import Actor, CaseService
from bot.domain.codes import normalize_code
from bot.domain.errors import NotAllowed, UserFacingError
from bot.settings import Settings
from bot.telegram.callbacks import AnswerCB, ApprovalCB, CaseCB, RejectCB, TransferCB
from bot.telegram.keyboards import REJECT_REASONS, Keyboards
from bot.telegram.linking import case_of_reply
from bot.telegram.middlewares import Provide
from bot.telegram.notifier import is_card
from bot.telegram.postcommit import PostCommit
from bot.telegram.rendering import Renderer, split_html
from storage.models import AnswerDraft, Case
from storage.repositories import AgencyRepo, AnswerDraftRepo, MessageLinkRepo

_DATE = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\s*[,;:\-–]?\s*(.*)$", re.S)
# FSM data key (per chat and user): the prompts this official has open, by message id.
PROMPTS = "prompts"


def official(user: User) -> Actor:
    return Actor("official", user.id, user.full_name)


@dataclass
class Desk:
    """What every group handler needs: the update's session, the case services, the group's
    language, the official's open prompts, and the one permission check."""

    session: AsyncSession
    cases: CaseService
    answers: AnswerDesk
    state: FSMContext
    renderer: Renderer
    keyboards: Keyboards
    settings: Settings
    admin_ids: frozenset[int]
    clock: Clock
    sessions: async_sessionmaker[AsyncSession]
    post_commit: PostCommit

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Desk:
        """Built for each update from the dispatcher's data (see `Provide`)."""
        return cls(
            data["session"],
            data["cases"],
            data["answers"],
            data["state"],
            data["renderer"],
            data["keyboards"],
            data["settings"],
            data["admin_ids"],
            data["clock"],
            data["app"].sessions,
            data["post_commit"],
        )

    @property
    def loc(self) -> str:
        return self.settings.bot.locale

    def t(self, key: str, **params: Any) -> str:
        return self.renderer.t(key, self.loc, **params)

    async def case_for(self, case: Case | int | None, chat_id: int, user_id: int) -> Case:
        """The case, locked for this update, if this chat and user may act on it."""
        if isinstance(case, Case):
            case = case.id
        found = await self.cases.lock(self.session, case) if case is not None else None
        if found is None:
            raise UserFacingError("case.not_found")
        # Callback data can be forged by a modified client: permissions are checked here, on
        # the server, against the case's *current* agency.
        await self.cases.ensure_can_act(
            self.session, found, chat_id=chat_id, user_id=user_id, admin_ids=self.admin_ids
        )
        return found

    # ---- prompts -------------------------------------------------------------------------
    async def ask(self, where: Message, case: Case, action: str, text: str, **extra: Any) -> None:
        """A question to the official, answered by replying to it (works in privacy mode).
        Only a reply to this prompt answers it; it expires after CASE_PROMPT_MINUTES.

        The prompt is sent after the update's commit (see bot.telegram.postcommit); once
        Telegram returns its message id, the prompt is remembered for this official and linked
        to the case (so a colleague replying to it is told it is not theirs). The official's
        next update waits for that: aiogram's event isolation holds this chat and user."""
        now = self.clock.now()
        expires = now + timedelta(minutes=self.settings.cases.prompt_minutes)
        prompt = {"action": action, "case_id": case.id, "expires": expires.isoformat(), **extra}
        state, sessions, chat_id = self.state, self.sessions, where.chat.id

        async def remember(sent: Message) -> None:
            data = await state.get_data()
            open_prompts = {
                mid: p
                for mid, p in (data.get(PROMPTS) or {}).items()
                if datetime.fromisoformat(p["expires"]) > now
            }
            open_prompts[str(sent.message_id)] = prompt
            await state.update_data({PROMPTS: open_prompts})
            async with sessions.begin() as session:
                await MessageLinkRepo(session).add(chat_id, sent.message_id, case.id, "prompt")

        self.post_commit.call(
            SendMessage(
                chat_id=chat_id,
                text=text,
                reply_markup=ForceReply(selective=True),
                reply_parameters=_reply_to(where),
            ),
            then=remember,
        )

    async def take_prompt(self, message_id: int) -> dict[str, Any] | None:
        """Remove and return the official's prompt with this message id."""
        data = await self.state.get_data()
        open_prompts = dict(data.get(PROMPTS) or {})
        prompt = open_prompts.pop(str(message_id), None)
        if prompt is not None:
            await self.state.update_data({PROMPTS: open_prompts})
        return prompt

    # ---- answers -------------------------------------------------------------------------
    async def preview(self, reply_to: Message, case: Case, draft: AnswerDraft) -> None:
        """The answer as the citizen will read it, with Gửi / Sửa / Hủy."""
        agency = await AgencyRepo(self.session).get(case.agency)
        text = self.renderer.render(
            "answer_preview.html",
            self.loc,
            case=case,
            draft=draft,
            approval=bool(agency and agency.approval),
        )
        markup = self.keyboards.answer_preview(self.loc, draft.id)
        # A long answer is previewed in parts, the buttons under the last one (the citizen
        # receives it in parts too).
        *first, last = split_html(text)
        if draft.preview_message_id is not None and reply_to.bot is not None:
            await reply_to.bot.edit_message_text(
                last,
                chat_id=reply_to.chat.id,
                message_id=draft.preview_message_id,
                reply_markup=markup,
            )
            return
        sessions, draft_id = self.sessions, draft.id

        async def remember(sent: Message) -> None:
            # Sent after the commit: the preview's id is stored in a transaction of its own
            # (an album's next photo, which waits for this update, edits that preview).
            async with sessions.begin() as session:
                stored = await AnswerDraftRepo(session).get(draft_id)
                if stored is not None:
                    stored.preview_message_id = sent.message_id

        for part in first:
            self.post_commit.call(
                SendMessage(
                    chat_id=reply_to.chat.id, text=part, reply_parameters=_reply_to(reply_to)
                )
            )
        self.post_commit.call(
            SendMessage(
                chat_id=reply_to.chat.id,
                text=last,
                reply_markup=markup,
                reply_parameters=_reply_to(reply_to),
            ),
            then=remember,
        )


class ReplyToPrompt(Filter):
    """Matches a reply to one of this official's open prompts, and hands it over."""

    async def __call__(self, message: Message, state: FSMContext) -> bool | dict[str, Any]:
        if message.reply_to_message is None:
            return False
        data = await state.get_data()
        if str(message.reply_to_message.message_id) not in (data.get(PROMPTS) or {}):
            return False
        return {"prompt_id": message.reply_to_message.message_id}


def _reply_to(message: Message) -> ReplyParameters:
    # A reply that survives the original being deleted (Bot API: allow_sending_without_reply).
    return ReplyParameters(message_id=message.message_id, allow_sending_without_reply=True)


def _attachments(message: Message) -> list[dict[str, Any]]:
    if message.photo:
        return [{"kind": "photo", "file_id": message.photo[-1].file_id}]
    if message.document:
        doc = message.document
        return [{"kind": "document", "file_id": doc.file_id, "file_name": doc.file_name}]
    return []


# ---- the case card's buttons -------------------------------------------------------------
async def card_button(callback: CallbackQuery, callback_data: CaseCB, desk: Desk) -> None:
    assert isinstance(callback.message, Message)
    case = await desk.case_for(
        callback_data.case_id, callback.message.chat.id, callback.from_user.id
    )
    action, loc = callback_data.action, desk.loc
    actor = official(callback.from_user)
    if action == "take":
        taken = await desk.cases.take(desk.session, case, actor)
        key = "group.taken_toast" if taken else "group.already_yours"
        await callback.answer(desk.renderer.plain(key, loc, code=case.code))
    elif action == "take_over":
        taken = await desk.cases.take_over(desk.session, case, actor)
        key = "group.taken_over_toast" if taken else "group.already_yours"
        await callback.answer(desk.renderer.plain(key, loc, code=case.code))
    elif action == "extend":
        if case.extensions >= desk.settings.cases.max_extensions:
            raise UserFacingError("case.extension_used", code=case.code)
        await callback.answer()
        await desk.ask(
            callback.message, case, "extend_date", desk.t("group.ask_extension", code=case.code)
        )
    elif action == "info":
        await callback.answer()
        await desk.ask(
            callback.message, case, "info_question", desk.t("group.ask_info", code=case.code)
        )
    elif action in ("transfer", "reject"):
        await callback.answer()
        if action == "transfer":
            agencies = await AgencyRepo(desk.session).all_records()
            choices = [(a.code, a.name) for a in agencies if a.code != case.agency]
            text = desk.t("group.pick_agency", code=case.code)
            markup = desk.keyboards.transfer_targets(loc, case.id, choices)
        else:
            text = desk.t("group.pick_reason", code=case.code)
            markup = desk.keyboards.reject_reasons(loc, case.id)
        await callback.message.answer(text, reply_markup=markup)
    else:
        await callback.answer(desk.renderer.plain("common.stale_button", loc), show_alert=True)


async def transfer_target(callback: CallbackQuery, callback_data: TransferCB, desk: Desk) -> None:
    assert isinstance(callback.message, Message)
    case = await desk.case_for(
        callback_data.case_id, callback.message.chat.id, callback.from_user.id
    )
    target = await AgencyRepo(desk.session).get(callback_data.agency)
    if target is None or target.code == case.agency:
        raise UserFacingError("case.unknown_agency", agency=callback_data.agency)
    await callback.answer()
    text = desk.t("group.ask_transfer_reason", code=case.code, agency=target.name)
    await desk.ask(callback.message, case, "transfer_reason", text, agency=target.code)


async def reject_reason(callback: CallbackQuery, callback_data: RejectCB, desk: Desk) -> None:
    assert callback.message is not None
    case = await desk.case_for(
        callback_data.case_id, callback.message.chat.id, callback.from_user.id
    )
    await desk.cases.reject(desk.session, case, callback_data.reason, official(callback.from_user))
    await callback.answer(desk.renderer.plain("group.rejected_toast", desk.loc, code=case.code))
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)


# ---- replies to prompts ------------------------------------------------------------------
def parse_extension(text: str, tz: Any) -> tuple[datetime, str]:
    """ "dd/mm/yyyy reason" → (local midnight of that date, reason)."""
    match = _DATE.match(text or "")
    if not match:
        raise UserFacingError("group.extension_format")
    day, month, year, reason = match.groups()
    try:
        when = datetime(int(year), int(month), int(day), tzinfo=tz)
    except ValueError as exc:
        raise UserFacingError("group.extension_format") from exc
    if not reason.strip():
        raise UserFacingError("group.extension_format")
    return when, reason.strip()[:500]


async def prompt_reply(message: Message, prompt_id: int, desk: Desk) -> None:
    """The official's reply to one of their prompts: a reason, a date, a question, a new
    text for their answer, or an approver's comment."""
    assert message.from_user is not None
    prompt = await desk.take_prompt(prompt_id)
    assert prompt is not None  # ReplyToPrompt found it
    if datetime.fromisoformat(prompt["expires"]) <= desk.clock.now():
        await message.reply(
            desk.t("group.prompt_expired", minutes=desk.settings.cases.prompt_minutes)
        )
        return
    text = (message.text or message.caption or "").strip()
    actor = official(message.from_user)
    case = await desk.case_for(int(prompt["case_id"]), message.chat.id, message.from_user.id)
    action = prompt["action"]
    if action == "transfer_reason":
        await desk.cases.transfer(desk.session, case, prompt["agency"], text[:500], actor)
        await message.reply(desk.t("group.transferred", code=case.code))
    elif action == "extend_date":
        when, reason = parse_extension(text, desk.settings.bot.tz)
        await desk.cases.extend(desk.session, case, when, reason, actor)
        await message.reply(desk.t("group.extended", code=case.code, due=case.due_at))
    elif action == "info_question":
        await desk.cases.request_info(desk.session, case, actor, text[:2000])
        await message.reply(desk.t("group.info_requested", code=case.code))
    elif action == "edit_answer":
        draft = await desk.answers.get(desk.session, int(prompt["draft_id"]))
        old_preview = draft.preview_message_id
        await desk.answers.edit(desk.session, draft, actor, text)
        if old_preview is not None and message.bot is not None:
            await message.bot.edit_message_reply_markup(
                chat_id=message.chat.id, message_id=old_preview, reply_markup=None
            )
        draft.preview_message_id = None
        await desk.preview(message, case, draft)
    elif action == "return_comment":
        draft = await desk.answers.get(desk.session, int(prompt["draft_id"]))
        await desk.answers.give_back(desk.session, draft, case, actor, text)
        if message.bot is not None and prompt.get("request_id"):
            await message.bot.edit_message_text(
                desk.t("approval.returned_edit", name=actor.name, code=case.code),
                chat_id=message.chat.id,
                message_id=int(prompt["request_id"]),
                reply_markup=None,
            )


async def cancel_prompts(message: Message, desk: Desk) -> None:
    """/cancel in a group: the official's open prompts are closed."""
    data = await desk.state.get_data()
    count = len(data.get(PROMPTS) or {})
    await desk.state.update_data({PROMPTS: {}})
    if count:
        await message.reply(desk.t("group.cancelled", n=count))
    else:
        await message.reply(desk.t("group.nothing_to_cancel"))


# ---- answers -----------------------------------------------------------------------------
async def _draft_answer(message: Message, desk: Desk, case: Case, text: str) -> None:
    assert message.from_user is not None
    draft, new = await desk.answers.draft(
        desk.session,
        case,
        official(message.from_user),
        chat_id=message.chat.id,
        text=text,
        attachments=_attachments(message),
        media_group_id=message.media_group_id,
    )
    await desk.preview(message, case, draft)


async def answer_command(message: Message, command: CommandObject, desk: Desk) -> None:
    """/traloi CODE text: an answer without finding the card."""
    assert message.from_user is not None
    parts = (command.args or "").split(maxsplit=1)
    if len(parts) < 2:
        await message.reply(desk.t("group.traloi_usage"))
        return
    code = normalize_code(parts[0])
    found = await desk.cases.by_code(desk.session, code)
    # An unknown code and another group's code get the same answer: codes cannot be probed.
    try:
        case = await desk.case_for(found, message.chat.id, message.from_user.id)
    except NotAllowed as exc:
        if exc.key != "case.not_your_case":
            raise
        case = None
    except UserFacingError as exc:
        if exc.key != "case.not_found":
            raise
        case = None
    if case is None:
        await message.reply(desk.t("group.traloi_not_found", code=code[:20]))
        return
    await _draft_answer(message, desk, case, parts[1])


async def reply_to_card(message: Message, desk: Desk) -> None:
    """A reply to the case card drafts the answer; replies to other messages are the group's
    own conversation and are left alone."""
    assert message.reply_to_message is not None and message.from_user is not None
    link = await MessageLinkRepo(desk.session).get(
        message.chat.id, message.reply_to_message.message_id
    )
    if link is None:
        # A copy of a card whose delivery was never recorded still names its case.
        copy = await case_of_reply(
            desk.session, desk.cases, message, message.bot.id if message.bot else None
        )
        if copy is None:
            return  # a reply to something unrelated: officials talk among themselves
        kind, case_id = "card", copy.id
    else:
        kind, case_id = link.kind, link.case_id
    if kind == "prompt":  # someone else's prompt, or one already answered or expired
        await message.reply(desk.t("group.prompt_not_yours"))
        return
    if not is_card(kind):
        return  # e.g. a remark to a colleague under the citizen's extra information
    text = (message.text or message.caption or "").strip()
    if not text and not _attachments(message):
        return
    case = await desk.case_for(case_id, message.chat.id, message.from_user.id)
    await _draft_answer(message, desk, case, text)


async def answer_button(callback: CallbackQuery, callback_data: AnswerCB, desk: Desk) -> None:
    """Gửi / Sửa / Hủy under a preview."""
    assert isinstance(callback.message, Message)
    draft = await desk.answers.get(desk.session, callback_data.draft_id)
    case = await desk.case_for(draft.case_id, callback.message.chat.id, callback.from_user.id)
    actor = official(callback.from_user)
    if callback_data.action == "send":
        sent = await desk.answers.confirm(desk.session, draft, case, actor)
        key = "answer.sent_preview" if sent else "answer.awaiting_preview"
        await callback.answer()
        await callback.message.edit_text(desk.t(key, code=case.code), reply_markup=None)
    elif callback_data.action == "edit":
        desk.answers.check_can_edit(draft, actor)
        await callback.answer()
        await desk.ask(
            callback.message,
            case,
            "edit_answer",
            desk.t("answer.ask_edit", code=case.code),
            draft_id=draft.id,
        )
    elif callback_data.action == "cancel":
        await desk.answers.cancel(desk.session, draft, actor)
        await callback.answer()
        await callback.message.edit_text(
            desk.t("answer.cancelled_preview", code=case.code), reply_markup=None
        )
    else:
        await callback.answer(desk.renderer.plain("common.stale_button", desk.loc), show_alert=True)


async def approval_button(callback: CallbackQuery, callback_data: ApprovalCB, desk: Desk) -> None:
    """Duyệt / Trả lại under a draft waiting for the agency's lead."""
    assert isinstance(callback.message, Message)
    draft = await desk.answers.get(desk.session, callback_data.draft_id)
    case = await desk.case_for(draft.case_id, callback.message.chat.id, callback.from_user.id)
    actor = official(callback.from_user)
    if callback_data.action == "approve":
        await desk.answers.approve(desk.session, draft, case, actor)
        await callback.answer()
        await callback.message.edit_text(
            desk.t("approval.approved_edit", name=actor.name, code=case.code), reply_markup=None
        )
    elif callback_data.action == "return":
        await desk.answers.check_can_return(desk.session, draft, case, actor)
        await callback.answer()
        await desk.ask(
            callback.message,
            case,
            "return_comment",
            desk.t("approval.ask_comment", code=case.code),
            draft_id=draft.id,
            request_id=callback.message.message_id,
        )
    else:
        await callback.answer(desk.renderer.plain("common.stale_button", desk.loc), show_alert=True)


async def stale_button(callback: CallbackQuery, desk: Desk) -> None:
    # Buttons from older versions of a card, or forged data: they change nothing.
    await callback.answer(desk.renderer.plain("common.stale_button", desk.loc), show_alert=True)


def create_router() -> Router:
    """A fresh router with this module's handlers (a router has one parent, so every
    dispatcher gets its own)."""
    router = Router(name=__name__)
    router.message.middleware(Provide("desk", Desk.from_data))
    router.callback_query.middleware(Provide("desk", Desk.from_data))
    router.callback_query.register(card_button, CaseCB.filter())
    router.callback_query.register(transfer_target, TransferCB.filter())
    router.callback_query.register(reject_reason, RejectCB.filter(F.reason.in_(REJECT_REASONS)))
    router.callback_query.register(answer_button, AnswerCB.filter())
    router.callback_query.register(approval_button, ApprovalCB.filter())
    # Replies to an open prompt first; everything else works while prompts are open.
    router.message.register(prompt_reply, ReplyToPrompt())
    router.message.register(cancel_prompts, Command("cancel"))
    router.message.register(answer_command, Command("traloi"))
    router.message.register(reply_to_card, F.reply_to_message)
    router.callback_query.register(stale_button)
    return router
