"""K-fold cross-validation over the example phrases (`knowledge/data/examples.tsv`).

Run: .venv/bin/python benchmarks/cv_examples.py [--folds 5] [--seed 11] [--dev] [--misses]

Each procedure's phrases (and each out-of-scope category's) are shuffled with a fixed seed and
dealt round-robin into K folds. For each fold, an engine is built over the bundled KB with the
bundled lexicon and life events and the phrases of the other folds; the fold's phrases are then
asked as questions (a procedure's phrase expects its code, an `OOS:*` phrase expects the engine
to abstain). The figures (top-1 / seen / top-3 / out-of-scope abstain, `knowledge.evaluation`)
are summed over the folds. Nothing here was written for the engine: the phrases were written
blind, so this is the honest signal for choosing weights, beside the development sets.

`--batches` instead builds the engine with the first batch of the bundled phrases and asks the
second (written later, by another blind session: the closest thing to questions nobody tuned
on), and the other way round; `--train A.tsv --test B.tsv` does the same for any two files.
`--dev` also runs the development question sets with the full phrase file (never the
never-tuned heldout3/4/5 sets). Not a test: it prints the figures.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge.evaluation import Counts, EvalReport, EvalRow, evaluate, load_rows  # noqa: E402
from knowledge.examples import (  # noqa: E402
    DEFAULT_EXAMPLES_PATH,
    Example,
    Examples,
    default_examples,
    load_examples,
)
from knowledge.lexicon import default_lexicon  # noqa: E402
from knowledge.lifeevents import default_life_events  # noqa: E402
from knowledge.sample import load_procedures_json  # noqa: E402
from knowledge.search import SearchConfig, SearchEngine  # noqa: E402
from knowledge.search.intents import English  # noqa: E402

KB = ROOT / "knowledge/data/procedures.json"
SAMPLE53 = ROOT / "tests/data/sample53_procedures.json"
# The development sets (tuned on, or studied): never the never-tuned heldout3/4/5.
DEV_SETS = (
    ("eval53", ROOT / "knowledge/data/eval_questions.jsonl", SAMPLE53),
    ("heldout53", ROOT / "tests/data/heldout_questions.jsonl", SAMPLE53),
    ("heldout2_53", ROOT / "tests/data/heldout2_questions.jsonl", SAMPLE53),
    ("dev", ROOT / "knowledge/data/dev_variants_questions.jsonl", KB),
    ("check", ROOT / "tests/data/check_variants_questions.jsonl", KB),
    ("dev2", ROOT / "knowledge/data/dev2_questions.jsonl", KB),
    ("dev3", ROOT / "knowledge/data/dev3_questions.jsonl", KB),
)


def folds(examples: Examples, k: int, seed: int) -> list[list[Example]]:
    """The phrases dealt into `k` folds, stratified by code (a fixed shuffle per code)."""
    by_code: dict[str, list[Example]] = {}
    for e in examples:
        by_code.setdefault(e.code, []).append(e)
    rng = random.Random(seed)
    out: list[list[Example]] = [[] for _ in range(k)]
    start = 0
    for code in sorted(by_code):
        items = by_code[code][:]
        rng.shuffle(items)
        for i, e in enumerate(items):
            out[(start + i) % k].append(e)
        start += len(items)  # the short remainders do not all land in the first folds
    return out


CONFIG = SearchConfig()


def engine_for(kb: Path, examples: Examples) -> SearchEngine:
    """An engine over a KB file with the bundled lexicon and events and these phrases."""
    return SearchEngine(
        load_procedures_json(kb),
        default_lexicon(),
        CONFIG,
        events=default_life_events(),
        examples=examples,
    )


def merge(total: EvalReport, part: EvalReport) -> None:
    """Add one fold's counts (and misses) to the running total."""
    for a, b in [(total, part)] + [
        (total.kinds.setdefault(k, Counts()), c) for k, c in part.kinds.items()
    ]:
        a.in_scope += b.in_scope
        a.out_of_scope += b.out_of_scope
        a.top1_hits += b.top1_hits
        a.seen_hits += b.seen_hits
        a.top3_hits += b.top3_hits
        a.abstained_out += b.abstained_out
    total.misses.extend(part.misses)


def cross_validate(k: int, seed: int) -> tuple[EvalReport, float]:
    """The summed report over the folds, and the mean engine build time (seconds)."""
    examples = default_examples()
    parts = folds(examples, k, seed)
    total = EvalReport()
    builds = []
    for i, held in enumerate(parts):
        train = Examples(e for j, part in enumerate(parts) if j != i for e in part)
        t = time.perf_counter()
        engine = engine_for(KB, train)
        builds.append(time.perf_counter() - t)
        merge(total, evaluate(engine, [as_row(e) for e in held]))
    return total, sum(builds) / len(builds)


SECOND_BATCH = "# Second batch"  # the comment line the second batch of phrases starts at


def batches() -> tuple[Examples, Examples]:
    """The bundled phrases before and from the second batch's comment line."""
    lines = DEFAULT_EXAMPLES_PATH.read_text("utf-8").splitlines()
    at = next((i for i, text in enumerate(lines) if text.startswith(SECOND_BATCH)), len(lines))
    return load_examples(lines[:at]), load_examples(lines[at:])


_ENGLISH = English.load()


def as_row(e: Example) -> EvalRow:
    """A phrase as a labelled question: its code, or out of scope; kind "english" for a
    phrase written in English (`--kinds` shows its figures apart)."""
    kind = "english" if _ENGLISH.looks_english(e.phrase) else "phrase"
    return EvalRow(e.phrase, None if e.oos else e.code, "out_of_scope" if e.oos else kind)


def line(name: str, c: Counts) -> str:
    """One row of figures."""
    return (
        f"{name:12s} top-1 {c.top1:.3f}  seen {c.seen:.3f}  top-3 {c.top3:.3f}  "
        f"abstain {c.abstain:.3f}  ({c.in_scope} + {c.out_of_scope} out of scope)"
    )


def kinds(report: EvalReport) -> None:
    """One row of figures per kind of question."""
    for kind, c in sorted(report.kinds.items()):
        print("   ", line(kind or "-", c))


def main() -> None:
    """Print the cross-validated figures (and the development sets' with --dev)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--dev", action="store_true", help="also the development sets")
    parser.add_argument("--no-cv", action="store_true", help="only the development sets")
    parser.add_argument("--misses", action="store_true", help="print the CV misses")
    parser.add_argument(
        "--train", type=Path, help="instead of folds: an engine with this file's phrases ..."
    )
    parser.add_argument("--test", type=Path, help="... asked this file's phrases")
    parser.add_argument(
        "--batches", action="store_true", help="the first batch of phrases against the second"
    )
    parser.add_argument("--kinds", action="store_true", help="per kind on the dev sets")
    parser.add_argument(
        "--set", action="append", default=[], help="a SearchConfig weight: name=value"
    )
    args = parser.parse_args()
    global CONFIG
    for item in args.set:
        name, value = item.split("=", 1)
        kind = type(getattr(CONFIG, name))
        CONFIG = replace(CONFIG, **{name: value in ("1", "true") if kind is bool else kind(value)})
    pairs: list[tuple[str, Examples, Examples]] = []
    if args.train and args.test:
        pairs.append(
            (
                f"{args.train.stem}>{args.test.stem}",
                load_examples(args.train),
                load_examples(args.test),
            )
        )
    if args.batches:
        first, second = batches()
        pairs += [("batch1>batch2", first, second), ("batch2>batch1", second, first)]
    for name, train, asked in pairs:
        report = evaluate(engine_for(KB, train), [as_row(e) for e in asked])
        print(line(name, report))
        if args.misses:
            print(report.format())
        if args.kinds:
            kinds(report)
    if not pairs and not args.no_cv:
        report, build = cross_validate(args.folds, args.seed)
        print(line(f"cv{args.folds}", report), f" build {build:.2f} s")
        if args.misses:
            print(report.format())
        if args.kinds:
            kinds(report)
    if args.dev or args.no_cv:
        engines: dict[Path, SearchEngine] = {}
        for name, path, kb in DEV_SETS:
            if kb not in engines:
                engines[kb] = engine_for(kb, default_examples())
            report = evaluate(engines[kb], load_rows(path))
            print(line(name, report))
            if args.misses:
                print(report.format())
            if args.kinds:
                kinds(report)


if __name__ == "__main__":
    main()
