"""Callback data: the only way buttons talk to handlers (64 bytes at most, never trusted:
every handler re-checks permissions on the server: a client can send any callback data)."""

from __future__ import annotations

from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

# A row id as the database stores it (a 32-bit integer): callback data with any other number
# is forged or garbled, and matches no handler instead of reaching the database.
RowId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class MenuCB(CallbackData, prefix="m"):
    action: str  # ask | feedback | track | help


class LangCB(CallbackData, prefix="l"):
    locale: str


class ProcedureCB(CallbackData, prefix="p"):
    code: str


class FeedbackStartCB(CallbackData, prefix="fs"):
    source: str  # menu | procedure | question
    code: str = ""


class KindCB(CallbackData, prefix="fk"):
    kind: str


class DraftCB(CallbackData, prefix="fd"):
    action: str  # skip | done | submit | edit | remember | reuse | fresh | proceed | cancel
    field: str = ""


class DraftProcedureCB(CallbackData, prefix="fp"):
    code: str


class CaseCB(CallbackData, prefix="c"):
    action: str  # take | transfer | extend | reject | info
    case_id: RowId


class TransferCB(CallbackData, prefix="ct"):
    case_id: RowId
    agency: str


class RejectCB(CallbackData, prefix="cr"):
    case_id: RowId
    reason: str  # not_pakn | duplicate | insufficient | outside


class RateCB(CallbackData, prefix="r"):
    case_id: RowId
    rating: str  # good | neutral | bad


# ---- the admins' panel (private chat) ------------------------------------------------------
class ImportCB(CallbackData, prefix="ki"):
    action: str  # apply | replace | confirm | cancel
    n: int = 0  # confirm: how many procedures the admin agreed to retire


class KbVersionCB(CallbackData, prefix="kv"):
    action: str  # ask | rollback
    number: int


class ReportCB(CallbackData, prefix="rp"):
    kind: str  # weekly | monthly | quarterly
    fmt: str  # xlsx | csv


class RuleCB(CallbackData, prefix="ru"):
    action: str  # remove | agency
    rule_id: int = 0
    agency: str = ""


class LexiconCB(CallbackData, prefix="lx"):
    entry_id: int


class HolidayCB(CallbackData, prefix="hd"):
    day: str  # ISO date of the override to remove


class AdminCB(CallbackData, prefix="ad"):
    user_id: int


class AnswerCB(CallbackData, prefix="a"):
    action: str  # send | edit | cancel
    draft_id: int


class ApprovalCB(CallbackData, prefix="ap"):
    action: str  # approve | return
    draft_id: int
