"""Scenarios for the fault suite (short variants in tests/faults, long ones in benchmarks/):
citizens file cases, officials answer and transfer them while Telegram misbehaves, then the
invariants are checked on the database and on what the fake Bot API server holds."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.telegram.callbacks import DraftCB, KindCB
from storage.models import Agency, Case, CaseAttachment, OutboxMessage
from tests.fake_telegram import FakeTelegram, make_callback_update, make_message_update

ADMIN = 999
GROUPS = {"TTPVHCC": -1001111, "STP": -1002222}
OFFICIAL = 7001


def citizen_id(i: int) -> int:
    return 6000 + i


def phone(i: int) -> str:
    return f"09120{i:05d}"


def address(i: int) -> str:
    return f"Số {100 + i} đường Lê Lợi, phường An Hòa"


def intake_updates(i: int, *, photo: bool = False) -> list[dict[str, Any]]:
    """One citizen's whole intake conversation, as Telegram would deliver it."""
    user = citizen_id(i)
    mid = iter(range(10_000 + i * 100, 10_000 + i * 100 + 100))

    def say(text: str | None = None, **kw: Any) -> dict[str, Any]:
        return make_message_update(text, chat_id=user, user_id=user, message_id=next(mid), **kw)

    def tap(data: str) -> dict[str, Any]:
        return make_callback_update(data, user_id=user, chat_id=user, message_id=1)

    steps = [
        say("/phananh"),
        tap(KindCB(kind="phan_anh").pack()),
        say(f"Bộ phận một cửa số {i} yêu cầu nộp thêm giấy tờ không có trong quy định."),
    ]
    if photo:
        steps.append(say(photo_file_id=f"evidence-{i}"))
    steps += [
        tap(DraftCB(action="done").pack()),
        tap(DraftCB(action="skip").pack()),
        say("Nguyễn Thị Dân"),
        say(phone(i)),
        say(address(i)),
        tap(DraftCB(action="submit").pack()),
    ]
    return steps


_numbered: dict[tuple[int, int], dict[str, Any]] = {}


def numbered(server: FakeTelegram, update: dict[str, Any]) -> dict[str, Any]:
    """The update with the message id Telegram would give it now (a chat's messages are
    numbered in order, whoever sends them); the same update delivered again keeps its id."""
    key = (id(server), update["update_id"])
    if key in _numbered:
        return _numbered[key]
    if isinstance(update.get("message"), dict):
        message = dict(update["message"])
        message["message_id"] = server.next_message_id(message["chat"]["id"])
        server.remember(message)
        update = dict(update, message=message)
    _numbered[key] = update
    return update


def bind_updates() -> list[dict[str, Any]]:
    return [
        make_message_update(f"/bind {code}", chat_id=chat, user_id=ADMIN, message_id=1)
        for code, chat in GROUPS.items()
    ]


@dataclass
class Report:
    """What a run left behind, against the invariants."""

    runs: int = 1
    cases: int = 0
    expected_cases: int = 0
    messages: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: int = 0  # extra copies seen on the server
    duplicates_counted: int = 0  # what the outbox recorded as (possibly) duplicated
    leaked: list[str] = field(default_factory=list)
    phantom: list[str] = field(default_factory=list)
    unacknowledged: list[str] = field(default_factory=list)
    double_cases: list[str] = field(default_factory=list)
    faults: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        return (
            f"runs={self.runs} cases={self.cases}/{self.expected_cases} "
            f"messages={self.messages} lost={len(self.lost)} duplicated={self.duplicated} "
            f"(counted {self.duplicates_counted}) leaked={len(self.leaked)} "
            f"phantom={len(self.phantom)} unacknowledged={len(self.unacknowledged)} "
            f"faults={self.faults}"
        )

    def assert_holds(self) -> None:
        assert not self.lost, self.lost[:10]
        assert not self.leaked, self.leaked[:10]
        assert not self.phantom, self.phantom[:10]
        assert not self.unacknowledged, self.unacknowledged[:10]
        assert not self.double_cases, self.double_cases
        # At least once: every extra copy on the server was recorded as a possible duplicate.
        assert self.duplicated <= self.duplicates_counted, self.line()


def _texts(message: dict[str, Any]) -> str:
    return str(message.get("text") or message.get("caption") or "")


async def check(
    sessions: async_sessionmaker[AsyncSession], server: FakeTelegram, citizens: list[int]
) -> Report:
    """The invariants of the issue, on the database and the fake server."""
    report = Report(expected_cases=len(citizens))
    async with sessions() as session:
        cases = list(await session.scalars(select(Case)))
        agencies = {a.code: a.chat_id for a in await session.scalars(select(Agency))}
        rows = list(await session.scalars(select(OutboxMessage)))
        files = list(await session.scalars(select(CaseAttachment)))
    report.cases = len(cases)
    report.messages = sum(1 for r in rows if r.status == "sent")
    report.duplicates_counted = sum(r.duplicates for r in rows)
    by_citizen = Counter(c.citizen_id for c in cases)
    report.double_cases = [str(c) for c, n in by_citizen.items() if n > 1]
    codes = {c.code for c in cases}
    sent = server.sent_messages()
    sent_ids = {(m["chat"]["id"], m["message_id"]) for m in sent}

    # Every expected message delivered once, or recorded as failed with a reason.
    for r in rows:
        if r.status in ("pending", "sending"):
            report.lost.append(f"outbox {r.id} still {r.status}: {r.last_error}")
        elif r.status == "failed" and not r.last_error:
            report.lost.append(f"outbox {r.id} failed without a reason")
        elif (
            r.status == "sent"
            and r.method.startswith("send")
            and (r.chat_id, r.sent_message_id) not in sent_ids
        ):
            report.lost.append(f"outbox {r.id} marked sent but not on the server")

    # Each accepted case acknowledged once (extra copies are the counted duplicates).
    for case in cases:
        acks = [
            m
            for m in sent
            if m["chat"]["id"] == case.citizen_chat_id
            and case.code in _texts(m)
            and "Đã tiếp nhận" in _texts(m)
        ]
        if not acks:
            report.unacknowledged.append(case.code)
        report.duplicated += max(0, len(acks) - 1)
        cards = [
            m
            for m in sent
            if m["chat"]["id"] in GROUPS.values()
            and case.code in _texts(m)
            and "Hạn trả lời" in _texts(m)
        ]
        per_group = Counter(m["chat"]["id"] for m in cards)
        report.duplicated += sum(n - 1 for n in per_group.values())

    # No citizen told of a case that does not exist (messages and toasts).
    told: set[str] = set()
    for m in sent:
        if m["chat"]["id"] in citizens:
            for word in _texts(m).replace(":", " ").split():
                if word.startswith(("PA-", "KN-")):
                    told.add(word.strip(".,;:?!()«»"))
    for call in server.calls_to("answerCallbackQuery"):
        text = str(call.params.get("text") or "")
        if "Mã hồ sơ" in text:
            told.add(text.rsplit(":", 1)[1].strip())
    report.phantom = sorted(told - codes)

    # No personal data in a group other than the case's current agency's.
    evidence = {f.case_id: set() for f in files}
    for f in files:
        evidence[f.case_id].add(f.file_id)
    for case in cases:
        current = agencies.get(case.agency)
        citizen_index = case.citizen_id - 6000
        for (chat, mid), m in server.messages.items():
            if chat not in GROUPS.values() or chat == current:
                continue
            if not m.get("from", {}).get("is_bot"):
                continue
            text = _texts(m)
            if phone(citizen_index) in text or address(citizen_index) in text:
                report.leaked.append(f"{case.code}: details in {chat} message {mid}")
            photo = (m.get("photo") or [{}])[-1].get("file_id")
            if photo and photo in evidence.get(case.id, set()):
                report.leaked.append(f"{case.code}: photo in {chat} message {mid}")
    report.faults = dict(server.storm_.counts) if server.storm_ else {}
    return report


async def officials_work(
    feed: Any, server: FakeTelegram, sessions: async_sessionmaker[AsyncSession], rng: random.Random
) -> None:
    """Officials take, answer or transfer every filed case through real updates."""
    async with sessions() as session:
        cases = list(await session.scalars(select(Case).order_by(Case.id)))
    for n, case in enumerate(cases):
        chat = GROUPS.get(case.agency)
        if chat is None:
            continue
        action = rng.choice(("take", "transfer", "answer"))
        if action == "take":
            await feed(
                make_callback_update(
                    f"c:take:{case.id}", user_id=OFFICIAL, chat_id=chat, message_id=1
                )
            )
        elif action == "transfer" and case.agency == "TTPVHCC":
            await feed(
                make_callback_update(
                    f"ct:{case.id}:STP", user_id=OFFICIAL, chat_id=chat, message_id=1
                )
            )
            await feed(
                make_message_update(
                    "Thuộc lĩnh vực hộ tịch.",
                    chat_id=chat,
                    user_id=OFFICIAL,
                    message_id=900_000 + n,
                    reply_to={
                        "message_id": 1,
                        "from": server.messages.get((chat, 1), {}).get("from")
                        or {"id": 42, "is_bot": True, "first_name": "Bot"},
                        "chat": {"id": chat, "type": "supergroup", "title": "g"},
                        "date": 0,
                        "text": "?",
                    },
                )
            )
        else:
            await feed(
                make_message_update(
                    f"/traloi {case.code} Đã xử lý xong, mời anh chị nhận kết quả.",
                    chat_id=chat,
                    user_id=OFFICIAL,
                    message_id=800_000 + n,
                )
            )


async def drain(sender: Any, sessions: async_sessionmaker[AsyncSession], seconds: float) -> None:
    """Let the outbox finish (retry_after and back-off run in real time)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        await sender.deliver_all()
        async with sessions() as session:
            open_rows = await session.scalar(
                select(OutboxMessage.id)
                .where(OutboxMessage.status.in_(("pending", "sending")))
                .limit(1)
            )
        if open_rows is None:
            return
        await asyncio.sleep(0.3)
