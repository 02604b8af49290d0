"""Keyboards, built from catalog strings: no button text lives in handler code."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from bot.domain.statuses import OPEN_STATUSES, Kind, Status
from bot.telegram.callbacks import (
    AnswerCB,
    ApprovalCB,
    CaseCB,
    CommuneCB,
    DraftCB,
    DraftProcedureCB,
    FeedbackStartCB,
    KindCB,
    LangCB,
    MenuCB,
    ProcedureCB,
    RateCB,
    RejectCB,
    TransferCB,
)
from bot.telegram.rendering import Renderer

REJECT_REASONS = ("not_pakn", "duplicate", "insufficient", "outside")
RATINGS = ("good", "neutral", "bad")


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data)


def _truncate(label: str, limit: int = 60) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


class Keyboards:
    def __init__(self, renderer: Renderer) -> None:
        self.r = renderer

    def main_menu(self, loc: str) -> InlineKeyboardMarkup:
        p = self.r.plain
        return InlineKeyboardMarkup(
            inline_keyboard=[
                [_button(p("menu.ask", loc), MenuCB(action="ask").pack())],
                [_button(p("menu.feedback", loc), MenuCB(action="feedback").pack())],
                [
                    _button(p("menu.track", loc), MenuCB(action="track").pack()),
                    _button(p("menu.help", loc), MenuCB(action="help").pack()),
                ],
            ]
        )

    def languages(self) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    _button("🇻🇳 Tiếng Việt", LangCB(locale="vi").pack()),
                    _button("🇬🇧 English", LangCB(locale="en").pack()),
                ]
            ]
        )

    def procedure_card(
        self, loc: str, code: str, others: Sequence[tuple[str, str]], *, full: bool = False
    ) -> InlineKeyboardMarkup:
        """Related procedures, then "full details" (under a facet answer), then feedback."""
        rows = [
            [_button("🔎 " + _truncate(name), ProcedureCB(code=c).pack())] for c, name in others
        ]
        if full:
            rows.append(
                [_button(self.r.plain("search.full_button", loc), ProcedureCB(code=code).pack())]
            )
        rows.append(
            [
                _button(
                    self.r.plain("card.feedback_button", loc),
                    FeedbackStartCB(source="procedure", code=code).pack(),
                )
            ]
        )
        return InlineKeyboardMarkup(inline_keyboard=rows)

    def not_found(self, loc: str, hits: Sequence[tuple[str, str]]) -> InlineKeyboardMarkup:
        rows = [[_button("❓ " + _truncate(name), ProcedureCB(code=c).pack())] for c, name in hits]
        rows.append(
            [
                _button(
                    self.r.plain("search.suggest_button", loc),
                    FeedbackStartCB(source="question").pack(),
                )
            ]
        )
        return InlineKeyboardMarkup(inline_keyboard=rows)

    def search_intent(
        self, loc: str, intent: str, hits: Sequence[tuple[str, str]] = ()
    ) -> InlineKeyboardMarkup | None:
        """The channel a request the knowledge base cannot answer is pointed to; `hits`
        ("did you mean" procedures) go under it when only example phrases told the request."""
        p = self.r.plain
        rows: list[list[InlineKeyboardButton]] = []
        if intent == "status":
            rows.append([_button(p("search.track_button", loc), MenuCB(action="track").pack())])
        if intent in ("feedback", "status"):
            rows.append(
                [
                    _button(
                        p("search.feedback_button", loc),
                        FeedbackStartCB(source="question").pack(),
                    )
                ]
            )
        rows += [[_button("❓ " + _truncate(name), ProcedureCB(code=c).pack())] for c, name in hits]
        return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None

    # ---- intake ----------------------------------------------------------------------
    def kinds(self, loc: str) -> InlineKeyboardMarkup:
        p = self.r.plain
        return InlineKeyboardMarkup(
            inline_keyboard=[
                [_button(p("kind.phan_anh", loc), KindCB(kind=Kind.FEEDBACK).pack())],
                [_button(p("kind.kien_nghi", loc), KindCB(kind=Kind.SUGGESTION).pack())],
                [_button(p("intake.cancel_button", loc), DraftCB(action="cancel").pack())],
            ]
        )

    def single(self, loc: str, *actions: tuple[str, str]) -> InlineKeyboardMarkup:
        """One button per row: (catalog key, DraftCB action)."""
        return InlineKeyboardMarkup(
            inline_keyboard=[
                [_button(self.r.plain(key, loc), DraftCB(action=action).pack())]
                for key, action in actions
            ]
        )

    def complaint(self, loc: str) -> InlineKeyboardMarkup:
        return self.single(
            loc, ("intake.complaint_continue", "proceed"), ("intake.cancel_button", "cancel")
        )

    def attachments(self, loc: str, count: int) -> InlineKeyboardMarkup:
        key = "intake.attach_done" if count else "intake.skip_button"
        return self.single(loc, (key, "done"))

    def procedure_choice(self, loc: str, hits: Sequence[tuple[str, str]]) -> InlineKeyboardMarkup:
        rows = [[_button(_truncate(name), DraftProcedureCB(code=c).pack())] for c, name in hits]
        rows.append(
            [_button(self.r.plain("intake.skip_button", loc), DraftCB(action="skip").pack())]
        )
        return InlineKeyboardMarkup(inline_keyboard=rows)

    def reuse_profile(self, loc: str) -> InlineKeyboardMarkup:
        return self.single(loc, ("intake.reuse_yes", "reuse"), ("intake.reuse_no", "fresh"))

    def share_contact(self, loc: str) -> ReplyKeyboardMarkup:
        return ReplyKeyboardMarkup(
            keyboard=[
                [KeyboardButton(text=self.r.plain("intake.share_phone", loc), request_contact=True)]
            ],
            resize_keyboard=True,
            one_time_keyboard=True,
            input_field_placeholder=self.r.plain("intake.contact_placeholder", loc),
        )

    # ---- where (commune-level cases) -----------------------------------------------------
    def commune_confirm(self, loc: str, commune: str) -> InlineKeyboardMarkup:
        p = self.r.plain
        return InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    _button(
                        _truncate(p("places.yes", loc, commune=commune)),
                        CommuneCB(action="ok").pack(),
                    )
                ],
                [_button(p("places.other", loc), CommuneCB(action="other").pack())],
            ]
        )

    def commune_pick(self, loc: str, candidates: Sequence[tuple[str, str]]) -> InlineKeyboardMarkup:
        rows = [
            [_button(_truncate(name), CommuneCB(action="pick", code=code).pack())]
            for code, name in candidates
        ]
        rows.append(
            [_button(self.r.plain("places.none_of_these", loc), CommuneCB(action="other").pack())]
        )
        return InlineKeyboardMarkup(inline_keyboard=rows)

    def commune_outside(self, loc: str) -> InlineKeyboardMarkup:
        p = self.r.plain
        return InlineKeyboardMarkup(
            inline_keyboard=[
                [_button(p("places.other_in_province", loc), CommuneCB(action="other").pack())],
                [_button(p("places.continue", loc), CommuneCB(action="skip").pack())],
            ]
        )

    def commune_skip(self, loc: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            inline_keyboard=[
                [_button(self.r.plain("places.skip", loc), CommuneCB(action="skip").pack())]
            ]
        )

    def share_location(self, loc: str) -> ReplyKeyboardMarkup:
        # Telegram's "request_location" button: the client asks the user, then sends a
        # Location message (Bot API, KeyboardButton.request_location; private chats only).
        return ReplyKeyboardMarkup(
            keyboard=[
                [
                    KeyboardButton(
                        text=self.r.plain("places.share_location", loc), request_location=True
                    )
                ]
            ],
            resize_keyboard=True,
            one_time_keyboard=True,
            input_field_placeholder=self.r.plain("places.placeholder", loc),
        )

    def summary(self, loc: str, remember: bool, *, commune: bool = False) -> InlineKeyboardMarkup:
        p = self.r.plain
        edit = [
            ("content", "intake.edit_content"),
            ("kind", "intake.edit_kind"),
            ("procedure", "intake.edit_procedure"),
            ("name", "intake.edit_name"),
            ("contact", "intake.edit_contact"),
            ("address", "intake.edit_address"),
        ]
        if commune:
            edit.append(("commune", "places.edit_commune"))
        rows = [[_button(p("intake.submit_button", loc), DraftCB(action="submit").pack())]]
        for i in range(0, len(edit), 2):
            rows.append(
                [
                    _button(p(key, loc), DraftCB(action="edit", field=f).pack())
                    for f, key in edit[i : i + 2]
                ]
            )
        remember_key = "intake.remember_on" if remember else "intake.remember_off"
        rows.append([_button(p(remember_key, loc), DraftCB(action="remember").pack())])
        rows.append([_button(p("intake.cancel_button", loc), DraftCB(action="cancel").pack())])
        return InlineKeyboardMarkup(inline_keyboard=rows)

    # ---- officials -------------------------------------------------------------------
    def case_card(
        self, loc: str, case_id: int, status: str, assigned: bool, can_extend: bool
    ) -> InlineKeyboardMarkup | None:
        if Status(status) not in OPEN_STATUSES:
            return None
        p = self.r.plain
        first = []
        if not assigned:
            first.append(
                _button(p("card.take", loc), CaseCB(action="take", case_id=case_id).pack())
            )
        else:
            first.append(
                _button(
                    p("card.take_over", loc), CaseCB(action="take_over", case_id=case_id).pack()
                )
            )
        first.append(_button(p("card.info", loc), CaseCB(action="info", case_id=case_id).pack()))
        second = [
            _button(p("card.transfer", loc), CaseCB(action="transfer", case_id=case_id).pack())
        ]
        if can_extend:
            second.append(
                _button(p("card.extend", loc), CaseCB(action="extend", case_id=case_id).pack())
            )
        third = [_button(p("card.reject", loc), CaseCB(action="reject", case_id=case_id).pack())]
        return InlineKeyboardMarkup(inline_keyboard=[first, second, third])

    def answer_preview(self, loc: str, draft_id: int) -> InlineKeyboardMarkup:
        p = self.r.plain
        return InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    _button(
                        p("answer.send", loc), AnswerCB(action="send", draft_id=draft_id).pack()
                    ),
                    _button(
                        p("answer.edit", loc), AnswerCB(action="edit", draft_id=draft_id).pack()
                    ),
                    _button(
                        p("answer.cancel", loc), AnswerCB(action="cancel", draft_id=draft_id).pack()
                    ),
                ]
            ]
        )

    def approval(self, loc: str, draft_id: int) -> InlineKeyboardMarkup:
        p = self.r.plain
        return InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    _button(
                        p("approval.approve", loc),
                        ApprovalCB(action="approve", draft_id=draft_id).pack(),
                    ),
                    _button(
                        p("approval.return", loc),
                        ApprovalCB(action="return", draft_id=draft_id).pack(),
                    ),
                ]
            ]
        )

    def transfer_targets(
        self, loc: str, case_id: int, agencies: Sequence[tuple[str, str]]
    ) -> InlineKeyboardMarkup:
        rows = [
            [_button(_truncate(name, 50), TransferCB(case_id=case_id, agency=code).pack())]
            for code, name in agencies
        ]
        return InlineKeyboardMarkup(inline_keyboard=rows)

    def reject_reasons(self, loc: str, case_id: int) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    _button(
                        self.r.plain(f"reason.{r}", loc), RejectCB(case_id=case_id, reason=r).pack()
                    )
                ]
                for r in REJECT_REASONS
            ]
        )

    def rating(self, loc: str, case_id: int) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    _button(
                        self.r.plain(f"rating.{r}", loc), RateCB(case_id=case_id, rating=r).pack()
                    )
                    for r in RATINGS
                ]
            ]
        )
