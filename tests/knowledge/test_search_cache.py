"""The built index kept on disk (knowledge/search/cache.py) and the knowledge service using it."""

from __future__ import annotations

import dataclasses
import gc
import logging
import pickle
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.domain.knowledge import KnowledgeService
from knowledge.lexicon import default_lexicon
from knowledge.records import ProcedureRecord
from knowledge.sample import load_procedures_json
from knowledge.search import SearchEngine
from knowledge.search import cache as cache_module
from knowledge.search.cache import KEEP, PREFIX, cached_engine, input_digest
from storage.db import create_engine, create_session_factory, upgrade_if_needed
from storage.repositories import ProcedureRepo
from tests.harness import sqlite_url

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


class Builder:
    """Builds a small engine and counts how often it had to."""

    def __init__(self) -> None:
        self.records = load_procedures_json()[:30]
        self.calls = 0

    def __call__(self) -> SearchEngine:
        self.calls += 1
        return SearchEngine(self.records, default_lexicon())


def test_an_unchanged_index_is_loaded_not_built_and_answers_the_same(tmp_path: Path) -> None:
    build = Builder()
    key = input_digest([build.records], [])
    first = cached_engine(tmp_path, key, build)
    second = cached_engine(tmp_path, key, build)
    assert build.calls == 1
    assert second is not first
    for question in ("lam giay khai sinh", "đăng ký kết hôn", "xin cấp lại"):
        assert [h.code for h in second.search(question).hits] == [
            h.code for h in first.search(question).hits
        ]


def test_any_change_of_the_inputs_gives_another_key(tmp_path: Path) -> None:
    records = load_procedures_json()[:30]
    edited = [dataclasses.replace(records[0], name=records[0].name + " (sửa)"), *records[1:]]
    extra = tmp_path / "extra.tsv"
    extra.write_text("1.001193\tcon moi de\n", encoding="utf-8")
    keys = {
        input_digest([records], []),
        input_digest([edited], []),
        input_digest([records, [("a", "b")]], []),
        input_digest([records], [extra]),
        input_digest([records], [None]),
    }
    extra.write_text("1.001193\tcon moi de xong\n", encoding="utf-8")
    keys.add(input_digest([records], [extra]))
    assert len(keys) == 6
    assert input_digest([records], [extra]) == input_digest([list(records)], [extra])


def test_a_damaged_file_is_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    build = Builder()
    key = input_digest([build.records], [])
    cached_engine(tmp_path, key, build)
    (stored,) = tmp_path.glob(f"{PREFIX}*")
    stored.write_bytes(stored.read_bytes()[:1000])
    with caplog.at_level(logging.WARNING):
        engine = cached_engine(tmp_path, key, build)
    assert build.calls == 2
    assert "damaged" in caplog.text
    assert engine.search("khai sinh").hits
    stored.write_bytes(pickle.dumps({"not": "an engine"}))
    cached_engine(tmp_path, key, build)
    assert build.calls == 3


def test_no_folder_means_always_built(tmp_path: Path) -> None:
    build = Builder()
    cached_engine(None, "k", build)
    cached_engine(None, "k", build)
    assert build.calls == 2


def test_an_unwritable_folder_still_answers(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    build = Builder()
    engine = cached_engine(blocker / "cache", "k", build)
    assert engine.search("khai sinh").hits


def test_only_the_newest_files_are_kept(tmp_path: Path) -> None:
    build = Builder()
    for n in range(KEEP + 3):
        cached_engine(tmp_path, f"{n:032x}{0:032x}", build)
    kept = sorted(p.name for p in tmp_path.glob(f"{PREFIX}*"))
    assert len(kept) == KEEP
    assert f"{PREFIX}{KEEP + 2:032x}.pickle" in kept


async def _database_with_40_procedures(
    tmp_path: Path,
) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession], list[ProcedureRecord]]:
    engine = create_engine(sqlite_url(tmp_path))
    await upgrade_if_needed(engine)
    sessions = create_session_factory(engine)
    records = load_procedures_json()[:40]
    async with sessions.begin() as session:
        await ProcedureRepo(session).upsert(records, NOW)
    return engine, sessions, records


async def test_a_second_process_loads_the_index_and_an_import_builds_a_new_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, sessions, records = await _database_with_40_procedures(tmp_path)
    folder = tmp_path / "cache"
    built: list[int] = []
    real_init = SearchEngine.__init__

    def counting_init(self: SearchEngine, *args: object, **kwargs: object) -> None:
        built.append(1)
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(SearchEngine, "__init__", counting_init)
    try:
        first = KnowledgeService(sessions, cache_dir=folder)
        await first.reload(force=True)
        assert len(built) == 1
        restarted = KnowledgeService(sessions, cache_dir=folder)  # as after a restart
        await restarted.reload(force=True)
        assert len(built) == 1  # loaded from the folder
        assert restarted.search("khai sinh").hits[0].code == first.search("khai sinh").hits[0].code
        async with sessions.begin() as session:
            renamed = dataclasses.replace(records[0], name="Thủ tục thử nghiệm bộ nhớ đệm")
            await ProcedureRepo(session).upsert([renamed], NOW + timedelta(minutes=1))
        await restarted.reload(force=True)
        assert len(built) == 2  # the KB changed: built, not the stale file
        assert restarted.search("thử nghiệm bộ nhớ đệm").hits[0].code == records[0].code
        assert len(list(folder.glob(f"{PREFIX}*"))) == 2
    finally:
        await engine.dispose()


def test_the_fingerprint_covers_the_search_code() -> None:
    assert cache_module.code_fingerprint() == cache_module.code_fingerprint()
    assert len(cache_module.code_fingerprint()) == 64


def test_a_failed_write_leaves_no_half_file_and_a_vanished_file_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = Builder()

    def disk_full(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(cache_module.os, "replace", disk_full)
        assert cached_engine(tmp_path, "a" * 64, build).search("khai sinh").hits
    assert list(tmp_path.iterdir()) == []
    # another process removed a file between the folder's listing and its clean-up
    assert cache_module._mtime(tmp_path / f"{PREFIX}gone.pickle") == 0.0


async def test_a_running_bot_keeps_each_loaded_index_out_of_the_collector(
    tmp_path: Path,
) -> None:
    """A full collection walks every tracked object: with the index tracked, it stopped the
    bot's event loop for 0.3-0.5 s under load. The running bot freezes it (`freeze_heap`)."""
    engine, sessions, records = await _database_with_40_procedures(tmp_path)

    def tracked(obj: object) -> bool:
        return any(o is obj for o in gc.get_objects())

    try:
        command = KnowledgeService(sessions, cache_dir=None)
        await command.reload(force=True)
        # (the index's postings: a dict that lives as long as the index)
        assert tracked(command.snapshot.engine._index.postings)  # a command: left to the collector

        running = KnowledgeService(sessions, cache_dir=None)
        running.freeze_heap = True
        await running.reload(force=True)
        first = running.snapshot.engine
        assert not tracked(first._index.postings)
        async with sessions.begin() as session:
            renamed = dataclasses.replace(records[0], name="Thủ tục thử nghiệm đóng băng")
            await ProcedureRepo(session).upsert([renamed], NOW + timedelta(minutes=1))
        await running.reload(force=True)  # an import: the new index is frozen too
        assert running.snapshot.engine is not first
        assert not tracked(running.snapshot.engine._index.postings)
        assert running.search("thử nghiệm đóng băng").hits[0].code == records[0].code
    finally:
        gc.unfreeze()
        await engine.dispose()
