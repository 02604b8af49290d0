"""Updates under load: `citizen-bot run` beside a bare aiogram echo bot, on the same fake
Bot API server, in the same run.

Run: .venv/bin/python benchmarks/bench_updates.py [--questions 2000] [--filings 200]
     [--rate 100] [--seconds 20] [--only questions,filings,paced,first] [--against REV]

Each bot runs as its own process, as a user runs it (`python -m bot run` with BOT_TOKEN and
TELEGRAM_API_BASE, SQLite in a fresh temporary folder; `benchmarks/echo_bot.py`), long polling
tests/fake_telegram.py served from this process. Scenarios, each on a fresh server and a
fresh bot process, the echo bot first:

- questions: a burst of N questions from N citizens pushed at once; updates/s until the last
  one is answered, and how many were never answered (lost). Beside it, the bot process's CPU
  time per update (all threads, from /proc), which the machine's other work disturbs far less
  than wall time.
- filings: K citizens each walking the whole intake conversation (9 updates: /phananh, kind,
  content, no files, no procedure, name, phone, address, submit), all pushed at once; updates/s
  until every step is answered, and when the acknowledgements with the tracking code arrive.
- paced: questions and filing steps at a steady RATE updates/s for SECONDS; update-to-reply
  latency (p50/p95/max) and, for filings, submit-to-acknowledgement delay.
- first: one question waiting before the process starts; seconds from start to the answer.
  Ours twice: as deployed (the KB import before the start kept the built search index,
  SEARCH_CACHE_DIR) and with no index kept (SEARCH_CACHE_DIR=off: it is built at start).

The bot is given the bundled 204 procedures as the province's KB (`kb import`, after the
agencies import that replaces the demo data), so questions are searched as in production.

--against REV also runs the bot of an earlier commit (checked out with `git worktree` into a
temporary folder, on the same interpreter and packages) in every scenario, right after the echo
bot and before ours, and prints its figures in a "before" column: a change is compared with the
code before it in the same run, since runs minutes apart on a shared machine differ by more than
most changes.

Not a test: it prints the figures side by side with the echo bot's.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# The earlier commit's checkout, for the "before" bot (--against); None: not compared.
BEFORE_ROOT: Path | None = None

from tests.fake_telegram import (  # noqa: E402
    FakeTelegram,
    make_callback_update,
    make_message_update,
    next_update_id,
)

GROUP = -1009000000
QUESTION_USERS = 100_000
FILING_USERS = 300_000
WARMUP_USER = 99_999
REPLY_METHODS = {
    "sendMessage",
    "sendPhoto",
    "sendDocument",
    "sendMediaGroup",
    "editMessageText",
    "editMessageReplyMarkup",
    "answerCallbackQuery",
}


def questions() -> list[str]:
    """Real questions (and chit-chat) from the labelled set, in a fixed order."""
    path = ROOT / "knowledge" / "data" / "eval_questions.jsonl"
    return [json.loads(line)["q"] for line in path.read_text("utf-8").splitlines() if line]


def in_order(updates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Renumber updates in the order they are pushed: Telegram's update ids grow in the
    order updates happen, and a confirmed offset drops every lower id."""
    for update in updates:
        update["update_id"] = next_update_id()
    return updates


def filing_steps(user: int, n: int) -> list[dict[str, Any]]:
    """The nine updates of one citizen filing a case, pressing the buttons the bot offers."""

    def say(text: str) -> dict[str, Any]:
        return make_message_update(text, chat_id=user)

    def press(data: str) -> dict[str, Any]:
        # Under a message the fake server has not seen: editing its buttons always works.
        return make_callback_update(data, user_id=user, chat_id=user, message_id=999_999)

    return [
        say("/phananh"),
        press("fk:phan_anh"),
        say(f"Bộ phận một cửa yêu cầu nộp thêm bản sao giấy tờ không có trong quy định, số {n}."),
        press("fd:done:"),
        press("fd:skip:"),
        say("Nguyễn Thị Lan"),
        say("0912 345 678"),
        say("12 Lê Lợi, phường An Hòa"),
        press("fd:submit:"),
    ]


@dataclass
class Replies:
    """Indexes the fake server's calls by chat as they come in."""

    server: FakeTelegram
    callback_chat: dict[str, int] = field(default_factory=dict)
    by_chat: dict[int, list[tuple[float, str, str]]] = field(default_factory=dict)
    seen: int = 0  # calls looked at
    replies: int = 0  # of which replies (polling calls do not count as activity)

    def track(self, update: dict[str, Any]) -> int:
        if "callback_query" in update:
            cq = update["callback_query"]
            self.callback_chat[cq["id"]] = cq["message"]["chat"]["id"]
            return int(cq["message"]["chat"]["id"])
        return int(update["message"]["chat"]["id"])

    def update(self) -> None:
        calls = self.server.calls
        for call in calls[self.seen :]:
            if not call.ok or call.method not in REPLY_METHODS:
                continue
            if call.method == "answerCallbackQuery":
                chat = self.callback_chat.get(str(call.params.get("callback_query_id")))
                text = str(call.params.get("text") or "")
            else:
                chat = call.params.get("chat_id")
                text = str(call.params.get("text") or "")
            if isinstance(chat, int):
                self.by_chat.setdefault(chat, []).append((call.at, call.method, text))
                self.replies += 1
        self.seen = len(calls)

    def first_after(
        self, chat: int, t: float, match: Callable[[str, str], bool] | None = None
    ) -> float | None:
        for at, method, text in self.by_chat.get(chat, ()):
            if at >= t and (match is None or match(method, text)):
                return at
        return None


class BotProcess:
    """`python -m bot run` (ours, or "before": the code of --against's commit) or
    benchmarks/echo_bot.py, polling the fake server."""

    def __init__(self, kind: str, server: FakeTelegram, workdir: Path) -> None:
        self.kind, self.server, self.workdir = kind, server, workdir
        self.root = BEFORE_ROOT if kind == "before" and BEFORE_ROOT else ROOT
        self.proc: asyncio.subprocess.Process | None = None
        self.env = {
            **os.environ,
            "BOT_TOKEN": server.token,
            "TELEGRAM_API_BASE": server.base_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/bot.sqlite3",
            "PYTHONPATH": str(self.root),  # ahead of the editable install's own path
        }
        self.env.pop("REDIS_URL", None)

    async def prepare(self) -> None:
        """Ours: bind every agency to a group, as a deployment does before going live."""
        if self.kind == "echo":
            return
        agencies = json.loads((ROOT / "knowledge/data/agencies.json").read_text("utf-8"))
        for i, agency in enumerate(agencies):
            agency["chat_id"] = GROUP - i
        path = self.workdir / "agencies.json"
        path.write_text(json.dumps(agencies, ensure_ascii=False), "utf-8")
        env = {key: value for key, value in self.env.items() if key != "BOT_TOKEN"}
        # A real agency list replaces the bundled demo, procedures included: import the bundled
        # procedures as the province's own, so questions are searched on the 204-procedure KB.
        for command in (
            ["agencies", "import", str(path)],
            ["kb", "import", str(ROOT / "knowledge/data/procedures.json")],
        ):
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", *command,
                env=env, cwd=self.workdir,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            if await proc.wait() != 0:
                raise RuntimeError(f"{' '.join(command)} failed")

    async def start(self) -> float:
        """Start the process; the moment it was started (monotonic)."""
        args = (
            [sys.executable, "-m", "bot", "run"]
            if self.kind != "echo"
            else [sys.executable, str(ROOT / "benchmarks" / "echo_bot.py")]
        )
        log = (self.workdir / f"{self.kind}.log").open("wb")
        started = time.monotonic()
        self.proc = await asyncio.create_subprocess_exec(
            *args, env=self.env, cwd=self.workdir, stdout=log, stderr=log
        )
        return started

    def cpu_seconds(self) -> float:
        """CPU time the process used so far, all threads (user + system; Linux /proc): a
        figure the other work on a shared machine disturbs far less than wall time."""
        if self.proc is None:
            return float("nan")
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def ready(self, within: float = 120.0) -> None:
        """Wait until it answers a first message (its startup is not measured)."""
        probe = make_message_update("/start", chat_id=WARMUP_USER)
        self.server.push_update(probe)
        await self.server.wait_for(
            lambda c: c.method == "sendMessage" and c.params.get("chat_id") == WARMUP_USER,
            timeout=within,
        )

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.terminate()
        try:
            await asyncio.wait_for(self.proc.wait(), 15)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


@contextlib.asynccontextmanager
async def running(kind: str, *, start: bool = True):  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory(prefix=f"bench-{kind}-") as tmp:
        async with FakeTelegram() as server:
            bot = BotProcess(kind, server, Path(tmp))
            await bot.prepare()
            try:
                if start:
                    await bot.start()
                    await bot.ready()
                yield server, bot
            finally:
                await bot.stop()


async def wait_until(
    check: Callable[[], bool], replies: Replies, within: float, quiet: float
) -> None:
    """Until `check()` holds, or nothing new happened for `quiet` seconds, or `within`."""
    deadline = time.monotonic() + within
    last_seen, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        replies.update()
        if check():
            return
        if replies.replies != last_seen:
            last_seen, last_change = replies.replies, time.monotonic()
        elif time.monotonic() - last_change > quiet:
            return
        await asyncio.sleep(0.05)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


# ---- scenarios ---------------------------------------------------------------------------
async def burst_questions(kind: str, n: int) -> dict[str, float]:
    texts = questions()
    async with running(kind) as (server, bot):
        replies = Replies(server)
        updates = [
            make_message_update(texts[i % len(texts)], chat_id=QUESTION_USERS + i) for i in range(n)
        ]
        chats = [replies.track(u) for u in updates]
        cpu0 = bot.cpu_seconds()
        t0 = time.monotonic()
        server.push_updates(updates)

        def answered() -> list[float]:
            return [t for c in chats if (t := replies.first_after(c, t0)) is not None]

        await wait_until(lambda: len(answered()) >= n, replies, within=600, quiet=60)
        cpu = bot.cpu_seconds() - cpu0
        done = answered()
        elapsed = (max(done) - t0) if done else float("nan")
        return {
            "updates_per_s": len(done) / elapsed,
            "answered": len(done),
            "lost": n - len(done),
            "cpu_ms": 1000 * cpu / max(len(done), 1),
        }


async def burst_filings(kind: str, k: int) -> dict[str, float]:
    async with running(kind) as (server, bot):
        replies = Replies(server)
        steps = [filing_steps(FILING_USERS + i, i) for i in range(k)]
        # Step by step across citizens: everyone is somewhere in the conversation at once.
        updates = in_order([s[j] for j in range(9) for s in steps])
        for u in updates:
            replies.track(u)
        users = [FILING_USERS + i for i in range(k)]
        cpu0 = bot.cpu_seconds()
        t0 = time.monotonic()
        server.push_updates(updates)

        def replies_count(chat: int) -> int:
            return len(replies.by_chat.get(chat, ()))

        def submitted(chat: int) -> float | None:
            return replies.first_after(
                chat, t0, lambda m, t: m == "answerCallbackQuery" and "Mã hồ sơ" in t
            )

        def acked(chat: int) -> float | None:
            return replies.first_after(
                chat, t0, lambda m, t: m == "sendMessage" and "Mã hồ sơ" in t
            )

        if kind == "echo":
            total = 9 * k

            def finished() -> bool:
                return sum(replies_count(u) for u in users) >= total

            await wait_until(finished, replies, within=600, quiet=60)
            last = max((at for u in users for at, _, _ in replies.by_chat.get(u, ())), default=t0)
            handled = sum(min(replies_count(u), 9) for u in users)
            return {
                "updates_per_s": handled / (last - t0),
                "answered": handled,
                "lost": total - handled,
                "cpu_ms": 1000 * (bot.cpu_seconds() - cpu0) / max(handled, 1),
            }

        await wait_until(
            lambda: all(submitted(u) is not None for u in users), replies, within=600, quiet=60
        )
        done = [t for u in users if (t := submitted(u)) is not None]
        cpu = bot.cpu_seconds() - cpu0  # until the last submit is answered, as updates/s
        elapsed = (max(done) - t0) if done else float("nan")
        await wait_until(lambda: all(acked(u) is not None for u in users), replies, 600, 60)
        delays = [a - s for u in users if (s := submitted(u)) and (a := acked(u))]
        return {
            "updates_per_s": 9 * len(done) / elapsed,
            "answered": 9 * len(done),
            "lost": 9 * (k - len(done)),
            "cpu_ms": 1000 * cpu / max(9 * len(done), 1),
            "ack_p95_s": pct(delays, 0.95),
            "ack_max_s": max(delays) if delays else float("nan"),
            "acks": len(delays),
        }


async def paced(kind: str, rate: float, seconds: float) -> dict[str, float]:
    """Questions and filing steps, half each, at `rate` updates/s for `seconds` (plus the
    9 s it takes the last filers to finish); a citizen's next step a second after the last."""
    texts = questions()
    async with running(kind) as (server, bot):
        replies = Replies(server)
        schedule: list[tuple[float, dict[str, Any], str]] = []
        # A filer sends a step a second for 9 s: one starting every 18/rate s keeps rate/2
        # filing steps a second going.
        filer_gap = 18.0 / rate
        for i in range(int(seconds / filer_gap)):
            for j, update in enumerate(filing_steps(FILING_USERS + i, i)):
                schedule.append((i * filer_gap + j, update, "submit" if j == 8 else "step"))
        for i in range(int((seconds + 9) * rate / 2)):
            update = make_message_update(texts[i % len(texts)], chat_id=QUESTION_USERS + i)
            schedule.append((i * 2.0 / rate, update, "question"))
        schedule.sort(key=lambda item: item[0])
        in_order([update for _, update, _ in schedule])
        pushed: list[tuple[float, int, str]] = []
        cpu0 = bot.cpu_seconds()
        t0 = time.monotonic()
        for offset, update, what in schedule:
            delay = t0 + offset - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            chat = replies.track(update)
            pushed.append((time.monotonic(), chat, what))
            server.push_update(update)
        steady = [p for p in pushed if t0 + 9 <= p[0] < t0 + seconds]

        def latency(item: tuple[float, int, str]) -> float | None:
            at = replies.first_after(item[1], item[0])
            return None if at is None else at - item[0]

        await wait_until(lambda: all(latency(p) is not None for p in pushed), replies, 120, 20)
        timed = [(p[2], x) for p in pushed if (x := latency(p)) is not None]
        lat = [x for _, x in timed]
        cpu = bot.cpu_seconds() - cpu0  # the bot's CPU for the whole run, all threads
        result = {
            "cpu_ms": 1000 * cpu / max(len(lat), 1),
            "busy": cpu / (time.monotonic() - t0),
            "rate": len(steady) / max(seconds - 9, 1),
            "p50_ms": pct(lat, 0.5) * 1000,
            "p95_ms": pct(lat, 0.95) * 1000,
            "max_ms": max(lat) * 1000 if lat else float("nan"),
            "lost": len(pushed) - len(lat),
            "pushed": len(pushed),
        }
        # which updates wait longest: a question, a filing step, or the submit
        for what in ("question", "step", "submit"):
            result[f"p95_{what}_ms"] = pct([x for w, x in timed if w == what], 0.95) * 1000
        if kind != "echo":
            submits = [p for p in pushed if p[2] == "submit"]

            def ack(item: tuple[float, int, str]) -> float | None:
                at = replies.first_after(
                    item[1], item[0], lambda m, t: m == "sendMessage" and "Mã hồ sơ" in t
                )
                return None if at is None else at - item[0]

            await wait_until(lambda: all(ack(p) is not None for p in submits), replies, 120, 20)
            acks = [x for p in submits if (x := ack(p)) is not None]
            result.update(
                ack_p95_s=pct(acks, 0.95),
                ack_max_s=max(acks) if acks else float("nan"),
                acks=len(acks),
                filings=len(submits),
            )
        return result


async def first_answer(kind: str, *, kept_index: bool = True) -> dict[str, float]:
    async with running(kind, start=False) as (server, bot):
        if not kept_index:
            bot.env["SEARCH_CACHE_DIR"] = "off"
        replies = Replies(server)
        update = make_message_update("đăng ký khai sinh cần giấy tờ gì", chat_id=QUESTION_USERS)
        chat = replies.track(update)
        server.push_update(update)
        started = await bot.start()
        await wait_until(lambda: replies.first_after(chat, 0) is not None, replies, 120, 120)
        at = replies.first_after(chat, 0)
        return {"seconds": (at - started) if at else float("nan")}


# ---- report ------------------------------------------------------------------------------
def row(
    name: str,
    echo: float,
    ours: float,
    goal: str = "",
    unit: str = "",
    before: float | None = None,
) -> str:
    ratio = ours / echo if echo and echo == echo and ours == ours else float("nan")
    then = ""
    if BEFORE_ROOT is not None:  # a blank where the earlier commit was not run
        then = f" {before:>10.1f}{unit:<3}" if before is not None else " " * 14
    values = f"{echo:>10.1f}{unit:<3}{then} {ours:>10.1f}{unit:<3}"
    return f"  {name:<34} {values} {ratio:>7.2f}x  {goal}"


@contextlib.contextmanager
def checkout(rev: str):  # type: ignore[no-untyped-def]
    """The code of commit `rev` in a temporary worktree (removed afterwards), compiled as
    deployed; refuses a checkout whose `bot` package would not be the one imported."""
    with tempfile.TemporaryDirectory(prefix="bench-before-") as tmp:
        where = Path(tmp) / "code"
        git = ["git", "-C", str(ROOT)]
        subprocess.run([*git, "worktree", "add", "--detach", str(where), rev], check=True)
        try:
            env = {**os.environ, "PYTHONPATH": str(where)}
            found = subprocess.run(
                [sys.executable, "-c", "import bot; print(bot.__file__)"],
                env=env, cwd=tmp, capture_output=True, text=True, check=True,
            ).stdout.strip()  # fmt: skip
            if not Path(found).resolve().is_relative_to(where.resolve()):
                raise SystemExit(f"--against: python imports bot from {found}, not {where}")
            for package in ("bot", "handlers", "knowledge", "storage"):
                compileall.compile_dir(where / package, quiet=1)
            yield where
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(where)], check=False)


async def main() -> None:
    global BEFORE_ROOT
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # As deployed: bytecode compiled (make setup does it; pip does it for installed packages).
    for package in ("bot", "handlers", "knowledge", "storage"):
        compileall.compile_dir(ROOT / package, quiet=1)
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--filings", type=int, default=200)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--only", default="questions,filings,paced,first")
    parser.add_argument(
        "--against", metavar="REV", help="also run the bot of this commit (a 'before' column)"
    )
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        if args.against:
            BEFORE_ROOT = stack.enter_context(checkout(args.against))
        await report(args)


def print_burst(e: dict[str, float], b: dict[str, float], o: dict[str, float], goal: str) -> None:
    """A burst's rows: echo, before (if compared), ours."""
    print(
        row("updates/s", e["updates_per_s"], o["updates_per_s"], goal, "", b.get("updates_per_s"))
    )
    print(row("CPU per update", e["cpu_ms"], o["cpu_ms"], "", "ms", b.get("cpu_ms")))
    print(row("lost (never answered)", e["lost"], o["lost"], "0", before=b.get("lost")))


async def report(args: argparse.Namespace) -> None:
    only = set(args.only.split(","))
    compared = BEFORE_ROOT is not None
    then = f" {'before':>12}" if compared else ""
    print(f"{'':<36} {'echo':>12}{then} {'ours':>12} {'ratio':>8}  goal")
    if compared:
        print(f"  (before: {args.against}; ratio: ours / echo)")

    async def both(scenario: Callable[..., Any], *more: Any) -> tuple[Any, Any, Any]:
        e = await scenario("echo", *more)
        b = await scenario("before", *more) if compared else {}
        return e, b, await scenario("ours", *more)

    if "questions" in only:
        e, b, o = await both(burst_questions, args.questions)
        print(f"burst of {args.questions} questions")
        print_burst(e, b, o, "ours >= 0.5x echo")
    if "filings" in only:
        e, b, o = await both(burst_filings, args.filings)
        print(f"burst of {args.filings} filings ({9 * args.filings} updates)")
        print_burst(e, b, o, "ours >= 0.3x echo")
        for who, r in (("before", b), ("ours", o)) if compared else (("", o),):
            print(
                f"  {who + ': ' if who else ''}acknowledgements delivered: {r['acks']:.0f}/"
                f"{args.filings}, after the submit p95 {r['ack_p95_s']:.1f} s, "
                f"max {r['ack_max_s']:.1f} s"
            )
    if "paced" in only:
        e, b, o = await both(paced, args.rate, args.seconds)
        print(
            f"paced: {o['rate']:.0f} updates/s (from 9 s to {args.seconds:.0f} s; "
            f"{o['pushed']:.0f} in all), half of them filing steps"
        )
        print(row("update-to-reply p50", e["p50_ms"], o["p50_ms"], "", "ms", b.get("p50_ms")))
        print(
            row(
                "update-to-reply p95", e["p95_ms"], o["p95_ms"], "ours <= 50 ms", "ms",
                b.get("p95_ms"),
            )
        )  # fmt: skip
        print(row("update-to-reply max", e["max_ms"], o["max_ms"], "", "ms", b.get("max_ms")))
        for who, r in (("before", b), ("ours", o)) if compared else (("ours", o),):
            print(
                f"  {who}, p95 by kind: "
                + ", ".join(
                    f"{w} {r[f'p95_{w}_ms']:.1f} ms" for w in ("question", "step", "submit")
                )
            )
        print(row("CPU per update", e["cpu_ms"], o["cpu_ms"], "", "ms", b.get("cpu_ms")))
        busy = f"before {100 * b['busy']:.0f}%, " if compared else ""
        print(
            f"  the bot's CPU busy: echo {100 * e['busy']:.0f}%, {busy}ours {100 * o['busy']:.0f}%"
            " of a core over the run (at 100% it cannot keep up: the replies queue)"
        )
        print(row("lost", e["lost"], o["lost"], "0", before=b.get("lost")))
        for who, r in (("before", b), ("ours", o)) if compared else (("", o),):
            print(
                f"  {who + ': ' if who else ''}acknowledgements: {r['acks']:.0f}/"
                f"{r['filings']:.0f}, submit to delivery p95 {r['ack_p95_s']:.2f} s, "
                f"max {r['ack_max_s']:.2f} s  (goal <= 2 s)"
            )
    if "first" in only:
        e, b, o = await both(first_answer)
        cold = await first_answer("ours", kept_index=False)
        print("first answer after start (a question waiting)")
        print(
            row("seconds, index kept", e["seconds"], o["seconds"], "ours <= 3 s", "s",
                b.get("seconds"))
        )  # fmt: skip
        print(row("seconds, index built at start", e["seconds"], cold["seconds"], "", "s"))
    print(f"(machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
