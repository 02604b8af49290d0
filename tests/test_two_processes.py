"""Two real `citizen-bot run` processes in webhook mode, sharing PostgreSQL and Redis, behind
one webhook URL: the fake Bot API server spreads the updates across them (as a load balancer
would) and one process is killed (SIGKILL) halfway. The bot must behave as one: conversations
continue on the other process, no case is filed twice, nothing is lost, reports go out once."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import IO, Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.telegram.callbacks import DraftCB, KindCB
from storage.db import create_engine, create_session_factory
from storage.models import Case, OutboxMessage
from tests.bot.test_web import free_port
from tests.fake_telegram import FakeTelegram, make_callback_update, make_message_update
from tests.harness import ADMIN, OUR_SETTINGS, POSTGRES_URL, REDIS_URL, reset_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

CITIZENS = 6
NAMES = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", "Hoàng Văn Em",
         "Vũ Thị Giang"]  # fmt: skip
SECRET = "two-processes-secret"


def citizen(i: int) -> int:
    return 6100 + i


def intake(server: FakeTelegram, i: int) -> list[dict[str, Any]]:
    """One citizen's whole intake conversation, as Telegram delivers it."""
    user = citizen(i)
    ids = iter(range(20_000 + i * 100, 20_000 + i * 100 + 100))

    def say(text: str) -> dict[str, Any]:
        return make_message_update(text, chat_id=user, message_id=next(ids))

    def tap(data: str) -> dict[str, Any]:
        # The button is under a message of the bot's (which the handler may edit).
        update = make_callback_update(data, user_id=user, chat_id=user, message_id=next(ids))
        message = dict(update["callback_query"]["message"], text="…")
        message["reply_markup"] = {"inline_keyboard": [[{"text": "…", "callback_data": data}]]}
        server.remember(message)
        return update

    return [
        say("/phananh"),
        tap(KindCB(kind="phan_anh").pack()),
        say(f"Bộ phận một cửa số {i} yêu cầu nộp thêm giấy tờ không có trong quy định."),
        tap(DraftCB(action="done").pack()),
        tap(DraftCB(action="skip").pack()),
        say(NAMES[i % len(NAMES)]),
        say(f"09130{i:05d}"),
        say(f"Số {200 + i} đường Trần Phú, phường An Hòa"),
        tap(DraftCB(action="submit").pack()),
    ]


def start(
    server: FakeTelegram, port: int, workdir: Path, log: IO[bytes]
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(OUR_SETTINGS)}
    env.update(
        BOT_TOKEN=server.token,
        TELEGRAM_API_BASE=server.base_url,
        TELEGRAM_TIMEOUT="3",
        OUTBOX_CLAIM_SECONDS="3",
        DATABASE_URL=POSTGRES_URL,
        REDIS_URL=REDIS_URL,
        ADMIN_IDS=str(ADMIN),
        WEBHOOK_URL="https://bot.example.gov.vn/telegram/webhook",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_PORT=str(port),
        LOG_FORMAT="json",
    )
    script = shutil.which("citizen-bot", path=str(Path(sys.executable).parent))
    command = [script, "run"] if script else [sys.executable, "-m", "bot", "run"]
    return subprocess.Popen(
        command,
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )


async def healthy(port: int, timeout: float = 120) -> dict[str, Any]:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"http://127.0.0.1:{port}/healthz") as response,
            ):
                body = await response.json()
                if response.status == 200:
                    return dict(body)
        except aiohttp.ClientError:
            pass
        if loop.time() > deadline:
            raise TimeoutError(f"process on {port} not healthy")
        await asyncio.sleep(0.2)


async def outbox_rows(status: str) -> list[int]:
    engine = create_engine(POSTGRES_URL)
    try:
        async with create_session_factory(engine)() as session:
            ids = await session.scalars(
                select(OutboxMessage.id).where(OutboxMessage.status == status)
            )
            return list(ids)
    finally:
        await engine.dispose()


async def outbox_drained(timeout: float = 30) -> None:  # noqa: ASYNC109
    engine = create_engine(POSTGRES_URL)
    sessions = create_session_factory(engine)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while True:
            async with sessions() as session:
                waiting = await session.scalar(
                    select(func.count()).where(OutboxMessage.status.in_(("pending", "sending")))
                )
            if not waiting:
                return
            if loop.time() > deadline:
                raise TimeoutError(f"{waiting} outbox messages still undelivered")
            await asyncio.sleep(0.3)
    finally:
        await engine.dispose()


async def test_two_processes_behave_as_one_bot_when_one_is_killed_halfway(
    server: FakeTelegram, tmp_path: Path
) -> None:
    await reset_postgres()
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    await redis.aclose()

    ports = [free_port(), free_port()]
    backends = [f"http://127.0.0.1:{p}/telegram/webhook" for p in ports]
    server.webhook_backends = list(backends)
    # Both start at once on an empty database: the migration and the sample take turns.
    logs = [tmp_path / "p0.log", tmp_path / "p1.log"]
    files = [path.open("wb") for path in logs]
    processes = [start(server, port, tmp_path, f) for port, f in zip(ports, files, strict=True)]
    scripts = [intake(server, i) for i in range(CITIZENS)]
    done, rest = CITIZENS // 2, 5  # three whole conversations; the others' first five steps
    before = [u for step in range(len(scripts[0])) for u in (s[step] for s in scripts[:done])]
    before += [u for step in range(rest) for u in (s[step] for s in scripts[done:])]
    after = [u for step in range(rest, len(scripts[0])) for u in (s[step] for s in scripts[done:])]
    try:
        await asyncio.gather(*(healthy(p) for p in ports))
        webhook = await server.wait_for("setWebhook", timeout=10)
        assert webhook.params["secret_token"] == SECRET
        # Telegram is slow to deliver to the admins (where a case of an agency without a group
        # is announced): both processes' outbox workers are busy sending when one dies.
        server.delay_next("sendMessage", 1.5, times=None, chat_id=ADMIN)
        server.push_updates(before)
        await server.wait_delivered(timeout=40)
        # The first process leaves the load balancer and is killed mid-delivery.
        server.webhook_backends = backends[1:]
        await asyncio.sleep(0.5)
        in_delivery = await outbox_rows("sending")
        processes[0].send_signal(signal.SIGKILL)
        processes[0].wait()
        server.push_updates(after)  # the other conversations go on, on the other process
        await server.wait_delivered(timeout=40)
        await asyncio.sleep(0.5)
        server.clear_faults()
        await outbox_drained(timeout=40)

        engine = create_engine(POSTGRES_URL)
        try:
            async with create_session_factory(engine)() as session:
                cases = (await session.scalars(select(Case))).all()
                report_rows = (
                    await session.scalars(
                        select(OutboxMessage).where(
                            OutboxMessage.chat_id == ADMIN,
                            OutboxMessage.purpose.like("report_%"),
                        )
                    )
                ).all()
        finally:
            await engine.dispose()
        # Every citizen filed exactly one case.
        assert sorted(c.citizen_id for c in cases) == [citizen(i) for i in range(CITIZENS)]
        codes = {c.code for c in cases}
        sent = [c for c in server.calls_to("sendMessage") if c.ok]
        for case in cases:
            # Nothing lost: the citizen was told the code, the admins learned of the case.
            told = [
                c for c in sent if c.chat_id == case.citizen_id and case.code in c.params["text"]
            ]
            assert told, f"{case.citizen_id} never got {case.code}"
            alerted = [c for c in sent if c.chat_id == ADMIN and case.code in text(c)]
            assert alerted, f"the admins never heard of {case.code}"
        assert in_delivery, "nothing was being delivered when the process died"
        # Both processes served updates, and conversations moved between them.
        served: dict[int, str] = {}
        for d in server.webhook_deliveries:
            if d.status == 200:
                served[d.update_id] = d.url
        assert set(served.values()) == set(backends)
        assert len(served) == len(before) + len(after)
        assert any({served[u["update_id"]] for u in script} == set(backends) for script in scripts)
        # The reports of the day (if one is due today) were queued once, not once per process
        # (a copy in flight when its process died may be delivered twice: the documented
        # at-least-once window, counted on the row).
        queued = Counter((r.purpose, r.payload.get("text", "")) for r in report_rows)
        assert all(n == 1 for n in queued.values()), queued
        reports = Counter(
            c.params["text"]
            for c in sent
            if c.chat_id == ADMIN and not any(code in c.params["text"] for code in codes)
        )
        assert all(n == 1 or _counted(report_rows, text) for text, n in reports.items()), reports
        assert (await healthy(ports[1]))["status"] == "ok"
        # One JSON line per update, with its latency.
        lines = [json.loads(x) for x in logs[1].read_text().splitlines() if x.startswith("{")]
        assert any("latency_ms" in line for line in lines)
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for f in files:
            f.close()


def text(call: Any) -> str:
    return str(call.params.get("text", ""))


def _counted(rows: Any, text: str) -> bool:
    """A report delivered twice was a copy in flight at the kill, recorded as such."""
    return any(r.payload.get("text") == text and (r.duplicates or r.unsure) for r in rows)
