"""Where a citizen is: addresses resolved to a commune of the province (two-level local
government since 1 July 2025: province, then commune — xã, phường, đặc khu).

Pure code. The current units and their national statistics codes come from the installed
`vietnam-provinces` package; the pre-2025 provinces, districts and communes and where each
went (the official conversion table) come from `data/legacy_units.json.gz`, built from the
same dataset by `scripts/build_legacy_units.py`. Nothing is fetched at run time.

An address is read the way citizens write it: with or without diacritics, with "P." / "X." /
"TT" / "Q." / "H." / "TP" abbreviations, with numbered wards ("P.3", "phường 03", "F3"), and in
the old form (huyện / quận / thị trấn that no longer exist, communes merged in 2025). The
answer is one commune, several it could be (the citizen picks), another province, or nothing.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from knowledge.normalize import fold, syllables

__all__ = [
    "Gazetteer",
    "Resolution",
    "Unit",
    "UnknownProvince",
    "current_units",
    "load_gazetteer",
    "province_names",
]

# Division types as the dataset spells them; the communes' first words in their names.
COMMUNE_TYPES = ("phường", "xã", "đặc khu")
_OLD_WARD_TYPES = ("phường", "xã", "thị trấn")
_DISTRICT_TYPES = ("quận", "huyện", "thị xã", "thành phố")
_PROVINCE_TYPES = ("tỉnh", "thành phố")
_TYPE_WORDS: tuple[tuple[str, ...], ...] = tuple(
    sorted(
        {tuple(t.split()) for t in (*COMMUNE_TYPES, *_OLD_WARD_TYPES, *_DISTRICT_TYPES, "tỉnh")},
        key=len,
        reverse=True,
    )
)

# What citizens type for a division type: "P.3", "X. Lạc Dương", "TT Liên Nghĩa", "Q1",
# "H. Đức Trọng", "TP Đà Lạt", "TX", "T. Lâm Đồng"; "F3" is chat speech for phường 3.
_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "p": ("phường",),
    "f": ("phường",),
    "ph": ("phường",),
    "x": ("xã",),
    "tt": ("thị", "trấn"),
    "q": ("quận",),
    "h": ("huyện",),
    "tp": ("thành", "phố"),
    "tx": ("thị", "xã"),
    "t": ("tỉnh",),
    "dk": ("đặc", "khu"),
}
# Names citizens use for the two big cities instead of the official ones.
_PROVINCE_ALIASES: dict[str, int] = {
    "hcm": 79,
    "tphcm": 79,
    "sài gòn": 79,
    "sg": 79,
    "hn": 1,
}
_STUCK = re.compile(r"^(p|f|q|x|ph)(\d+)$")  # "p3", "q1", "f12"
_SEPARATORS = re.compile(r"[,;\n|]+")

# A shared location farther than this from every commune's central point is not in the
# province as far as these data can tell.
_NEAREST_MAX_KM = 40.0


class UnknownProvince(ValueError):
    """The province code is not one of the current provinces."""


@dataclass(frozen=True, slots=True)
class Unit:
    """A current administrative unit with its national statistics code (communes: 5 digits)."""

    code: str
    name: str
    kind: str  # "phường" | "xã" | "đặc khu" for communes; "tỉnh" | "thành phố" for provinces


@dataclass(frozen=True, slots=True)
class Resolution:
    """What an address says about the commune.

    `status`: "resolved" (one commune), "ambiguous" (the citizen picks among `candidates`),
    "outside" (it names another province, `province`), "unknown" (nothing recognised).
    `rule` says how: "commune <name>", "old <old commune>, <old district>", "district <old
    district>", "location"; it goes into the case history.
    """

    status: Literal["resolved", "ambiguous", "outside", "unknown"]
    unit: Unit | None = None
    candidates: tuple[Unit, ...] = ()
    rule: str = ""
    province: str | None = None


@dataclass(frozen=True, slots=True)
class _Name:
    tokens: tuple[str, ...]
    level: Literal["province", "district", "ward"]
    types: tuple[str, ...]
    ref: str  # "cur", "alias", "old", "dist", "prov", "oldprov"
    code: int
    ours: bool = True
    hint: tuple[str, ...] = ()  # alias: the old district name its full name carries


@dataclass
class _Mention:
    names: list[_Name]
    typed: bool


@dataclass
class _Legacy:
    provinces: dict[int, str]
    districts: dict[int, tuple[str, int]]
    wards: dict[int, tuple[str, int, tuple[int, ...], bool]]
    centroids: dict[int, tuple[float, float]]
    source: str


def _words(name: str) -> tuple[str, ...]:
    """Tone-normalised lowercase syllables of a unit name, leading zeros of numbers dropped."""
    return tuple(_number(w) for w in syllables(name))


def _number(word: str) -> str:
    return str(int(word)) if word.isdigit() else word


def _split_type(name: str, types: Iterable[str]) -> tuple[str, tuple[str, ...]]:
    """("phường", ("xuân", "hương", "đà", "lạt")) from "Phường Xuân Hương - Đà Lạt"."""
    words = _words(name)
    for t in sorted(types, key=lambda t: -len(t.split())):
        tw = tuple(t.split())
        if words[: len(tw)] == tw and len(words) > len(tw):
            return t, words[len(tw) :]
    return "", words


def _word_matches(name_word: str, typed: str) -> bool:
    # A word typed with diacritics must agree with the name's ("Tân" is not "Tấn"); a word
    # typed without any ("tan") may stand for any accented form of it.
    return typed == name_word or (typed == fold(typed) and typed == fold(name_word))


def _tokens(segment: str) -> list[str]:
    """The words of one address segment, abbreviations of division types expanded."""
    raw: list[str] = []
    for word in syllables(segment.replace("'", " ").replace("’", " ")):
        stuck = _STUCK.match(word)
        if stuck:
            raw.extend((stuck.group(1), stuck.group(2)))
        else:
            raw.append(word)
    out: list[str] = []
    for i, word in enumerate(raw):
        expansion = _ABBREVIATIONS.get(word)
        # An abbreviation stands for a division type only when a name follows it.
        if expansion and i + 1 < len(raw):
            out.extend(expansion)
        else:
            out.append(_number(word))
    return out


def _haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


class Gazetteer:
    """The communes of one province, their pre-2025 predecessors, and an address reader."""

    def __init__(self, province_code: int, current: Sequence[dict[str, Any]], legacy: _Legacy):
        by_code = {int(p["code"]): p for p in current}
        if province_code not in by_code:
            raise UnknownProvince(f"{province_code:02d} is not a current province code")
        province = by_code[province_code]
        self.province = Unit(f"{province_code:02d}", province["name"], province["division_type"])
        self.communes: dict[str, Unit] = {}
        for w in province["wards"]:
            unit = Unit(f"{int(w['code']):05d}", w["name"], w["division_type"])
            self.communes[unit.code] = unit
        self.source = legacy.source
        self._legacy = legacy
        ours = {int(w["code"]) for w in province["wards"]}
        # The old units whose land is now (at least partly) in this province.
        self._old_wards = {
            code: w for code, w in legacy.wards.items() if any(n in ours for n in w[2])
        }
        self._old_districts = {
            w[1]: legacy.districts[w[1]]
            for w in self._old_wards.values()
            if w[1] in legacy.districts
        }
        self._old_provinces = {d[1] for d in self._old_districts.values()}
        self._centroids = {
            f"{code:05d}": point for code, point in legacy.centroids.items() if code in ours
        }
        self._index: dict[str, list[_Name]] = {}
        self._build_index(current, legacy)

    # ---- the name index ---------------------------------------------------------------
    def _add(self, name: _Name) -> None:
        if name.tokens:
            self._index.setdefault(fold(name.tokens[0]), []).append(name)

    def _build_index(self, current: Sequence[dict[str, Any]], legacy: _Legacy) -> None:
        district_names = {
            code: _split_type(name, _DISTRICT_TYPES)[1]
            for code, (name, _) in self._old_districts.items()
        }
        for unit in self.communes.values():
            kind, words = _split_type(unit.name, COMMUNE_TYPES)
            code = int(unit.code)
            self._add(_Name(words, "ward", (kind or unit.kind,), "cur", code))
            # "Phường Xuân Hương - Đà Lạt", "Phường 1 Bảo Lộc", "Xã Nam Ban Lâm Hà": the new
            # name carries the old district's; citizens often give the first part alone.
            for dname in district_names.values():
                if len(words) > len(dname) and words[-len(dname) :] == dname:
                    alias = words[: -len(dname)]
                    self._add(_Name(alias, "ward", (kind,), "alias", code, hint=dname))
        for code, (name, _district, _new, _partly) in self._old_wards.items():
            kind, words = _split_type(name, _OLD_WARD_TYPES)
            self._add(_Name(words, "ward", (kind,), "old", code))
        for code, words in district_names.items():
            kind = _split_type(self._old_districts[code][0], _DISTRICT_TYPES)[0]
            self._add(_Name(words, "district", (kind,), "dist", code))
        for p in current:
            code = int(p["code"])
            kind, words = _split_type(p["name"], _PROVINCE_TYPES)
            types = (kind,) if kind else ("tỉnh", "thành phố")
            self._add(
                _Name(words, "province", types, "prov", code, ours=code == int(self.province.code))
            )
        for code, name in legacy.provinces.items():
            kind, words = _split_type(name, _PROVINCE_TYPES)
            self._add(
                _Name(words, "province", (kind,), "oldprov", code, ours=code in self._old_provinces)
            )
        for nickname, code in _PROVINCE_ALIASES.items():
            self._add(
                _Name(
                    _words(nickname), "province", ("thành phố",), "prov", code,
                    ours=code == int(self.province.code),
                )
            )  # fmt: skip
        for names in self._index.values():
            names.sort(key=lambda n: -len(n.tokens))

    def _names_at(self, tokens: Sequence[str], i: int, kind: str | None) -> tuple[list[_Name], int]:
        """The longest names starting at tokens[i] (of a type compatible with `kind`)."""
        if i >= len(tokens):
            return [], i
        best: list[_Name] = []
        best_len = 0
        for name in self._index.get(fold(tokens[i]), ()):
            n = len(name.tokens)
            if n < best_len:
                break
            # A district may be called by any district type: Gia Nghĩa was a thị xã before it
            # became a thành phố, and people keep the old word.
            lenient = name.level == "district" and kind in _DISTRICT_TYPES
            if kind is not None and kind not in name.types and not lenient:
                continue
            if kind is None and all(w.isdigit() for w in name.tokens):
                continue  # a bare number is a house number, "3" alone is not phường 3
            window = tokens[i : i + n]
            if len(window) == n and all(map(_word_matches, name.tokens, window)):
                best.append(name)
                best_len = n
        return best, i + best_len

    @staticmethod
    def _type_at(tokens: Sequence[str], i: int) -> tuple[str, int] | None:
        for tw in _TYPE_WORDS:
            window = tokens[i : i + len(tw)]
            if len(window) == len(tw) and all(map(_word_matches, tw, window)):
                return " ".join(tw), i + len(tw)
        return None

    def _mentions(self, text: str, *, typed_only: bool = False) -> list[_Mention]:
        found: list[_Mention] = []
        for segment in _SEPARATORS.split(text):
            tokens = _tokens(segment)
            i, last_end = 0, -1
            while i < len(tokens):
                typed = self._type_at(tokens, i)
                if typed is not None:
                    kind, start = typed
                    names, end = self._names_at(tokens, start, kind)
                    if names:
                        found.append(_Mention(names, typed=True))
                        i = last_end = end
                        continue
                if not typed_only and (i == 0 or i == last_end):
                    names, end = self._names_at(tokens, i, None)
                    # A bare name counts when it is the whole segment ("Đà Lạt") or follows a
                    # recognised unit ("phường 3 Đà Lạt"): a street named like a commune does not.
                    if names and (i == last_end or end == len(tokens)):
                        found.append(_Mention(names, typed=False))
                        i = last_end = end
                        continue
                i += 1
        return found

    # ---- reading an address -------------------------------------------------------------
    def resolve(self, text: str, *, typed_only: bool = False) -> Resolution:
        """The commune an address is in, the communes it could be, or why not."""
        mentions = self._mentions(text, typed_only=typed_only)
        ours_named = False
        other: list[str] = []
        old_provinces: set[int] = set()
        districts: set[int] = set()
        ward_mentions: list[_Mention] = []
        for m in mentions:
            places = [n for n in m.names if n.level != "ward"]
            if places and not m.typed:
                m = _Mention(places, typed=False)  # "Bình Thuận" alone: the old province
            wards = [n for n in m.names if n.level == "ward"]
            if wards:
                ward_mentions.append(_Mention(wards, m.typed))
            for n in m.names:
                if n.level == "province":
                    if n.ours:
                        ours_named = True
                        if n.ref == "oldprov":
                            old_provinces.add(n.code)
                    else:
                        other.append(self._province_name(n))
                elif n.level == "district":
                    districts.add(n.code)
        if other and not ours_named:
            return Resolution("outside", province=other[0], rule=f"province {other[0]}")
        if old_provinces:
            districts = {d for d in districts if self._old_districts[d][1] in old_provinces}
        ward_mentions.sort(key=lambda m: not m.typed)  # typed mentions first
        for m in ward_mentions:
            found = self._from_ward_names(m.names, districts, old_provinces)
            if found is not None:
                return found
        if districts:
            return self._from_districts(districts)
        return Resolution("unknown")

    def _province_name(self, name: _Name) -> str:
        if name.ref == "oldprov":
            return self._legacy.provinces[name.code]
        return _province_names().get(name.code, f"{name.code:02d}")

    def _district_label(self, code: int) -> str:
        return self._old_districts[code][0]

    def _from_ward_names(
        self, names: list[_Name], districts: set[int], old_provinces: set[int]
    ) -> Resolution | None:
        district_words = {
            _split_type(self._old_districts[d][0], _DISTRICT_TYPES)[1] for d in districts
        }
        exact = [n for n in names if n.ref == "cur"]
        aliases = [n for n in names if n.ref == "alias"]
        old = [n for n in names if n.ref == "old" and self._old_wards[n.code][2]]
        if old_provinces:
            old = [
                n
                for n in old
                if self._old_districts[self._old_wards[n.code][1]][1] in old_provinces
            ]
        if districts:
            in_district = [n for n in old if self._old_wards[n.code][1] in districts]
            if in_district:
                return self._outcome(
                    self._new_of(in_district), "old " + "; ".join(map(self._old_label, in_district))
                )
            aliases = [a for a in aliases if a.hint in district_words]
            old = []
        if exact:
            return self._outcome([self.communes[f"{n.code:05d}"] for n in exact], "commune")
        units = [self.communes[f"{a.code:05d}"] for a in aliases] + self._new_of(old)
        if not units:
            return None
        rule = "old " + "; ".join(map(self._old_label, old)) if old else "commune"
        return self._outcome(units, rule)

    def _old_label(self, name: _Name) -> str:
        ward_name, district, _, partly = self._old_wards[name.code]
        label = f"{ward_name}, {self._district_label(district)}"
        return label + " (partly)" if partly else label

    def _new_of(self, old: Iterable[_Name]) -> list[Unit]:
        units: list[Unit] = []
        for n in old:
            for code in self._old_wards[n.code][2]:
                unit = self.communes.get(f"{code:05d}")
                if unit is not None:
                    units.append(unit)
        return units

    def _from_districts(self, districts: set[int]) -> Resolution:
        counts: dict[str, int] = {}
        for _name, district, new, _partly in self._old_wards.values():
            if district in districts:
                for code in new:
                    if f"{code:05d}" in self.communes:
                        counts[f"{code:05d}"] = counts.get(f"{code:05d}", 0) + 1
        # Most of the old district's communes went to the first candidates.
        ordered = sorted(counts, key=lambda c: (-counts[c], self.communes[c].name))
        label = "; ".join(sorted(self._district_label(d) for d in districts))
        return self._outcome([self.communes[c] for c in ordered], f"district {label}")

    def _outcome(self, units: list[Unit], rule: str) -> Resolution:
        unique = list(dict.fromkeys(units))
        if not unique:
            return Resolution("unknown")
        if len(unique) == 1:
            unit = unique[0]
            return Resolution("resolved", unit=unit, rule=f"{rule} → {unit.name}")
        return Resolution("ambiguous", candidates=tuple(unique), rule=rule)

    # ---- other ways to say where ----------------------------------------------------------
    def commune(self, code: str) -> Unit | None:
        """A commune of this province by its statistics code ("24778" or "24778" as int)."""
        return self.communes.get(f"{int(code):05d}") if str(code).isdigit() else None

    def mentioned_commune(self, text: str) -> Resolution:
        """A commune named with its type in free text ("UBND xã Lạc Dương…"), if unambiguous."""
        found = self.resolve(text, typed_only=True)
        return found if found.status == "resolved" else Resolution("unknown")

    @property
    def has_centroids(self) -> bool:
        """Whether the bundled data hold the communes' central points (for shared locations)."""
        return bool(self._centroids)

    def nearest(
        self, latitude: float, longitude: float, limit: int = 3
    ) -> list[tuple[Unit, float]]:
        """The communes whose central points are nearest, with the distance in km.

        The data hold a central point per commune, not its boundary: near a border the
        nearest point may be the neighbour's, so callers let the citizen confirm."""
        here = (latitude, longitude)
        ranked = sorted(
            (_haversine_km(here, point), code) for code, point in self._centroids.items()
        )
        return [(self.communes[code], km) for km, code in ranked[:limit] if km <= _NEAREST_MAX_KM]

    def directory_rows(self) -> list[Unit]:
        """Every commune of the province, by name."""
        return sorted(self.communes.values(), key=lambda u: (fold(u.name), u.code))


# ---- loading the data -------------------------------------------------------------------
def _read_current() -> list[dict[str, Any]]:
    import vietnam_provinces

    path = Path(vietnam_provinces.NESTED_DIVISIONS_JSON_PATH)
    data: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return data


@lru_cache(maxsize=1)
def _current() -> tuple[dict[str, Any], ...]:
    return tuple(_read_current())


@lru_cache(maxsize=1)
def _province_names() -> dict[int, str]:
    return {int(p["code"]): p["name"] for p in _current()}


@lru_cache(maxsize=1)
def current_units() -> dict[str, Unit]:
    """Every current province ("68") and commune ("24781") of the country by code."""
    units: dict[str, Unit] = {}
    for p in _current():
        units[f"{int(p['code']):02d}"] = Unit(
            f"{int(p['code']):02d}", p["name"], p["division_type"]
        )
        for w in p["wards"]:
            units[f"{int(w['code']):05d}"] = Unit(
                f"{int(w['code']):05d}", w["name"], w["division_type"]
            )
    return units


def province_names() -> dict[str, str]:
    """Every current province: statistics code ("68") → name."""
    return {f"{code:02d}": name for code, name in sorted(_province_names().items())}


@lru_cache(maxsize=1)
def _legacy() -> _Legacy:
    raw = resources.files("knowledge").joinpath("data", "legacy_units.json.gz").read_bytes()
    data = json.loads(gzip.decompress(raw))
    return _Legacy(
        provinces={int(k): v for k, v in data["provinces"].items()},
        districts={int(k): (v[0], int(v[1])) for k, v in data["districts"].items()},
        wards={
            int(k): (v[0], int(v[1]), tuple(int(c) for c in v[2]), bool(v[3]))
            for k, v in data["wards"].items()
        },
        centroids={int(k): (float(v[0]), float(v[1])) for k, v in data["centroids"].items()},
        source=str(data.get("source", "")),
    )


@lru_cache(maxsize=4)
def load_gazetteer(province_code: str | int) -> Gazetteer:
    """The gazetteer of one province (national statistics code, e.g. "68"); cached."""
    text = str(province_code).strip()
    if not text.isdigit():
        raise UnknownProvince(f"{province_code!r} is not a province code")
    return Gazetteer(int(text), _current(), _legacy())
