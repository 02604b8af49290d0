"""Address → commune speed: the gazetteer of one province against a naive reference (every
commune name of the country searched as a folded substring), measured in the same run.

    python benchmarks/bench_places.py [--province 68] [--n 2000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from knowledge.normalize import fold
from knowledge.places import _current, _legacy, load_gazetteer

ADDRESSES = [
    "12 Phan Đình Phùng, phường Xuân Hương - Đà Lạt, Lâm Đồng",
    "12 phan dinh phung, P.3, TP Da Lat",
    "Thôn Lạc Trị, xã Phong Phú, huyện Tuy Phong, tỉnh Bình Thuận",
    "TT Liên Nghĩa, H. Đức Trọng",
    "45 Nguyễn Huệ, phường Bến Nghé, quận 1, TP Hồ Chí Minh",
    "Thôn 5, gần chợ",
    "phường Nghĩa Đức, thị xã Gia Nghĩa, tỉnh Đắk Nông",
    "X. Lạc Dương",
]


def naive(names: list[tuple[str, str]], text: str) -> list[str]:
    folded = fold(text)
    return [code for code, name in names if name in folded]


def timed(fn, items):  # type: ignore[no-untyped-def]
    out = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--province", default="68")
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    start = time.perf_counter()
    _current(), _legacy()
    data_ms = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    places = load_gazetteer(args.province)
    build_ms = (time.perf_counter() - start) * 1000
    names = [(str(w["code"]), fold(w["name"])) for p in _current() for w in p["wards"]]
    rng = random.Random(7)
    items = [rng.choice(ADDRESSES) for _ in range(args.n)]
    ours = timed(places.resolve, items)
    ref = timed(lambda t: naive(names, t), items)

    def row(label: str, ms: list[float]) -> str:
        q = statistics.quantiles(ms, n=100)
        return f"{label:<44} p50 {q[49]:7.3f} ms   p95 {q[94]:7.3f} ms"

    print(f"data load (package JSON + bundled table): {data_ms:7.1f} ms")
    print(f"gazetteer build, province {args.province}:            {build_ms:7.1f} ms")
    print(row("resolve (ours: old forms, abbreviations)", ours))
    print(row("reference: substring over 3,321 names", ref))


if __name__ == "__main__":
    main()
