"""The offline terminal chat drives the production dispatcher: every role, the clock, restarts."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.app import App, create_app
from bot.clock import FixedClock
from bot.settings import DatabaseSettings, Settings
from bot.shell import ShellChat, html_to_terminal, parse_time, shell_settings, tick_moments
from storage.models import Case, InboxUpdate, MessageLink
from tests.harness import sqlite_url

# Monday 2026-11-23 09:00 in Hà Nội.
START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
CODE = re.compile(r"\b(?:PA|KN)-[A-Z0-9]{4}-[A-Z0-9]{2}\b")
AGENCY = "TTPVHCC"  # the default agency: a case without a procedure lands here
README = Path(__file__).resolve().parents[2] / "README.md"


@dataclass
class Terminal:
    """One run of `citizen-bot shell` on a database file: what it printed, and the chat."""

    url: str
    clock: FixedClock = field(default_factory=lambda: FixedClock(START))
    out: list[str] = field(default_factory=list)
    app: App | None = None
    chat: ShellChat | None = None

    async def open(self) -> ShellChat:
        settings = Settings(database=DatabaseSettings(database_url=self.url))
        self.app = await create_app(shell_settings(settings), self.clock)
        self.chat = ShellChat(self.app, out=self.out.append)
        return self.chat

    async def close(self) -> None:
        if self.chat is not None:
            await self.chat.close()
        if self.app is not None:
            await self.app.close()

    def printed(self) -> str:
        return "\n".join(self.out)


@pytest.fixture
async def term(tmp_path: Path) -> AsyncIterator[Terminal]:
    t = Terminal(sqlite_url(tmp_path))
    await t.open()
    try:
        yield t
    finally:
        await t.close()


# ---- generic driving: what a person at the terminal does ---------------------------------
async def press(chat: ShellChat, label: str) -> None:
    """Type the number shown next to the button whose label contains `label`."""
    for number, button in enumerate(chat.buttons, 1):
        if label in button[0]:
            await chat.handle_line(str(number))
            return
    raise AssertionError(f"no button {label!r} here; buttons: {[b[0] for b in chat.buttons]}")


def newest(chat: ShellChat, contains: str, chat_id: int | None = None) -> int:
    """The number (#N) of the newest message in the chat whose text contains `contains`."""
    for message in reversed(chat.messages(chat.chat_id if chat_id is None else chat_id)):
        if contains in message.text:
            return message.id
    raise AssertionError(f"no message with {contains!r} in chat {chat_id or chat.chat_id}")


async def file_case(chat: ShellChat, content: str) -> str:
    """The citizen's /phananh conversation, pressing buttons by label; the tracking code."""
    await chat.handle_line("/as citizen")
    await chat.handle_line("/phananh")
    await press(chat, "Phản ánh")
    await chat.handle_line(content)
    await press(chat, "Bỏ qua")
    await press(chat, "Bỏ qua")
    if any("Dùng thông tin" in b[0] for b in chat.buttons):
        await press(chat, "Dùng thông tin")
    else:
        await chat.handle_line("Nguyễn Thị Lan")
        await chat.handle_line("0912 345 678")
        await chat.handle_line("12 Lê Lợi, phường Xuân Hương - Đà Lạt")
    await press(chat, "Gửi phản ánh")
    codes = CODE.findall(chat.messages(chat.chat_id)[-1].text)
    assert codes, chat.messages(chat.chat_id)[-1].text
    return str(codes[0])


async def answer_by_replying(chat: ShellChat, card: int, text: str) -> None:
    """An official answers by replying to the card, then confirms the preview (Gửi)."""
    await chat.handle_line(f"/reply {card} {text}")
    await press(chat, "✅ Gửi")


async def count(term: Terminal, column: object) -> int:
    assert term.app is not None
    async with term.app.sessions() as session:
        return int(await session.scalar(select(func.count(column))) or 0)  # type: ignore[call-overload]


# ---- the tests ---------------------------------------------------------------------------
def test_html_to_terminal() -> None:
    assert html_to_terminal('<b>A</b> &amp; <a href="http://x">link</a>') in (
        "A & link (http://x)",
        "\033[1mA\033[0m & link (http://x)",
    )


async def test_shell_answers_and_buttons_are_numbered(term: Terminal) -> None:
    chat = term.chat
    assert chat is not None
    await chat.handle_line("/start")
    assert any("Xin chào" in line for line in term.out)
    await chat.handle_line("lam giay khai sinh cho con")
    card = term.printed()
    assert "Đăng ký khai sinh" in card and "[1]" in card
    term.out.clear()
    await press(chat, "📝 Phản ánh về thủ tục này")
    assert any("Phản ánh" in line and "Kiến nghị" in line for line in term.out)


async def test_restarting_on_the_same_database_keeps_answering(database_url: str) -> None:
    """Update ids continue across runs: nothing is skipped as already handled. (Message ids
    continue after the highest one the database links to a case: see the walk-through.)"""
    first = Terminal(database_url)
    chat = await first.open()
    try:
        await chat.handle_line("/start")
        await chat.handle_line("lam giay khai sinh cho con")
        assert "Đăng ký khai sinh" in first.printed()
    finally:
        await first.close()

    second = Terminal(database_url)
    chat = await second.open()
    try:
        await chat.handle_line("/start")
        assert "Xin chào" in second.printed()
        await chat.handle_line("xin giay xac nhan doc than")
        assert "tình trạng hôn nhân" in second.printed()
        assert await count(second, InboxUpdate.update_id) == 4  # none skipped, none lost
    finally:
        await second.close()


async def test_roles_bind_take_answer_and_rate_through_the_dispatcher(term: Terminal) -> None:
    chat = term.chat
    assert chat is not None
    citizen = chat.chat_id

    # An official cannot bind; the admin can, inside the group.
    await chat.handle_line(f"/as group {AGENCY}")
    assert (
        "cán bộ" in chat.prompt.lower() and "Trung tâm Phục vụ hành chính công tỉnh" in chat.prompt
    )
    group = chat.chat_id
    assert group < 0
    await chat.handle_line(f"/bind {AGENCY}")
    assert "Chỉ quản trị viên" in chat.messages(group)[-1].text
    await chat.handle_line(f"/as admin group {AGENCY}")
    assert "quản trị viên" in chat.prompt.lower() and chat.chat_id == group
    await chat.handle_line(f"/bind {AGENCY}")
    assert "đã được gắn" in chat.messages(group)[-1].text

    # The citizen files; the card is printed under the group's name, its buttons not
    # pressable from the citizen's chat.
    term.out.clear()
    code = await file_case(
        chat, "Bộ phận một cửa đòi nộp thêm bản sao giấy tờ không có trong quy định."
    )
    card = newest(chat, code, group)
    shown = term.printed()
    assert f"Nhóm «Trung tâm Phục vụ hành chính công tỉnh» ({AGENCY}) · #{card}" in shown
    assert not any("Nhận xử lý" in b[0] for b in chat.buttons)

    # The official takes it with the card's button and answers by replying to the card.
    await chat.handle_line(f"/as group {AGENCY}")
    await chat.handle_line(f"/press {card}")
    await press(chat, "Nhận xử lý")
    assert "Bạn đã nhận xử lý" in term.printed()
    assert "Đã phân công xử lý" in chat.messages(group)[-1].text or any(
        "Đã phân công" in m.text for m in chat.messages(group) if m.id == card
    )
    await answer_by_replying(chat, card, "Chào chị, chị chỉ cần nộp bản chính giấy tờ.")
    assert "đã được gửi cho người dân" in term.printed()
    assert any("chỉ cần nộp bản chính" in m.text for m in chat.messages(citizen))

    # The citizen rates the answer from their own chat.
    await chat.handle_line("/as citizen")
    assert chat.chat_id == citizen and "người dân" in chat.prompt.lower()
    await press(chat, "😊 Hài lòng")
    assert term.app is not None
    async with term.app.sessions() as session:
        case = await session.scalar(select(Case).where(Case.code == code))
        assert case is not None and case.rating == "good" and case.assignee_id is not None


async def test_time_moves_the_clock_and_shows_what_each_role_receives(term: Terminal) -> None:
    chat = term.chat
    assert chat is not None
    await chat.handle_line(f"/as admin group {AGENCY}")
    await chat.handle_line(f"/bind {AGENCY}")
    group = chat.chat_id
    code = await file_case(chat, "Bộ phận một cửa hẹn trả hồ sơ nhiều lần mà không có kết quả.")
    card = newest(chat, code, group)
    term.out.clear()

    await chat.handle_line("/time +8d")
    # Ticking every morning on the way: two days before the due date (03/12) the group is
    # reminded, as a reply to the card; the admin gets the reports due on the way.
    assert "01/12/2026" in chat.prompt
    shown = term.printed()
    reminder = newest(chat, "Nhắc hạn", group)
    assert chat.message(group, reminder).reply_to == card
    assert code in chat.message(group, reminder).text
    assert f"Nhóm «Trung tâm Phục vụ hành chính công tỉnh» ({AGENCY}) · #{reminder}" in shown
    assert "Quản trị viên" in shown  # the weekly summary of Monday 30/11
    # Nothing is repeated when the clock moves on within the same day.
    term.out.clear()
    await chat.handle_line("/time +1h")
    assert "Nhắc hạn" not in term.printed()
    # The clock never goes back: the records would be out of order.
    await chat.handle_line("/time 2026-11-24T09:00")
    assert "01/12/2026" in chat.prompt


async def test_rehearse_an_officials_day_as_the_readme_says(tmp_path: Path) -> None:
    """README "Rehearse an official's day", step by step, restart included."""
    readme = README.read_text("utf-8")
    section = readme.split("## Rehearse an official's day", 1)[1].split("\n## ", 1)[0]
    for typed in (f"/as admin group {AGENCY}", f"/bind {AGENCY}", "/as citizen", "/phananh",
                  f"/as group {AGENCY}", "/time +10d", "/reply", "/mycases"):  # fmt: skip
        assert typed in section, typed

    first = Terminal(sqlite_url(tmp_path))
    chat = await first.open()
    try:
        await chat.handle_line("/start")
        await chat.handle_line(f"/as admin group {AGENCY}")
        await chat.handle_line(f"/bind {AGENCY}")
        group = chat.chat_id
        code = await file_case(
            chat, "Bộ phận một cửa đòi nộp thêm bản sao giấy tờ không có trong quy định."
        )
        await chat.handle_line(f"/as group {AGENCY}")
        card = newest(chat, code)
        await chat.handle_line(f"/press {card}")
        await press(chat, "Nhận xử lý")
        await chat.handle_line("/time +10d")
        assert newest(chat, "Nhắc hạn") > card  # the reminders arrived in the group
        await answer_by_replying(chat, card, "Chào chị, bộ phận một cửa đã được nhắc nhở.")
        await chat.handle_line("/as citizen")
        assert any("đã được nhắc nhở" in m.text for m in chat.messages(chat.chat_id))
        await press(chat, "😊 Hài lòng")
        moved_to = chat.prompt
    finally:
        await first.close()

    # Restart: the real time is still 23/11, the rehearsal had reached 03/12.
    second = Terminal(first.url)
    chat = await second.open()
    try:
        await chat.handle_line("/start")
        assert "Xin chào" in second.printed()
        assert "03/12/2026" in chat.prompt and "03/12/2026" in moved_to
        await chat.handle_line("/mycases")
        assert code in chat.messages(chat.chat_id)[-1].text
        await chat.handle_line(f"/as group {AGENCY}")
        assert chat.chat_id == group and code in second.printed()  # the group's last messages
        # A second case gets a new card; the first card still belongs to the first case.
        second_code = await file_case(
            chat, "Cán bộ tiếp nhận hồ sơ yêu cầu nộp lệ phí không có biên lai."
        )
        second_card = newest(chat, second_code, group)
        assert second_card > card
        async with second.app.sessions() as session:  # type: ignore[union-attr]
            link = await session.get(MessageLink, (group, card))
            first_case = await session.scalar(select(Case).where(Case.code == code))
            assert link is not None and first_case is not None and link.case_id == first_case.id
        await chat.handle_line(f"/as group {AGENCY}")
        await chat.handle_line(f"/reply {card} Trả lời nhầm thẻ cũ.")
        assert "đã kết thúc" in second.printed()
    finally:
        await second.close()


async def test_group_commands_typed_in_a_private_chat_say_where_they_work(term: Terminal) -> None:
    chat = term.chat
    assert chat is not None
    await chat.handle_line("/as admin")
    await chat.handle_line(f"/bind {AGENCY}")
    assert "Tôi không hiểu lệnh này" in chat.messages(chat.chat_id)[-1].text  # as on Telegram
    assert f"/as admin group {AGENCY}" in term.out[-1]


def test_time_arguments() -> None:
    now = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội
    vn = ZoneInfo("Asia/Ho_Chi_Minh")
    assert parse_time("+3d", now, vn) == datetime(2026, 11, 26, 9, 0, tzinfo=vn)
    assert parse_time("+1d2h30m", now, vn) == datetime(2026, 11, 24, 11, 30, tzinfo=vn)
    assert parse_time("+10d 08:00", now, vn) == datetime(2026, 12, 3, 8, 0, tzinfo=vn)
    assert parse_time("2026-12-01T09:00", now, vn) == datetime(2026, 12, 1, 9, 0, tzinfo=vn)
    assert parse_time("2026-12-01T09:00+00:00", now, vn) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert parse_time("01/12/2026 09:00", now, vn) == datetime(2026, 12, 1, 9, 0, tzinfo=vn)
    assert parse_time("ngày mai", now, vn) is None and parse_time("32/01/2026", now, vn) is None
    # Every day start strictly between, then the target itself.
    moments = tick_moments(now, datetime(2026, 11, 25, 7, 0, tzinfo=vn), vn, 8)
    assert [m.astimezone(vn) for m in moments] == [
        datetime(2026, 11, 24, 8, 0, tzinfo=vn),
        datetime(2026, 11, 25, 7, 0, tzinfo=vn),
    ]
