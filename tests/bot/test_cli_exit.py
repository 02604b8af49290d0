"""The command line's exit: the command's status and output, without Python's teardown."""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot import cli

ROOT = Path(__file__).resolve().parents[2]


class Exited(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


@pytest.fixture
def exits(monkeypatch: pytest.MonkeyPatch) -> None:
    """`os._exit` records its status instead of ending the test run."""

    def fake_exit(status: int) -> None:
        raise Exited(status)

    monkeypatch.setattr(os, "_exit", fake_exit)


def test_a_command_ends_with_its_status_after_the_exit_handlers(
    exits: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran: list[str] = []

    def handler() -> None:
        ran.append("exit handler")

    atexit.register(handler)
    monkeypatch.setattr(sys, "argv", ["citizen-bot", "kb", "search"])  # no query: status 2
    try:
        with pytest.raises(Exited) as exited:
            cli.main()
    finally:
        atexit.unregister(handler)
    assert exited.value.status == 2
    assert ran == ["exit handler"]  # logging's flush is one of these
    assert "give a QUERY or --stdin" in capsys.readouterr().err


def test_an_exit_code_reads_as_python_reads_it(
    exits: None, capsys: pytest.CaptureFixture[str]
) -> None:
    for code, status in ((None, 0), (0, 0), (3, 3), ("no database", 1)):
        with pytest.raises(Exited) as exited:
            cli._exit(code)
        assert exited.value.status == status
    assert capsys.readouterr().err.strip() == "no database"


def test_a_running_thread_that_is_not_a_daemon_gets_the_normal_exit(exits: None) -> None:
    release = threading.Event()
    worker = threading.Thread(target=release.wait, daemon=False)
    worker.start()
    try:
        with pytest.raises(SystemExit) as exited:
            cli._exit(4)  # not os._exit: Python's exit waits for the thread
        assert exited.value.code == 4
    finally:
        release.set()
        worker.join()


def test_the_output_is_whole_when_stdout_is_a_pipe(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.sqlite3",
        "PYTHONPATH": str(ROOT),
        "SEARCH_CACHE_DIR": "off",
    }
    env.pop("BOT_TOKEN", None)
    # many lines through a block-buffered pipe: what is still buffered at the exit is flushed
    questions = "".join(f"làm sổ đỏ {i}\n" for i in range(200))
    done = subprocess.run(
        [sys.executable, "-m", "bot", "kb", "search", "--stdin"],
        input=questions,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 200
    assert json.loads(lines[-1])["query"] == "làm sổ đỏ 199"
    failed = subprocess.run(
        [sys.executable, "-m", "bot", "kb", "search"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert failed.returncode == 2 and "give a QUERY" in failed.stderr
