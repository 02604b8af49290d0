"""Repositories: every SQL statement of the application. Each takes an AsyncSession and
never commits (the caller owns the transaction)."""

from storage.repositories.cases import AnswerDraftRepo, CaseRepo, EventRepo, MessageLinkRepo
from storage.repositories.fsm import FsmRepo
from storage.repositories.knowledge import (
    AgencyRepo,
    ApproverRepo,
    HolidayRepo,
    LexiconRepo,
    LifeEventRepo,
    ProcedureRepo,
    RoutingRuleRepo,
    agency_to_record,
    procedure_to_record,
)
from storage.repositories.outbox import OutboxRepo
from storage.repositories.people import CitizenRepo, UpdateRepo
from storage.repositories.reports import ReportRepo, ReportRunRepo

__all__ = [
    "AgencyRepo",
    "AnswerDraftRepo",
    "ApproverRepo",
    "CaseRepo",
    "CitizenRepo",
    "EventRepo",
    "FsmRepo",
    "HolidayRepo",
    "LexiconRepo",
    "LifeEventRepo",
    "MessageLinkRepo",
    "OutboxRepo",
    "ProcedureRepo",
    "ReportRepo",
    "ReportRunRepo",
    "RoutingRuleRepo",
    "UpdateRepo",
    "agency_to_record",
    "procedure_to_record",
]
