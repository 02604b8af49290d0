"""Database operations: migrations safe from every process at once, housekeeping."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import func, select, text

from bot.app import create_app
from bot.housekeeping import housekeep
from bot.settings import RetentionSettings
from bot.telegram.fsm import SqlAlchemyStorage
from storage.db import create_engine, create_session_factory, migrate
from storage.models import FsmRecord, InboxUpdate, OutboxMessage, RateBooking
from storage.repositories import InboxRepo
from tests.fake_telegram import FakeTelegram
from tests.harness import make_settings


async def test_processes_upgrading_at_once_migrate_once(database_url: str) -> None:
    """`citizen-bot db upgrade` runs on every deploy, from every process as it starts."""
    engines = [create_engine(database_url) for _ in range(4)]
    try:
        await asyncio.gather(*(migrate(e) for e in engines))
        async with engines[0].connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
        assert len(versions) == 1
        await migrate(engines[1])  # and again on the next deploy: nothing to do
    finally:
        for e in engines:
            await e.dispose()


async def test_sqlite_migration_lock_is_a_file_beside_the_database(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/sub/bot.sqlite3")
    try:
        await migrate(engine)
    finally:
        await engine.dispose()
    assert (tmp_path / "sub" / "bot.sqlite3.migrate-lock").exists()


async def test_housekeeping_prunes_what_is_older_than_its_retention(
    server: FakeTelegram, database_url: str
) -> None:
    settings = make_settings(server, database_url)
    settings.retention = RetentionSettings(outbox_days=30, updates_days=2, fsm_days=7)
    app = await create_app(settings)
    try:
        now = app.clock.now()
        async with app.sessions.begin() as session:
            for age, status in ((40, "sent"), (10, "sent"), (40, "failed"), (40, "pending")):
                when = now - timedelta(days=age)
                session.add(
                    OutboxMessage(
                        chat_id=1,
                        method="send_message",
                        payload={"text": f"{age} {status}"},
                        status=status,
                        attempts=1,
                        next_attempt_at=when,
                        created_at=when,
                        sent_at=when if status == "sent" else None,
                        purpose="",
                    )
                )
            repo = InboxRepo(session)
            await repo.finish(42, 1, now - timedelta(days=3))
            await repo.finish(42, 2, now - timedelta(hours=30))
            # Still waiting to be handled: kept however old it is.
            await repo.store(42, [(3, 7, {"update_id": 3})], now - timedelta(days=3))
            session.add(FsmRecord(key="old", state="Intake:content", data={}))
            session.add(FsmRecord(key="new", state="Intake:content", data={}))
            session.add(RateBooking(key="g", at=1.0))
        async with app.sessions.begin() as session:
            old = await session.get(FsmRecord, "old")
            assert old is not None and old.updated_at is not None
            old.updated_at = now - timedelta(days=8)

        deleted = await housekeep(app)
        assert deleted == {
            "outbox": 1,
            "inbox": 1,
            "fsm_records": 1,
            "rate_bookings": 1,
        }
        async with app.sessions() as session:
            left = (await session.scalars(select(OutboxMessage.payload))).all()
            assert sorted(p["text"] for p in left) == ["10 sent", "40 failed", "40 pending"]
            ids = (await session.scalars(select(InboxUpdate.update_id))).all()
            assert sorted(ids) == [2, 3]
            keys = (await session.scalars(select(FsmRecord.key))).all()
            assert list(keys) == ["new"]
        assert (await housekeep(app)) == dict.fromkeys(deleted, 0)
    finally:
        await app.close()


async def test_fsm_rows_remember_when_they_were_written(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/bot.sqlite3")
    await migrate(engine)
    sessions = create_session_factory(engine)
    storage = SqlAlchemyStorage(sessions)
    key = StorageKey(bot_id=42, chat_id=1, user_id=1)
    try:
        await storage.set_state(key, "Intake:content")
        async with sessions() as session:
            row = await session.scalar(select(FsmRecord))
            assert row is not None and row.updated_at is not None
            first = row.updated_at
        await asyncio.sleep(0.01)
        await storage.set_data(key, {"content": "x"})
        async with sessions() as session:
            row = await session.scalar(select(FsmRecord))
            assert row is not None and row.updated_at is not None and row.updated_at > first
            assert await session.scalar(select(func.count()).select_from(FsmRecord)) == 1
    finally:
        await engine.dispose()
