"""The warm-up: what the first citizens after a start would otherwise wait for is loaded in a
thread once the bot polls, not on the event loop by the first question, address or case."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import subprocess
import sys
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import warmup
from bot.telegram.rendering import Renderer
from knowledge.places import load_gazetteer
from tests.fake_telegram import FakeTelegram, make_message_update
from tests.harness import CITIZEN, make_settings, sqlite_url
from tests.test_polling import polling, until

ROOT = Path(__file__).resolve().parents[2]


async def test_a_started_bot_loads_the_places_before_anyone_gives_an_address(
    server: FakeTelegram, tmp_path: Path
) -> None:
    # Before: the province's communes were loaded by the first address a citizen typed in a
    # filing, on the event loop (0.1 s that every update behind it waited too).
    load_gazetteer.cache_clear()
    settings = make_settings(server, sqlite_url(tmp_path))
    async with polling(settings):
        server.push_update(make_message_update("/start", chat_id=CITIZEN))
        await server.wait_for(lambda c: c.method == "sendMessage", timeout=20)
        await until(lambda: load_gazetteer.cache_info().currsize > 0, within=20)
    assert load_gazetteer.cache_info().currsize == 1  # the configured province's


async def test_what_the_warm_up_loaded_is_kept_out_of_the_collectors_reach(
    server: FakeTelegram, tmp_path: Path
) -> None:
    # Before: the places (~95,000 objects) were loaded after the start had frozen the heap, and
    # every full collection walked them again (~25 ms, each reply being handled waiting).
    load_gazetteer.cache_clear()
    settings = make_settings(server, sqlite_url(tmp_path))
    assert settings.bot.province_code
    async with polling(settings):
        await until(lambda: load_gazetteer.cache_info().currsize > 0, within=20)
        places = load_gazetteer(settings.bot.province_code)

        def frozen() -> bool:
            # gc.get_objects() lists what the collector walks; frozen objects are not in it.
            return not any(o is places for o in gc.get_objects())

        await until(frozen, within=20)
        assert frozen()


async def test_the_warm_up_runs_beside_the_event_loop_and_compiles_every_template() -> None:
    renderer = Renderer(ZoneInfo("Asia/Ho_Chi_Minh"))
    threads: list[int] = []
    real = warmup.warm_up_now

    def recorded(province: str | None, r: Renderer | None = None) -> dict[str, float]:
        threads.append(threading.get_ident())
        return real(province, r)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(warmup, "warm_up_now", recorded)
        took = await warmup.warm_up("68", renderer)
    assert threads and threads[0] != threading.get_ident()
    assert set(took) == {"numpy", "templates", "places", "holidays"}
    cached = {key[1] for key in renderer.env.cache} if renderer.env.cache else set()
    assert cached == set(renderer.env.list_templates())
    assert "vi" in renderer.fluent


async def test_a_part_that_fails_is_logged_and_the_others_still_load(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loaded: list[str] = []

    def broken() -> None:
        raise RuntimeError("no data")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(
            warmup,
            "steps",
            lambda province, renderer=None: [
                ("broken", broken),
                ("other", lambda: loaded.append("other")),
            ],
        )
        with caplog.at_level(logging.ERROR, logger="bot.warmup"):
            took = await asyncio.wait_for(warmup.warm_up(None), timeout=10)
    assert list(took) == ["other"] and loaded == ["other"]
    assert "warm-up: broken failed" in caplog.text


def test_a_fresh_process_has_the_deferred_modules_once_warmed_up() -> None:
    # What commands defer to first use (they start within a second without it) is what the
    # warm-up loads; checked in a process of its own, where nothing imported them yet.
    script = (
        "import json, sys\n"
        "deferred = ('numpy', 'holidays', 'vietnam_provinces')\n"
        "before = [m for m in deferred if m in sys.modules]\n"
        "from bot.warmup import warm_up_now\n"
        "warm_up_now('68')\n"
        "print(json.dumps([before, [m for m in deferred if m in sys.modules]]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    before, after = json.loads(out.stdout.strip().splitlines()[-1])
    assert before == []
    assert after == ["numpy", "holidays", "vietnam_provinces"]
