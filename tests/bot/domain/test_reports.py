"""Report figures (bot/services/summaries.py) on SQLite and PostgreSQL.

One set of cases covers every figure: answered on time (one exactly at the deadline), answered
late, rejected, open past due, transferred on time and late, rated. Cases are filed and
handled through CaseService, with the clock moved between steps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.app import App, create_app
from bot.clock import FixedClock
from bot.domain.cases import Actor, Draft
from bot.domain.reports import (
    Figures,
    figures_by_agency,
    group_late,
    late_cases,
    month_before,
    percent,
    period_figures,
    quarter_of,
    week_before,
)
from bot.settings import BotSettings, DatabaseSettings, Settings
from storage.models import Case
from storage.repositories import RoutingRuleRepo

VN = ZoneInfo("Asia/Ho_Chi_Minh")
OFFICIAL = Actor("official", 7001, "Phạm Thu Hà")


def local(y: int, m: int, d: int, hh: int = 9, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=VN)


# ---- periods ---------------------------------------------------------------------------
def test_week_before_is_the_previous_iso_week() -> None:
    for today in (date(2026, 11, 30), date(2026, 12, 2), date(2026, 12, 6)):
        period = week_before(today, VN)
        assert period.key == "2026-W48"
        assert (period.start, period.end) == (local(2026, 11, 23, 0), local(2026, 11, 30, 0))
        assert period.last_moment == local(2026, 11, 29, 23, 59, 59)
    # 2026 has 53 ISO weeks; the week of 28/12/2026 is reported on Monday 4/1/2027.
    assert week_before(date(2027, 1, 4), VN).key == "2026-W53"


def test_month_before_crosses_the_year() -> None:
    period = month_before(date(2027, 1, 5), VN)
    assert period.key == "2026-12"
    assert (period.start, period.end) == (local(2026, 12, 1, 0), local(2027, 1, 1, 0))
    assert month_before(date(2026, 12, 5), VN).key == "2026-11"


def test_quarter_uses_the_15th_to_14th_cut_off() -> None:
    q4 = quarter_of(date(2026, 12, 19), VN)
    assert q4.key == "2026-Q4"
    assert (q4.start, q4.end) == (local(2026, 9, 15, 0), local(2026, 12, 15, 0))
    q1 = quarter_of(date(2027, 3, 19), VN)
    assert q1.key == "2027-Q1"
    assert (q1.start, q1.end) == (local(2026, 12, 15, 0), local(2027, 3, 15, 0))


def test_percent_and_satisfaction() -> None:
    assert percent(2 / 3, "vi") == "66,7"
    assert percent(2 / 3, "en") == "66.7"
    assert percent(0.9, "vi") == "90"
    assert percent(None, "vi") == ""
    figures = Figures(good=9, neutral=0, bad=1)
    assert figures.rated == 10 and figures.satisfaction == 0.9 and figures.meets_target
    assert Figures(good=8, neutral=1).meets_target is False
    assert Figures().satisfaction is None and Figures().meets_target is None
    assert Figures(answered=4, on_time=3).on_time_ratio == 0.75
    assert (Figures(received=1, late=2) + Figures(received=3)) == Figures(received=4, late=2)


# ---- figures from the database ---------------------------------------------------------
@pytest.fixture
async def app(database_url: str) -> AsyncIterator[App]:
    clock = FixedClock(local(2026, 9, 1))
    settings = Settings(database=DatabaseSettings(database_url=database_url),
                        bot=BotSettings(admin_ids=[999]))  # fmt: skip
    application = await create_app(settings, clock)
    try:
        yield application
    finally:
        await application.close()


class Story:
    """Moves the clock and acts on cases through the service."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.clock: FixedClock = app.clock  # type: ignore[assignment]
        self.citizen = 8000

    async def submit(self, content: str, **draft: Any) -> Case:
        self.citizen += 1
        fields = {"kind": "phan_anh", "name": "Đỗ Minh Châu", "email": "chau@example.vn",
                  "address": "5 Trần Phú"} | draft  # fmt: skip
        async with self.app.sessions.begin() as session:
            return await self.app.cases.submit(
                session, Draft(draft_id=f"d{self.citizen}", content=content, **fields),
                citizen=Actor("citizen", self.citizen), chat_id=self.citizen, locale="vi",
            )  # fmt: skip

    async def act(self, when: datetime, case: Case, verb: str, *args: str) -> None:
        self.clock.set(when)
        service = self.app.cases
        async with self.app.sessions.begin() as session:
            fresh = await service.by_id(session, case.id)
            assert fresh is not None
            if verb == "answer":
                await service.answer(session, fresh, OFFICIAL, *args)
            elif verb == "reject":
                await service.reject(session, fresh, args[0], OFFICIAL)
            elif verb == "transfer":
                await service.transfer(session, fresh, args[0], args[1], OFFICIAL)
            elif verb == "rate":
                await service.rate(session, fresh, Actor("citizen", fresh.citizen_id), args[0])
            else:  # pragma: no cover
                raise ValueError(verb)


@pytest.fixture
async def story(app: App) -> dict[str, Case]:
    s = Story(app)
    async with app.sessions.begin() as session:
        await RoutingRuleRepo(session).add("SXD", field=None, keyword="giấy phép xây dựng")
    # Before the quarter (which starts on 15/09): answered, not counted in Q4.
    old = await s.submit("Phản ánh cũ về việc chậm trả kết quả hồ sơ hộ tịch.")
    await s.act(local(2026, 9, 5), old, "answer", "Đã trả kết quả.")

    s.clock.set(local(2026, 10, 20))  # Tuesday; every case below is due Friday 30/10
    c = {"old": old}
    c["on_time"] = await s.submit("Cán bộ tiếp nhận yêu cầu nộp thêm giấy tờ không cần thiết.")
    c["late"] = await s.submit("Hồ sơ chứng thực của tôi bị hẹn lại nhiều lần.")
    c["rejected"] = await s.submit("Tôi muốn khiếu nại quyết định xử phạt hành chính.")
    c["open"] = await s.submit("Đề nghị bố trí thêm ghế chờ tại bộ phận một cửa.")
    c["moved_late"] = await s.submit("Phản ánh việc cấp điện cho khu dân cư mới bị chậm.")
    c["moved"] = await s.submit("Phản ánh chậm chứng thực bản sao hợp đồng mua bán.")
    c["sxd_at_deadline"] = await s.submit("Hồ sơ xin giấy phép xây dựng nhà ở bị trả lại.")
    assert {k: v.agency for k, v in c.items()} == {
        "old": "TTPVHCC", "on_time": "TTPVHCC", "late": "TTPVHCC", "rejected": "TTPVHCC",
        "open": "TTPVHCC", "moved_late": "TTPVHCC", "moved": "TTPVHCC", "sxd_at_deadline": "SXD",
    }  # fmt: skip
    assert c["open"].due_at == local(2026, 10, 30, 23, 59, 59)

    await s.act(local(2026, 10, 21), c["rejected"], "reject", "outside")
    await s.act(local(2026, 10, 21), c["moved"], "transfer", "STP", "Thuộc lĩnh vực tư pháp")
    await s.act(local(2026, 10, 25), c["on_time"], "answer", "Đã chấn chỉnh.")
    await s.act(local(2026, 10, 26), c["on_time"], "rate", "good")
    # 8 working days after receipt: later than the 5 of NĐ 20/2008 Điều 9.
    await s.act(local(2026, 10, 30), c["moved_late"], "transfer", "SXD", "Thuộc lĩnh vực xây dựng")
    await s.act(local(2026, 10, 30, 23, 59, 59), c["sxd_at_deadline"], "answer", "Đã cấp phép.")
    await s.act(local(2026, 11, 3), c["late"], "answer", "Xin lỗi vì chậm trễ.")
    await s.act(local(2026, 11, 4), c["late"], "rate", "bad")
    return c


async def test_quarter_figures_for_all_agencies_and_each(app: App, story: dict[str, Case]) -> None:
    q4 = quarter_of(date(2026, 12, 19), VN)
    async with app.sessions() as session:
        total = await period_figures(session, q4.start, q4.end)
        by_agency = await figures_by_agency(session, q4.start, q4.end)
        ttpv = await period_figures(session, q4.start, q4.end, "TTPVHCC")
        sxd = await period_figures(session, q4.start, q4.end, "SXD")
        stp = await period_figures(session, q4.start, q4.end, "STP")
        nobody = await period_figures(session, q4.start, q4.end, "SYT")
    assert total == Figures(
        received=7, answered=3, on_time=2, late=1, open=3, overdue_open=3, rejected=1,
        transferred=2, transferred_late=1, good=1, neutral=0, bad=1,
    )  # fmt: skip
    assert total.satisfaction == 0.5 and total.meets_target is False
    # A case belongs to the agency holding it now; a transfer to the agency that made it.
    assert ttpv == Figures(
        received=4, answered=2, on_time=1, late=1, open=1, overdue_open=1, rejected=1,
        transferred=2, transferred_late=1, good=1, bad=1,
    )  # fmt: skip
    assert sxd == Figures(received=2, answered=1, on_time=1, open=1, overdue_open=1)
    assert stp == Figures(received=1, open=1, overdue_open=1)
    assert nobody == Figures() and nobody.empty
    assert by_agency == {"STP": stp, "SXD": sxd, "TTPVHCC": ttpv}
    assert sum(by_agency.values(), Figures()) == total


async def test_a_past_month_is_counted_as_it_stood_at_its_end(
    app: App, story: dict[str, Case]
) -> None:
    october = month_before(date(2026, 11, 5), VN)
    async with app.sessions() as session:
        figures = await period_figures(session, october.start, october.end)
    # The late answer came on 03/11: on 31/10 that case was still open, and past due.
    assert (figures.answered, figures.on_time, figures.late) == (2, 2, 0)
    assert (figures.open, figures.overdue_open) == (4, 4)
    assert (figures.good, figures.bad, figures.satisfaction) == (1, 0, 1.0)
    assert figures.received == 7


async def test_late_cases_by_month_grouped_by_agency_and_assignee(
    app: App, story: dict[str, Case]
) -> None:
    october = month_before(date(2026, 11, 5), VN)
    november = month_before(date(2026, 12, 5), VN)
    async with app.sessions() as session:
        oct_late = await late_cases(session, october.start, october.end, tz=VN)
        nov_late = await late_cases(session, november.start, november.end, tz=VN)
        sxd_only = await late_cases(session, november.start, november.end, "SXD", tz=VN)
    expected = {story[k].code for k in ("late", "open", "moved_late", "moved")}
    assert {c.code for c in oct_late} == expected
    assert {c.code for c in nov_late} == expected
    assert story["sxd_at_deadline"].code not in {c.code for c in nov_late}  # answered at 23:59:59
    assert [c.code for c in sxd_only] == [story["moved_late"].code]

    late = next(c for c in nov_late if c.code == story["late"].code)
    assert late.answered_at == local(2026, 11, 3) and late.late_days == 4
    assert late.assignee_name == OFFICIAL.name
    still_open = next(c for c in nov_late if c.code == story["open"].code)
    assert still_open.answered_at is None and still_open.late_days == 31  # 30/10 → 30/11
    assert still_open.assignee_name is None

    groups = group_late(nov_late)
    assert [(g.code, g.name, g.count) for g in groups] == [
        ("STP", "Sở Tư pháp", 1), ("SXD", "Sở Xây dựng", 1),
        ("TTPVHCC", "Trung tâm Phục vụ hành chính công tỉnh", 2),
    ]  # fmt: skip
    ttpv = groups[-1]
    assert sorted((a.name or "", len(a.cases)) for a in ttpv.assignees) == [
        ("", 1),
        (OFFICIAL.name or "", 1),
    ]


async def test_nothing_in_an_empty_period(app: App, story: dict[str, Case]) -> None:
    async with app.sessions() as session:
        figures = await period_figures(session, local(2026, 1, 1, 0), local(2026, 2, 1, 0))
        late = await late_cases(session, local(2026, 1, 1, 0), local(2026, 2, 1, 0), tz=VN)
    assert figures == Figures() and late == []
