"""How long the weekly chart and the spreadsheet exports take, beside references measured in
the same run: an empty matplotlib figure saved as PNG, and the same rows written by the bare
csv module / a bare openpyxl workbook (no widths, formats or formula checks).

    python benchmarks/bench_reports.py
"""

from __future__ import annotations

import csv
import io
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from openpyxl import Workbook

from bot.telegram.charts import ChartLabels, ChartRow, weekly_chart
from knowledge.exporters import Sheet, to_csv, to_xlsx

LABELS = ChartLabels("Tuần 48 (23/11/2026 – 29/11/2026)", "Tiếp nhận", "Đã trả lời", "Quá hạn",
                     "Tỷ lệ đúng hạn", "Mục tiêu 90%", "Số hồ sơ", "Tỷ lệ (%)")  # fmt: skip


def timed(fn: Callable[[], Any], repeat: int) -> float:
    """Median seconds of `repeat` runs."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def empty_png() -> bytes:
    fig = Figure(figsize=(10, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    fig.add_subplot(1, 1, 1)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def rows(n: int) -> list[list[Any]]:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    return [
        [f"PA-{i:04d}-XY", "Phản ánh", start + timedelta(hours=i), "Sở Tư pháp", "1.001193",
         ("-" if i % 7 == 0 else "") + "Bộ phận một cửa yêu cầu nộp thêm giấy tờ " * 3,
         "Đã trả lời", "Phạm Thu Hà", start + timedelta(days=10), 0, None, None, "Hài lòng"]
        for i in range(n)
    ]  # fmt: skip


def bare_csv(data: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in data:
        writer.writerow(row)
    return out.getvalue().encode()


def bare_xlsx(data: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in data:
        ws.append([v.replace(tzinfo=None) if isinstance(v, datetime) else v for v in row])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def main() -> None:
    print(f"{'what':<44}{'ours':>10}{'reference':>12}")
    reference = timed(empty_png, 5)
    for n in (2, 18, 60):
        chart_rows = [ChartRow(f"Cơ quan số {i}", 10 + i, 8, i % 3, 0.8) for i in range(n)]
        ours = timed(lambda r=chart_rows: weekly_chart(r, 0.9, LABELS), 5)  # type: ignore[misc]
        print(f"{f'weekly chart, {n} rows (s)':<44}{ours:>10.3f}{reference:>12.3f}")
    for n in (1_000, 10_000):
        data = rows(n)
        sheet = Sheet("Hồ sơ", [f"c{i}" for i in range(13)], data)
        ours_csv = timed(lambda s=sheet: to_csv(s), 3)  # type: ignore[misc]
        ref_csv = timed(lambda d=data: bare_csv(d), 3)  # type: ignore[misc]
        print(f"{f'CSV, {n:,} cases (s)':<44}{ours_csv:>10.3f}{ref_csv:>12.3f}")
        ours_xlsx = timed(lambda s=sheet: to_xlsx([s]), 3)  # type: ignore[misc]
        ref_xlsx = timed(lambda d=data: bare_xlsx(d), 3)  # type: ignore[misc]
        print(f"{f'XLSX, {n:,} cases (s)':<44}{ours_xlsx:>10.3f}{ref_xlsx:>12.3f}")


if __name__ == "__main__":
    main()
