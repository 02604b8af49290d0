"""Chart images for the weekly summary (matplotlib, Agg backend, PNG bytes).

Rendering is CPU work of a few hundred milliseconds: callers run `weekly_chart` in a thread
(`asyncio.to_thread`), never on the event loop. Only matplotlib's object API is used (no
`pyplot` global state), so charts can be drawn in parallel threads.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

DPI = 100
WIDTH_IN = 10.0
# Colours that stay apart for the common colour-vision deficiencies (Okabe–Ito palette).
COLOURS = {"received": "#0072B2", "answered": "#009E73", "overdue": "#D55E00", "rate": "#000000"}


@dataclass(frozen=True)
class ChartRow:
    """One group of bars: an agency (leadership chart) or a week (an agency's chart)."""

    label: str
    received: int
    answered: int
    overdue: int
    on_time_ratio: float | None  # answered on time / answered; None when nothing was answered


@dataclass(frozen=True)
class ChartLabels:
    """The chart's words in the reader's language (from the catalogs)."""

    title: str
    received: str
    answered: str
    overdue: str
    on_time: str
    target: str
    count_axis: str
    rate_axis: str


def chart_size(rows: int) -> tuple[int, int]:
    """Pixel size of a chart with `rows` groups: 1000 px wide, taller with more groups."""
    height_in = max(4.5, 1.6 + 0.55 * rows)
    return round(WIDTH_IN * DPI), round(height_in * DPI)


def _short(label: str, limit: int = 38) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def weekly_chart(rows: Sequence[ChartRow], target: float, labels: ChartLabels) -> bytes:
    """Horizontal grouped bars (received / answered / overdue) per row, with the on-time rate
    as points on a 0–100 % axis on top and the plan's target as a dashed line."""
    # Imported when a chart is drawn (about half a second): the bot's start-up does not wait.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    width_px, height_px = chart_size(len(rows))
    fig = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    n = len(rows)
    positions = list(range(n))
    bar = 0.26
    series = (
        ("received", labels.received, [r.received for r in rows], -bar),
        ("answered", labels.answered, [r.answered for r in rows], 0.0),
        ("overdue", labels.overdue, [r.overdue for r in rows], bar),
    )
    for key, name, values, offset in series:
        bars = ax.barh(
            [p + offset for p in positions], values, height=bar, color=COLOURS[key], label=name
        )
        ax.bar_label(bars, labels=[str(v) if v else "" for v in values], padding=2, fontsize=8)
    ax.set_yticks(positions, [_short(r.label) for r in rows])
    ax.invert_yaxis()  # first row on top, as in the text report
    top = max([1] + [max(r.received, r.answered, r.overdue) for r in rows])
    ax.set_xlim(0, top * 1.15 + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(labels.count_axis)
    ax.grid(axis="x", alpha=0.3)

    rate = ax.twiny()
    rate.set_xlim(0, 100)
    rate.set_xlabel(labels.rate_axis)
    rated = [(p, r.on_time_ratio * 100) for p, r in zip(positions, rows, strict=True)
             if r.on_time_ratio is not None]  # fmt: skip
    if rated:
        rate.scatter(
            [v for _, v in rated],
            [p for p, _ in rated],
            marker="D",
            s=36,
            color=COLOURS["rate"],
            zorder=5,
            label=labels.on_time,
        )
    rate.axvline(target * 100, color=COLOURS["rate"], linestyle="--", linewidth=1,
                 label=labels.target)  # fmt: skip
    handles, names = ax.get_legend_handles_labels()
    more, more_names = rate.get_legend_handles_labels()
    fig.legend(handles + more, names + more_names, loc="lower center", ncol=5, fontsize=8,
               frameon=False)  # fmt: skip
    fig.suptitle(labels.title, fontsize=11)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    buffer = io.BytesIO()
    # No bbox_inches="tight": the image keeps exactly chart_size() pixels.
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (PNG spec, section 11.2.2)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def chart_payload(
    rows: Sequence[ChartRow],
    target: float,
    labels: ChartLabels,
    filename: str,
    caption: str | None = None,
) -> dict[str, Any]:
    """Payload of an `upload_photo` outbox row whose image is drawn when it is sent: the tick
    that decides a report is due stays quick (drawing is ~0.2 s of CPU a chart, and a province
    has dozens of groups), and the outbox sends the charts as fast as Telegram's limits allow."""
    payload: dict[str, Any] = {
        "chart": {
            "rows": [asdict(row) for row in rows],
            "target": target,
            "labels": asdict(labels),
        },
        "filename": filename,
    }
    if caption is not None:
        payload["caption"] = caption
    return payload


def draw_payload_chart(spec: dict[str, Any]) -> bytes:
    """The PNG of a `chart_payload`'s "chart"."""
    rows = [ChartRow(**row) for row in spec["rows"]]
    return weekly_chart(rows, float(spec["target"]), ChartLabels(**spec["labels"]))
