"""The periodic tick (bot/services/reminders.py) on a real database, with a movable clock.

Cases are filed through CaseService.submit; what the tick queues is read back from the outbox.
Dates avoid public holidays: nothing here depends on the working-day calendar (reply periods
are counted in calendar days, the default).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.app import App, create_app
from bot.clock import FixedClock
from bot.domain.cases import Actor, Draft
from bot.domain.reminders import run_tick
from bot.settings import BotSettings, CaseSettings, DatabaseSettings, Settings
from bot.telegram.rendering import TELEGRAM_TEXT_LIMIT, Renderer
from storage.models import Case, CaseEvent, MessageLink, OutboxMessage, ReportRun
from storage.repositories import AgencyRepo, RoutingRuleRepo

VN = ZoneInfo("Asia/Ho_Chi_Minh")
ADMIN = 999
GROUP_TTPV = -100111  # TTPVHCC, where cases go by default
GROUP_UBND = -100999  # UBND-TINH, the parent of TTPVHCC and of SXD
GROUP_SXD = -100222
OFFICIAL = Actor("official", 7001, "Nguyễn Văn An")


def local(y: int, m: int, d: int, hh: int = 9, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=VN)


@pytest.fixture
def clock() -> FixedClock:
    # Monday 23 November 2026, 09:00 in Hà Nội.
    return FixedClock(local(2026, 11, 23))


async def make_app(tmp_path: Path, clock: FixedClock, locale: str = "vi", *,
                   database_url: str | None = None, **cases: Any) -> App:  # fmt: skip
    url = database_url or f"sqlite+aiosqlite:///{tmp_path}/t.db"
    settings = Settings(
        database=DatabaseSettings(database_url=url),
        bot=BotSettings(admin_ids=[ADMIN], locale=locale),
        cases=CaseSettings(**cases),
    )
    return await create_app(settings, clock)


@pytest.fixture
async def app(tmp_path: Path, clock: FixedClock) -> AsyncIterator[App]:
    application = await make_app(tmp_path, clock)
    try:
        yield application
    finally:
        await application.close()


async def bind(app: App, **groups: int) -> None:
    async with app.sessions.begin() as session:
        for code, chat_id in groups.items():
            assert await AgencyRepo(session).bind_chat(code.replace("_", "-"), chat_id,
                                                       app.clock.now())  # fmt: skip


_citizens = iter(range(5000, 6000))


async def submit(app: App, content: str, locale: str = "vi", **draft: Any) -> Case:
    citizen = next(_citizens)
    fields = {"kind": "phan_anh", "name": "Trần Thị Bình", "phone": "0912345678",
              "address": "12 Lê Lợi, phường Hải Châu"} | draft  # fmt: skip
    async with app.sessions.begin() as session:
        return await app.cases.submit(
            session, Draft(draft_id=f"draft-{citizen}", content=content, **fields),
            citizen=Actor("citizen", citizen, "Bình"), chat_id=citizen, locale=locale,
        )  # fmt: skip


async def card_sent(app: App, case: Case, chat_id: int, message_id: int) -> None:
    """What the outbox worker records once Telegram accepted the card."""
    async with app.sessions.begin() as session:
        session.add(
            MessageLink(chat_id=chat_id, message_id=message_id, case_id=case.id, kind="card")
        )


async def outbox(app: App, purpose: str | None = None, since: int = 0) -> list[OutboxMessage]:
    async with app.sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.id > since).order_by(OutboxMessage.id)
        if purpose is not None:
            query = query.where(OutboxMessage.purpose == purpose)
        return list((await session.scalars(query)).all())


async def last_outbox_id(app: App) -> int:
    async with app.sessions() as session:
        return int(await session.scalar(select(func.coalesce(func.max(OutboxMessage.id), 0))) or 0)


async def events(app: App, case: Case, action: str) -> list[CaseEvent]:
    async with app.sessions() as session:
        return list((await session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == action)
            .order_by(CaseEvent.id)
        )).all())  # fmt: skip


async def tick_at(app: App, clock: FixedClock, when: datetime) -> dict[str, int]:
    clock.set(when)
    return await run_tick(app)


# ---- deadline reminders ----------------------------------------------------------------
async def test_reminders_two_days_one_day_and_due_day_each_once(
    app: App, clock: FixedClock
) -> None:
    await bind(app, TTPVHCC=GROUP_TTPV, UBND_TINH=GROUP_UBND)
    case = await submit(app, "Bộ phận một cửa hẹn trả hồ sơ nhiều lần mà không có kết quả.")
    assert case.agency == "TTPVHCC"
    # Received Monday 23/11; 10 calendar days, the day of receipt not counted: due 03/12.
    assert case.due_at == datetime(2026, 12, 3, 23, 59, 59, tzinfo=VN)
    await card_sent(app, case, GROUP_TTPV, 4242)

    counts = await tick_at(app, clock, local(2026, 11, 30, 10))  # 3 days left: nothing yet
    assert counts["reminders"] == 0
    assert await outbox(app, "reminder") == []

    counts = await tick_at(app, clock, local(2026, 12, 1, 9))  # 2 days left
    assert counts["reminders"] == 1
    [first] = await outbox(app, "reminder")
    assert first.chat_id == GROUP_TTPV
    assert first.case_id == case.id
    assert first.link_kind == "notice"  # a reply to the reminder answers like a reply to the card
    assert first.payload["reply_to_message_id"] == 4242
    assert case.code in first.payload["text"]
    assert "Còn <b>2 ngày</b> đến hạn trả lời (03/12/2026)" in first.payload["text"]

    # Every minute the tick runs again: nothing more that day.
    for minute in (1, 2, 30):
        assert (await tick_at(app, clock, local(2026, 12, 1, 9, minute)))["reminders"] == 0
    assert len(await outbox(app, "reminder")) == 1

    assert (await tick_at(app, clock, local(2026, 12, 2, 8, 30)))["reminders"] == 1  # 1 day left
    assert (await tick_at(app, clock, local(2026, 12, 2, 17)))["reminders"] == 0
    assert (await tick_at(app, clock, local(2026, 12, 3, 8)))["reminders"] == 1  # due today
    assert (await tick_at(app, clock, local(2026, 12, 3, 23, 59)))["reminders"] == 0

    texts = [m.payload["text"] for m in await outbox(app, "reminder")]
    assert len(texts) == 3
    assert "Còn <b>1 ngày</b>" in texts[1]
    assert "Hôm nay (03/12/2026) là <b>ngày cuối cùng</b>" in texts[2]
    assert [e.details["days_left"] for e in await events(app, case, "reminder")] == [2, 1, 0]
    # No escalation while the due day lasts.
    assert await outbox(app, "escalation") == []


async def test_reminders_wait_for_the_working_day(app: App, clock: FixedClock) -> None:
    await bind(app, TTPVHCC=GROUP_TTPV)
    await submit(app, "Cán bộ yêu cầu nộp thêm giấy tờ không có trong danh mục thủ tục.")
    counts = await tick_at(app, clock, local(2026, 12, 1, 0, 1))  # the date rolled over at night
    assert counts["reminders"] == 0
    assert (await tick_at(app, clock, local(2026, 12, 1, 7, 59)))["reminders"] == 0
    assert (await tick_at(app, clock, local(2026, 12, 1, 8, 0)))["reminders"] == 1


async def test_reminder_goes_to_admins_when_the_agency_has_no_group(
    app: App, clock: FixedClock
) -> None:
    case = await submit(app, "Thái độ tiếp dân của cán bộ một cửa chưa đúng mực, xin chấn chỉnh.")
    await tick_at(app, clock, local(2026, 12, 2, 9))
    [reminder] = await outbox(app, "reminder")
    assert reminder.chat_id == ADMIN
    assert reminder.case_id == case.id
    assert "/bind TTPVHCC" in reminder.payload["text"]
    assert "reply_to_message_id" not in reminder.payload


async def test_reminder_thresholds_are_a_setting(tmp_path: Path, clock: FixedClock) -> None:
    app = await make_app(tmp_path, clock, reminder_days_before=[3])
    try:
        await bind(app, TTPVHCC=GROUP_TTPV)
        case = await submit(
            app, "Đường dây nóng của trung tâm không ai nghe máy trong giờ hành chính."
        )
        for day in (29, 30):
            await tick_at(app, clock, local(2026, 11, day))
        for day in (1, 2, 3):
            await tick_at(app, clock, local(2026, 12, day))
        assert [e.details["days_left"] for e in await events(app, case, "reminder")] == [3, 0]
    finally:
        await app.close()


async def test_an_extended_case_is_reminded_again_before_its_new_date(
    app: App, clock: FixedClock
) -> None:
    await bind(app, TTPVHCC=GROUP_TTPV)
    case = await submit(app, "Hồ sơ cấp phép của tôi bị trả về ba lần với ba lý do khác nhau.")
    await tick_at(app, clock, local(2026, 12, 1))  # 2 days before 03/12
    async with app.sessions.begin() as session:
        fresh = await app.cases.by_id(session, case.id)
        assert fresh is not None
        await app.cases.extend(
            session, fresh, local(2026, 12, 10), "Cần xác minh thực địa", OFFICIAL
        )
    await tick_at(app, clock, local(2026, 12, 1, 10))
    await tick_at(app, clock, local(2026, 12, 3))  # the old due date: no longer a reminder day
    assert len(await events(app, case, "reminder")) == 1
    await tick_at(app, clock, local(2026, 12, 8))  # 2 days before the new date, 10/12
    reminders = await events(app, case, "reminder")
    assert [e.details["days_left"] for e in reminders] == [2, 2]
    assert reminders[1].details["due_at"] != reminders[0].details["due_at"]
    # Extended already (the date moves only once): the second reminder does not offer it again.
    texts = [m.payload["text"] for m in await outbox(app, "reminder")]
    assert "Gia hạn" in texts[0]
    assert "Gia hạn" not in texts[1]


async def test_answered_cases_are_left_alone(app: App, clock: FixedClock) -> None:
    await bind(app, TTPVHCC=GROUP_TTPV, UBND_TINH=GROUP_UBND)
    case = await submit(
        app, "Xin hướng dẫn cách nộp hồ sơ trực tuyến khi cổng dịch vụ công bị lỗi."
    )
    clock.set(local(2026, 11, 25))
    async with app.sessions.begin() as session:
        fresh = await app.cases.by_id(session, case.id)
        assert fresh is not None
        await app.cases.answer(session, fresh, OFFICIAL, "Đã khắc phục lỗi cổng, mời bạn nộp lại.")
    for day in (1, 2, 3, 4, 10):
        counts = await tick_at(app, clock, local(2026, 12, day))
        assert counts["reminders"] == counts["escalations"] == 0
    assert await events(app, case, "reminder") == []


# ---- escalation -----------------------------------------------------------------------
async def test_overdue_case_is_escalated_once_to_the_parent_group_and_admins(
    app: App, clock: FixedClock
) -> None:
    await bind(app, TTPVHCC=GROUP_TTPV, UBND_TINH=GROUP_UBND)
    case = await submit(app, "Bộ phận một cửa thu phí cao hơn mức lệ phí được niêm yết công khai.")
    await tick_at(app, clock, local(2026, 12, 3, 23, 59))  # due day, last minute
    assert await outbox(app, "escalation") == []

    counts = await tick_at(app, clock, local(2026, 12, 4, 9))
    assert counts["escalations"] == 1
    sent = await outbox(app, "escalation")
    assert sorted(m.chat_id for m in sent) == sorted([GROUP_UBND, ADMIN])
    assert all(m.case_id == case.id and m.link_kind is None for m in sent)
    text = sent[0].payload["text"]
    assert f"Hồ sơ {case.code} đã quá hạn trả lời" in text
    assert "<b>Trung tâm Phục vụ hành chính công tỉnh</b> chưa trả lời" in text
    assert "quá hạn 1 ngày" in text
    # The citizen's personal data stays in the agency's own group.
    assert "0912345678" not in text and "Lê Lợi" not in text

    for when in (local(2026, 12, 4, 9, 1), local(2026, 12, 5), local(2026, 12, 20)):
        assert (await tick_at(app, clock, when))["escalations"] == 0
    assert len(await outbox(app, "escalation")) == 2
    [event] = await events(app, case, "escalated")
    assert event.details["parent"] == "UBND-TINH"
    assert sorted(event.details["notified"]) == sorted([GROUP_UBND, ADMIN])
    # Nobody in the agency's own group was sent the escalation.
    assert all(m.chat_id != GROUP_TTPV for m in sent)


async def test_escalation_without_a_parent_group_reaches_the_admins(
    app: App, clock: FixedClock
) -> None:
    await bind(app, TTPVHCC=GROUP_TTPV)
    await submit(app, "Hồ sơ đăng ký kinh doanh của tôi quá hẹn mà chưa có kết quả trả lời.")
    await tick_at(app, clock, local(2026, 12, 4, 9))
    [sent] = await outbox(app, "escalation")
    assert sent.chat_id == ADMIN
    assert "Ủy ban nhân dân tỉnh chưa gắn nhóm Telegram" in sent.payload["text"]


# ---- progress updates -----------------------------------------------------------------
async def test_progress_updates_are_off_by_default(app: App, clock: FixedClock) -> None:
    await submit(app, "Đề nghị niêm yết rõ thời gian trả kết quả tại bộ phận một cửa.")
    for day in (30, 1, 7):
        await tick_at(app, clock, local(2026, 11 if day == 30 else 12, day))
    assert await outbox(app, "progress_update") == []


async def test_progress_update_every_n_days_while_open(tmp_path: Path, clock: FixedClock) -> None:
    app = await make_app(tmp_path, clock, progress_update_days=7, reply_days=20)
    try:
        case = await submit(app, "Kiến nghị bổ sung chỗ để xe cho người dân đến làm thủ tục.")
        assert (await tick_at(app, clock, local(2026, 11, 29, 20)))["progress_updates"] == 0
        assert (await tick_at(app, clock, local(2026, 11, 30, 9)))["progress_updates"] == 1
        assert (await tick_at(app, clock, local(2026, 11, 30, 15)))["progress_updates"] == 0
        assert (await tick_at(app, clock, local(2026, 12, 6, 9)))["progress_updates"] == 0
        assert (await tick_at(app, clock, local(2026, 12, 7, 9)))["progress_updates"] == 1
        sent = await outbox(app, "progress_update")
        assert [m.chat_id for m in sent] == [case.citizen_chat_id] * 2
        assert f"Hồ sơ {case.code} của bạn đang được" in sent[0].payload["text"]
        assert "Đã tiếp nhận" in sent[0].payload["text"]
        async with app.sessions.begin() as session:
            fresh = await app.cases.by_id(session, case.id)
            assert fresh is not None
            await app.cases.answer(session, fresh, OFFICIAL, "Đã bố trí thêm bãi xe phía sau.")
        assert (await tick_at(app, clock, local(2026, 12, 14, 9)))["progress_updates"] == 0
    finally:
        await app.close()


# ---- weekly summary -------------------------------------------------------------------
async def test_weekly_summary_monday_8am_once_and_not_on_sunday(
    app: App, clock: FixedClock
) -> None:
    await bind(app, TTPVHCC=GROUP_TTPV, UBND_TINH=GROUP_UBND)
    first = await submit(app, "Bộ phận một cửa không hướng dẫn đầy đủ thành phần hồ sơ cần nộp.")
    await submit(app, "Đề nghị mở thêm quầy tiếp nhận hồ sơ đất đai vào buổi sáng thứ bảy.",
                 kind="kien_nghi")  # fmt: skip
    clock.set(local(2026, 11, 26))
    async with app.sessions.begin() as session:
        fresh = await app.cases.by_id(session, first.id)
        assert fresh is not None
        await app.cases.answer(session, fresh, OFFICIAL, "Đã bổ sung bảng hướng dẫn tại quầy.")

    assert (await tick_at(app, clock, local(2026, 11, 29, 8)))["weekly"] == 0  # Sunday
    assert (await tick_at(app, clock, local(2026, 11, 29, 23, 59)))["weekly"] == 0
    assert (await tick_at(app, clock, local(2026, 11, 30, 7, 59)))["weekly"] == 0
    assert await outbox(app, "report_weekly") == []

    counts = await tick_at(app, clock, local(2026, 11, 30, 8, 0))
    assert counts["weekly"] == counts["reports"] == 1
    sent = await outbox(app, "report_weekly")
    by_chat = {m.chat_id: m.payload["text"] for m in sent}
    assert set(by_chat) == {GROUP_TTPV, GROUP_UBND, ADMIN}
    assert "tuần 48 (23/11/2026 – 29/11/2026)" in by_chat[ADMIN]
    assert "Tiếp nhận mới: <b>2</b>" in by_chat[ADMIN]
    assert "Đã trả lời: <b>1</b> (đúng hạn 1, trễ hạn 0)" in by_chat[ADMIN]
    assert "Đang xử lý cuối kỳ: <b>1</b>" in by_chat[ADMIN]
    assert "Trung tâm Phục vụ hành chính công tỉnh: 2 mới" in by_chat[ADMIN]
    # Each group sees its own figures only: the province's committee received nothing.
    assert "Tiếp nhận mới: <b>2</b>" in by_chat[GROUP_TTPV]
    assert "Không có hồ sơ nào trong kỳ." in by_chat[GROUP_UBND]

    for when in (local(2026, 11, 30, 8, 1), local(2026, 11, 30, 18), local(2026, 12, 1, 8)):
        assert (await tick_at(app, clock, when))["weekly"] == 0
    assert len(await outbox(app, "report_weekly")) == 3
    async with app.sessions() as session:
        runs = (await session.scalars(select(ReportRun).where(ReportRun.kind == "weekly"))).all()
    assert [r.period for r in runs] == ["2026-W48"]

    assert (await tick_at(app, clock, local(2026, 12, 7, 9)))["weekly"] == 1  # next Monday
    assert len(await outbox(app, "report_weekly")) == 6


# ---- monthly list of late handling ----------------------------------------------------
async def test_monthly_list_on_the_5th_names_late_cases_by_agency_and_official(
    tmp_path: Path,
) -> None:
    clock = FixedClock(local(2026, 10, 20))  # Tuesday; due Friday 30/10
    app = await make_app(tmp_path, clock)
    try:
        await bind(app, TTPVHCC=GROUP_TTPV, SXD=GROUP_SXD)
        async with app.sessions.begin() as session:
            await RoutingRuleRepo(session).add("SXD", field=None, keyword="giấy phép xây dựng")
        late = await submit(app, "Hồ sơ xin giấy phép xây dựng nhà ở của tôi bị giữ quá lâu.")
        on_time = await submit(app, "Cán bộ một cửa đòi thêm bản sao công chứng không cần thiết.")
        still_open = await submit(app, "Đề nghị công khai tiến độ giải quyết hồ sơ trên cổng.")
        assert (late.agency, on_time.agency, still_open.agency) == ("SXD", "TTPVHCC", "TTPVHCC")

        clock.set(local(2026, 10, 22))
        async with app.sessions.begin() as session:
            case = await app.cases.by_id(session, late.id)
            assert case is not None
            await app.cases.take(session, case, Actor("official", 7002, "Lê Văn <Cường>"))
            case = await app.cases.by_id(session, on_time.id)
            assert case is not None
            await app.cases.answer(session, case, OFFICIAL, "Đã chấn chỉnh cán bộ tiếp nhận.")
        clock.set(local(2026, 11, 2))
        async with app.sessions.begin() as session:
            case = await app.cases.by_id(session, late.id)
            assert case is not None
            await app.cases.answer(session, case, Actor("official", 7002, "Lê Văn <Cường>"),
                                   "Đã cấp phép ngày 02/11.")  # fmt: skip

        assert (await tick_at(app, clock, local(2026, 12, 4, 20)))["reports"] == 0
        mark = await last_outbox_id(app)
        assert (await tick_at(app, clock, local(2026, 12, 5, 8)))["reports"] == 1
        sent = await outbox(app, "report_monthly", since=mark)
        by_chat = {m.chat_id: m.payload["text"] for m in sent}
        assert set(by_chat) == {GROUP_TTPV, GROUP_SXD, ADMIN}

        admin = by_chat[ADMIN]
        assert "giải quyết chậm, muộn tháng 11/2026" in admin
        assert late.code in admin and still_open.code in admin
        assert on_time.code not in admin  # answered on time (and in October)
        # Grouped by agency, then by the official; names are escaped for Telegram HTML.
        assert admin.index("<b>Sở Xây dựng</b>") < admin.index(late.code)
        assert "👤 Lê Văn &lt;Cường&gt; (1 hồ sơ)" in admin
        assert "👤 Chưa phân công người xử lý (1 hồ sơ)" in admin
        assert "hạn 30/10/2026, trả lời 02/11/2026 — trễ 3 ngày" in admin
        assert "hạn 30/10/2026, chưa trả lời — quá hạn 31 ngày" in admin

        assert late.code in by_chat[GROUP_SXD] and still_open.code not in by_chat[GROUP_SXD]
        assert still_open.code in by_chat[GROUP_TTPV] and late.code not in by_chat[GROUP_TTPV]

        assert (await tick_at(app, clock, local(2026, 12, 5, 8, 1)))["reports"] == 0
        assert (await tick_at(app, clock, local(2026, 12, 6, 9)))["reports"] == 0
        assert len(await outbox(app, "report_monthly", since=mark)) == 3
    finally:
        await app.close()


async def test_monthly_list_without_late_cases_says_so(app: App, clock: FixedClock) -> None:
    await bind(app, TTPVHCC=GROUP_TTPV)
    mark = await last_outbox_id(app)
    await tick_at(app, clock, local(2026, 12, 5, 9))
    [group, admin] = sorted(
        await outbox(app, "report_monthly", since=mark), key=lambda m: m.chat_id
    )
    assert group.chat_id == GROUP_TTPV and admin.chat_id == ADMIN
    assert "Không có hồ sơ giải quyết chậm, muộn trong tháng." in admin.payload["text"]


async def test_a_long_late_list_is_split_under_telegrams_limit(tmp_path: Path) -> None:
    clock = FixedClock(local(2026, 10, 5))
    app = await make_app(tmp_path, clock, daily_limit=100)
    try:
        codes = [(await submit(app, f"Phản ánh số {i}: hồ sơ bị chậm trả kết quả " + "x" * 40)).code
                 for i in range(90)]  # fmt: skip
        mark = await last_outbox_id(app)
        await tick_at(app, clock, local(2026, 11, 5, 9))
        parts = [m.payload["text"] for m in await outbox(app, "report_monthly", since=mark)
                 if m.chat_id == ADMIN]  # fmt: skip
        assert len(parts) > 1
        assert all(len(p) <= TELEGRAM_TEXT_LIMIT for p in parts)
        joined = "\n".join(parts)
        assert all(code in joined for code in codes)
    finally:
        await app.close()


# ---- quarterly figures ----------------------------------------------------------------
async def test_quarterly_figures_from_the_19th_with_the_satisfaction_target(tmp_path: Path) -> None:
    clock = FixedClock(local(2026, 10, 20))
    app = await make_app(tmp_path, clock)
    try:
        await bind(app, TTPVHCC=GROUP_TTPV)
        cases = [await submit(app, f"Phản ánh về việc giải quyết hồ sơ chậm, lần {i}.")
                 for i in range(4)]  # fmt: skip
        # Two answered on time, one late (after 30/10), one never answered.
        for i, when in ((0, local(2026, 10, 25)), (1, local(2026, 10, 30, 16)),
                        (2, local(2026, 11, 3))):  # fmt: skip
            clock.set(when)
            async with app.sessions.begin() as session:
                case = await app.cases.by_id(session, cases[i].id)
                assert case is not None
                await app.cases.answer(session, case, OFFICIAL, "Đã xử lý.")
        for i, rating in ((0, "good"), (1, "good"), (2, "bad")):
            async with app.sessions.begin() as session:
                case = await app.cases.by_id(session, cases[i].id)
                assert case is not None
                await app.cases.rate(session, case, Actor("citizen", case.citizen_id), rating)

        assert (await tick_at(app, clock, local(2026, 12, 18, 20)))["quarterly"] == 0
        mark = await last_outbox_id(app)
        assert (await tick_at(app, clock, local(2026, 12, 19, 8)))["quarterly"] == 1
        sent = await outbox(app, "report_quarterly", since=mark)
        by_chat = {m.chat_id: m.payload["text"] for m in sent}
        assert set(by_chat) == {GROUP_TTPV, ADMIN}
        text = by_chat[ADMIN]
        assert "Báo cáo quý 4/2026" in text
        assert "Số liệu từ 15/09/2026 đến 14/12/2026" in text
        assert "Tiếp nhận mới: <b>4</b>" in text
        assert "Đã trả lời: <b>3</b> (đúng hạn 2, trễ hạn 1)" in text
        assert "Trả lời đúng hạn: <b>2</b> (66,7%)" in text
        assert "Trả lời trễ hạn: <b>1</b>" in text
        assert "Đang xử lý cuối kỳ: <b>1</b>, trong đó quá hạn: <b>1</b>" in text
        assert "Mức độ hài lòng: <b>66,7%</b> (2/3 lượt đánh giá hài lòng)" in text
        assert "Mục tiêu: ≥ 90% người dân hài lòng: chưa đạt ⚠️" in text
        # The group gets the same figures for itself (the only agency here), without the
        # by-agency table the admins get.
        assert "Đã trả lời: <b>3</b> (đúng hạn 2, trễ hạn 1)" in by_chat[GROUP_TTPV]
        assert "Theo cơ quan" in text and "Theo cơ quan" not in by_chat[GROUP_TTPV]

        assert (await tick_at(app, clock, local(2026, 12, 19, 8, 1)))["quarterly"] == 0
        assert (await tick_at(app, clock, local(2026, 12, 31, 9)))["quarterly"] == 0
        async with app.sessions() as session:
            runs = {(r.kind, r.period) for r in (await session.scalars(select(ReportRun))).all()}
        assert ("quarterly", "2026-Q4") in runs
    finally:
        await app.close()


async def test_no_quarterly_report_outside_the_quarters_last_month(
    app: App, clock: FixedClock
) -> None:
    for when in (local(2026, 11, 19), local(2026, 11, 25), local(2027, 1, 19)):
        await tick_at(app, clock, when)
    assert await outbox(app, "report_quarterly") == []
    await tick_at(app, clock, local(2027, 3, 19, 9))
    async with app.sessions() as session:
        periods = {r.period for r in (await session.scalars(
            select(ReportRun).where(ReportRun.kind == "quarterly"))).all()}  # fmt: skip
    assert periods == {"2027-Q1"}


async def test_a_second_tick_at_the_same_moment_queues_nothing(
    tmp_path: Path, clock: FixedClock, database_url: str
) -> None:
    app = await make_app(tmp_path, clock, database_url=database_url, progress_update_days=7)
    try:
        await _tick_twice(app, clock)
    finally:
        await app.close()


async def _tick_twice(app: App, clock: FixedClock) -> None:
    await bind(app, TTPVHCC=GROUP_TTPV, UBND_TINH=GROUP_UBND)
    await submit(app, "Đề nghị trả kết quả qua bưu điện cho người cao tuổi.")
    await submit(app, "Cổng dịch vụ công báo lỗi khi thanh toán lệ phí trực tuyến.")
    # Monday 7 December: the weekly report, the monthly list (caught up after the 5th), the
    # escalation of both cases (due 03/12) and their second progress update, all at once.
    first = await tick_at(app, clock, local(2026, 12, 7, 9))
    assert first["escalations"] == 2 and first["weekly"] == first["monthly"] == 1
    assert first["reports"] == 2 and first["progress_updates"] == 2 and first["messages"] > 0
    queued = len(await outbox(app))
    again = await run_tick(app)
    assert set(again.values()) == {0}
    assert len(await outbox(app)) == queued


# ---- languages ------------------------------------------------------------------------
def test_report_catalogs_have_the_same_keys() -> None:
    catalogs = {}
    for locale in ("vi", "en"):
        path = Path(__file__).parents[3] / "bot" / "telegram" / "locales" / locale / "reports.ftl"
        ids = re.findall(r"^([a-z][\w-]*) =", path.read_text("utf-8"), re.M)
        catalogs[locale] = {i.replace("-", ".") for i in ids}
    assert catalogs["vi"] == catalogs["en"] and len(catalogs["vi"]) == 40
    renderer = Renderer(VN)
    for key in catalogs["vi"]:  # loaded with the other catalogs
        assert key in renderer.catalogs["vi"] and key in renderer.catalogs["en"]


async def test_everything_in_english_when_the_bot_speaks_english(
    tmp_path: Path, clock: FixedClock
) -> None:
    app = await make_app(tmp_path, clock, locale="en", progress_update_days=7)
    try:
        await bind(app, TTPVHCC=GROUP_TTPV, UBND_TINH=GROUP_UBND)
        case = await submit(app, "The one-stop desk lost my documents twice.", locale="en")
        await tick_at(app, clock, local(2026, 11, 30, 9))  # weekly + progress update
        await tick_at(app, clock, local(2026, 12, 1, 9))  # 2 days left
        await tick_at(app, clock, local(2026, 12, 4, 9))  # overdue
        await tick_at(app, clock, local(2026, 12, 5, 9))  # monthly list
        await tick_at(app, clock, local(2026, 12, 19, 9))  # quarterly figures

        def text(purpose: str, chat_id: int, sent: list[OutboxMessage]) -> str:
            return next(m.payload["text"] for m in sent if m.purpose == purpose
                        and m.chat_id == chat_id)  # fmt: skip

        sent = await outbox(app)
        assert f"Reply reminder for case {case.code}" in text("reminder", GROUP_TTPV, sent)
        assert "<b>2 days</b> left until the reply is due (03/12/2026)" in text(
            "reminder", GROUP_TTPV, sent)  # fmt: skip
        assert f"Case {case.code} is past its reply deadline" in text("escalation", ADMIN, sent)
        assert "(1 day overdue)" in text("escalation", GROUP_UBND, sent)
        assert "Weekly summary of feedback and suggestions, week 48" in text(
            "report_weekly", ADMIN, sent)  # fmt: skip
        # The October list went out on 30/11 (the first tick after the 5th); November's now.
        monthly = [m.payload["text"] for m in sent
                   if m.purpose == "report_monthly" and m.chat_id == ADMIN]  # fmt: skip
        assert [t.split("</b>")[0][-7:] for t in monthly] == ["10/2026", "11/2026"]
        assert "Cases handled late in 11/2026" in monthly[1]
        assert "No case was handled late this month." in monthly[1]  # due in December
        quarterly = text("report_quarterly", ADMIN, sent)
        assert "Quarterly report Q4/2026" in quarterly
        assert "Satisfaction: no ratings yet" in quarterly
        assert "Target: ≥ 90% of citizens satisfied" in quarterly
        progress = text("progress_update", case.citizen_chat_id, sent)
        assert f"Your case {case.code} is being handled by" in progress
        # No Vietnamese leaked into an English message from these catalogs.
        for m in sent:
            if m.purpose in ("reminder", "escalation", "progress_update") or m.purpose.startswith(
                "report_"
            ):
                assert "hồ sơ" not in m.payload["text"].lower()
    finally:
        await app.close()


async def test_a_tick_looks_up_the_cards_of_its_reminders_in_one_statement(
    app: App, clock: FixedClock
) -> None:
    # Before: one statement per reminder (a hundred reminders, a hundred card look-ups).
    from sqlalchemy import event

    await bind(app, TTPVHCC=GROUP_TTPV, UBND_TINH=GROUP_UBND)
    cases = [
        await submit(app, f"Hồ sơ số {n} bị trả lại nhiều lần không rõ lý do.") for n in range(4)
    ]
    for n, case in enumerate(cases[:3]):  # the fourth card never reached the group
        await card_sent(app, case, GROUP_TTPV, 4000 + n)
        await card_sent(app, case, GROUP_TTPV, 5000 + n)  # sent again later: the newest counts
    await card_sent(app, cases[0], GROUP_UBND, 6000)  # another chat's card is not this one's
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "message_links" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    engine = app.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        counts = await tick_at(app, clock, local(2026, 12, 1, 9))  # 2 days left for all four
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert counts["reminders"] == 4
    assert len(seen) == 1, seen
    replies = {
        m.case_id: m.payload.get("reply_to_message_id") for m in await outbox(app, "reminder")
    }
    assert replies == {cases[0].id: 5000, cases[1].id: 5001, cases[2].id: 5002, cases[3].id: None}
