"""Questions as citizens ask them against the province-sized sample KB: life situations,
variants of one procedure, the facet asked, small talk, English, requests the KB cannot answer.
Real updates through the production dispatcher and the fake Bot API server."""

from __future__ import annotations

from typing import Any

from knowledge.lifeevents import default_life_events
from tests.harness import CITIZEN, Harness


def _labels(message: dict[str, Any]) -> list[str]:
    markup = message.get("reply_markup") or {"inline_keyboard": []}
    return [b["text"] for row in markup["inline_keyboard"] for b in row]


async def _ask(harness: Harness, text: str) -> dict[str, Any]:
    await harness.say(text)
    return harness.messages(CITIZEN)[-1]


# ---------------------------------------------------------------- life situations
async def test_a_death_in_the_family_is_answered_with_the_death_registration(
    harness: Harness,
) -> None:
    message = await _ask(harness, "ông nhà tôi mất hôm qua, giờ con cháu phải làm giấy gì")
    assert message["text"].startswith("📄 Đăng ký khai tử")
    # the buttons under it come from the same family or situation: what a family does next
    event = default_life_events().get("nguoi_than_mat")
    assert event is not None
    allowed = [name for name, _ in event.procedures]
    related = [label.removeprefix("🔎 ").rstrip("…") for label in _labels(message)[:-1]]
    assert related, "no related procedures offered"
    for label in related:
        assert "khai tử" in label or any(name.startswith(label) for name in allowed), label


async def test_pickpocketed_passport_gets_the_lost_passport_procedures(harness: Harness) -> None:
    message = await _ask(harness, "bị móc túi mất hộ chiếu, giờ làm lại thế nào")
    assert message["text"].startswith("📄 Cấp lại hộ chiếu phổ thông bị mất")


async def test_a_newborn_gets_the_birth_registration(harness: Harness) -> None:
    message = await _ask(harness, "vợ tôi vừa sinh em bé hôm qua, cần làm giấy tờ gì cho cháu")
    assert message["text"].startswith("📄 Đăng ký khai sinh\n")


# ---------------------------------------------------------------- variants
async def test_a_foreign_spouse_picks_the_foreign_marriage_variant(harness: Harness) -> None:
    message = await _ask(harness, "tôi sắp cưới chồng người Hàn Quốc thì đăng ký ở đâu")
    assert message["text"].startswith("📄 Đăng ký kết hôn có yếu tố nước ngoài")


async def test_no_qualifier_keeps_the_plain_variant(harness: Harness) -> None:
    message = await _ask(harness, "kết hôn")
    assert message["text"].startswith("📄 Đăng ký kết hôn\n")


async def test_lost_original_and_lost_register_pick_the_re_registration(
    harness: Harness,
) -> None:
    message = await _ask(harness, "giấy đăng ký kết hôn bị cháy mất, ủy ban cũng không còn sổ gốc")
    assert message["text"].startswith("📄 Đăng ký lại kết hôn")


async def test_an_official_coming_home_picks_the_mobile_registration(harness: Harness) -> None:
    message = await _ask(
        harness, "bà tôi mất ở vùng núi xa, cán bộ có xuống tận nhà làm khai tử không"
    )
    assert message["text"].startswith("📄 Đăng ký khai tử lưu động")


async def test_an_organisation_picks_the_organisation_variant(harness: Harness) -> None:
    message = await _ask(harness, "công ty xin cấp sổ đỏ lần đầu cho đất của doanh nghiệp")
    assert "lần đầu đối với tổ chức" in message["text"].split("\n")[0]


async def test_a_child_under_14_picks_the_child_passport(harness: Harness) -> None:
    message = await _ask(harness, "làm hộ chiếu cho con 5 tuổi")
    assert message["text"].startswith("📄 Cấp hộ chiếu phổ thông cho trẻ em dưới 14 tuổi")


async def test_an_expired_licence_picks_its_reissue(harness: Harness) -> None:
    message = await _ask(harness, "giấy phép bán rượu của tiệm tạp hóa hết hạn rồi")
    assert message["text"].startswith("📄 Cấp lại Giấy phép bán lẻ rượu")


# ---------------------------------------------------------------- related buttons
async def test_vehicle_registration_offers_vehicle_procedures_only(harness: Harness) -> None:
    message = await _ask(harness, "đăng ký xe máy")
    related = _labels(message)[:-1]
    assert related, "no related procedures offered"
    assert all("xe" in label for label in related), related
    assert not any("thế chấp" in label for label in related)


async def test_building_permit_offers_building_permits_only(harness: Harness) -> None:
    message = await _ask(harness, "giấy phép xây dựng")
    related = _labels(message)[:-1]
    assert related and all("xây dựng" in label for label in related), related
    assert not any("rượu" in label for label in related)


# ---------------------------------------------------------------- the facet asked
async def test_how_long_leads_with_the_processing_time(harness: Harness) -> None:
    message = await _ask(harness, "làm hộ chiếu lần đầu mất bao lâu")
    lines = message["text"].split("\n")
    assert lines[0] == "📄 Cấp hộ chiếu phổ thông lần đầu"
    assert lines[3].startswith("⏱ Thời hạn giải quyết:")
    assert "Thành phần hồ sơ" not in message["text"]
    await harness.press("📋 Xem đầy đủ thủ tục")
    card = harness.last_text(CITIZEN)
    assert card.startswith("📄 Cấp hộ chiếu phổ thông lần đầu") and "Thành phần hồ sơ" in card


async def test_fee_where_and_documents_lead_with_their_field(harness: Harness) -> None:
    fee = await _ask(harness, "lệ phí đăng ký kết hôn bao nhiêu")
    assert fee["text"].split("\n")[3].startswith("💰 Phí, lệ phí:")
    where = await _ask(harness, "đăng ký tạm trú nộp ở đâu")
    assert where["text"].split("\n")[3].startswith("🏛 Cơ quan giải quyết:")
    assert "Cách thức thực hiện" in where["text"] and "Thời hạn giải quyết" not in where["text"]


# ---------------------------------------------------------------- small talk
async def test_small_talk_gets_a_friendly_reply_not_a_failed_search(harness: Harness) -> None:
    for text in ("alo", "chào bạn", "cảm ơn"):
        message = await _ask(harness, text)
        assert "chưa tìm thấy thủ tục" not in message["text"], text
        assert "kiến nghị" not in " ".join(_labels(message)), text
    assert "Không có gì" in harness.last_text(CITIZEN)


async def test_a_greeting_with_a_question_answers_the_question(harness: Harness) -> None:
    message = await _ask(harness, "chào bạn, cho hỏi làm giấy khai sinh cần giấy tờ gì")
    assert message["text"].startswith("📄 Đăng ký khai sinh")


# ---------------------------------------------------------------- English
async def test_english_questions_find_the_procedure(harness: Harness) -> None:
    await harness.say("/lang")
    await harness.press("English")
    for text, name in (
        ("birth certificate", "📄 Đăng ký khai sinh\n"),
        ("passport", "📄 Cấp hộ chiếu phổ thông lần đầu"),
        ("marriage registration", "📄 Đăng ký kết hôn\n"),
    ):
        message = await _ask(harness, text)
        assert message["text"].startswith(name), (text, message["text"][:80])
        assert "Procedure code" in message["text"]


async def test_unknown_english_is_told_how_to_ask(harness: Harness) -> None:
    await harness.say("/lang")
    await harness.press("English")
    message = await _ask(harness, "where can I renew my fishing boat licence")
    assert "Please try short keywords" in message["text"]


# ---------------------------------------------------------------- what the KB cannot answer
async def test_dossier_status_points_to_the_portal_and_status(harness: Harness) -> None:
    message = await _ask(harness, "hồ sơ sổ đỏ tôi nộp 2 tháng rồi chưa có kết quả, đến đâu rồi")
    assert "mã hồ sơ" in message["text"] and "/status" in message["text"]
    assert not message["text"].startswith("📄")


async def test_complaint_points_to_the_complaint_rules(harness: Harness) -> None:
    message = await _ask(harness, "tôi muốn khiếu nại quyết định thu hồi đất của ủy ban")
    assert "Luật Khiếu nại" in message["text"]
    assert "kiến nghị" not in " ".join(_labels(message))


async def test_legal_advice_is_declined_and_pointed_to_legal_aid(harness: Harness) -> None:
    message = await _ask(harness, "thủ tục ly hôn đơn phương nộp ở tòa nào")
    assert "Trợ giúp pháp lý" in message["text"]
    assert not message["text"].startswith("📄")


async def test_slow_handling_offers_feedback(harness: Harness) -> None:
    message = await _ask(harness, "cán bộ xã làm hồ sơ chậm, tôi muốn phản ánh")
    assert _labels(message) == ["📝 Gửi phản ánh"]


async def test_out_of_scope_phrases_point_to_the_channel_and_keep_the_procedures(
    harness: Harness,
) -> None:
    # no fixed status wording: the example phrases (OOS:status) tell it
    message = await _ask(harness, "hồ sơ xin cấp hộ chiếu của em bao giờ mới xong")
    assert "mã hồ sơ" in message["text"] and "/status" in message["text"]
    labels = _labels(message)
    assert labels[:2] == ["📂 Phản ánh của tôi", "📝 Gửi phản ánh"]
    assert labels[2:] and all(label.startswith("❓") for label in labels[2:])
    assert any("hộ chiếu" in label for label in labels[2:])
    # a dispute (OOS:legal): no legal advice
    message = await _ask(harness, "hàng xóm xây nhà làm nứt tường nhà tôi, đòi bồi thường thế nào")
    assert "Trợ giúp pháp lý" in message["text"]
    # rude handling (OOS:complaint): the feedback flow
    message = await _ask(
        harness, "nhân viên bộ phận một cửa nói chuyện cộc lốc, hỏi gì cũng không trả lời"
    )
    assert "📝 Gửi phản ánh" in _labels(message)
