"""What every update reads before its handler runs: the person's conversation (FSM), their
language and the admins, in one statement on the update's own connection."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event

from tests.fake_telegram import FakeTelegram
from tests.harness import ADMIN, CITIZEN, Harness

# The tables read for the update's context (the inbox and the knowledge base are not).
_CONTEXT_TABLES = re.compile(r"\b(fsm_records|citizens|admins)\b", re.IGNORECASE)


@contextmanager
def statements(h: Harness) -> Iterator[list[str]]:
    """The SQL statements the bot's engine runs inside the block."""
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(" ".join(statement.split()))

    engine = h.app.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def context_reads(seen: list[str]) -> list[str]:
    return [s for s in seen if s.upper().startswith("SELECT") and _CONTEXT_TABLES.search(s)]


async def test_a_question_reads_its_context_in_one_statement(harness: Harness) -> None:
    # Before: three statements (the conversation, the language, the admins), each a round
    # trip and ~125 µs of SQLAlchemy on the busiest path of the bot.
    await harness.say("/lang")  # the citizen exists, with a stored language below
    await harness.press("English")
    with statements(harness) as seen:
        await harness.say("birth registration", deliver=False)
    assert len(context_reads(seen)) == 1, context_reads(seen)


async def test_a_filing_step_reads_its_context_in_one_statement(harness: Harness) -> None:
    await harness.say("/phananh")
    await harness.press("Phản ánh")
    with statements(harness) as seen:
        await harness.say("Bộ phận một cửa yêu cầu nộp thêm giấy tờ không có trong quy định.")
    assert len(context_reads(seen)) == 1, context_reads(seen)
    # The step moved the conversation on: its one write, when the update commits.
    writes = [s for s in seen if re.match(r"(UPDATE|INSERT INTO) fsm_records", s, re.I)]
    assert len(writes) == 1, writes


async def test_the_context_read_in_one_statement_is_the_stored_one(
    server: FakeTelegram, database_url: str, tmp_path: Path
) -> None:
    """On both databases (PostgreSQL types each column of the combined read): a conversation
    in progress, a chosen language and an admin added from Telegram are all seen."""
    h = await Harness.start(server, database_url)
    try:
        only_admins = h.app.renderer.t("admin.only_admins", "vi")
        helper = 4343
        await h.say("/stats", user=helper)
        assert h.last_text(helper) == only_admins  # not an admin yet
        await h.say(f"/admins add {helper} Anh Nam", user=ADMIN)
        await h.say("/stats", user=helper)  # the added admin is one on the next update
        assert h.last_text(helper) != only_admins

        already = h.app.renderer.t("intake.already", "en")
        assert already != h.app.renderer.t("intake.already", "vi")
        await h.say("/lang")
        await h.press("English")
        await h.say("/phananh")  # a draft begun
        assert h.last_text(CITIZEN) != already
        await h.say("/phananh")  # its stored conversation and language are read
        assert h.last_text(CITIZEN) == already
        await h.say("/cancel")
        await h.say("/phananh")
        assert h.last_text(CITIZEN) != already
    finally:
        await h.close()
