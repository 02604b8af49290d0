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
def exits(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """`os._exit` records its status instead of ending the test run, and the exit handlers
    are recorded as run instead of running (they are the test run's own)."""
    ran: list[str] = []

    def fake_exit(status: int) -> None:
        ran.append("os._exit")
        raise Exited(status)

    monkeypatch.setattr(os, "_exit", fake_exit)
    monkeypatch.setattr(atexit, "_run_exitfuncs", lambda: ran.append("exit handlers"))
    return ran


def test_a_command_ends_with_its_status_after_the_exit_handlers(
    exits: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["citizen-bot", "kb", "search"])  # no query: status 2

    with pytest.raises(Exited) as exited:
        cli.main()

    assert exited.value.status == 2
    assert exits == ["exit handlers", "os._exit"]
    assert "give a QUERY or --stdin" in capsys.readouterr().err


def test_an_exit_code_reads_as_python_reads_it(
    exits: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    for code, status in ((None, 0), (0, 0), (3, 3), ("no database", 1)):
        with pytest.raises(Exited) as exited:
            cli._exit(code)
        assert exited.value.status == status
    assert capsys.readouterr().err.strip() == "no database"


def test_a_running_thread_that_is_not_a_daemon_gets_the_normal_exit(exits: list[str]) -> None:
    release = threading.Event()
    worker = threading.Thread(target=release.wait, daemon=False)
    worker.start()
    try:
        with pytest.raises(SystemExit) as exited:
            cli._exit(4)  # not os._exit: Python's exit waits for the thread
        assert exited.value.code == 4
        assert exits == []
    finally:
        release.set()
        worker.join()


# A process that writes without flushing, has an exit handler and an object whose finalizer
# speaks at Python's teardown, then exits the way the argument says.
EXITING = """
import atexit, sys
from bot import cli

class Finalized:
    def __del__(self):
        sys.stderr.write("torn down")

kept = Finalized()
atexit.register(lambda: sys.stdout.write(" / exit handler"))
sys.stdout.write("x" * 100)  # a pipe buffers it
if sys.argv[1] == "fast":
    cli._exit(3)
sys.exit(3)
"""


def test_the_fast_exit_flushes_runs_the_handlers_and_skips_the_teardown() -> None:
    def run(how: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("PYTHONUNBUFFERED", None)  # buffered, as a cron job's or a script's pipe is
        return subprocess.run(
            [sys.executable, "-c", EXITING, how],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )

    normal, fast = run("normal"), run("fast")

    # Python's own exit, for reference: the same output, and the teardown it spends time on
    assert normal.returncode == 3 and normal.stdout == "x" * 100 + " / exit handler"
    assert "torn down" in normal.stderr
    assert fast.returncode == 3 and fast.stdout == normal.stdout
    assert "torn down" not in fast.stderr


def test_the_output_is_whole_when_stdout_is_a_pipe(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.sqlite3",
        "PYTHONPATH": str(ROOT),
        "SEARCH_CACHE_DIR": "off",
    }
    env.pop("BOT_TOKEN", None)
    env.pop("PYTHONUNBUFFERED", None)
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
