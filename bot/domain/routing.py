"""Which agency a case goes to, and which rule decided it (recorded on the case)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from knowledge.normalize import fold
from knowledge.records import AgencyRecord, ProcedureRecord


@dataclass(frozen=True)
class Rule:
    id: int
    agency: str
    field: str | None = None
    keyword: str | None = None


@dataclass(frozen=True)
class RouteDecision:
    agency: str
    rule: str  # "procedure:<code>", "rule:<id> field=…/keyword=…", "default"


def route_case(
    *,
    procedure: ProcedureRecord | None,
    content: str,
    rules: Sequence[Rule],
    agencies: Mapping[str, AgencyRecord],
    default_agency: str,
) -> RouteDecision:
    """Procedure → its agency; else the first admin rule on field/keyword; else the default."""
    if procedure is not None and procedure.agency in agencies:
        return RouteDecision(procedure.agency, f"procedure:{procedure.code}")
    folded_content = f" {fold(content)} "
    folded_field = fold(procedure.field) if procedure else ""
    for rule in rules:
        if rule.agency not in agencies:
            continue
        if rule.field and folded_field and fold(rule.field) == folded_field:
            return RouteDecision(rule.agency, f"rule:{rule.id} field={rule.field}")
        if rule.keyword and f" {fold(rule.keyword)} " in folded_content:
            return RouteDecision(rule.agency, f"rule:{rule.id} keyword={rule.keyword}")
    return RouteDecision(default_agency, "default")
