"""Callback data: the only way buttons talk to handlers (64 bytes at most, never trusted:
every handler re-checks permissions on the server: a client can send any callback data)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


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


class CommuneCB(CallbackData, prefix="fc"):
    action: str  # ok | other | pick | skip
    code: str = ""  # pick: the commune's statistics code (checked against the offered ones)


class CaseCB(CallbackData, prefix="c"):
    action: str  # take | transfer | extend | reject | info
    case_id: int


class TransferCB(CallbackData, prefix="ct"):
    case_id: int
    agency: str


class RejectCB(CallbackData, prefix="cr"):
    case_id: int
    reason: str  # not_pakn | duplicate | insufficient | outside


class RateCB(CallbackData, prefix="r"):
    case_id: int
    rating: str  # good | neutral | bad


class AnswerCB(CallbackData, prefix="a"):
    action: str  # send | edit | cancel
    draft_id: int


class ApprovalCB(CallbackData, prefix="ap"):
    action: str  # approve | return
    draft_id: int
