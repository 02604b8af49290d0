"""Keyboards of the admins' panel, built from catalog strings (no button text in handlers)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.telegram.callbacks import (
    AdminCB,
    HolidayCB,
    ImportCB,
    KbVersionCB,
    LexiconCB,
    ReportCB,
    RuleCB,
)
from bot.telegram.rendering import Renderer


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data)


def _short(label: str, limit: int = 40) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _rows(
    buttons: Sequence[InlineKeyboardButton], per_row: int
) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


class AdminKeyboards:
    def __init__(self, renderer: Renderer) -> None:
        self.r = renderer

    def dry_run(self, loc: str, *, can_apply: bool, retire: int) -> InlineKeyboardMarkup:
        """Áp dụng / Hủy under a dry-run report; "replace" when the file leaves some out."""
        p = self.r.plain
        rows = []
        if can_apply:
            rows.append([_button(p("adm.btn.apply", loc), ImportCB(action="apply").pack())])
            if retire:
                rows.append(
                    [
                        _button(
                            p("adm.btn.replace", loc, n=retire),
                            ImportCB(action="replace").pack(),
                        )
                    ]
                )
        rows.append([_button(p("adm.btn.cancel", loc), ImportCB(action="cancel").pack())])
        return InlineKeyboardMarkup(inline_keyboard=rows)

    def confirm_replace(self, loc: str, n: int) -> InlineKeyboardMarkup:
        p = self.r.plain
        return InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    _button(
                        p("adm.btn.confirm_retire", loc, n=n),
                        ImportCB(action="confirm", n=n).pack(),
                    )
                ],
                [_button(p("adm.btn.cancel", loc), ImportCB(action="cancel").pack())],
            ]
        )

    def versions(self, loc: str, numbers: Iterable[int]) -> InlineKeyboardMarkup:
        buttons = [
            _button(
                self.r.plain("adm.btn.rollback", loc, n=n),
                KbVersionCB(action="ask", number=n).pack(),
            )
            for n in numbers
        ]
        return InlineKeyboardMarkup(inline_keyboard=_rows(buttons, 3))

    def confirm_rollback(self, loc: str, number: int) -> InlineKeyboardMarkup:
        p = self.r.plain
        return InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    _button(
                        p("adm.btn.confirm_rollback", loc, n=number),
                        KbVersionCB(action="rollback", number=number).pack(),
                    )
                ],
            ]
        )

    def reports(self, loc: str) -> InlineKeyboardMarkup:
        p = self.r.plain
        kinds = ("weekly", "monthly", "quarterly")
        return InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    _button(p(f"adm.btn.report_{k}", loc), ReportCB(kind=k, fmt="xlsx").pack())
                    for k in kinds
                ],
                [
                    _button(
                        p(f"adm.btn.report_{k}", loc) + " · CSV", ReportCB(kind=k, fmt="csv").pack()
                    )
                    for k in kinds
                ],
            ]
        )

    def rules(self, loc: str, ids: Iterable[int]) -> InlineKeyboardMarkup:
        buttons = [
            _button(
                self.r.plain("adm.btn.remove_rule", loc, id=i),
                RuleCB(action="remove", rule_id=i).pack(),
            )
            for i in ids
        ]
        return InlineKeyboardMarkup(inline_keyboard=_rows(buttons, 3))

    def agencies(self, agencies: Iterable[tuple[str, str]]) -> InlineKeyboardMarkup:
        buttons = [
            _button(_short(name), RuleCB(action="agency", agency=code).pack())
            for code, name in agencies
        ]
        return InlineKeyboardMarkup(inline_keyboard=_rows(buttons, 2))

    def lexicon(self, entries: Iterable[tuple[int, str]]) -> InlineKeyboardMarkup:
        buttons = [
            _button("🗑 " + _short(phrase, 30), LexiconCB(entry_id=i).pack())
            for i, phrase in entries
        ]
        return InlineKeyboardMarkup(inline_keyboard=_rows(buttons, 2))

    def holidays(self, days: Iterable[date]) -> InlineKeyboardMarkup:
        buttons = [_button(f"🗑 {d:%d/%m}", HolidayCB(day=d.isoformat()).pack()) for d in days]
        return InlineKeyboardMarkup(inline_keyboard=_rows(buttons, 4))

    def admins(self, people: Iterable[tuple[int, str]]) -> InlineKeyboardMarkup:
        buttons = [
            _button("🗑 " + _short(name or str(i), 30), AdminCB(user_id=i).pack())
            for i, name in people
        ]
        return InlineKeyboardMarkup(inline_keyboard=_rows(buttons, 2))
