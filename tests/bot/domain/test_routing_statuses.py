"""Routing decisions and the one table of status transitions."""

from __future__ import annotations

import pytest

from bot.domain.errors import InvalidTransition
from bot.domain.routing import Rule, route_case
from bot.domain.statuses import FINAL_STATUSES, TRANSITIONS, Status, check_transition
from knowledge.records import AgencyRecord, ProcedureRecord

AGENCIES = {c: AgencyRecord(c, c) for c in ("STP", "SXD", "TTPVHCC")}


def test_procedure_agency_wins() -> None:
    procedure = ProcedureRecord(code="1.000894", name="Đăng ký kết hôn", agency="STP")
    decision = route_case(
        procedure=procedure,
        content="x",
        rules=[Rule(1, "SXD", keyword="x")],
        agencies=AGENCIES,
        default_agency="TTPVHCC",
    )
    assert (decision.agency, decision.rule) == ("STP", "procedure:1.000894")


def test_rules_by_field_then_keyword_then_default() -> None:
    procedure = ProcedureRecord(code="9.1", name="Không rõ", agency="UNKNOWN", field="Xây dựng")
    rules = [Rule(1, "SXD", field="xay dung"), Rule(2, "STP", keyword="hộ tịch")]
    by_field = route_case(
        procedure=procedure, content="", rules=rules, agencies=AGENCIES, default_agency="TTPVHCC"
    )
    assert by_field.agency == "SXD" and by_field.rule.startswith("rule:1")
    by_keyword = route_case(
        procedure=None,
        content="Sai sót HO TICH của con",
        rules=rules,
        agencies=AGENCIES,
        default_agency="TTPVHCC",
    )
    assert by_keyword.agency == "STP" and by_keyword.rule.startswith("rule:2")
    fallback = route_case(
        procedure=None,
        content="không khớp gì",
        rules=rules,
        agencies=AGENCIES,
        default_agency="TTPVHCC",
    )
    assert (fallback.agency, fallback.rule) == ("TTPVHCC", "default")


def test_keyword_matches_whole_words_only() -> None:
    rules = [Rule(1, "STP", keyword="hộ")]
    decision = route_case(
        procedure=None, content="hỗ trợ", rules=rules, agencies=AGENCIES, default_agency="TTPVHCC"
    )
    assert decision.agency == "TTPVHCC"  # "hỗ" typed with diacritics is not "hộ"
    decision = route_case(
        procedure=None, content="chờ lâu", rules=rules, agencies=AGENCIES, default_agency="TTPVHCC"
    )
    assert decision.rule == "default"


def test_final_statuses_allow_nothing_and_answered_only_closes() -> None:
    for status in FINAL_STATUSES:
        assert TRANSITIONS[status] == frozenset()
    # answered → in progress was never reachable: an answered case closes when rated.
    assert TRANSITIONS[Status.ANSWERED] == {Status.CLOSED}
    check_transition("PA-1", Status.RECEIVED, Status.ASSIGNED)
    with pytest.raises(InvalidTransition):
        check_transition("PA-1", Status.CLOSED, Status.ASSIGNED)
    # How many extensions is CASE_MAX_EXTENSIONS' business, not the table's.
    check_transition("PA-1", Status.EXTENDED, Status.EXTENDED)


def test_keyword_with_diacritics_matches_its_own_word_typed_with_or_without_them() -> None:
    rules = [Rule(1, "STP", keyword="hộ tịch"), Rule(2, "SXD", keyword="xây dựng")]

    def route(content: str) -> str:
        return route_case(
            procedure=None, content=content, rules=rules, agencies=AGENCIES, default_agency="X"
        ).agency

    assert route("Xin hỏi về HỘ TỊCH của con") == "STP"
    assert route("xin hoi ve ho tich cua con") == "STP"  # typed without diacritics
    assert route("hỗ tịch") == "X"  # a different word, typed with its diacritics
    assert route("xây dựng nhà trái phép") == "SXD"
    assert route("dựng xây") == "X"  # the words in order


def test_keyword_without_diacritics_matches_folded_words() -> None:
    rules = [Rule(1, "STP", keyword="ho tich")]
    decision = route_case(
        procedure=None, content="Hộ tịch", rules=rules, agencies=AGENCIES, default_agency="X"
    )
    assert decision.agency == "STP"
