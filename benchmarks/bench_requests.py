"""What building a reply's HTTP body costs: the bot's JSON body beside aiogram's own form.

Run: .venv/bin/python benchmarks/bench_requests.py [--rounds 5]

The replies are the procedure cards the bot sends for the bundled KB (each card rendered by
the production template, split as the bot splits it, with its keyboard of related procedures),
as `SendMessage` calls with the bot's defaults (HTML, no link previews). For each call the
body is built the way `JsonBodySession` sends it (bot/telegram/session.py) and the way
aiogram's `AiohttpSession` does (a urlencoded form, every byte of the text percent-encoded in
Python), in the same run, best of --rounds. Not a test.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiogram import Bot  # noqa: E402
from aiogram.client.default import DefaultBotProperties  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.methods import SendMessage  # noqa: E402

from bot.telegram.keyboards import Keyboards  # noqa: E402
from bot.telegram.rendering import Renderer, split_html  # noqa: E402
from bot.telegram.session import JsonBodySession  # noqa: E402
from knowledge.sample import load_procedures_json  # noqa: E402


def cards() -> list[SendMessage]:
    """One call per card part, as the bot answers a question with each bundled procedure."""
    renderer = Renderer(ZoneInfo("Asia/Ho_Chi_Minh"), "vi")
    keyboards = Keyboards(renderer)
    records = load_procedures_json()
    calls = []
    for i, record in enumerate(records):
        parts = split_html(
            renderer.render("procedure_card.html", "vi", p=record, agency_name=record.agency)
        )
        related = [(r.code, r.name) for r in records[i + 1 : i + 4]]
        markup = keyboards.procedure_card("vi", record.code, related)
        for j, part in enumerate(parts):
            last = j == len(parts) - 1
            calls.append(
                SendMessage(chat_id=100_000 + i, text=part, reply_markup=markup if last else None)
            )
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    calls = cards()
    defaults = DefaultBotProperties(parse_mode="HTML", link_preview_is_disabled=True)
    ours, theirs = JsonBodySession(), AiohttpSession()
    bot = Bot("42:TOKEN", session=ours, default=defaults)

    def json_body(call: SendMessage) -> bytes:
        body = ours.build_json(bot, call)
        assert body is not None
        return body.encode()

    def form_body(call: SendMessage) -> bytes:
        # what aiohttp sends for the form aiogram builds: the urlencoded payload's bytes
        return bytes(theirs.build_form_data(bot, call)()._value)

    sizes = sum(len(json_body(c)) for c in calls) / len(calls)
    print(f"{len(calls)} replies (procedure cards), {sizes:,.0f} bytes of JSON each on average")
    heading = f"µs per reply (best of {args.rounds})"
    print(f"{'body':<34}{heading:>28}")
    results = {}
    for name, build in (("JSON (ours)", json_body), ("urlencoded form (aiogram)", form_body)):
        best = float("inf")
        for _ in range(args.rounds):
            started = time.perf_counter()
            for call in calls:
                build(call)
            best = min(best, (time.perf_counter() - started) / len(calls) * 1e6)
        results[name] = best
        print(f"  {name:<32}{best:>28.1f}")
    ratio = results["JSON (ours)"] / results["urlencoded form (aiogram)"]
    print(f"  {'ratio ours / aiogram':<32}{ratio:>27.2f}x")


if __name__ == "__main__":
    main()
