"""Long variants of the fault suite: several storm runs (and, with --kills, kill -9 runs of a
real bot process) with more citizens, printing runs, cases, messages, lost, duplicated and
leaked side by side with a reference run without faults measured in the same invocation.

    .venv/bin/python benchmarks/bench_faults.py --citizens 40 --runs 3 --kills 5
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fake_telegram import FakeTelegram  # noqa: E402
from tests.faults.test_faults import run_in_process, run_with_kills  # noqa: E402
from tests.harness import sqlite_url  # noqa: E402


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--citizens", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--kills", type=int, default=0)
    args = parser.parse_args()
    print("variant     runs cases   messages lost duplicated(counted) leaked phantom seconds")
    for label, storm in (("reference", False), ("storm", True)):
        for run in range(args.runs if storm else 1):
            started = time.monotonic()
            async with FakeTelegram() as server:
                url = sqlite_url(Path(tempfile.mkdtemp()))
                report = await run_in_process(
                    server, url, citizens=args.citizens, seed=run, storm=storm
                )
            print(
                f"{label:<11} {run + 1:>4} {report.cases:>3}/{report.expected_cases:<3} "
                f"{report.messages:>8} {len(report.lost):>4} "
                f"{report.duplicated:>10}({report.duplicates_counted}) {len(report.leaked):>6} "
                f"{len(report.phantom):>7} {time.monotonic() - started:>7.1f}"
            )
    if args.kills:
        started = time.monotonic()
        async with FakeTelegram() as server:
            report = await run_with_kills(
                server, Path(tempfile.mkdtemp()), citizens=args.citizens, kills=args.kills, seed=7
            )
        print(
            f"{'kill -9':<11} {report.runs:>4} {report.cases:>3}/{report.expected_cases:<3} "
            f"{report.messages:>8} {len(report.lost):>4} "
            f"{report.duplicated:>10}({report.duplicates_counted}) {len(report.leaked):>6} "
            f"{len(report.phantom):>7} {time.monotonic() - started:>7.1f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
