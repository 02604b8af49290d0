"""Convert the old JSON catalogs (Jinja-syntax strings) into Fluent files, the format
translators' tools (Pontoon, Weblate, Crowdin) read, with real plural rules.

    python -m bot.telegram.i18n_convert            # locales/<loc>[.<feature>].json → .ftl
    python -m bot.telegram.i18n_convert --keep-json

`locales/vi.json` becomes `locales/vi/main.ftl`, `locales/vi.reports.json` becomes
`locales/vi/reports.ftl`. A key already in a .ftl file is left as it is there (a translator's
edit wins); new keys are appended. Every converted message is checked: rendered through Jinja
(the old way) and through Fluent (the new way) with sample values, both must give the same
text, or nothing is written. Then the JSON files are removed. Re-running is harmless, so keys
that other branches add to JSON catalogs are brought over by running it again.

What the converter understands (all the old catalogs use): ``{{ name }}``, the filters
``d`` (date), ``dt`` (date and time) and ``lower``, and ``{% if … %}…{% else %}…{% endif %}``
with ``n != 1`` / ``n == 1`` (a plural: `{ $n -> [one] … *[other] … }`) or a bare name
(`{ PRESENT($name) -> [yes] … *[no] … }`).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LOCALES_DIR = Path(__file__).parent / "locales"
FILTERS = {"d": "DAY", "dt": "DAYTIME", "lower": "LOWER"}
_TOKEN = re.compile(r"({{.*?}}|{%.*?%})", re.S)
_VAR = re.compile(r"{{\s*(\w+)\s*(?:\|\s*(\w+)\s*)?}}")
_IF = re.compile(r"{%\s*if\s+(\w+)\s*(?:(==|!=)\s*1\s*)?%}")
_ELSE = re.compile(r"{%\s*else\s*%}")
_ENDIF = re.compile(r"{%\s*endif\s*%}")


class ConversionError(ValueError):
    pass


def message_id(key: str) -> str:
    """Catalog key → Fluent message id (Fluent ids have no dots)."""
    if "-" in key or not re.fullmatch(r"[a-zA-Z][\w.]*", key):
        raise ConversionError(f"key {key!r} cannot become a Fluent id")
    return key.replace(".", "-")


def catalog_key(message: str) -> str:
    """Fluent message id → catalog key."""
    return message.replace("-", ".")


@dataclass
class _If:
    name: str
    op: str | None  # None: truthiness; "!=" / "==": compared with 1 (a plural)
    then: list[Any] = field(default_factory=list)
    other: list[Any] = field(default_factory=list)


def _parse(text: str) -> list[Any]:
    root: list[Any] = []
    stack: list[tuple[_If, list[Any]]] = []
    current = root
    for token in _TOKEN.split(text):
        if not token:
            continue
        if token.startswith("{{"):
            match = _VAR.fullmatch(token)
            if match is None or (match.group(2) and match.group(2) not in FILTERS):
                raise ConversionError(f"unsupported expression {token!r}")
            current.append((match.group(1), match.group(2)))
        elif token.startswith("{%"):
            if match := _IF.fullmatch(token):
                node = _If(match.group(1), match.group(2))
                current.append(node)
                stack.append((node, current))
                current = node.then
            elif _ELSE.fullmatch(token) and stack:
                current = stack[-1][0].other
            elif _ENDIF.fullmatch(token) and stack:
                current = stack.pop()[1]
            else:
                raise ConversionError(f"unsupported statement {token!r}")
        else:
            current.append(token)
    if stack:
        raise ConversionError("unclosed {% if %}")
    return root


def _text(value: str) -> str:
    return re.sub(r"[{}]", lambda m: '{"' + m.group() + '"}', value)


def _emit(nodes: list[Any]) -> str:
    out: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            out.append(_text(node))
        elif isinstance(node, tuple):
            name, flt = node
            out.append(f"{{ {FILTERS[flt]}(${name}) }}" if flt else f"{{ ${name} }}")
        else:
            then, other = _branch(node.then), _branch(node.other)
            if node.op is None:
                out.append(
                    f"{{ PRESENT(${node.name}) ->\n"
                    f"        [yes] {then}\n       *[no] {other}\n    }}"
                )
            else:
                one, many = (other, then) if node.op == "!=" else (then, other)
                out.append(
                    f"{{ ${node.name} ->\n        [one] {one}\n       *[other] {many}\n    }}"
                )
    return "".join(out)


def _branch(nodes: list[Any]) -> str:
    body = _emit(nodes)
    if "\n" in "".join(n for n in nodes if isinstance(n, str)):
        raise ConversionError("a line break inside {% if %} is not supported")
    if not body:
        return '{""}'
    # A variant value keeps its leading and trailing spaces only as literals.
    if body[0] == " ":
        body = '{" "}' + body[1:]
    if body[-1] == " ":
        body = body[:-1] + '{" "}'
    return body


def to_fluent(key: str, source: str) -> str:
    """One Fluent message (`id = pattern`) from a Jinja-syntax catalog string."""
    body = _emit(_parse(source))
    if not body.strip():
        raise ConversionError(f"{key}: empty message")
    stripped = body.rstrip()
    if stripped != body:
        # Fluent trims a pattern's trailing white space: keep it as a string literal.
        tail = body[len(stripped) :]
        literal = "".join(c if c == " " else f"\\u{ord(c):04X}" for c in tail)
        body = stripped + '{"' + literal + '"}'
    if body[0] == " ":
        body = '{" "}' + body[1:]
    rendered = [f"{message_id(key)} ="]
    for line in body.split("\n"):
        if _PLACEABLE_LINE.match(line):
            rendered.append(line)  # inside a select expression, already indented
        elif not line:
            rendered.append("")
        else:
            if line[0] in "[*.":
                line = f'{{"{line[0]}"}}' + line[1:]  # special at a line start (Fluent syntax)
            if line[0] == " ":
                line = '{" "}' + line[1:]
            rendered.append("    " + line)
    if len(rendered) == 2:
        return f"{rendered[0]} {rendered[1].strip()}\n"
    if all(not line or _PLACEABLE_LINE.match(line) for line in rendered[2:]):
        return f"{rendered[0]} {rendered[1].strip()}\n" + "\n".join(rendered[2:]) + "\n"
    return "\n".join(rendered) + "\n"


_PLACEABLE_LINE = re.compile(r"^( {8}\[| {7}\*\[| {4}\})")


# ---- checking --------------------------------------------------------------------------
_SAMPLE_MOMENT = datetime(2026, 11, 23, 2, 5, tzinfo=UTC)


def _samples(source: str) -> list[dict[str, Any]]:
    """Argument sets that exercise every branch of the message."""
    values: dict[str, list[Any]] = {}
    for name, flt in _VAR.findall(source):
        if flt in ("d", "dt"):
            values[name] = [_SAMPLE_MOMENT]
        elif flt == "lower":
            values[name] = ["Phản Ánh"]
        else:
            values.setdefault(name, ["<b>x & y</b>"])
    for name, op in _IF.findall(source):
        values[name] = [1, 2, 0] if op else ["", "x"]
    runs: list[dict[str, Any]] = [{}]
    for name, options in values.items():
        runs = [dict(run, **{name: option}) for run in runs for option in options]
    return runs[:32]


def check(locale: str, key: str, source: str, fluent: str) -> None:
    """The converted message renders exactly as the old one, for every branch."""
    from zoneinfo import ZoneInfo

    from jinja2 import Environment, StrictUndefined
    from markupsafe import Markup

    from bot.telegram.rendering import FluentCatalog

    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    env = Environment(autoescape=True, undefined=StrictUndefined)
    env.filters["d"] = lambda v: v.astimezone(tz).strftime("%d/%m/%Y")
    env.filters["dt"] = lambda v: v.astimezone(tz).strftime("%H:%M %d/%m/%Y")
    catalog = FluentCatalog(locale, tz, [fluent])
    for args in _samples(source):
        old = Markup(env.from_string(source).render(**args))
        new = catalog.format(key, args)
        if str(old) != str(new):
            raise ConversionError(f"{locale} {key}: {old!r} != {new!r} for {args!r}")


# ---- files -----------------------------------------------------------------------------
def _existing_ids(path: Path) -> set[str]:
    if not path.is_file():
        return set()
    return set(re.findall(r"^([a-zA-Z][\w-]*)\s*=", path.read_text("utf-8"), re.M))


def convert(folder: Path = LOCALES_DIR, *, keep_json: bool = False) -> list[str]:
    """Convert every JSON catalog in `folder`; return what was written."""
    import json

    done: list[str] = []
    sources = sorted(folder.glob("*.json"))
    plan: list[tuple[Path, Path, list[str]]] = []
    for path in sources:
        locale, _, feature = path.stem.partition(".")
        target = folder / locale / f"{feature or 'main'}.ftl"
        known = _existing_ids(target) | {
            i for other in (folder / locale).glob("*.ftl") for i in _existing_ids(other)
        }
        chunks = []
        for key, source in json.loads(path.read_text("utf-8")).items():
            if message_id(key) in known:
                continue  # already in Fluent: the .ftl wins
            fluent = to_fluent(key, source)
            check(locale, key, source, fluent)
            chunks.append(fluent)
        plan.append((path, target, chunks))
    for path, target, chunks in plan:
        text = "".join(chunks)
        if text:
            target.parent.mkdir(exist_ok=True)
            before = target.read_text("utf-8") if target.is_file() else ""
            if before and not before.endswith("\n"):
                before += "\n"
            target.write_text(before + text, "utf-8")
            done.append(f"{path.name} → {target.relative_to(folder)}: {len(chunks)} messages")
        if not keep_json:
            path.unlink()
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep-json", action="store_true", help="do not delete the JSON files")
    parser.add_argument("--dir", type=Path, default=LOCALES_DIR)
    args = parser.parse_args(argv)
    try:
        for line in convert(args.dir, keep_json=args.keep_json):
            print(line)
    except ConversionError as exc:
        print(f"not converted: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
