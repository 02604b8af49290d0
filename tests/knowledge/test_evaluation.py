from __future__ import annotations

from pathlib import Path

from knowledge.evaluation import EvalRow, evaluate, load_rows
from knowledge.search import SearchHit, SearchResponse


class _Scripted:
    """A stand-in engine with fixed answers, to test the counting rules alone."""

    def __init__(self, answers: dict[str, tuple[bool, list[str]]]) -> None:
        self.answers = answers

    def search(self, query: str, limit: int = 5) -> SearchResponse:
        abstained, codes = self.answers[query]
        hits = [SearchHit(code=c, name=c, score=0.5) for c in codes]
        return SearchResponse(query=query, abstained=abstained, hits=hits)


def test_counting_rules() -> None:
    engine = _Scripted(
        {
            "a": (False, ["1", "2"]),  # top-1
            "b": (True, ["1", "2"]),  # abstained: not top-1, but top-3 (did-you-mean)
            "c": (False, ["3", "4", "5", "2"]),  # fourth: neither
            "x": (True, []),  # out of scope, abstained: correct
            "y": (False, ["9"]),  # out of scope answered: a miss
        }
    )
    rows = [
        EvalRow("a", "1"),
        EvalRow("b", "1"),
        EvalRow("c", "2"),
        EvalRow("x", None),
        EvalRow("y", None),
    ]
    report = evaluate(engine, rows)
    assert (report.top1_hits, report.top3_hits, report.in_scope) == (1, 2, 3)
    assert report.abstain == 0.5
    assert [m.query for m in report.misses] == ["b", "c", "y"]
    assert "top-1: 0.333" in report.format()


def test_load_rows(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"q": "khai sinh", "expect": "1.001193"}\n\n{"q": "xin chào", "expect": null}\n'
    )
    assert load_rows(path) == [EvalRow("khai sinh", "1.001193"), EvalRow("xin chào", None)]


def test_real_engine_on_a_tiny_set() -> None:
    from knowledge.lexicon import default_lexicon
    from knowledge.records import ProcedureRecord
    from knowledge.search import SearchEngine

    engine = SearchEngine(
        [
            ProcedureRecord(code="1.001193", name="Đăng ký khai sinh"),
            ProcedureRecord(code="1.000894", name="Đăng ký kết hôn"),
        ],
        default_lexicon(),
    )
    rows = [
        EvalRow("làm giấy khai sinh cho con", "1.001193"),
        EvalRow("dang ky ket hon", "1.000894"),
        EvalRow("hôm nay trời có mưa không", None),
    ]
    report = evaluate(engine, rows)
    assert (report.top1, report.top3, report.abstain) == (1.0, 1.0, 1.0)
    assert report.misses == []
    assert report.as_dict()["top1"] == 1.0


def test_rows_with_several_acceptable_codes(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"q": "mat ho chieu", "expected": ["9.000405", "9.000403"], "kind": "short"}\n'
        '{"q": "to cao can bo", "expected": [], "kind": "out_of_scope"}\n'
    )
    rows = load_rows(path)
    assert rows == [
        EvalRow("mat ho chieu", "9.000405", "short", ("9.000403",)),
        EvalRow("to cao can bo", None, "out_of_scope"),
    ]
    engine = _Scripted({"mat ho chieu": (False, ["9.000403", "1"]), "to cao can bo": (True, [])})
    report = evaluate(engine, rows)
    assert (report.top1_hits, report.in_scope, report.abstain) == (1, 1, 1.0)
    wrong = evaluate(_Scripted({"mat ho chieu": (False, ["1", "2", "3"])}), rows[:1])
    assert wrong.top1_hits == 0 and wrong.top3_hits == 0


def test_questions_identical_to_an_example_phrase_can_be_left_out() -> None:
    from knowledge.evaluation import without_example_twins

    rows = [
        EvalRow(q="Gia hạn  hộ chiếu", expect="9.000402"),
        EvalRow(q="gia han ho chieu het han roi", expect="9.000402"),
        EvalRow(q="xin chào", expect=None),
    ]
    kept = without_example_twins(rows, ["gia han ho chieu", "xin chao ban"])
    assert [r.q for r in kept] == ["gia han ho chieu het han roi", "xin chào"]
