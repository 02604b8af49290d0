"""The phrases' logistic regression (knowledge/search/model.py) and its place in the ranking."""

from __future__ import annotations

import pickle
import subprocess
import sys
from dataclasses import replace

import pytest

from knowledge.examples import default_examples
from knowledge.lexicon import default_lexicon
from knowledge.lifeevents import default_life_events
from knowledge.normalize import analyze
from knowledge.sample import load_procedures_json
from knowledge.search import SearchConfig, SearchEngine
from knowledge.search.model import PhraseModel, model_features

PHRASES = {
    0: [
        "vợ mới sinh con làm giấy khai sinh",
        "bé mới chào đời làm giấy tờ gì",
        "khai sinh cho con",
    ],
    1: ["bố mất làm giấy khai tử", "ông nội qua đời làm giấy gì", "khai tử cho mẹ"],
    2: ["mất chứng minh thư làm căn cước", "làm thẻ căn cước cho con 14 tuổi", "cấp căn cước"],
}
NAMES = {0: ["Đăng ký khai sinh"], 1: ["Đăng ký khai tử"], 2: ["Cấp thẻ căn cước"]}


def words(text: str) -> list[str]:
    return model_features(analyze(text))


def test_the_model_learns_which_words_tell_procedures_apart() -> None:
    model = PhraseModel(PHRASES, NAMES, {"status": ["hồ sơ của tôi tới đâu rồi"]})
    doc, _ = model.probabilities(words("nhà vừa có em bé chào đời"))
    assert max(doc, key=lambda d: doc[d]) == 0
    death, _ = model.probabilities(words("ông tôi vừa qua đời"))
    assert max(death, key=lambda d: death[d]) == 1
    # what speaks for a procedure, for `kb search --explain`
    said = {w for w, _ in model.explain(words("ông tôi vừa qua đời"), 1)}
    assert said & {"qua", "doi", "qua doi"}
    # the out-of-scope phrases are a class of their own: probabilities sum to one over all
    doc, outside = model.probabilities(words("hồ sơ tới đâu rồi"))
    assert set(outside) == {"status"}
    assert outside["status"] > max(doc.values())
    assert sum(doc.values()) + sum(outside.values()) == pytest.approx(1.0, abs=1e-5)
    # words it never saw say nothing
    assert model.probabilities(words("xyz qwv")) == ({}, {})


def test_training_is_deterministic_and_needs_two_procedures() -> None:
    first = PhraseModel(PHRASES, NAMES)
    again = PhraseModel(PHRASES, NAMES)
    assert first.vocab == again.vocab
    rows = range(len(first.vocab))
    assert [first.weights(i) for i in rows] == [again.weights(i) for i in rows]
    assert not PhraseModel({0: PHRASES[0]}, NAMES)  # one procedure: nothing to tell apart
    assert not PhraseModel({}, {})


def test_a_kept_model_answers_without_numpy() -> None:
    """The kept index (search/cache.py) holds the weights as bytes: loading it and asking it
    must not import numpy (a tenth of a second of every start)."""
    model = PhraseModel(PHRASES, NAMES)
    said = words("vợ mới sinh con xong làm giấy khai sinh cho bé")
    kept = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    assert pickle.loads(kept).probabilities(said) == model.probabilities(said)
    probe = (
        "import pickle, sys; model = pickle.loads(sys.stdin.buffer.read()); "
        f"print(repr(model.probabilities({said!r}))); assert 'numpy' not in sys.modules"
    )
    answer = subprocess.run(
        [sys.executable, "-c", probe], input=kept, check=True, capture_output=True
    ).stdout
    # without numpy the same figures, to the last bit, as with it (imported here)
    assert "numpy" in sys.modules
    assert answer.decode().strip() == repr(model.probabilities(said))


def test_a_word_or_two_is_little_evidence() -> None:
    model = PhraseModel(PHRASES, NAMES)
    short, _ = model.probabilities(words("khai sinh"))
    long, _ = model.probabilities(words("vợ mới sinh con xong làm giấy khai sinh cho bé"))
    assert max(short, key=lambda d: short[d]) == 0
    assert short[0] < long[0]  # scaled like a phrase of median length


@pytest.fixture(scope="module")
def engines() -> tuple[SearchEngine, SearchEngine]:
    """The bundled KB with its phrases, with and without the model's weight in the ranking."""
    records, lexicon, events = load_procedures_json(), default_lexicon(), default_life_events()
    examples = default_examples()
    on = SearchEngine(records, lexicon, events=events, examples=examples)
    off_config = replace(SearchConfig(), rank_model=0.0, conf_model=0.0)
    off = SearchEngine(records, lexicon, off_config, events=events, examples=examples)
    return on, off


def test_the_model_ranks_what_the_other_features_miss(
    engines: tuple[SearchEngine, SearchEngine],
) -> None:
    on, off = engines
    # written here: "not married yet" is what the single-status certificate's phrases say,
    # while "cưới ở nước ngoài" pulls the words towards a marriage with a foreigner
    question = "tôi muốn xác nhận mình chưa lấy vợ để cưới ở nước ngoài"
    assert off.search(question).hits[0].code != "1.004873"
    response = on.search(question)
    assert response.best is not None and response.best.code == "1.004873"
    top = on.explain(question, 1)["top"]
    assert isinstance(top, list)
    assert top[0]["model"] > 0.3
    assert top[0]["model_words"]  # the words that spoke for it


def test_a_kb_without_phrases_has_no_model() -> None:
    engine = SearchEngine(load_procedures_json(), default_lexicon())
    assert not engine._model
    response = engine.search("đăng ký khai sinh")
    assert response.best is not None and response.best.code == "1.001193"


def test_numbers_are_features() -> None:
    assert "lop 6" in words("con học lớp 6")
    assert "6" in words("con học lớp 6")


def test_the_model_agreeing_lowers_the_lead_the_phrases_need_to_abstain(
    engines: tuple[SearchEngine, SearchEngine],
) -> None:
    on, _ = engines
    # a dossier's status that names its procedure, whose words speak for "in scope" in the
    # naive Bayes model (test_examples.py asks it too); the logistic model reads the asking
    # words as a status
    question = "em nộp hồ sơ cấp đổi giấy phép lái xe rồi, bao giờ lấy được"
    response = on.search(question)
    assert response.abstained and response.scope == "status"
    explained = on.explain(question)["out_of_scope"]
    assert isinstance(explained, dict)
    assert explained["model"] >= on.config.model_oos_agrees
    # the naive Bayes model's lead alone
    alone = replace(on.config, model_oos_agrees=1.1, model_oos_sure=1.1)
    records, lexicon, events = load_procedures_json(), default_lexicon(), default_life_events()
    engine = SearchEngine(records, lexicon, alone, events=events, examples=default_examples())
    assert explained["lead"] < on.config.oos_lead
    assert not engine.search(question).abstained


def test_a_nearly_sure_model_lowers_the_lead_further(
    engines: tuple[SearchEngine, SearchEngine],
) -> None:
    on, _ = engines
    question = "em nộp hồ sơ cấp đổi giấy phép lái xe rồi, bao giờ lấy được"
    explained = on.explain(question)["out_of_scope"]
    assert isinstance(explained, dict)
    assert explained["model"] >= on.config.model_oos_sure
    # a lead the agreeing model's tier does not accept, which the nearly sure one does
    records, lexicon, events = load_procedures_json(), default_lexicon(), default_life_events()
    stricter = replace(on.config, oos_lead_agreed=1.1)
    engine = SearchEngine(records, lexicon, stricter, events=events, examples=default_examples())
    response = engine.search(question)
    assert response.abstained and response.scope == "status"
    unsure = replace(stricter, model_oos_sure=1.1)
    engine = SearchEngine(records, lexicon, unsure, events=events, examples=default_examples())
    assert not engine.search(question).abstained


def test_phrase_vectors_are_built_only_for_explain() -> None:
    engine = SearchEngine(load_procedures_json(), default_lexicon(), examples=default_examples())
    engine.search("vợ mới sinh em bé làm giấy khai sinh")
    assert "_vectors" not in vars(engine._examples)  # the ranking never parsed a phrase
    top = engine.explain("vợ mới sinh em bé làm giấy khai sinh", 1)["top"]
    assert isinstance(top, list) and top[0]["example_phrase"]
    assert "_vectors" in vars(engine._examples)


def test_a_short_name_keeps_the_plain_variant_whatever_the_phrases_say(
    engines: tuple[SearchEngine, SearchEngine],
) -> None:
    on, _ = engines
    # the second passport's phrases say "cấp hộ chiếu" more often than the first one's
    response = on.search("cấp hộ chiếu")
    assert response.best is not None and response.best.code == "9.000401"
    records, lexicon, events = load_procedures_json(), default_lexicon(), default_life_events()
    config = replace(SearchConfig(), variant_short=0)
    engine = SearchEngine(records, lexicon, config, events=events, examples=default_examples())
    assert engine.search("cấp hộ chiếu").hits[0].code != "9.000401"
