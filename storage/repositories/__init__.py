"""Repositories: every SQL statement of the application. Each takes an AsyncSession and
never commits (the caller owns the transaction)."""

from storage.repositories.cases import AnswerDraftRepo, CaseRepo, EventRepo, MessageLinkRepo
from storage.repositories.context import UpdateContext, UpdateContextRepo
from storage.repositories.fsm import FsmRepo
from storage.repositories.inbox import InboxRepo
from storage.repositories.knowledge import (
    AdminRepo,
    AgencyRepo,
    ApproverRepo,
    HolidayRepo,
    KbVersionRepo,
    LexiconRepo,
    LifeEventRepo,
    ProcedureRepo,
    RoutingRuleRepo,
    agency_to_record,
    procedure_to_record,
)
from storage.repositories.locks import TICK_LOCK_KEY, try_transaction_lock
from storage.repositories.outbox import OutboxRepo
from storage.repositories.people import CitizenRepo
from storage.repositories.ratelimit import RateRepo
from storage.repositories.reports import ReportRepo, ReportRunRepo

__all__ = [
    "AdminRepo",
    "AgencyRepo",
    "AnswerDraftRepo",
    "ApproverRepo",
    "CaseRepo",
    "CitizenRepo",
    "EventRepo",
    "FsmRepo",
    "HolidayRepo",
    "InboxRepo",
    "KbVersionRepo",
    "LexiconRepo",
    "LifeEventRepo",
    "MessageLinkRepo",
    "OutboxRepo",
    "ProcedureRepo",
    "RateRepo",
    "ReportRepo",
    "ReportRunRepo",
    "RoutingRuleRepo",
    "TICK_LOCK_KEY",
    "UpdateContext",
    "UpdateContextRepo",
    "agency_to_record",
    "procedure_to_record",
    "try_transaction_lock",
]
