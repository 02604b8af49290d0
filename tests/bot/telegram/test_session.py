"""The bot's HTTP session: Bot API calls as JSON bodies, files as multipart forms, and the same
errors as aiogram's own session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.exceptions import TelegramBadRequest, TelegramNetworkError
from aiogram.methods import SendMessage
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
)

from bot.app import create_bot
from bot.telegram.session import JsonBodySession
from tests.fake_telegram import FakeTelegram
from tests.harness import make_settings

CITIZEN = 100


@pytest.fixture
async def bot(server: FakeTelegram) -> AsyncIterator[Bot]:
    bot = Bot(
        server.token,
        session=JsonBodySession(api=server.api),
        default=DefaultBotProperties(parse_mode="HTML", link_preview_is_disabled=True),
    )
    yield bot
    await bot.session.close()


async def test_a_reply_goes_as_a_json_body_with_its_keyboard_as_an_object(
    server: FakeTelegram, bot: Bot
) -> None:
    text = "<b>Đăng ký khai sinh</b>\nHồ sơ: tờ khai & giấy chứng sinh"
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Hồ sơ cần nộp", callback_data="p:1:docs")]]
    )

    sent = await bot.send_message(CITIZEN, text, reply_markup=markup, protect_content=False)

    call = server.calls_to("sendMessage")[-1]
    assert call.content_type == "application/json"
    assert call.params["chat_id"] == CITIZEN
    assert call.params["text"] == text
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Hồ sơ cần nộp", "callback_data": "p:1:docs"}]]
    }
    # the bot's defaults are sent, and a False is a value, not a missing parameter
    assert call.params["parse_mode"] == "HTML"
    assert call.params["link_preview_options"] == {"is_disabled": True}
    assert call.params["protect_content"] is False
    # the fake parsed the HTML, as Telegram does
    assert sent.text == "Đăng ký khai sinh\nHồ sơ: tờ khai & giấy chứng sinh"


async def test_a_file_goes_as_a_multipart_form(server: FakeTelegram, bot: Bot) -> None:
    data = "mã hồ sơ;trạng thái\n".encode()

    await bot.send_document(
        CITIZEN, BufferedInputFile(data, filename="cases.csv"), caption="<i>Tuần 48</i>"
    )

    call = server.calls_to("sendDocument")[-1]
    assert call.content_type == "multipart/form-data"
    [upload] = call.files.values()
    assert upload.data == data and upload.filename == "cases.csv"
    assert call.params["caption"] == "<i>Tuần 48</i>"


async def test_the_body_is_utf_8_as_it_is(bot: Bot) -> None:
    assert isinstance(bot.session, JsonBodySession)
    body = bot.session.build_json(bot, SendMessage(chat_id=CITIZEN, text="Đăng ký khai sinh"))

    assert body is not None and '"text":"Đăng ký khai sinh"' in body  # not "\\u0110\\u0103ng"


async def test_a_file_inside_an_album_sends_the_album_as_a_form(
    server: FakeTelegram, bot: Bot
) -> None:
    photo = BufferedInputFile(b"\x89PNG fake", filename="anh.png")
    album = [InputMediaPhoto(media=photo), InputMediaPhoto(media=photo, caption="Ổ gà")]

    sent = await bot.send_media_group(CITIZEN, album)

    call = server.calls_to("sendMediaGroup")[-1]
    assert call.content_type == "multipart/form-data" and len(call.files) == 2
    assert len(sent) == 2


async def test_a_slow_answer_is_aiograms_timeout(server: FakeTelegram, bot: Bot) -> None:
    server.delay_next("sendMessage", 2)

    with pytest.raises(TelegramNetworkError, match="Request timeout error"):
        await bot.send_message(CITIZEN, "xin chào", request_timeout=1)


async def test_telegram_errors_are_aiograms_own(server: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(CITIZEN, "a" * 4097)
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(CITIZEN, "<b>unclosed")


async def test_an_unreachable_server_is_a_network_error(server: FakeTelegram) -> None:
    api = server.api
    await server.__aexit__(None, None, None)
    bot = Bot(server.token, session=JsonBodySession(api=api, timeout=2))
    try:
        with pytest.raises(TelegramNetworkError):
            await bot.send_message(CITIZEN, "xin chào")
    finally:
        await bot.session.close()


async def test_the_bot_the_app_creates_sends_json(server: FakeTelegram, tmp_path) -> None:
    settings = make_settings(server, f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    bot = create_bot(settings)
    try:
        assert isinstance(bot.session, JsonBodySession)
        await bot.send_message(CITIZEN, "xin chào")
    finally:
        await bot.session.close()
    assert server.calls_to("sendMessage")[-1].content_type == "application/json"
