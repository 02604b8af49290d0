"""The fake Bot API, driven by the production aiogram client over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    ChatMemberAdministrator,
    ChatMemberBanned,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
)

from tests.fake_telegram import (
    BOT_ID,
    Call,
    FakeTelegram,
    make_callback_update,
    make_message_update,
    make_my_chat_member_update,
)

CITIZEN = 100
OTHER_CITIZEN = 200
GROUP = -1001234567890


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(server: FakeTelegram) -> AsyncIterator[Bot]:
    bot = Bot(server.token, session=AiohttpSession(api=server.api))
    yield bot
    await bot.session.close()


def keyboard(data: str = "case:1:accept") -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Tiếp nhận", callback_data=data)]]
    )


async def test_get_me_is_consistent_with_the_token(server: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()

    assert me.id == BOT_ID == bot.id
    assert me.username == "citizen_test_bot"
    assert me.is_bot
    assert me.can_join_groups
    assert server.calls_to("getme")[0].token == server.token


async def test_send_message_is_recorded_with_decoded_params(server: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(CITIZEN, "Chào bạn", reply_markup=keyboard())

    (call,) = server.calls_to("sendMessage")
    assert call.ok
    assert call.params["chat_id"] == CITIZEN
    assert call.params["text"] == "Chào bạn"
    assert call.params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Tiếp nhận", "callback_data": "case:1:accept"}]]
    }
    assert sent.message_id == 1
    assert sent.chat.type == "private"
    assert sent.from_user is not None and sent.from_user.id == BOT_ID
    assert sent.reply_markup is not None
    assert sent.reply_markup.model_dump() == keyboard().model_dump()
    assert server.sent_messages(CITIZEN) == [call.result]


async def test_message_ids_increment_per_chat(server: FakeTelegram, bot: Bot) -> None:
    first = await bot.send_message(CITIZEN, "1")
    second = await bot.send_message(CITIZEN, "2")
    elsewhere = await bot.send_message(GROUP, "3")

    assert (first.message_id, second.message_id, elsewhere.message_id) == (1, 2, 1)
    assert elsewhere.chat.type == "supergroup"
    assert [m["text"] for m in server.sent_messages(CITIZEN)] == ["1", "2"]
    assert len(server.sent_messages()) == 3


async def test_reply_keyboards_are_not_echoed_in_the_message(
    server: FakeTelegram, bot: Bot
) -> None:
    markup = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="Chia sẻ số điện thoại", request_contact=True)]]
    )

    sent = await bot.send_message(CITIZEN, "Số điện thoại?", reply_markup=markup)

    assert sent.reply_markup is None
    assert server.calls[-1].params["reply_markup"]["keyboard"][0][0]["request_contact"] is True


async def test_html_is_parsed_like_telegram(server: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(
        CITIZEN, "<b>Hồ sơ</b> &lt;A&gt; &amp; B > C & D", parse_mode="HTML"
    )
    assert sent.text == "Hồ sơ <A> & B > C & D"

    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "18" at byte offset 7'):
        await bot.send_message(CITIZEN, "tuổi <18 trở lên", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="can't parse entities: Unclosed start tag"):
        await bot.send_message(CITIZEN, "tuổi <18", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="Can't find end tag"):
        await bot.send_message(CITIZEN, "<b>đậm", parse_mode="HTML")
    # Without a parse mode nothing is markup.
    plain = await bot.send_message(CITIZEN, "tuổi <18")
    assert plain.text == "tuổi <18"


async def test_length_and_callback_data_limits(bot: Bot) -> None:
    await bot.send_message(CITIZEN, "x" * 4096)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(CITIZEN, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(CITIZEN, "x", reply_markup=keyboard("d" * 65))


async def test_edit_message_text_updates_stored_message(server: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(GROUP, "Phản ánh #7: mới", reply_markup=keyboard())

    edited = await bot.edit_message_text(
        "Phản ánh #7: đã tiếp nhận", chat_id=GROUP, message_id=sent.message_id
    )

    assert isinstance(edited, Message)
    assert edited.text == "Phản ánh #7: đã tiếp nhận"
    stored = server.messages[(GROUP, sent.message_id)]
    assert stored["text"] == "Phản ánh #7: đã tiếp nhận"
    assert "reply_markup" not in stored  # an edit without markup removes the keyboard
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "Phản ánh #7: đã tiếp nhận", chat_id=GROUP, message_id=sent.message_id
        )


async def test_edit_reply_markup_and_delete(server: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(CITIZEN, "Đánh giá", reply_markup=keyboard())

    await bot.edit_message_reply_markup(
        chat_id=CITIZEN, message_id=sent.message_id, reply_markup=keyboard("rate:5")
    )
    stored = server.messages[(CITIZEN, sent.message_id)]
    assert stored["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "rate:5"
    assert stored["text"] == "Đánh giá"

    assert await bot.delete_message(CITIZEN, sent.message_id)
    assert (CITIZEN, sent.message_id) not in server.messages
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=CITIZEN, message_id=sent.message_id)


async def test_editing_a_user_message_is_refused(server: FakeTelegram, bot: Bot) -> None:
    update = server.push_update(make_message_update("tin của dân", chat_id=CITIZEN))

    with pytest.raises(TelegramBadRequest, match="can't be edited"):
        await bot.edit_message_text(
            "x", chat_id=CITIZEN, message_id=update["message"]["message_id"]
        )


async def test_retry_after_fault(server: FakeTelegram, bot: Bot) -> None:
    server.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 1",
        retry_after=1,
    )

    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(CITIZEN, "x")
    assert caught.value.retry_after == 1
    failed = server.calls[-1]
    assert not failed.ok
    assert failed.response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    # The fault was consumed: the retry goes through.
    await bot.send_message(CITIZEN, "x")
    assert [c.ok for c in server.calls_to("sendMessage")] == [False, True]
    assert server.sent_messages() == [server.calls[-1].result]


async def test_forbidden_fault_only_for_its_chat(server: FakeTelegram, bot: Bot) -> None:
    server.fail_next(
        "sendMessage",
        error_code=403,
        description="Forbidden: bot was blocked by the user",
        chat_id=CITIZEN,
        times=None,
    )

    await bot.send_message(OTHER_CITIZEN, "ok")
    for _ in range(2):
        with pytest.raises(TelegramForbiddenError, match="blocked by the user"):
            await bot.send_message(CITIZEN, "x")
    server.clear_faults()
    await bot.send_message(CITIZEN, "unblocked")


async def test_server_error_and_bad_request_faults(server: FakeTelegram, bot: Bot) -> None:
    server.fail_next("sendMessage", error_code=500, description="Internal Server Error")
    server.fail_next("getChat", error_code=400, description="Bad Request: chat not found")

    with pytest.raises(TelegramServerError):
        await bot.send_message(CITIZEN, "x")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.get_chat(GROUP)
    chat = await bot.get_chat(GROUP)
    assert chat.id == GROUP
    assert chat.type == "supergroup"


async def test_migrated_group_fault(server: FakeTelegram, bot: Bot) -> None:
    server.fail_next(
        "sendMessage",
        error_code=400,
        description="Bad Request: group chat was upgraded to a supergroup chat",
        migrate_to_chat_id=GROUP,
        chat_id=-55,
    )

    with pytest.raises(TelegramMigrateToChat) as caught:
        await bot.send_message(-55, "x")
    assert caught.value.migrate_to_chat_id == GROUP


async def test_delay_beyond_request_timeout_is_a_network_error(server: FakeTelegram) -> None:
    bot = Bot(server.token, session=AiohttpSession(api=server.api, timeout=0.2))
    server.delay_next("sendMessage", 2)
    try:
        with pytest.raises(TelegramNetworkError, match="timeout"):
            await bot.send_message(CITIZEN, "x")
        # Like Telegram, the server may have delivered a message the client gave up on.
        assert len(server.sent_messages(CITIZEN)) == 1
        await bot.send_message(CITIZEN, "fast again")
    finally:
        await bot.session.close()


async def test_get_updates_honours_offset_and_limit(server: FakeTelegram, bot: Bot) -> None:
    pushed = [
        server.push_update(make_message_update(f"tin {i}", chat_id=CITIZEN)) for i in range(3)
    ]
    ids = [update["update_id"] for update in pushed]

    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == ids
    assert updates[0].message is not None and updates[0].message.text == "tin 0"

    assert [u.update_id for u in await bot.get_updates(limit=1)] == ids[:1]
    # Confirming the first two leaves only the third.
    assert [u.update_id for u in await bot.get_updates(offset=ids[1] + 1)] == ids[2:]
    assert [u["update_id"] for u in server.pending_updates] == ids[2:]
    assert await bot.get_updates(offset=ids[2] + 1) == []


async def test_get_updates_long_polls_until_an_update_arrives(
    server: FakeTelegram, bot: Bot
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    assert not poll.done()  # the request is held open, not answered empty

    update = server.push_update(make_callback_update("x", user_id=1, chat_id=1, message_id=1))

    updates = await asyncio.wait_for(poll, 2)
    assert [u.update_id for u in updates] == [update["update_id"]]


async def test_updates_outside_allowed_updates_are_dropped(server: FakeTelegram, bot: Bot) -> None:
    callback = server.push_update(make_callback_update("x", user_id=1, chat_id=1, message_id=1))
    message = server.push_update(make_message_update("hi", chat_id=1))

    updates = await bot.get_updates(allowed_updates=["message"])

    assert [u.update_id for u in updates] == [message["update_id"]]
    assert server.dropped_updates == [callback]


async def test_unknown_and_case_insensitive_methods(server: FakeTelegram) -> None:
    async with aiohttp.ClientSession() as http:
        url = f"{server.base_url}/bot{server.token}"
        async with http.post(f"{url}/noSuchMethod", data={"chat_id": "1"}) as resp:
            assert resp.status == 404
            assert await resp.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
        async with http.post(f"{url}/SENDMESSAGE", json={"chat_id": 5, "text": "123"}) as resp:
            body = await resp.json()
        async with http.get(f"{url}/getme") as resp:
            assert (await resp.json())["result"]["id"] == BOT_ID

    assert body["ok"] and body["result"]["text"] == "123"
    unknown, send, get_me = server.calls
    assert (unknown.method, unknown.ok, unknown.params) == ("noSuchMethod", False, {"chat_id": 1})
    assert (send.method, send.params) == ("sendMessage", {"chat_id": 5, "text": "123"})
    assert get_me.method == "getMe"


async def test_uploads_and_downloads(server: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_photo(
        CITIZEN, BufferedInputFile(b"\x89PNG fake", filename="anh.png"), caption="Ảnh hiện trường"
    )

    (call,) = server.calls_to("sendPhoto")
    (upload,) = call.files.values()
    assert upload.data == b"\x89PNG fake"
    assert upload.filename == "anh.png"
    assert call.params["photo"] == f"attach://{upload.field_name}"
    assert sent.photo is not None and sent.photo[-1].file_id == upload.file_id
    assert sent.caption == "Ảnh hiện trường"

    downloaded = await bot.download(upload.file_id)
    assert downloaded is not None and downloaded.read() == b"\x89PNG fake"

    doc = await bot.send_document(GROUP, "DOC-FILE-ID", caption="Hồ sơ")
    assert doc.document is not None and doc.document.file_id == "DOC-FILE-ID"
    server.add_file("citizen-photo", b"jpeg bytes")
    file = await bot.get_file("citizen-photo")
    assert file.file_path is not None
    assert (await bot.download(file)).read() == b"jpeg bytes"  # type: ignore[union-attr]


async def test_media_group_copy_and_forward(server: FakeTelegram, bot: Bot) -> None:
    album = await bot.send_media_group(
        GROUP, [InputMediaPhoto(media="P1", caption="1/2"), InputMediaPhoto(media="P2")]
    )
    assert [m.photo[-1].file_id for m in album if m.photo] == ["P1", "P2"]
    assert album[0].media_group_id == album[1].media_group_id is not None
    assert album[0].caption == "1/2"

    report = server.push_update(
        make_message_update(caption="Đường hỏng", photo_file_id="PH", chat_id=CITIZEN)
    )["message"]
    copied = await bot.copy_message(GROUP, CITIZEN, report["message_id"])
    forwarded = await bot.forward_message(GROUP, CITIZEN, report["message_id"])

    assert copied.message_id == 3
    copy = server.messages[(GROUP, copied.message_id)]
    assert copy["photo"][0]["file_id"] == "PH" and copy["caption"] == "Đường hỏng"
    assert forwarded.forward_origin is not None
    assert [m["message_id"] for m in server.sent_messages(GROUP)] == [1, 2, 3, 4]


async def test_replies_reference_the_stored_message(server: FakeTelegram, bot: Bot) -> None:
    card = await bot.send_message(GROUP, "Thẻ phản ánh")

    answer = await bot.send_message(GROUP, "Trả lời", reply_to_message_id=card.message_id)

    assert answer.reply_to_message is not None
    assert answer.reply_to_message.message_id == card.message_id


async def test_commands_and_small_methods(server: FakeTelegram, bot: Bot) -> None:
    commands = [BotCommand(command="start", description="Bắt đầu")]
    assert await bot.set_my_commands(commands)
    assert [c.model_dump() for c in await bot.get_my_commands()] == [commands[0].model_dump()]
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.send_chat_action(CITIZEN, "typing")
    assert await bot.answer_callback_query("cb-1", text="Đã ghi nhận")
    assert await bot.leave_chat(GROUP)
    assert await bot.set_chat_menu_button()
    assert all(call.ok for call in server.calls)


async def test_wait_for_and_clear(server: FakeTelegram, bot: Bot) -> None:
    async def later() -> None:
        await asyncio.sleep(0.05)
        await bot.send_message(CITIZEN, "sau")

    task = asyncio.create_task(later())
    call = await server.wait_for(lambda c: c.method == "sendMessage" and c.params["text"] == "sau")
    await task
    assert isinstance(call, Call)

    server.clear()
    assert server.calls == []
    with pytest.raises(TimeoutError, match="no matching call"):
        await server.wait_for("sendPhoto", timeout=0.05)


async def test_polling_dispatcher_answers_a_pushed_message(server: FakeTelegram, bot: Bot) -> None:
    dp = Dispatcher()
    answered = asyncio.Event()

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"Bạn viết: {message.text}")
        answered.set()

    server.push_update(make_message_update("Xin chào", chat_id=CITIZEN))
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False))
    try:
        await asyncio.wait_for(answered.wait(), 5)
    finally:
        await dp.stop_polling()
        await polling

    (reply,) = server.sent_messages(CITIZEN)
    assert reply["text"] == "Bạn viết: Xin chào"
    assert server.calls_to("getUpdates")[0].params["allowed_updates"] == ["message"]


def test_builders_produce_valid_updates() -> None:
    command = Update.model_validate(make_message_update("/start@citizen_test_bot x", chat_id=7))
    assert command.message is not None and command.message.entities is not None
    assert command.message.entities[0].type == "bot_command"
    assert command.message.entities[0].length == len("/start@citizen_test_bot")
    assert command.message.from_user is not None and command.message.from_user.id == 7

    reply = Update.model_validate(
        make_message_update("Đã xử lý", chat_id=GROUP, user_id=9, reply_to=(GROUP, 5))
    )
    assert reply.message is not None and reply.message.chat.type == "supergroup"
    replied = reply.message.reply_to_message
    assert replied is not None and replied.message_id == 5
    assert replied.from_user is not None and replied.from_user.id == BOT_ID

    media = Update.model_validate(
        make_message_update(
            chat_id=7,
            document_file_id="D",
            caption="Đơn",
            location=(21.03, 105.85),
            contact="+84901234567",
        )
    )
    assert media.message is not None and media.message.document is not None
    assert media.message.contact is not None
    assert media.message.contact.phone_number == "+84901234567"
    assert media.message.location is not None

    for kwargs in ({"sticker": True}, {"voice": True}, {"photo_file_id": "P"}):
        assert Update.model_validate(make_message_update(chat_id=7, **kwargs)).message

    service = Update.model_validate(
        make_message_update(chat_id=-55, chat_type="group", user_id=9, migrate_to_chat_id=-100555)
    )
    assert service.message is not None and service.message.migrate_to_chat_id == -100555
    joined = Update.model_validate(
        make_message_update(chat_id=GROUP, user_id=9, new_chat_members=[BOT_ID])
    )
    assert joined.message is not None and joined.message.new_chat_members is not None
    assert joined.message.new_chat_members[0].is_bot

    callback = Update.model_validate(
        make_callback_update("case:1:accept", user_id=9, chat_id=GROUP, message_id=3)
    )
    assert isinstance(callback.callback_query, CallbackQuery)
    assert isinstance(callback.callback_query.message, Message)
    assert callback.callback_query.message.from_user is not None
    assert callback.callback_query.message.from_user.id == BOT_ID

    blocked = Update.model_validate(make_my_chat_member_update(7))
    assert blocked.my_chat_member is not None
    assert isinstance(blocked.my_chat_member.new_chat_member, ChatMemberBanned)
    promoted = Update.model_validate(
        make_my_chat_member_update(GROUP, new_status="administrator", user_id=9)
    )
    assert promoted.my_chat_member is not None
    assert isinstance(promoted.my_chat_member.new_chat_member, ChatMemberAdministrator)

    first, second = make_message_update("a", chat_id=7), make_message_update("b", chat_id=7)
    assert second["update_id"] == first["update_id"] + 1
    assert second["message"]["message_id"] != first["message"]["message_id"]
