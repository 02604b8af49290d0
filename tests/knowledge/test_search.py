from __future__ import annotations

import gc
import unicodedata
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.evaluation import evaluate, load_rows
from knowledge.lexicon import Lexicon, default_lexicon
from knowledge.records import ProcedureRecord
from knowledge.sample import DEFAULT_PROCEDURES_PATH, load_procedures_json
from knowledge.search import SearchConfig, SearchEngine
from knowledge.search.index import Index
from knowledge.search.query import Query, Unit, parse
from knowledge.search.rank import _bigram_cover, _coverage, rank

# The 53-procedure sample the first labelled sets were written against.
SAMPLE_53_PATH = Path(__file__).parents[1] / "data" / "sample53_procedures.json"

KHAI_SINH = "1.001193"
KHAI_TU = "1.000656"
KET_HON = "1.000894"
DOC_THAN = "1.004873"
THUONG_TRU = "1.004194"
TAM_TRU = "1.004222"
CCCD_MOI = "1.012211"
CCCD_LAI = "1.012213"
SO_DO = "1.012772"
SANG_TEN = "1.012773"
CHUNG_THUC = "2.000908"
HKD = "2.000720"
THAT_NGHIEP = "1.001978"
GPXD = "1.009994"

RECORDS = [
    ProcedureRecord(
        code=KHAI_SINH,
        name="Đăng ký khai sinh",
        field="Hộ tịch",
        documents="Tờ khai đăng ký khai sinh; Giấy chứng sinh do cơ sở y tế cấp",
        result="Giấy khai sinh",
    ),
    ProcedureRecord(
        code=KHAI_TU,
        name="Đăng ký khai tử",
        field="Hộ tịch",
        documents="Tờ khai đăng ký khai tử; Giấy báo tử",
        result="Trích lục khai tử",
        keywords=("báo tử", "khai báo người mất"),
    ),
    ProcedureRecord(
        code=KET_HON,
        name="Đăng ký kết hôn",
        field="Hộ tịch",
        documents="Tờ khai đăng ký kết hôn; giấy tờ tùy thân của hai bên",
        result="Giấy chứng nhận kết hôn",
    ),
    ProcedureRecord(
        code=DOC_THAN,
        name="Cấp Giấy xác nhận tình trạng hôn nhân",
        field="Hộ tịch",
        result="Giấy xác nhận tình trạng hôn nhân",
    ),
    ProcedureRecord(
        code=THUONG_TRU,
        name="Đăng ký thường trú",
        field="Đăng ký, quản lý cư trú",
        documents="Tờ khai thay đổi thông tin cư trú; giấy tờ chứng minh chỗ ở hợp pháp",
    ),
    ProcedureRecord(
        code=TAM_TRU,
        name="Đăng ký tạm trú",
        field="Đăng ký, quản lý cư trú",
        keywords=("người thuê trọ",),
    ),
    ProcedureRecord(
        code=CCCD_MOI,
        name="Cấp thẻ căn cước (cấp lần đầu)",
        field="Cấp, quản lý căn cước",
    ),
    ProcedureRecord(
        code=CCCD_LAI,
        name="Cấp lại thẻ căn cước",
        field="Cấp, quản lý căn cước",
        conditions="Thẻ căn cước bị mất",
    ),
    ProcedureRecord(
        code=SO_DO,
        name=(
            "Đăng ký đất đai, tài sản gắn liền với đất, cấp Giấy chứng nhận quyền sử dụng đất, "
            "quyền sở hữu tài sản gắn liền với đất lần đầu"
        ),
        field="Đất đai",
    ),
    ProcedureRecord(
        code=SANG_TEN,
        name=(
            "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất "
            "do chuyển nhượng, tặng cho, thừa kế"
        ),
        field="Đất đai",
    ),
    ProcedureRecord(
        code=CHUNG_THUC,
        name="Chứng thực bản sao từ bản chính giấy tờ, văn bản",
        field="Chứng thực",
    ),
    ProcedureRecord(
        code=HKD,
        name="Đăng ký thành lập hộ kinh doanh",
        field="Thành lập và hoạt động của hộ kinh doanh",
    ),
    ProcedureRecord(
        code=THAT_NGHIEP,
        name="Giải quyết hưởng trợ cấp thất nghiệp",
        field="Việc làm",
    ),
    ProcedureRecord(
        code=GPXD,
        name="Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ",
        field="Hoạt động xây dựng",
    ),
]

CHIT_CHAT = [
    "xin chào",
    "hello",
    "cảm ơn nhé",
    "ok",
    "😂😂😂",
    "???",
    "hôm nay trời có mưa không",
    "thoi tiet ngay mai the nao",
    "tối nay Việt Nam đá với Thái Lan mấy giờ",
    "giá vàng hôm nay bao nhiêu",
    "cách nấu phở bò ngon",
    "kể chuyện cười đi",
    "asdfgh",
]


@pytest.fixture(scope="module")
def engine() -> SearchEngine:
    return SearchEngine(RECORDS, default_lexicon())


def top(engine: SearchEngine, query: str) -> str | None:
    response = engine.search(query)
    return None if response.abstained or not response.hits else response.hits[0].code


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("Đăng ký khai sinh", KHAI_SINH),
        ("Thủ tục đăng ký kết hôn cần những giấy tờ gì?", KET_HON),
        ("cấp lại thẻ căn cước", CCCD_LAI),
        ("đăng ký tạm trú", TAM_TRU),
    ],
)
def test_formal_questions(engine: SearchEngine, query: str, code: str) -> None:
    assert top(engine, query) == code


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("dang ky khai sinh cho con o dau", KHAI_SINH),
        ("DANG KY KET HON", KET_HON),
        ("thu tuc dang ky thuong tru", THUONG_TRU),
    ],
)
def test_without_diacritics(engine: SearchEngine, query: str, code: str) -> None:
    assert top(engine, query) == code


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("khai sihn cho be", KHAI_SINH),  # swapped letters
        ("dang ky ket hon", KET_HON),
        ("đăng ký thường chú", THUONG_TRU),  # ch/tr confusion
        ("lam tam chu cho nguoi thue tro", TAM_TRU),
        ("ddawng kys khai sinh", KHAI_SINH),  # Telex typed with the input method off
        ("giay fep xay dung nha o", GPXD),  # chat spelling f = ph
    ],
)
def test_typos(engine: SearchEngine, query: str, code: str) -> None:
    assert top(engine, query) == code


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("muốn làm sổ đỏ cho mảnh đất ông bà để lại", SO_DO),
        ("sang tên sổ đỏ cho con", SANG_TEN),
        ("xin giấy độc thân để mua nhà", DOC_THAN),
        ("nhập hộ khẩu cho vợ", THUONG_TRU),
        ("photo công chứng giấy tờ ở xã", CHUNG_THUC),
        ("mở quán cà phê có cần giấy phép không", HKD),
        ("lãnh tiền thất nghiệp ở đâu", THAT_NGHIEP),
        ("lam cccd lan dau", CCCD_MOI),
        ("xin phép xây nhà 3 tầng", GPXD),
        ("báo tử cho ông nội", KHAI_TU),
    ],
)
def test_colloquial(engine: SearchEngine, query: str, code: str) -> None:
    assert top(engine, query) == code


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("ông nội tôi mới mất, cần làm giấy tờ gì với xã", KHAI_TU),  # a hint: a death
        ("đăng ký xe mới mua mất bao lâu", None),  # "mất" here means "takes": no death
        ("đăng ký kết hôn trên VNeID được không", KET_HON),  # the channel is not the topic
    ],
)
def test_situational_hints_and_asides(engine: SearchEngine, query: str, code: str | None) -> None:
    response = engine.search(query)
    if code is None:
        assert not response.hits or response.hits[0].code != KHAI_TU
    else:
        assert top(engine, query) == code


def test_nfd_and_old_tone_placement_give_the_same_answer(engine: SearchEngine) -> None:
    query = "Đăng ký kết hôn thì tuỳ xã nào hay ở đâu cũng được?"
    nfd = unicodedata.normalize("NFD", query)
    new_tones = query.replace("tuỳ", "tùy")
    expected = engine.search(query)
    assert expected.hits[0].code == KET_HON
    assert engine.search(nfd).hits == expected.hits
    assert engine.search(new_tones).hits == expected.hits


@pytest.mark.parametrize("query", CHIT_CHAT)
def test_chit_chat_abstains(engine: SearchEngine, query: str) -> None:
    assert engine.search(query).abstained


def test_abstained_answers_still_offer_suggestions(engine: SearchEngine) -> None:
    response = engine.search("thủ tục ly hôn đơn phương với người nước ngoài")
    assert response.abstained
    assert response.best is None
    assert response.hits  # "did you mean" buttons


@pytest.mark.parametrize("query", ["", "   ", "!!!", "🙏", "ạ"])
def test_empty_queries_abstain_without_hits(engine: SearchEngine, query: str) -> None:
    response = engine.search(query)
    assert response.abstained
    assert response.hits == []
    assert response.query == query


def test_scores_are_confidences_in_order(engine: SearchEngine) -> None:
    response = engine.search("đăng ký khai sinh cho con")
    scores = [h.score for h in response.hits]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True)
    assert response.hits[0].score >= SearchConfig().abstain_below
    assert engine.search("giá vàng hôm nay").hits[0].score < SearchConfig().abstain_below


def test_a_typed_procedure_code_is_the_answer(engine: SearchEngine) -> None:
    response = engine.search(f"cho hỏi thủ tục {TAM_TRU}.")
    assert not response.abstained
    assert response.hits[0].code == TAM_TRU
    assert response.hits[0].score == 1.0
    assert engine.search("thủ tục 9.999999").hits == []  # unknown code: just words


def test_limit(engine: SearchEngine) -> None:
    assert len(engine.search("đăng ký", limit=3).hits) == 3
    assert engine.search("đăng ký", limit=0).hits == []


def test_deterministic(engine: SearchEngine) -> None:
    first = engine.search("dang ky ho kinh doanh")
    again = SearchEngine(RECORDS, default_lexicon()).search("dang ky ho kinh doanh")
    assert first == engine.search("dang ky ho kinh doanh") == again


def test_get_len_contains_and_duplicate_codes() -> None:
    updated = replace(RECORDS[0], name="Đăng ký khai sinh (bản mới)")
    engine = SearchEngine([*RECORDS, updated])
    assert len(engine) == len(RECORDS)
    assert engine.get(KHAI_SINH) == updated
    assert engine.get("0.000000") is None
    assert KHAI_SINH in engine


def test_empty_knowledge_base() -> None:
    engine = SearchEngine([])
    assert len(engine) == 0
    response = engine.search("đăng ký khai sinh")
    assert response.abstained and response.hits == []


def test_admin_lexicon_entries_take_effect() -> None:
    records = [*RECORDS, ProcedureRecord(code="2.000001", name="Cấp giấy phép karaoke")]
    plain = SearchEngine(records, default_lexicon())
    assert top(plain, "xin phép cho quán hát") != "2.000001"
    admin = default_lexicon().merged([("quán hát", "giấy phép karaoke")])
    assert top(SearchEngine(records, admin), "xin phép cho quán hát") == "2.000001"


def test_works_without_a_lexicon() -> None:
    engine = SearchEngine(RECORDS, Lexicon())
    assert top(engine, "dang ky khai tu") == KHAI_TU


def test_concurrent_reads_agree(engine: SearchEngine) -> None:
    queries = ["dang ky khai sinh", "sổ đỏ", "xin chào", "lam cccd", "mở quán"] * 20
    expected = [engine.search(q) for q in queries]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(engine.search, queries)) == expected


def test_building_leaves_the_garbage_collector_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bot builds the engine in a worker thread: process-wide GC switches are off limits."""

    def refuse(*args: object) -> None:
        raise AssertionError("the engine must not change the process-wide garbage collector")

    for name in ("disable", "enable", "freeze", "set_threshold"):
        monkeypatch.setattr(gc, name, refuse)
    engine = SearchEngine(load_procedures_json(), default_lexicon())
    assert engine.search("đăng ký khai sinh").best is not None


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=80))
def test_any_text_is_safe(text: str) -> None:
    response = SEARCH.search(text)
    assert all(0.0 <= h.score <= 1.0 for h in response.hits)
    assert len(response.hits) <= 5


SEARCH = SearchEngine(RECORDS, default_lexicon())


@pytest.mark.skipif(
    not DEFAULT_PROCEDURES_PATH.with_name("eval_questions.jsonl").exists(),
    reason="sample questions not present",
)
def test_sample_questions_quality_floor() -> None:
    """Regression floor on the shipped sample; the real targets are judged on held-out data.

    The set was labelled against the first 53-procedure sample (its out-of-scope rows ask for
    passports and visas, which the bigger sample now holds), so it runs on that snapshot."""
    engine = SearchEngine(load_procedures_json(SAMPLE_53_PATH), default_lexicon())
    report = evaluate(engine, load_rows(DEFAULT_PROCEDURES_PATH.with_name("eval_questions.jsonl")))
    assert report.top1 >= 0.92, report.format()
    assert report.top3 >= 0.97, report.format()
    assert report.abstain >= 0.90, report.format()


@pytest.fixture(scope="module")
def sample_engine() -> SearchEngine:
    return SearchEngine(load_procedures_json(DEFAULT_PROCEDURES_PATH), default_lexicon())


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("muốn nâng thêm một tầng cho nhà cũ", "1.009995"),
        ("gộp hai mảnh đất thành một sổ", "1.012774"),
    ],
)
def test_verb_and_object_split_by_light_words(
    sample_engine: SearchEngine, query: str, code: str
) -> None:
    assert sample_engine.search(query).hits[0].code == code


def test_well_formed_unknown_syllable_is_not_bent_into_a_phrase(
    sample_engine: SearchEngine,
) -> None:
    # "xang" (xăng, petrol) is one letter from "nâng" but is a word of its own
    assert sample_engine.search("gia xang tang chua").abstained


def test_batched_lookup_agrees_with_each_terms_postings(engine: SearchEngine) -> None:
    """`Index.lookup_table` (one numpy search per term) finds exactly what each term's own
    postings say (read one by one in plain Python): present and absent documents, ids past a
    term's last posting, any order."""
    index = engine._index
    terms = sorted(["dang", "ky", "khai", "sinh", "dang ky", "ho chieu", "~đăng", "zzz"])
    docs = [len(RECORDS) - 1, 0, 7, 3, 1, len(RECORDS) + 5]
    sats, strengths = index.lookup_table(terms, docs)
    assert sats.shape == strengths.shape == (len(terms), len(docs))
    assert sats.dtype == strengths.dtype == np.float64  # float32 would round the products
    for col, doc in enumerate(docs):
        for row, term in enumerate(terms):
            expected = (0.0, 0.0)
            if term in index.postings:
                post = index.postings[term]
                if doc in post.ids:
                    j = list(post.ids).index(doc)
                    expected = (post.sat[j], index.strengths[post.strength[j]])
            assert (sats[row, col], strengths[row, col]) == expected, (term, doc)
    assert sats.any() and not sats[:, -1].any()
    assert index.lookup_table(terms, [])[0].shape == (len(terms), 0)


def _added(values: Iterable[float]) -> float:
    """Left to right from 0.0, as the ranking adds: builtin `sum` compensates from Python 3.12
    on, so it is not the reference."""
    total = 0.0
    for value in values:
        total += value
    return total


def _unit_match_plainly(unit: Unit, found: dict[str, float], index: Index) -> float:
    """How well one document (its terms' field strengths `found`) answers one query unit,
    read from the definition one document at a time in plain Python."""
    cfg = index.config
    best = 0.0
    if unit.concept:
        for form in unit.forms:
            ws = [index.idf_of(term) for term, _ in form]
            got = _added(w * found.get(term, 0.0) for (term, _), w in zip(form, ws, strict=True))
            want = _added(ws)
            if want and got / want > best:
                best = got / want
        return best**cfg.concept_power
    for j, (term, w) in enumerate(unit.forms[0]):
        strength = found.get(term, 0.0)
        if j == 0 and unit.accent and strength >= index.accent_strength:
            strength = max(found.get(unit.accent, 0.0), cfg.accent_mismatch * strength)
        best = max(best, w * strength)
    if best and unit.words:
        in_word = max((found.get(t, 0.0) for t in unit.words if t), default=0.0)
        best = max(in_word, best * cfg.isolated)
    return best


def _questions(*names: str) -> list[str]:
    return [row.q for name in names for row in load_rows(DEFAULT_PROCEDURES_PATH.with_name(name))]


def test_coverage_over_all_candidates_agrees_with_one_document_at_a_time(
    sample_engine: SearchEngine,
) -> None:
    """The coverage and pair features, computed a term at a time over every candidate in
    numpy, equal (to the last bit: a rank must not depend on how it was computed) what the
    definition gives one document at a time in plain Python, for every bundled procedure and
    every question of three development sets."""
    index = sample_engine._index
    docs = list(range(len(index.name_words)))
    several_options = 0  # documents holding two options of one pair: the max is exercised
    for question in _questions(
        "dev2_questions.jsonl", "dev3_questions.jsonl", "dev_variants_questions.jsonl"
    ):
        q = parse(question, index)
        terms = sorted(
            {t for u in q.units for form in u.forms for t, _ in form}
            | {t for u in q.units for t in u.words if t}
            | {u.accent for u in q.units if u.accent}
            | {t for options in q.bigrams for t, _ in options}
        )
        terms = [t for t in terms if t in index.postings]
        sats, strengths = index.lookup_table(terms, docs)
        assert sats.dtype == strengths.dtype == np.float64  # float32 would round the products
        rows = {term: strengths[row] for row, term in enumerate(terms)}
        covers = _coverage(q, index, rows, len(docs)).tolist()
        pairs = _bigram_cover(q, rows, len(docs)).tolist()
        for doc in docs:
            found = {t: strengths[row, doc] for row, t in enumerate(terms) if strengths[row, doc]}
            expected = _added(u.weight * _unit_match_plainly(u, found, index) for u in q.units)
            assert covers[doc] == expected, (question, doc)
            assert pairs[doc] == _added(
                bw * max(w * found.get(t, 0.0) for t, w in options)
                for options, bw in zip(q.bigrams, q.bigram_weights, strict=True)
            ), (question, doc)
            several_options += any(sum(t in found for t, _ in o) > 1 for o in q.bigrams)
    assert several_options


def test_a_told_situation_alone_brings_its_procedures(sample_engine: SearchEngine) -> None:
    """A question whose words name nothing the index has, but whose situation was told (the
    life events' prior), still ranks that situation's procedures: no postings are read."""
    index = sample_engine._index
    scored = rank(Query(), index, prior={3: 0.9, 1: 0.5})
    assert [s.doc for s in scored] == [3, 1]
    assert scored[0].features["event"] == 0.9 and scored[0].features["bm25"] == 0.0


def test_a_build_gives_the_freed_heap_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """After an index is built, the heap's free pages go back to the system (glibc keeps the
    build's freed per-term arrays resident otherwise: ~10 MiB for 10,000 procedures)."""
    import platform

    import knowledge.search.engine as engine_module

    if platform.libc_ver()[0] == "glibc":
        assert engine_module.release_free_heap() is True
    calls: list[bool] = []
    monkeypatch.setattr(engine_module, "release_free_heap", lambda: calls.append(True) or True)
    SearchEngine(RECORDS[:5], default_lexicon())
    assert calls == [True]
