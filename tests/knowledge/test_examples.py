"""Example phrases per procedure and out-of-scope phrases (knowledge/examples.py,
knowledge/search/nearest.py, knowledge/search/scope.py)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from knowledge.evaluation import shown_codes
from knowledge.examples import (
    DEFAULT_EXAMPLES_PATH,
    OOS_CATEGORIES,
    Examples,
    default_examples,
    load_examples,
    parse_example_lines,
)
from knowledge.lexicon import default_lexicon
from knowledge.lifeevents import default_life_events
from knowledge.records import ProcedureRecord
from knowledge.sample import load_procedures_json
from knowledge.search import SearchEngine


@pytest.fixture(scope="module")
def bundled() -> SearchEngine:
    """The bundled KB with the bundled lexicon, life events and example phrases."""
    return SearchEngine(
        load_procedures_json(),
        default_lexicon(),
        events=default_life_events(),
        examples=default_examples(),
    )


@pytest.fixture(scope="module")
def plain() -> SearchEngine:
    """The same without example phrases."""
    return SearchEngine(load_procedures_json(), default_lexicon(), events=default_life_events())


# ---------------------------------------------------------------- the file
def test_lines_that_cannot_be_used_are_reported_and_skipped() -> None:
    lines = [
        "# a comment",
        "",
        "1.001193\tvợ mới sinh, làm giấy khai sinh ở đâu",
        "1.001193 no tab here",
        "1.001193\t",
        "\tno code",
        "1.001193\ttoo\tmany tabs",
        "OOS:weather\ttrời có mưa không",
        "not a code!\tsomething",
        "1.001193\t!!! ???",
        "OOS:status\thồ sơ của tôi tới đâu rồi",
        "1.001193\tvợ mới  sinh,   làm giấy khai sinh ở đâu",  # the same phrase, spaced
    ]
    examples, problems = parse_example_lines(lines, "x.tsv")
    assert [(e.code, e.phrase) for e in examples] == [
        ("1.001193", "vợ mới sinh, làm giấy khai sinh ở đâu"),
        ("OOS:status", "hồ sơ của tôi tới đâu rồi"),
        ("1.001193", "vợ mới sinh, làm giấy khai sinh ở đâu"),
    ]
    assert len(problems) == 7
    assert problems[0].startswith("x.tsv:4: ")
    assert any("OOS:weather" in p and "status" in p for p in problems)
    merged = Examples(examples)
    assert len(merged) == 2  # a repeated phrase counts once
    assert merged.by_code() == {"1.001193": ["vợ mới sinh, làm giấy khai sinh ở đâu"]}
    assert merged.out_of_scope() == {"status": ["hồ sơ của tôi tới đâu rồi"]}


def test_load_logs_bad_lines(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    path = tmp_path / "extra.tsv"
    path.write_text("1.001193\tkhai sinh cho con\nbroken line\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="knowledge.examples"):
        examples = load_examples(path)
    assert len(examples) == 1
    assert "extra.tsv:2" in caplog.text


def test_bundled_file_covers_every_procedure_and_each_out_of_scope_category() -> None:
    examples, problems = parse_example_lines(DEFAULT_EXAMPLES_PATH.read_text("utf-8").splitlines())
    assert problems == []
    by_code = Examples(examples).by_code()
    codes = {r.code for r in load_procedures_json()}
    assert codes <= set(by_code)
    assert all(len(by_code[c]) >= 5 for c in codes)
    assert set(Examples(examples).out_of_scope()) == set(OOS_CATEGORIES)


def test_unknown_codes_are_warned_about_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    records = [
        ProcedureRecord(code="1.000001", name="Đăng ký khai sinh"),
        ProcedureRecord(code="1.000002", name="Đăng ký kết hôn"),
    ]
    examples = load_examples(
        ["1.000001\tvợ vừa đẻ xong làm giấy cho con", "9.999999\tthủ tục của tỉnh khác"]
    )
    with caplog.at_level(logging.WARNING, logger="knowledge.search.engine"):
        engine = SearchEngine(records, examples=examples)
    assert engine.unknown_example_codes == ("9.999999",)
    assert "9.999999" in caplog.text
    assert engine.search("vợ vừa đẻ xong làm giấy cho con").hits[0].code == "1.000001"


# ---------------------------------------------------------------- ranking
def test_an_example_finds_a_situation_the_words_alone_do_not(plain: SearchEngine) -> None:
    records = load_procedures_json()
    question = "nhà vừa có thêm thành viên nhí thì phải làm giấy gì"
    assert plain.search(question).hits[0].code != "1.001193"
    # the bundled phrases do not say it either; one more phrase, as an admin adds it, does
    bundled = default_examples()
    events = default_life_events()
    without = SearchEngine(records, default_lexicon(), events=events, examples=bundled)
    assert without.search(question).hits[0].code != "1.001193"
    phrase = "nhà mới có thêm thành viên nhí, cần giấy tờ gì cho bé"
    taught = bundled.merged(load_examples([f"1.001193\t{phrase}"]))
    engine = SearchEngine(records, default_lexicon(), events=events, examples=taught)
    response = engine.search(question)
    assert response.hits[0].code == "1.001193"  # first of what the citizen sees
    assert "1.001193" in shown_codes(response)
    top = engine.explain(question, 1)["top"]
    assert isinstance(top, list)
    assert top[0]["example_phrase"] == phrase


def test_the_bundled_phrases_find_a_situation_the_words_alone_do_not(
    bundled: SearchEngine, plain: SearchEngine
) -> None:
    # a school transfer told as a story (written here, not taken from a question set)
    question = "con tôi chuyển từ trường ở Đà Nẵng về quê học lớp 6"
    assert plain.search(question).hits[0].code != "1.005092"
    response = bundled.search(question)
    assert response.best is not None and response.best.code == "1.005092"


def test_plain_questions_keep_the_plain_variant(bundled: SearchEngine) -> None:
    # the phrases of "… có yếu tố nước ngoài", "… lưu động", "Đăng ký lại …" must not pull a
    # question that names no variant away from the plain procedure
    for question, code in (
        ("đăng ký khai sinh cho con", "1.001193"),
        ("làm giấy khai sinh", "1.001193"),
        ("đăng ký kết hôn", "1.000894"),
        ("làm giấy chứng tử cho bố", "1.000656"),
    ):
        response = bundled.search(question)
        assert response.best is not None and response.best.code == code, question
    qualified = bundled.search("chồng tôi người Hàn Quốc, muốn đăng ký kết hôn ở Việt Nam")
    assert qualified.best is not None and qualified.best.code == "9.000111"


def test_the_phrases_cost_is_bounded_by_the_candidates(bundled: SearchEngine) -> None:
    # each procedure keeps its own few phrase vectors; nothing is kept per word of all phrases
    sets = bundled._examples.docs
    assert len(sets) == len(bundled)
    assert max(len(v) for v in sets.values()) <= 50  # four batches: about 10 + 10 + 12 + 10 each
    no_phrases = SearchEngine(load_procedures_json())
    assert not no_phrases._examples and not no_phrases._scope


# ---------------------------------------------------------------- out of scope
def test_out_of_scope_phrases_route_to_the_right_channel(
    bundled: SearchEngine, plain: SearchEngine
) -> None:
    cases = {
        # a dossier's status: the portal's lookup, /status, a phản ánh when late
        "giấy khai sinh của con tôi làm online tuần trước, giờ đang ở bước nào": "status",
        "hồ sơ xin cấp hộ chiếu của em bao giờ mới xong": "status",
        # handling complaints: the feedback (PAKN) flow
        "nhân viên bộ phận một cửa nói chuyện cộc lốc, hỏi gì cũng không trả lời": "feedback",
        # a dispute: no legal advice, legal aid and the court
        "hàng xóm xây nhà làm nứt tường nhà tôi, đòi bồi thường thế nào": "legal",
    }
    for question, intent in cases.items():
        before = plain.search(question)
        response = bundled.search(question)
        assert response.abstained, question
        assert response.intent == intent, (question, response.intent)
        assert response.scope, question  # told by the phrases, not by the fixed intents
        assert not (before.abstained and before.intent == intent), question
        # the procedures it resembles stay one tap away under the channel
        assert shown_codes(response) == [h.code for h in response.hits[:3]]
    other = bundled.search("giá vàng hôm nay bao nhiêu")
    assert other.abstained and other.scope == "other" and other.intent == ""


def test_fixed_intents_keep_their_channel_and_buttons(bundled: SearchEngine) -> None:
    response = bundled.search("tôi muốn khiếu nại quyết định xử phạt của xã")
    assert response.abstained and response.intent == "complaint" and response.scope == ""
    assert shown_codes(response) == []


def test_a_kb_without_phrases_behaves_as_before() -> None:
    records = load_procedures_json()
    engine = SearchEngine(records, default_lexicon(), events=default_life_events())
    response = engine.search("hồ sơ xin cấp hộ chiếu của em bao giờ mới xong")
    assert response.scope == ""
    assert engine.unknown_example_codes == ()


def test_a_kb_the_phrases_hardly_cover_does_not_judge_scope_by_them() -> None:
    # a province's own KB, none of whose codes the bundled phrases know: the out-of-scope
    # model would find everything out of scope, so it is not used
    records = [
        ProcedureRecord(code="2.999001", name="Cấp phép nuôi chim yến"),
        ProcedureRecord(code="2.999002", name="Cấp giấy phép khai thác cát sỏi lòng sông"),
    ]
    engine = SearchEngine(records, default_lexicon(), examples=default_examples())
    assert len(engine.unknown_example_codes) > 200
    response = engine.search("xin phép nuôi yến")
    assert response.scope == "" and response.best is not None
    assert response.best.code == "2.999001"
