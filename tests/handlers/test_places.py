"""Commune-level procedures reach the commune's own group: addresses read at intake (old and
new forms), the citizen's choice among communes, a shared location, another province, the
admins' list of what could not be placed — through the fake Bot API server."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from bot.domain.reminders import run_tick
from storage.models import Case
from tests.harness import ADMIN, CITIZEN, GROUP_A, GROUP_B, OFFICIAL_A, Harness

GROUP_POLICE = -1003333
GROUP_COORDINATOR = -1004444
GROUP_TUY_PHONG = -1005555


async def _bind(h: Harness, agency: str, group: int) -> None:
    await h.say(f"/bind {agency}", user=ADMIN, chat=group)
    assert "đã được gắn" in h.last_text(group)


async def _last_case(h: Harness) -> Case:
    async with h.app.sessions() as session:
        query = select(Case).options(selectinload("*")).order_by(Case.id.desc()).limit(1)
        case = await session.scalar(query)
        assert case is not None
        return case


async def _start(h: Harness, question: str, content: str) -> None:
    """Ask about a procedure, then file from its card up to the address step."""
    await h.say(question)
    await h.press("Phản ánh về thủ tục này")
    await h.press("Phản ánh")
    await h.say(content)
    await h.press("Bỏ qua")  # no attachments
    await h.say("Nguyễn Thị Lan")
    await h.say("0912 345 678")


def _reply_keyboards(h: Harness) -> list[dict[str, Any]]:
    out = []
    for call in h.server.calls_to("sendMessage"):
        markup = call.params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        if isinstance(markup, dict) and "keyboard" in markup:
            out.append(markup)
    return out


@pytest.fixture
async def communes(harness: Harness) -> Harness:
    for agency, group in (
        ("UBND-24781", GROUP_A),  # Ủy ban nhân dân phường Xuân Hương - Đà Lạt
        ("CA-24781", GROUP_POLICE),  # Công an phường Xuân Hương - Đà Lạt
        ("TTPVHCC", GROUP_COORDINATOR),
        ("UBND-22978", GROUP_TUY_PHONG),  # Ủy ban nhân dân xã Tuy Phong
        ("UBND-24848", GROUP_B),  # Ủy ban nhân dân xã Lạc Dương
    ):
        await _bind(harness, agency, group)
    return harness


async def test_old_address_journey_ends_in_the_communes_police_group(communes: Harness) -> None:
    h = communes
    await _start(
        h, "đăng ký thường trú", "Công an yêu cầu nộp bản sao sổ hộ khẩu dù đã bỏ sổ hộ khẩu."
    )
    # An address of before July 2025: Đà Lạt's Phường 3 is now in Phường Xuân Hương - Đà Lạt.
    await h.say("12 Phan Đình Phùng, P.3, TP Đà Lạt")
    ask = h.last_text(CITIZEN)
    assert "Công an xã, phường, đặc khu" in ask and "Phường Xuân Hương - Đà Lạt" in ask
    await h.press("Đúng")
    summary = h.last_text(CITIZEN)
    assert "Xã/phường xử lý:" in summary and "Phường Xuân Hương - Đà Lạt" in summary
    await h.press("Gửi phản ánh")
    case = await _last_case(h)
    assert case.agency == "CA-24781" and case.unit_code == "24781"
    assert case.unit_status == "resolved"
    # The card reached the commune police's own group, and no other group.
    assert any(case.code in t for t in h.texts(GROUP_POLICE))
    assert not any(case.code in t for t in h.texts(GROUP_A) + h.texts(GROUP_COORDINATOR))
    # The history says which rule and which resolved unit routed it.
    [received] = [e for e in case.events if e.action == "received"]
    assert received.details["unit_code"] == "24781"
    assert received.details["unit_name"] == "Phường Xuân Hương - Đà Lạt"
    assert received.details["rule"].startswith("procedure:1.004194 commune_police commune=24781")
    assert "old Phường 3, Thành phố Đà Lạt" in received.details["rule"]
    assert any("Công an phường Xuân Hương - Đà Lạt" in t for t in h.texts(CITIZEN))


async def test_same_address_committee_procedure_goes_to_the_peoples_committee(
    communes: Harness,
) -> None:
    h = communes
    await _start(h, "đăng ký khai sinh", "Bộ phận một cửa đòi thêm giấy xác nhận cư trú.")
    await h.say("12 phan dinh phung, phuong 3, da lat")  # without diacritics
    assert "Ủy ban nhân dân xã, phường, đặc khu" in h.last_text(CITIZEN)
    await h.press("Đúng")
    await h.press("Gửi phản ánh")
    case = await _last_case(h)
    assert case.agency == "UBND-24781"
    assert any(case.code in t for t in h.texts(GROUP_A))
    assert not any(case.code in t for t in h.texts(GROUP_POLICE))


async def test_ambiguous_old_address_resolved_by_the_citizens_button(communes: Harness) -> None:
    h = communes
    await _start(h, "đăng ký khai sinh", "Cán bộ hộ tịch hẹn trả kết quả chậm hai tuần.")
    # Xã Phong Phú (huyện Tuy Phong) was split between Xã Phan Rí Cửa and Xã Tuy Phong.
    await h.say("Thôn Lạc Trị, xã Phong Phú, huyện Tuy Phong, tỉnh Bình Thuận")
    assert "có thể thuộc một trong các xã, phường sau" in h.last_text(CITIZEN)
    message, _ = h.find_button(CITIZEN, "Xã Phan Rí Cửa")
    labels = [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
    assert labels[:2] == ["Xã Phan Rí Cửa", "Xã Tuy Phong"]
    await h.press("Xã Tuy Phong")
    assert "Xã Tuy Phong" in h.last_text(CITIZEN)  # the summary
    await h.press("Gửi phản ánh")
    case = await _last_case(h)
    assert case.agency == "UBND-22978" and case.unit_status == "resolved"
    assert any(case.code in t for t in h.texts(GROUP_TUY_PHONG))
    assert "picked by the citizen among 2" in case.routing_rule
    assert "old Xã Phong Phú, Huyện Tuy Phong (partly)" in case.routing_rule


async def test_a_forged_commune_button_is_ignored(communes: Harness) -> None:
    h = communes
    await _start(h, "đăng ký khai sinh", "Cán bộ hộ tịch hẹn trả kết quả chậm hai tuần.")
    await h.say("xã Phong Phú, huyện Tuy Phong")
    message, _ = h.find_button(CITIZEN, "Xã Tuy Phong")
    before = len(h.texts(CITIZEN))
    await h.press_data("fc:pick:24848", message["message_id"])  # Lạc Dương was not offered
    assert len(h.texts(CITIZEN)) == before
    await h.press("Xã Phan Rí Cửa")
    await h.press("Gửi phản ánh")
    assert (await _last_case(h)).unit_code == "22972"


async def test_address_outside_the_province_goes_to_the_coordinator_and_the_admin_report(
    communes: Harness,
) -> None:
    h = communes
    await _start(h, "đăng ký khai sinh", "Bộ phận một cửa đòi thêm giấy xác nhận cư trú.")
    await h.say("45 Nguyễn Huệ, phường Bến Nghé, quận 1, TP Hồ Chí Minh")
    text = h.last_text(CITIZEN)
    assert "Thành phố Hồ Chí Minh" in text and "không thuộc Lâm Đồng" in text
    await h.press("Vẫn gửi")
    assert "chưa xác định" in h.last_text(CITIZEN)
    await h.press("Gửi phản ánh")
    case = await _last_case(h)
    assert (case.agency, case.unit_status, case.unit_code) == ("TTPVHCC", "outside", None)
    assert any(case.code in t for t in h.texts(GROUP_COORDINATOR))
    # The admins' weekly summary lists it (the next Monday's tick).
    monday = h.clock.now() + timedelta(days=7)
    h.clock.set(monday)
    await run_tick(h.app)
    await h.sender.deliver_all()
    weekly = [t for t in h.texts(ADMIN) if "Địa chỉ chưa xác định được xã, phường" in t]
    assert weekly and case.code in weekly[-1]
    # The coordinator transfers it with the usual flow; the case is then placed.
    await h.press_data(
        f"ct:{case.id}:UBND-24848", _card(h, GROUP_COORDINATOR, case.code),
        user=OFFICIAL_A, chat=GROUP_COORDINATOR,
    )  # fmt: skip
    prompt = h.messages(GROUP_COORDINATOR)[-1]
    await h.say("Công dân ở Lạc Dương.", user=OFFICIAL_A, chat=GROUP_COORDINATOR,
                reply_to=(GROUP_COORDINATOR, prompt["message_id"]))  # fmt: skip
    case = await _last_case(h)
    assert (case.agency, case.unit_code, case.unit_status) == ("UBND-24848", "24848", "resolved")
    assert any(case.code in t for t in h.texts(GROUP_B))


def _card(h: Harness, group: int, code: str) -> int:
    for message in reversed(h.messages(group)):
        if code in (message.get("text") or "") and message.get("reply_markup"):
            return int(message["message_id"])
    raise AssertionError(f"no card for {code} in {group}")


async def test_unknown_address_then_location_then_pick(communes: Harness) -> None:
    h = communes
    await _start(h, "đăng ký khai sinh", "Bộ phận một cửa đòi thêm giấy xác nhận cư trú.")
    await h.say("Thôn 5, gần chợ")
    assert "cần biết <b>xã, phường</b>" in h.server.calls_to("sendMessage")[-2].params["text"]
    # Telegram's location button is offered (request_location).
    assert any(
        b.get("request_location")
        for kb in _reply_keyboards(h)
        for row in kb["keyboard"]
        for b in row
    )
    await h.say("Chợ Đà Lạt cũ")  # still nothing the data know
    assert "Chưa tìm thấy xã, phường nào" in h.last_text(CITIZEN)
    places = h.app.cases.places
    assert places is not None
    lat, lon = places._centroids["24848"]  # standing in Xã Lạc Dương
    await h.say(location=(lat + 0.001, lon))
    assert "Xã Lạc Dương" in [
        b["text"] for row in h.messages(CITIZEN)[-1]["reply_markup"]["inline_keyboard"] for b in row
    ]
    await h.press("Xã Lạc Dương")
    await h.press("Gửi phản ánh")
    case = await _last_case(h)
    assert case.agency == "UBND-24848" and case.latitude == pytest.approx(lat + 0.001)
    assert "location" in case.routing_rule
    card = [t for t in h.texts(GROUP_B) if case.code in t][-1]
    assert f"{lat + 0.001:.5f}" in card  # officials see where


async def test_typed_commune_and_skip_leave_it_for_the_admins(communes: Harness) -> None:
    h = communes
    await _start(h, "đăng ký khai sinh", "Bộ phận một cửa đòi thêm giấy xác nhận cư trú.")
    await h.say("Thôn 5, gần chợ")
    await h.press("Bỏ qua")
    await h.press("Gửi phản ánh")
    case = await _last_case(h)
    assert (case.agency, case.unit_status) == ("TTPVHCC", "unresolved")
    async with h.app.sessions() as session:
        from storage.repositories import CaseRepo

        assert [c.code for c in await CaseRepo(session).unresolved_places()] == [case.code]


async def test_a_place_other_than_the_address(communes: Harness) -> None:
    h = communes
    await _start(h, "chứng thực hợp đồng giao dịch nhà đất", "Cán bộ đòi phí chứng thực sai.")
    await h.say("12 Phan Đình Phùng, phường Xuân Hương - Đà Lạt")
    await h.press("Xã/phường khác")
    await h.say("Thửa đất ở thôn Đăng Gia, X. Lạc Dương")
    assert "Xã Lạc Dương" in h.last_text(CITIZEN)
    await h.press("Đúng")
    await h.press("Gửi phản ánh")
    case = await _last_case(h)
    assert case.agency == "UBND-24848" and case.place == "Thửa đất ở thôn Đăng Gia, X. Lạc Dương"
    assert case.citizen_address == "12 Phan Đình Phùng, phường Xuân Hương - Đà Lạt"
    card = [t for t in h.texts(GROUP_B) if case.code in t][-1]
    assert "Thửa đất ở thôn Đăng Gia" in card


async def test_a_complaint_naming_a_commune_goes_to_that_commune(communes: Harness) -> None:
    h = communes
    await h.say("/phananh")
    await h.press("Phản ánh")
    await h.say("UBND xã Lạc Dương không niêm yết thủ tục hành chính tại bộ phận một cửa.")
    await h.press("Bỏ qua")
    await h.press("Bỏ qua")  # no procedure
    await h.say("Nguyễn Thị Lan")
    await h.say("0912 345 678")
    await h.say("12 Phan Đình Phùng, phường Xuân Hương - Đà Lạt")
    await h.press("Gửi phản ánh")
    case = await _last_case(h)
    assert case.agency == "UBND-24848" and case.routing_rule.startswith("content commune=24848")
    # The citizen lives in Xuân Hương, but the case is about Lạc Dương.
    assert any(case.code in t for t in h.texts(GROUP_B))
    assert not any(case.code in t for t in h.texts(GROUP_A))
