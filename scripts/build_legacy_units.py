"""Build knowledge/data/legacy_units.json.gz: the pre-2025 units and where they went.

The bot reads the current (post-1 July 2025) provinces and communes from the installed
`vietnam-provinces` package at run time. The releases of that package that install on
Python 3.11 (2025.x) carry only the current units; the pre-2025 provinces, districts and
communes and the official old → new conversion table arrived in 2026.1, which requires
Python ≥ 3.12. This script turns those into one small file that ships with the bot, so an
address in the old form ("phường 3, TP Đà Lạt") maps to the new commune on any Python, and
nothing is fetched at run time.

Run it where `vietnam_provinces.legacy` imports (Python ≥ 3.12 with vietnam-provinces ≥ 2026.1,
or PYTHONPATH pointing at an unpacked wheel of it):

    python scripts/build_legacy_units.py [--centroids PATH/TO/vietnamadminunits/data/dataset.db]

`--centroids` adds each current commune's central point (latitude, longitude) from the
`vietnamadminunits` package (MIT), used to suggest the nearest communes to a shared location.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sqlite3
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "knowledge" / "data" / "legacy_units.json.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--centroids", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    import vietnam_provinces
    from vietnam_provinces import _ward_conversion_2025 as conversion
    from vietnam_provinces.legacy import District, Province, Ward

    provinces = {int(p.code): p.name for p in Province.iter_all()}
    districts = {int(d.code): [d.name, int(d.province_code)] for d in District.iter_all()}
    wards: dict[int, list[object]] = {}
    for w in Ward.iter_all():
        entry = conversion.OLD_TO_NEW.get(int(w.code))
        new_codes = sorted({int(n.code) for n in entry.new_wards}) if entry else []
        partly = bool(entry.old_ward.is_partly_merged) if entry else False
        wards[int(w.code)] = [w.name, int(w.district_code), new_codes, int(partly)]

    centroids: dict[int, list[float]] = {}
    if args.centroids is not None:
        with sqlite3.connect(args.centroids) as db:
            for code, lat, lon in db.execute("SELECT wardCode, wardLat, wardLon FROM admin_units"):
                if lat is not None and lon is not None:
                    centroids[int(code)] = [round(lat, 4), round(lon, 4)]

    data = {
        "source": (
            f"vietnam-provinces {vietnam_provinces.__version__} "
            f"(data {vietnam_provinces.__data_version__}): vietnam_provinces.legacy and the "
            f"conversion table {conversion.SOURCE}, effective {conversion.EFFECTIVE_DATE}"
            + ("; centroids: vietnamadminunits admin_units" if centroids else "")
        ),
        "provinces": provinces,
        "districts": districts,
        "wards": wards,
        "centroids": centroids,
    }
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    # mtime=0: the same data gives the same bytes, so a rebuild shows no spurious diff.
    args.out.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
    print(
        f"{args.out}: {len(provinces)} provinces, {len(districts)} districts, "
        f"{len(wards)} wards, {len(centroids)} centroids, {args.out.stat().st_size} bytes"
    )


if __name__ == "__main__":
    main()
