from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.lexicon import (
    Lexicon,
    LexiconError,
    default_lexicon,
    load_lexicon,
    parse_lexicon_lines,
)
from knowledge.normalize import analyze, tokenize


def test_default_lexicon_is_broad_and_parses() -> None:
    lexicon = default_lexicon()
    assert len(lexicon) >= 150
    phrases = {e.phrase for e in lexicon}
    for colloquial in ("sổ đỏ", "sổ hồng", "giấy độc thân", "hộ khẩu", "sang tên", "mở quán"):
        assert colloquial in phrases


@pytest.mark.parametrize(
    ("text", "official"),
    [
        ("sổ đỏ", "giấy chứng nhận quyền sử dụng đất"),
        ("so do", "giấy chứng nhận quyền sử dụng đất"),
        ("giấy độc thân", "xác nhận tình trạng hôn nhân"),
        ("nhập hộ khẩu", "đăng ký thường trú"),
        ("làm căn cước", "cấp thẻ căn cước"),
        ("làm cccd", "cấp thẻ căn cước"),
        ("photo công chứng", "chứng thực bản sao từ bản chính"),
        ("sang tên", "đăng ký biến động chuyển nhượng"),
        ("giấy phép xây nhà", "giấy phép xây dựng nhà ở riêng lẻ"),
        ("mở quán", "đăng ký thành lập hộ kinh doanh"),
        ("buôn bán nhỏ", "đăng ký thành lập hộ kinh doanh"),
        ("lãnh tiền thất nghiệp", "trợ cấp thất nghiệp"),
        ("lĩnh tiền thất nghiệp", "trợ cấp thất nghiệp"),
        ("thẻ bảo hiểm", "thẻ bảo hiểm y tế"),
    ],
)
def test_colloquial_phrases_expand(text: str, official: str) -> None:
    assert default_lexicon().expand(tokenize(text)) == tokenize(official)


def test_longest_phrase_wins_and_context_is_kept() -> None:
    lexicon = Lexicon([("sổ đỏ", "giấy chứng nhận"), ("mất sổ đỏ", "cấp lại giấy chứng nhận")])
    assert lexicon.expand_text("tôi bị mất sổ đỏ rồi") == "tôi bị cấp lại giấy chứng nhận rồi"
    assert lexicon.expand_text("làm sổ đỏ") == "làm giấy chứng nhận"


def test_typed_diacritics_must_agree() -> None:
    lexicon = Lexicon([("sổ đỏ", "giấy chứng nhận")])
    assert lexicon.find(analyze("số đo")) == []
    assert len(lexicon.find(analyze("so do"))) == 1
    assert len(lexicon.find(analyze("SỔ ĐỎ"))) == 1


def test_merged_admin_entries_override_and_extend() -> None:
    base = Lexicon([("sổ đỏ", "giấy chứng nhận")])
    merged = base.merged([("sổ đỏ", "giấy chứng nhận quyền sử dụng đất"), ("bìa xanh", "sổ")])
    assert len(base) == 1  # the original is untouched
    assert len(merged) == 2
    assert merged.expand_text("sổ đỏ") == "giấy chứng nhận quyền sử dụng đất"
    assert merged.expand_text("bia xanh") == "sổ"


def test_parse_lines_skips_comments_and_rejects_bad_lines() -> None:
    lines = ["# comment", "", "sổ đỏ\tgiấy chứng nhận", "  # indented comment"]
    assert parse_lexicon_lines(lines) == [("sổ đỏ", "giấy chứng nhận")]
    with pytest.raises(LexiconError, match="line 2"):
        parse_lexicon_lines(["a\tb", "no tab here"])
    with pytest.raises(LexiconError):
        Lexicon([("!!!", "x")])
    # admin additions come from a table: a bad row is skipped, not fatal
    assert len(Lexicon([("sổ đỏ", "giấy chứng nhận")]).merged([("!!!", "x"), ("a", "🙂")])) == 1


def test_optional_weight_column_marks_situational_hints() -> None:
    specs = parse_lexicon_lines(["bố mất\tkhai tử\t0.5", "sổ đỏ\tgiấy chứng nhận"])
    assert specs == [("bố mất", "khai tử", 0.5), ("sổ đỏ", "giấy chứng nhận")]
    lexicon = Lexicon(specs)
    assert [e.weight for e in lexicon] == [0.5, 1.0]
    assert lexicon.merged([("sổ hồng", "giấy chứng nhận")]).entries[0].weight == 0.5
    with pytest.raises(LexiconError, match="weight"):
        parse_lexicon_lines(["bố mất\tkhai tử\tmuch"])
    with pytest.raises(LexiconError, match="weight"):
        Lexicon([("bố mất", "khai tử", 2.0)])


def test_load_from_path_and_lines(tmp_path: Path) -> None:
    path = tmp_path / "lex.tsv"
    path.write_text("\ufeffsổ đỏ\tgiấy chứng nhận\n", encoding="utf-8")
    assert [e.phrase for e in load_lexicon(path)] == ["sổ đỏ"]
    assert [e.phrase for e in load_lexicon(["sổ hồng\tgiấy chứng nhận"])] == ["sổ hồng"]


def test_phrase_matches_across_light_words_only_when_asked() -> None:
    lex = Lexicon([("cắt đất", "tách thửa"), ("làm lại", "cấp lại")])
    pairs = analyze("muốn cắt một phần đất cho con")
    assert lex.find(pairs) == []
    light = frozenset({"một", "phần", "mot", "phan"})
    (match,) = lex.find(pairs, light)
    assert (match.start, match.end, match.entry.phrase) == (1, 5, "cắt đất")
    # content words are never skipped, and an exact match is not stretched over a gap
    assert lex.find(analyze("cắt hộ khẩu đất"), light) == []
    (exact,) = lex.find(analyze("làm lại một giấy"), light)
    assert exact.entry.phrase == "làm lại"
