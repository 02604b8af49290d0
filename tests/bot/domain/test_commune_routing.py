"""A procedure done "at the commune where the citizen lives / where the land is" goes to that
commune's agency of the placeholder's kind (People's Committee or police)."""

from __future__ import annotations

from bot.domain.routing import Place, commune_kind, route_case
from knowledge.records import AgencyRecord, ProcedureRecord

AGENCIES = {
    a.code: a
    for a in (
        AgencyRecord("TTPVHCC", "Trung tâm Phục vụ hành chính công tỉnh"),
        AgencyRecord("STP", "Sở Tư pháp", kind="province_department", unit_code="68"),
        AgencyRecord("UBND-CAP-XA", "UBND cấp xã", kind="commune_committee"),
        AgencyRecord("CA-CAP-XA", "Công an cấp xã", kind="commune_police"),
        AgencyRecord("UBND-24781", "UBND phường Xuân Hương - Đà Lạt", unit_code="24781",
                     kind="commune_committee"),
        AgencyRecord("CA-24781", "Công an phường Xuân Hương - Đà Lạt", unit_code="24781",
                     kind="commune_police"),
        AgencyRecord("UBND-24848", "UBND xã Lạc Dương", unit_code="24848",
                     kind="commune_committee"),
    )
}  # fmt: skip
MARRIAGE = ProcedureRecord(code="1.000894", name="Đăng ký kết hôn", agency="UBND-CAP-XA")
RESIDENCE = ProcedureRecord(code="1.004194", name="Đăng ký thường trú", agency="CA-CAP-XA")
XUAN_HUONG = Place("resolved", "24781", "Phường Xuân Hương - Đà Lạt", "address: old Phường 3")


def route(procedure: ProcedureRecord | None, place: Place | None, **kw: object):  # type: ignore[no-untyped-def]
    return route_case(
        procedure=procedure,
        content=str(kw.pop("content", "nội dung")),
        rules=[],
        agencies=kw.pop("agencies", AGENCIES),  # type: ignore[arg-type]
        default_agency="TTPVHCC",
        place=place,
        **kw,  # type: ignore[arg-type]
    )


def test_the_commune_police_vs_its_peoples_committee() -> None:
    police = route(RESIDENCE, XUAN_HUONG)
    committee = route(MARRIAGE, XUAN_HUONG)
    assert (police.agency, police.unit_code, police.unit_status) == (
        "CA-24781",
        "24781",
        "resolved",
    )
    assert (committee.agency, committee.unit_code) == ("UBND-24781", "24781")
    # The history says which rule and which unit decided, and how the address was read.
    assert police.rule == (
        "procedure:1.004194 commune_police commune=24781 (address: old Phường 3)"
    )
    assert commune_kind(RESIDENCE, AGENCIES) == "commune_police"
    assert commune_kind(MARRIAGE, AGENCIES) == "commune_committee"
    assert commune_kind(ProcedureRecord(code="x", name="x", agency="STP"), AGENCIES) is None


def test_a_commune_without_that_kind_of_agency_is_unresolved() -> None:
    # Xã Lạc Dương has a People's Committee in the directory but no police.
    decision = route(RESIDENCE, Place("resolved", "24848", "Xã Lạc Dương", "address"))
    assert (decision.agency, decision.unit_code, decision.unit_status) == (
        "TTPVHCC",
        "24848",
        "unresolved",
    )
    assert "not in the directory" in decision.rule


def test_unresolved_and_outside_go_to_the_coordinator_or_a_bound_placeholder() -> None:
    unresolved = route(MARRIAGE, Place("unresolved", how="not given"))
    assert (unresolved.agency, unresolved.unit_status) == ("TTPVHCC", "unresolved")
    outside = route(MARRIAGE, Place("outside", how="address: province Đồng Nai"))
    assert (outside.agency, outside.unit_status) == ("TTPVHCC", "outside")
    bound = dict(AGENCIES)
    bound["UBND-CAP-XA"] = AgencyRecord(
        "UBND-CAP-XA", "UBND cấp xã", chat_id=-100123, kind="commune_committee"
    )
    decision = route(MARRIAGE, Place("unresolved"), agencies=bound)
    assert decision.agency == "UBND-CAP-XA" and decision.unit_status == "unresolved"


def test_without_a_province_the_placeholder_receives_as_before() -> None:
    decision = route(MARRIAGE, None)
    assert (decision.agency, decision.rule, decision.unit_status) == (
        "UBND-CAP-XA",
        "procedure:1.000894",
        None,
    )


def test_a_definite_agency_ignores_the_place() -> None:
    procedure = ProcedureRecord(code="2.1", name="Lý lịch tư pháp", agency="STP")
    assert route(procedure, XUAN_HUONG).agency == "STP"


def test_a_case_without_procedure_naming_a_commune_goes_to_its_committee() -> None:
    mentioned = Place("resolved", "24848", "Xã Lạc Dương", "commune → Xã Lạc Dương")
    decision = route(None, None, mentioned=mentioned)
    assert decision.agency == "UBND-24848" and decision.rule.startswith("content commune=24848")
    assert route(None, None).agency == "TTPVHCC"


def test_transfer_choices_fit_telegrams_keyboard_with_a_full_province() -> None:
    from bot.domain.routing import MAX_TRANSFER_CHOICES, transfer_choices
    from knowledge.importers.directory import commune_agencies
    from knowledge.places import load_gazetteer

    directory = [*AGENCIES.values()]
    directory += [
        a for a in commune_agencies(load_gazetteer("68"), police=True) if a.code not in AGENCIES
    ]
    assert len(directory) > 200
    picked = transfer_choices(directory, current="TTPVHCC", unit_code="24848")
    assert len(picked) == MAX_TRANSFER_CHOICES
    codes = [a.code for a in picked]
    # The province's agencies first, then the case's own commune, then the other communes.
    assert codes[:5] == ["CA-CAP-XA", "STP", "UBND-CAP-XA", "CA-24848", "UBND-24848"]
    assert "TTPVHCC" not in codes
