"""Storage on both databases: migrations, repositories, the outbox claim, FSM storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from aiogram.fsm.storage.base import StorageKey
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select

from bot.telegram.fsm import SqlAlchemyStorage
from bot.telegram.outbox import enqueue
from knowledge.records import AgencyRecord, ProcedureRecord
from storage.db import (
    alembic_config,
    create_engine,
    create_session_factory,
    current_revision,
    head_revision,
    migrate,
    upgrade_if_needed,
)
from storage.models import Base, InboxUpdate, OutboxMessage
from storage.repositories import (
    AgencyRepo,
    CitizenRepo,
    HolidayRepo,
    InboxRepo,
    LifeEventRepo,
    ProcedureRepo,
)

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def _revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


async def _tables(engine) -> set[str]:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names())) - {
            "alembic_version"
        }


async def test_stairway_every_migration_up_down_up(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        previous = "base"
        for revision in _revisions():
            await migrate(engine, revision)
            await migrate(engine, previous, down=True)
            await migrate(engine, revision)
            previous = revision
        assert await _tables(engine) == set(Base.metadata.tables)
        await migrate(engine, "base", down=True)
        assert await _tables(engine) == set()
    finally:
        await engine.dispose()


async def test_a_schema_at_head_is_not_migrated_again(database_url: str) -> None:
    # The newest revision is read from the migration files, as Alembic reads it.
    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine = create_engine(database_url)
    try:
        assert await current_revision(engine) is None
        assert await upgrade_if_needed(engine) is True
        assert await current_revision(engine) == head_revision()
        assert await upgrade_if_needed(engine) is False
        await migrate(engine, "0001", down=True)
        assert await upgrade_if_needed(engine) is True
        assert await _tables(engine) == set(Base.metadata.tables)
    finally:
        await engine.dispose()


async def test_migrations_match_the_models(database_url: str) -> None:
    """Hand-written migrations describe exactly the tables, columns and indexes of the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(database_url)
    try:
        await migrate(engine)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata
                )
            )
        assert diff == []
    finally:
        await engine.dispose()


@pytest.fixture
async def sessions(database_url: str):  # type: ignore[no-untyped-def]
    engine = create_engine(database_url)
    await migrate(engine)
    yield create_session_factory(engine)
    await engine.dispose()


async def test_procedure_and_agency_upsert_roundtrip(sessions) -> None:  # type: ignore[no-untyped-def]
    record = ProcedureRecord(
        code="1.001193",
        name="Đăng ký khai sinh",
        agency="STP",
        keywords=("khai sinh", "giấy khai sinh"),
        documents="Tờ khai\nGiấy chứng sinh",
    )
    async with sessions.begin() as session:
        await AgencyRepo(session).upsert(
            [AgencyRecord("STP", "Sở Tư pháp", chat_id=-1001234567890)], NOW
        )
        await ProcedureRepo(session).upsert([record], NOW)
    async with sessions() as session:
        assert await ProcedureRepo(session).all_records() == [record]
        count, last, _retired = await ProcedureRepo(session).version()
        assert count == 1 and last is not None
        agency = await AgencyRepo(session).by_chat(-1001234567890)
        assert agency is not None and agency.code == "STP"


async def test_chat_binding_moves_and_migrates(sessions) -> None:  # type: ignore[no-untyped-def]
    async with sessions.begin() as session:
        repo = AgencyRepo(session)
        await repo.upsert([AgencyRecord("A", "Cơ quan A"), AgencyRecord("B", "Cơ quan B")], NOW)
        await repo.bind_chat("A", -100, NOW)
        await repo.bind_chat("B", -100, NOW)  # a group serves one agency at a time
        await repo.migrate_chat(-100, -200)
    async with sessions() as session:
        a, b = await AgencyRepo(session).get("A"), await AgencyRepo(session).get("B")
        assert a is not None and b is not None and a.chat_id is None and b.chat_id == -200


async def test_update_claim_is_idempotent(sessions) -> None:  # type: ignore[no-untyped-def]
    async with sessions.begin() as session:
        assert await InboxRepo(session).finish(42, 1, NOW) is True
        assert await InboxRepo(session).finish(42, 1, NOW) is False
        assert await InboxRepo(session).finish(42, 2, NOW) is True


async def test_inbox_claims_in_order_one_chat_at_a_time(sessions) -> None:  # type: ignore[no-untyped-def]
    until = NOW + timedelta(minutes=5)
    async with sessions.begin() as session:
        repo = InboxRepo(session)
        rows = [(1, 100, {"update_id": 1}), (2, 100, {"update_id": 2}), (3, 200, {"update_id": 3})]
        assert await repo.store(42, rows, NOW) == 3
        assert await repo.store(42, rows[:1], NOW) == 0  # re-delivered: ignored
        assert await repo.store(43, rows[:1], NOW) == 1  # another bot's update 1
        [first] = await repo.claim(42, NOW, until=until, token="a", limit=1)
        assert (first.update_id, first.chat_id, first.payload) == (1, 100, {"update_id": 1})
        # Chat 100's next update waits while another worker holds its first one.
        assert [
            r.update_id for r in await repo.claim(42, NOW, until=until, token="b", limit=9)
        ] == [3]
        assert [
            r.update_id for r in await repo.claim(42, NOW, until=until, token="a", limit=9)
        ] == [2]
        assert await repo.finish(42, 1, NOW) is True
        await repo.retry(42, 2, "a", when=NOW + timedelta(seconds=2), error="boom")
        assert await repo.claim(42, NOW, until=until, token="c", limit=9) == []
        later = NOW + timedelta(seconds=3)
        [again] = await repo.claim(42, later, until=until, token="c", limit=9)
        assert (again.update_id, again.attempts) == (2, 1)
        stored = await session.get(InboxUpdate, (42, 2))
        assert stored is not None and stored.last_error == "boom"
        assert await repo.fail(42, 2, "c", error="boom again") is True
        assert await repo.release("b") == 1  # update 3, claimed by a worker that stopped
        assert await repo.counts(42) == {"pending": 1, "done": 1, "failed": 1}


async def test_datetimes_come_back_aware_utc(sessions) -> None:  # type: ignore[no-untyped-def]
    local = datetime(2026, 11, 23, 23, 59, tzinfo=UTC) + timedelta(hours=0)
    async with sessions.begin() as session:
        row = await CitizenRepo(session).get_or_create(1, local)
        row.full_name = "Nguyễn Văn An"
    async with sessions() as session:
        row = await CitizenRepo(session).get(1)
        assert row is not None and row.updated_at == local and row.updated_at.tzinfo is not None
    async with sessions.begin() as session:
        assert await CitizenRepo(session).forget(1) is True
        assert await CitizenRepo(session).forget(1) is False


async def test_holiday_overrides(sessions) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    async with sessions.begin() as session:
        await HolidayRepo(session).set(date(2026, 12, 31), "off", "Nghỉ bù")
        await HolidayRepo(session).set(date(2026, 12, 31), "work", "Làm bù")
    async with sessions.begin() as session:
        [row] = await HolidayRepo(session).all()
        assert (row.kind, row.name) == ("work", "Làm bù")
        assert await HolidayRepo(session).remove(date(2026, 12, 31)) is True


async def test_admin_life_events_add_replace_remove(sessions) -> None:  # type: ignore[no-untyped-def]
    async with sessions.begin() as session:
        repo = LifeEventRepo(session)
        await repo.add("lam_dau", "Về làm dâu", "về làm dâu", "Đăng ký thường trú=1")
        await repo.add("nuoi_yen", "Nuôi yến", "nhà yến", "Đăng ký môi trường")
        await repo.add("lam_dau", "Về làm dâu", "về làm dâu|về nhà chồng", "Đăng ký thường trú")
    async with sessions.begin() as session:
        rows = await LifeEventRepo(session).all_rows()
        assert rows == [
            ("lam_dau", "Về làm dâu", "về làm dâu|về nhà chồng", "Đăng ký thường trú"),
            ("nuoi_yen", "Nuôi yến", "nhà yến", "Đăng ký môi trường"),
        ]
        assert await LifeEventRepo(session).remove("nuoi_yen") is True
        assert await LifeEventRepo(session).remove("nuoi_yen") is False


async def test_outbox_claim_is_exclusive(sessions) -> None:  # type: ignore[no-untyped-def]
    """Two senders racing for the same rows never both get one (the restart/scale-out case)."""
    import asyncio

    from aiogram import Bot

    from bot.telegram.outbox import OutboxSender

    async with sessions.begin() as session:
        for i in range(30):
            await enqueue(
                session, chat_id=1000 + i, method="send_message", payload={"text": f"m{i}"}, now=NOW
            )
    bot = Bot("42:TEST")
    try:
        a = OutboxSender(bot, sessions, admin_ids=[], batch=30)
        b = OutboxSender(bot, sessions, admin_ids=[], batch=30)
        claimed_a, claimed_b = await asyncio.gather(a._claim(), b._claim())
    finally:
        await bot.session.close()
    ids_a, ids_b = {r.id for r in claimed_a}, {r.id for r in claimed_b}
    assert not ids_a & ids_b and len(ids_a | ids_b) == 30
    async with sessions() as session:
        statuses = set((await session.scalars(select(OutboxMessage.status))).all())
    assert statuses == {"sending"}


async def test_fsm_storage_in_database(sessions) -> None:  # type: ignore[no-untyped-def]
    storage = SqlAlchemyStorage(sessions)
    key = StorageKey(bot_id=42, chat_id=5001, user_id=5001)
    assert await storage.get_state(key) is None and await storage.get_data(key) == {}
    await storage.set_state(key, "Intake:content")
    await storage.set_data(key, {"draft": {"content": "Nội dung", "attachments": [1, 2]}})
    again = SqlAlchemyStorage(sessions)  # a restarted process
    assert await again.get_state(key) == "Intake:content"
    assert await again.get_data(key) == {"draft": {"content": "Nội dung", "attachments": [1, 2]}}
    await again.set_state(key, None)
    assert await storage.get_state(key) is None


async def test_fsm_in_an_update_costs_one_read_and_one_write_at_commit(sessions) -> None:  # type: ignore[no-untyped-def]
    """In the update's transaction, reads after the first and every write are kept until the
    commit, which writes the conversation with one statement; a rollback writes nothing."""
    from sqlalchemy import event

    from bot.telegram.fsm import current_session

    storage = SqlAlchemyStorage(sessions)
    key = StorageKey(bot_id=42, chat_id=5002, user_id=5002)
    seen: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if "fsm_records" in statement:
            seen.append(statement.split()[0])

    sync_engine = sessions.kw["bind"].sync_engine
    event.listen(sync_engine, "before_cursor_execute", record)

    async def in_update(steps, fail: bool = False) -> None:  # type: ignore[no-untyped-def]
        async with sessions() as session, session.begin():
            token = current_session.set(session)
            try:
                await steps()
                if fail:
                    raise RuntimeError("the handler failed")
            finally:
                current_session.reset(token)

    async def first() -> None:
        assert await storage.get_state(key) is None
        await storage.set_state(key, "Intake:content")
        await storage.set_data(key, {"draft": {"content": "Nội dung"}})
        assert await storage.get_data(key) == {"draft": {"content": "Nội dung"}}

    async def second() -> None:
        data = await storage.get_data(key)
        data["draft"]["name"] = "Lan"
        await storage.set_data(key, data)
        await storage.set_state(key, "Intake:phone")

    async def failing() -> None:
        await storage.set_state(key, "Intake:address")
        await storage.set_data(key, {})

    try:
        await in_update(first)
        assert seen == ["SELECT", "INSERT"]
        seen.clear()
        await in_update(second)
        assert seen == ["SELECT", "UPDATE"]
        seen.clear()
        with pytest.raises(RuntimeError):
            await in_update(failing, fail=True)
        assert seen == ["SELECT"]
        seen.clear()
        await in_update(lambda: storage.get_data(key))
        assert seen == ["SELECT"]  # read only: nothing written
    finally:
        event.remove(sync_engine, "before_cursor_execute", record)
    assert await storage.get_state(key) == "Intake:phone"
    assert await storage.get_data(key) == {"draft": {"content": "Nội dung", "name": "Lan"}}


@pytest.mark.redis
async def test_fsm_storage_in_redis_survives_a_new_connection() -> None:
    from aiogram.fsm.storage.base import DefaultKeyBuilder
    from aiogram.fsm.storage.redis import RedisStorage

    from tests.harness import REDIS_URL

    key = StorageKey(bot_id=42, chat_id=5001, user_id=5001)
    first = RedisStorage.from_url(REDIS_URL, key_builder=DefaultKeyBuilder(with_destiny=True))
    await first.redis.flushdb()
    await first.set_state(key, "Intake:name")
    await first.set_data(key, {"draft": {"name": "Lan"}})
    await first.close()
    second = RedisStorage.from_url(REDIS_URL, key_builder=DefaultKeyBuilder(with_destiny=True))
    try:
        assert await second.get_state(key) == "Intake:name"
        assert await second.get_data(key) == {"draft": {"name": "Lan"}}
    finally:
        await second.redis.flushdb()
        await second.close()


async def test_old_update_ids_are_pruned(sessions) -> None:  # type: ignore[no-untyped-def]
    async with sessions.begin() as session:
        await InboxRepo(session).finish(42, 1, NOW - timedelta(days=3))
        await InboxRepo(session).finish(42, 2, NOW)
    async with sessions.begin() as session:
        assert await InboxRepo(session).prune(NOW - timedelta(days=2)) == 1
        assert await InboxRepo(session).finish(42, 1, NOW) is True  # forgotten
        assert await InboxRepo(session).finish(42, 2, NOW) is False  # still remembered
