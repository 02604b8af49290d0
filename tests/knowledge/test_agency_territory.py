"""The agency directory knows territories: unit code and kind columns, and the generated
directory of a province's communes, read back by the import."""

from __future__ import annotations

import pytest

from knowledge.importers import parse_agencies, read_table
from knowledge.importers.directory import commune_agencies, directory_bytes
from knowledge.places import load_gazetteer
from knowledge.records import AgencyRecord


def test_unit_code_and_kind_columns_with_vietnamese_headers() -> None:
    csv_text = (
        "Mã;Tên;Mã ĐVHC;Loại cơ quan\n"
        "UBND-TINH;UBND tỉnh Lâm Đồng;68;UBND tỉnh\n"
        "UBND-XH;UBND phường Xuân Hương - Đà Lạt;24781;UBND xã\n"
        "CA-XH;Công an phường Xuân Hương - Đà Lạt;24781;Công an cấp xã\n"
        "CA-XA;Công an cấp xã (nơi cư trú);;commune_police\n"
        # A spreadsheet dropped the leading zeros of Hà Nội's Phường Hoàn Kiếm (00070).
        "UBND-HK;UBND phường Hoàn Kiếm;70;UBND phường\n"
    )
    parsed = parse_agencies(read_table(csv_text.encode(), "agencies.csv"))
    assert parsed.ok, parsed.problems
    assert [(r.code, r.unit_code, r.kind) for r in parsed.records] == [
        ("UBND-TINH", "68", "province_committee"),
        ("UBND-XH", "24781", "commune_committee"),
        ("CA-XH", "24781", "commune_police"),
        ("CA-XA", None, "commune_police"),
        ("UBND-HK", "00070", "commune_committee"),
    ]
    assert parsed.records[3].is_commune_placeholder
    assert not parsed.records[2].is_commune_placeholder


def test_bad_unit_codes_and_kinds_are_reported_with_their_row() -> None:
    csv_text = (
        "code,name,unit_code,kind\n"
        "A,UBND xã A,99999,commune_committee\n"  # no such commune
        "B,UBND xã B,68,commune_committee\n"  # a province code for a commune agency
        "C,Sở C,68,bộ\n"  # unknown kind
        "D,UBND xã D,24781x,\n"
    )
    parsed = parse_agencies(read_table(csv_text.encode(), "agencies.csv"))
    assert [(p.row, p.column, p.code) for p in parsed.problems] == [
        (2, "unit_code", "bad_value"),
        (3, "unit_code", "bad_value"),
        (4, "kind", "bad_value"),
        (5, "unit_code", "bad_value"),
    ]
    assert parsed.records == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_generated_commune_directory_imports_as_it_is(fmt: str) -> None:
    places = load_gazetteer("68")
    records = commune_agencies(
        places, police=True, committee_parent="UBND-TINH", police_parent="CAT"
    )
    assert len(records) == 2 * len(places.communes) == 248
    assert records[0] == AgencyRecord(
        code=f"UBND-{records[0].unit_code}",
        name="Ủy ban nhân dân "
        + places.communes[records[0].unit_code or ""].name[:1].lower()
        + places.communes[records[0].unit_code or ""].name[1:],
        parent="UBND-TINH",
        unit_code=records[0].unit_code,
        kind="commune_committee",
    )
    parsed = parse_agencies(
        read_table(directory_bytes(records, fmt), f"communes.{fmt}"),
        existing_codes={"UBND-TINH", "CAT"},
    )
    assert parsed.ok, parsed.problems[:3]
    assert parsed.records == records  # leading zeros, names and kinds survive the round trip
    xuan_huong = [r for r in parsed.records if r.unit_code == "24781"]
    assert [(r.code, r.name, r.kind) for r in xuan_huong] == [
        ("UBND-24781", "Ủy ban nhân dân phường Xuân Hương - Đà Lạt", "commune_committee"),
        ("CA-24781", "Công an phường Xuân Hương - Đà Lạt", "commune_police"),
    ]


def test_the_sample_directory_uses_real_communes_of_the_sample_province() -> None:
    from bot.domain.knowledge import sample_file

    places = load_gazetteer("68")
    parsed = parse_agencies(read_table(sample_file("agencies.json"), "agencies.json"))
    assert parsed.ok, parsed.problems
    by_code = {r.code: r for r in parsed.records}
    assert by_code["UBND-CAP-XA"].is_commune_placeholder
    assert by_code["UBND-CAP-XA"].kind == "commune_committee"
    assert by_code["CA-CAP-XA"].is_commune_placeholder
    assert by_code["CA-CAP-XA"].kind == "commune_police"
    communes = [r for r in parsed.records if r.unit_code and len(r.unit_code) == 5]
    assert len(communes) >= 8
    for r in communes:
        unit = places.commune(r.unit_code or "")
        assert unit is not None, r
        assert unit.name[1:] in r.name  # "Ủy ban nhân dân phường …" / "Công an xã …"
