"""The scale-out path for real: PostgreSQL (asyncpg) and Redis FSM storage."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.models import Case
from tests.fake_telegram import FakeTelegram
from tests.harness import CITIZEN, POSTGRES_URL, REDIS_URL, Harness, file_case, reset_postgres


@pytest.mark.postgres
@pytest.mark.redis
async def test_journey_on_postgres_with_redis_fsm_across_a_restart(server: FakeTelegram) -> None:
    await reset_postgres()
    first = await Harness.start(server, POSTGRES_URL, redis_url=REDIS_URL)
    await first.dp.storage.redis.flushdb()  # type: ignore[attr-defined]
    try:
        await first.say("/phananh")
        await first.press("Kiến nghị")
        await first.say("Đề nghị niêm yết bảng phí, lệ phí bằng chữ lớn tại bộ phận một cửa.")
    finally:
        await first.close()
    second = await Harness.start(server, POSTGRES_URL, redis_url=REDIS_URL)
    try:
        await second.press("Bỏ qua")
        await second.press("Bỏ qua")
        await second.say("Hoàng Văn Nam")
        await second.say("0934567890")
        await second.say("9 Trần Hưng Đạo, phường Lâm Viên - Đà Lạt")
        await second.press("Gửi phản ánh")
        async with second.app.sessions() as session:
            [case] = (await session.scalars(select(Case))).all()
        assert case.content.startswith("Đề nghị niêm yết") and case.kind == "kien_nghi"
        assert any(case.code in t for t in second.texts(CITIZEN))
        code = await file_case(second, "Một phản ánh khác trên PostgreSQL về lệ phí thu sai.")
        assert code != case.code
    finally:
        await second.dp.storage.redis.flushdb()  # type: ignore[attr-defined]
        await second.close()
