"""Citizens asking about procedures, through the fake Bot API server."""

from __future__ import annotations

import unicodedata

from tests.harness import CITIZEN, Harness


async def test_start_shows_menu_in_vietnamese(harness: Harness) -> None:
    await harness.say("/start")
    message = harness.messages(CITIZEN)[-1]
    assert "Xin chào Lan" in message["text"]
    labels = [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == [
        "🔎 Hỏi về thủ tục",
        "📝 Gửi phản ánh, kiến nghị",
        "📂 Tra cứu hồ sơ của tôi",
        "ℹ️ Hướng dẫn",
    ]


async def test_question_without_diacritics_gets_the_procedure_card(harness: Harness) -> None:
    await harness.say("lam giay khai sinh cho con can giay to gi")
    card = harness.messages(CITIZEN)[-1]
    assert card["text"].startswith("📄 Đăng ký khai sinh")
    assert "Thành phần hồ sơ" in card["text"]
    labels = [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
    assert labels[-1] == "📝 Phản ánh về thủ tục này"


async def test_nfd_and_old_tone_placement_give_the_same_answer(harness: Harness) -> None:
    await harness.say("xác nhận tình trạng hôn nhân")
    expected = harness.last_text(CITIZEN)
    await harness.say(unicodedata.normalize("NFD", "xác nhận tình trạng hôn nhân"))
    assert harness.last_text(CITIZEN) == expected


async def test_chit_chat_abstains_and_offers_a_suggestion(harness: Harness) -> None:
    await harness.say("hôm nay trời có mưa không bot")
    message = harness.messages(CITIZEN)[-1]
    assert "chưa tìm thấy thủ tục phù hợp" in message["text"]
    labels = [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
    assert labels[-1] == "📝 Gửi câu hỏi này như kiến nghị"


async def test_did_you_mean_button_opens_that_procedure(harness: Harness) -> None:
    await harness.say("làm sổ đỏ")
    await harness.press("🔎")  # the first "next best match" under the card
    assert harness.last_text(CITIZEN).startswith("📄 ")


async def test_html_in_question_is_escaped(harness: Harness) -> None:
    # The fake server rejects malformed HTML like Telegram does; an unescaped "<b" would 400.
    await harness.say("<b>khai sinh</b> & <script>alert(1)</script>")
    assert harness.server.calls_to("sendMessage")[-1].ok


async def test_sticker_voice_location_get_a_clear_answer(harness: Harness) -> None:
    for kind in ({"sticker": True}, {"voice": True}, {"location": (10.0, 106.0)}):
        await harness.say(**kind)
        assert "gõ câu hỏi" in harness.last_text(CITIZEN)


async def test_whitespace_only_message(harness: Harness) -> None:
    await harness.say("   \n  ")
    assert "chưa gõ nội dung" in harness.last_text(CITIZEN)


async def test_huge_message_is_answered(harness: Harness) -> None:
    await harness.say("đăng ký kết hôn " + "rất cần gấp " * 400)
    assert harness.server.calls_to("sendMessage")[-1].ok


async def test_english_locale(harness: Harness) -> None:
    await harness.say("/lang")
    await harness.press("English")
    await harness.say("/help")
    assert "/phananh" in harness.last_text(CITIZEN)
    assert "Hướng dẫn sử dụng" not in harness.last_text(CITIZEN)


async def test_duplicate_update_is_handled_once(harness: Harness) -> None:
    update = await harness.say("đăng ký kết hôn")
    before = len(harness.server.calls_to("sendMessage"))
    await harness.feed(update)
    assert len(harness.server.calls_to("sendMessage")) == before
