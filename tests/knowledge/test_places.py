"""Addresses as citizens type them, resolved to a commune of Lâm Đồng (statistics code 68),
the province of the bundled sample, after the 1 July 2025 rearrangement."""

from __future__ import annotations

import pytest
import vietnam_provinces

from knowledge.places import current_units, load_gazetteer

XUAN_HUONG = "24781"  # Phường Xuân Hương - Đà Lạt
LAC_DUONG = "24848"  # Xã Lạc Dương
PHUONG_1_BAO_LOC = "24823"  # Phường 1 Bảo Lộc
DUC_TRONG = "24958"  # Xã Đức Trọng
BAC_GIA_NGHIA = "24611"  # Phường Bắc Gia Nghĩa
TUY_PHONG, PHAN_RI_CUA = "22978", "22972"


@pytest.fixture(scope="module")
def places():  # type: ignore[no-untyped-def]
    return load_gazetteer("68")


def resolved(places, text: str) -> str | None:  # type: ignore[no-untyped-def]
    found = places.resolve(text)
    return found.unit.code if found.status == "resolved" else None


def test_the_province_and_its_communes_come_from_the_installed_dataset(places) -> None:  # type: ignore[no-untyped-def]
    assert places.province.code == "68" and places.province.name == "Lâm Đồng"
    wards = [w for w in vietnam_provinces.Ward.iter_all() if int(w.province_code) == 68]
    assert {f"{int(w.code):05d}" for w in wards} == set(places.communes)
    assert places.communes[XUAN_HUONG].name == "Phường Xuân Hương - Đà Lạt"
    assert all(len(code) == 5 for code in places.communes)


def test_the_bundled_old_to_new_table_agrees_with_the_installed_dataset(places) -> None:  # type: ignore[no-untyped-def]
    # Every commune an old one went to must exist now: a mismatch between the bundled
    # table and the installed package would route to nowhere.
    units = current_units()
    for _name, _district, new, _partly in places._old_wards.values():
        for code in new:
            assert f"{code:05d}" in units


@pytest.mark.parametrize(
    "text",
    [
        "12 Phan Đình Phùng, phường Xuân Hương - Đà Lạt, tỉnh Lâm Đồng",
        "12 phan dinh phung, phuong xuan huong - da lat, lam dong",  # no diacritics
        "12 Phan Đình Phùng, P. Xuân Hương, Đà Lạt",  # abbreviation, first part of the name
        "12 PHAN ĐÌNH PHÙNG P XUÂN HƯƠNG ĐÀ LẠT",
    ],
)
def test_current_names_with_and_without_diacritics(places, text: str) -> None:  # type: ignore[no-untyped-def]
    assert resolved(places, text) == XUAN_HUONG


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("X. Lạc Dương", LAC_DUONG),
        ("thôn Đăng Gia, xa lac duong", LAC_DUONG),
        ("P.1 Bảo Lộc", PHUONG_1_BAO_LOC),
        ("TT Liên Nghĩa, H. Đức Trọng", DUC_TRONG),  # thị trấn, abolished in 2025
        ("tt lien nghia huyen duc trong", DUC_TRONG),
    ],
)
def test_abbreviations(places, text: str, code: str) -> None:  # type: ignore[no-untyped-def]
    assert resolved(places, text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # Đà Lạt's numbered wards were merged into Phường Xuân Hương - Đà Lạt and others.
        ("5 Trần Phú, Phường 3, Thành phố Đà Lạt", XUAN_HUONG),
        ("5 Tran Phu, P.3, TP Da Lat", XUAN_HUONG),
        ("5 Trần Phú, phường 03, Đà Lạt", XUAN_HUONG),
        ("F3 Đà Lạt", XUAN_HUONG),
        ("phường 4, Đà Lạt, Lâm Đồng", XUAN_HUONG),
        # The same number in Bảo Lộc is another commune.
        ("Phường 1, thành phố Bảo Lộc", PHUONG_1_BAO_LOC),
        # Old district and old province that no longer exist (Đắk Nông merged into Lâm Đồng).
        ("phường Nghĩa Đức, thị xã Gia Nghĩa, tỉnh Đắk Nông", BAC_GIA_NGHIA),
        ("xã Lộc Thanh, TP Bảo Lộc", PHUONG_1_BAO_LOC),  # a xã that became part of a phường
    ],
)
def test_old_district_era_addresses_map_to_the_new_commune(places, text: str, code: str) -> None:  # type: ignore[no-untyped-def]
    found = places.resolve(text)
    assert found.status == "resolved" and found.unit.code == code
    assert found.rule.startswith("old ")  # the history says it was an old-form address


def test_ambiguous_old_addresses_offer_the_communes_they_could_be(places) -> None:  # type: ignore[no-untyped-def]
    # "Phường 1" alone: Đà Lạt's (now Xuân Hương) or Bảo Lộc's (now Phường 1 Bảo Lộc).
    found = places.resolve("Phường 1")
    assert found.status == "ambiguous"
    assert {u.code for u in found.candidates} == {XUAN_HUONG, PHUONG_1_BAO_LOC}
    # Xã Phong Phú (huyện Tuy Phong) was split between two new communes.
    found = places.resolve("thôn Lạc Trị, xã Phong Phú, huyện Tuy Phong, tỉnh Bình Thuận")
    assert found.status == "ambiguous"
    assert {u.code for u in found.candidates} == {TUY_PHONG, PHAN_RI_CUA}
    # A district alone: the communes it became, most of its old communes first.
    found = places.resolve("huyện Đức Trọng")
    assert found.status == "ambiguous" and DUC_TRONG in {u.code for u in found.candidates}
    assert found.rule == "district Huyện Đức Trọng"


@pytest.mark.parametrize(
    ("text", "province"),
    [
        ("45 Nguyễn Huệ, phường Bến Nghé, quận 1, TP Hồ Chí Minh", "Thành phố Hồ Chí Minh"),
        ("3 Hai Bà Trưng, Q.1, TP.HCM", "Thành phố Hồ Chí Minh"),
        # Lâm Đồng has a Xã Tân Thành too, but the address names another province.
        ("xã Tân Thành, tỉnh Đồng Nai", "Đồng Nai"),
        ("xã Tuyên Quang, Tuyên Quang", "Tuyên Quang"),
    ],
)
def test_an_address_outside_the_province(places, text: str, province: str) -> None:  # type: ignore[no-untyped-def]
    found = places.resolve(text)
    assert found.status == "outside" and found.province == province


def test_a_commune_of_the_province_named_like_another_province(places) -> None:  # type: ignore[no-untyped-def]
    # Xã Tuyên Quang (Bình Thuận's former Tuy Phong district) is in Lâm Đồng; the province
    # Tuyên Quang is not: the division type tells them apart.
    assert resolved(places, "thôn 2, xã Tuyên Quang") == "22963"


def test_streets_named_like_communes_are_not_communes(places) -> None:  # type: ignore[no-untyped-def]
    # Lâm Đồng has a Xã Di Linh; "đường Di Linh" is a street.
    assert places.resolve("5 đường Di Linh").status == "unknown"
    assert places.resolve("12/5 Lê Lợi").status == "unknown"  # a house number is not phường 5
    assert places.mentioned_commune("Cán bộ ở đường Di Linh trả hồ sơ chậm").status == "unknown"


def test_a_commune_named_in_the_content(places) -> None:  # type: ignore[no-untyped-def]
    found = places.mentioned_commune("UBND xã Lạc Dương đòi thêm giấy tờ khi tôi làm khai sinh")
    assert found.status == "resolved" and found.unit.code == LAC_DUONG


def test_nearest_communes_to_a_location(places) -> None:  # type: ignore[no-untyped-def]
    assert places.has_centroids
    lat, lon = places._centroids[XUAN_HUONG]
    nearest = places.nearest(lat + 0.002, lon - 0.002)  # a few hundred metres off its centre
    assert nearest[0][0].code == XUAN_HUONG and nearest[0][1] < 1
    assert len(nearest) == 3 and nearest[1][1] < 10  # its neighbours in Đà Lạt
    # The centre of Đà Lạt: several communes are near, so the citizen picks among them.
    assert XUAN_HUONG in {u.code for u, _ in places.nearest(11.9404, 108.4583)}
    assert places.nearest(21.0285, 105.8542) == []  # Hà Nội: not in this province
