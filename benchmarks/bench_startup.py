"""Start-up costs: how long commands that never talk to Telegram take to start, and how much
memory a big knowledge base costs.

Run: .venv/bin/python benchmarks/bench_startup.py [--repeat 3] [--docs 10000]

- CLI: wall time of `citizen-bot kb search` (with the index the first search kept in
  SEARCH_CACHE_DIR, and with none kept, built at start), `calendar due`, `agencies list`
  and a `tick` with nothing to send (no BOT_TOKEN), each as its own process on a fresh
  SQLite file that was migrated once before (the first start of a new database migrates
  it; later ones do not). Median of --repeat runs. Beside them, measured in the same run: a
  bare `python -c pass` and `python -c "import aiogram.types"` (what every command paid
  before), and `import bot, aiogram.types` (aiogram as the bot imports it: its types built
  on first use, `bot/lazy_types.py`).
- Memory: resident set size of a process holding what the bot holds for its knowledge base
  (the records and the search index, as `KnowledgeService` does), with an empty KB, the
  bundled sample and a synthetic KB of --docs procedures (benchmarks/bench_search.py's
  generator), each in a fresh process; the reference is the empty one.

Not a test: it prints the figures.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
CLI = [PYTHON, "-m", "bot"]

MEMORY_PROBE = """
import gc, random, sys
sys.path.insert(0, {root!r})
def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
from knowledge.lexicon import default_lexicon
from knowledge.lifeevents import default_life_events
from knowledge.sample import load_procedures_json
from knowledge.search import SearchEngine
from benchmarks.bench_search import synthetic_records
kind, n = {kind!r}, {n}
records = []
if kind == "sample":
    records = load_procedures_json()
elif kind == "synthetic":
    records = synthetic_records(n, random.Random(7))
lexicon, events = default_lexicon(), default_life_events()
gc.collect()
before = rss()
engine = SearchEngine(records, lexicon, events=events)
by_code = {{r.code: r for r in records}}
engine.search("cấp lại giấy khai sinh")
gc.collect()
print(before, rss(), len(records))
"""


def _timed(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed


def cli_figures(repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite+aiosqlite:///{folder}/bench.sqlite3",
            "PYTHONPATH": str(ROOT),
        }
        env.pop("BOT_TOKEN", None)
        env.pop("REDIS_URL", None)
        _timed([*CLI, "db", "upgrade"], env, folder)
        _timed([*CLI, "agencies", "list"], env, folder)  # loads the bundled sample once
        search = [*CLI, "kb", "search", "lam so do"]
        _timed(search, env, folder)  # builds the index and keeps it (SEARCH_CACHE_DIR)
        no_cache = {**env, "SEARCH_CACHE_DIR": "off"}
        commands = {
            "python -c pass (reference)": ([PYTHON, "-c", "pass"], env),
            "import aiogram.types (reference)": ([PYTHON, "-c", "import aiogram.types"], env),
            # as the bot imports it: its types built on first use (bot/lazy_types.py)
            "import bot, aiogram.types": ([PYTHON, "-c", "import bot, aiogram.types"], env),
            "kb search 'lam so do' (index kept)": (search, env),
            "kb search, index built (cache off)": (search, no_cache),
            "calendar due": ([*CLI, "calendar", "due", "2026-11-23T09:00"], env),
            "agencies list": ([*CLI, "agencies", "list"], env),
            "tick (nothing to send)": ([*CLI, "tick", "--now", "2026-11-24T03:00+07:00"], env),
        }
        print(f"CLI start, median of {repeat} (s)")
        for name, (cmd, cmd_env) in commands.items():
            times = [_timed(cmd, cmd_env, folder) for _ in range(repeat)]
            print(f"  {name:36} {statistics.median(times):6.2f}   (min {min(times):.2f})")


def memory_figures(docs: int) -> None:
    print("Knowledge base memory (MiB of resident memory, each in a fresh process)")
    rows = [("empty KB (reference)", "empty", 0), ("bundled sample", "sample", 0)]
    rows.append((f"{docs:,} procedures", "synthetic", docs))
    base = None
    for name, kind, n in rows:
        code = MEMORY_PROBE.format(root=str(ROOT), kind=kind, n=n)
        out = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, check=True)
        before, after, count = out.stdout.split()
        total = float(after)
        base = total if base is None else base
        print(
            f"  {name:24} {int(count):6} records  process {total:7.1f}  "
            f"index {float(after) - float(before):7.1f}  more than empty {total - base:7.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # As deployed: bytecode compiled (make setup does it; pip does it for installed packages).
    for package in ("bot", "handlers", "knowledge", "storage"):
        compileall.compile_dir(ROOT / package, quiet=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--only", default="cli,memory")
    args = parser.parse_args()
    only = set(args.only.split(","))
    if "cli" in only:
        cli_figures(args.repeat)
    if "memory" in only:
        memory_figures(args.docs)


if __name__ == "__main__":
    main()
