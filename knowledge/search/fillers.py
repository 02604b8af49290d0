"""Words of a question that do not say which procedure: filler, asides and light words.

Filler says "I am asking" ("cho tôi hỏi", "ở đâu", "cần giấy tờ gì"); asides say how, how long
or how much ("trên VNeID", "mất bao lâu"); light words sit between a verb and its object
("cắt một phần đất"). These lists are part of the query language, the same for every engine,
so they are constants here rather than fields of `SearchConfig`.
"""

from __future__ import annotations

from knowledge.lexicon import Lexicon
from knowledge.normalize import analyze

__all__ = [
    "CHANNEL_MATCHER",
    "CHANNEL_PHRASES",
    "FILLER_FOLDED_PAIRS",
    "FILLER_FOLDED_WORDS",
    "LIGHT_WORDS",
    "STOP_MATCHER",
    "STOP_PHRASES",
    "STOP_WORDS",
    "is_stop_word",
]

# Question filler: phrases and words that say "I am asking" rather than "about what". Matched
# like lexicon phrases (diacritics optional, but must agree when typed), after the lexicon, so
# "làm sổ đỏ" is still a lexicon phrase while "làm" alone is filler. Channel words (online,
# trực tuyến) are filler too: they say how, not which procedure.
_FILLER_PHRASES = """
cho tôi hỏi | cho em hỏi | cho mình hỏi | cho cháu hỏi | cho con hỏi | cho hỏi | xin hỏi
xin cho hỏi | tôi muốn hỏi | em muốn hỏi | muốn hỏi | cho biết | vui lòng | làm ơn | xin chào
cảm ơn | cám ơn | giúp tôi | giúp em | giúp mình | như thế nào | thế nào | ra sao | làm sao
làm thế nào | làm gì | làm những gì | ở đâu | chỗ nào | nơi nào | ở chỗ nào | bao lâu
mất bao lâu | bao giờ | bao nhiêu | bao nhiêu tiền | mất bao nhiêu | bao nhiêu ngày | mấy ngày
giấy tờ gì | những giấy tờ gì | cần giấy tờ gì | cần những gì | những gì | hồ sơ gồm những gì
hồ sơ gồm | cần chuẩn bị | chuẩn bị | thủ tục | thủ tục hành chính | có được không
được không | có phải | phải không | thì sao | phải làm sao | phải làm gì | cần làm gì | cần gì
là gì | gì vậy | hướng dẫn | tư vấn | thời gian | thời hạn | lệ phí | mức phí | phí | hồ sơ
giấy tờ | nộp hồ sơ | hiện nay | hiện tại | bây giờ | như vậy | vậy thì | trường hợp | quy định
theo quy định | có cần | trực tuyến | online | qua mạng | trên mạng | dịch vụ công | một cửa
bộ phận một cửa | trả kết quả | tại sao | vì sao | sao vậy | sao lại
"""
_FILLER_WORDS = """
tôi em mình anh chị cháu bác chú cô bạn ad admin bot ạ à ơi nhé nha nhá vậy thì là mà và hoặc
với của cho để ở tại đến khi nếu thế nào gì đâu bao lâu nhiêu mấy có không được bị phải cần
muốn nên làm xin hỏi giúp dùm giùm rồi đã sẽ đang vừa cái các những này đó kia ok dạ vâng hả
hở nhỉ chứ luôn nữa gồm cũng thêm vào rất lắm quá thật hay biết ra lên xuống nay hôm giờ ngày
nó họ chúng ta ấy trên chào alo hello hi nhưng mới tính định
"""
# How, how long, how much — not which procedure: removed before the lexicon sees the query,
# so "đăng ký tạm trú trên VNeID" is about tạm trú, not a VNeID account, and in "xe mới mua
# mất bao lâu" the "mất" (takes) is not a death.
_CHANNEL_PHRASES = """
trên vneid | qua vneid | bằng vneid | trên ứng dụng vneid | qua ứng dụng vneid | trên app
qua app | trên ứng dụng | qua ứng dụng | trên điện thoại | qua điện thoại | trên mạng | qua mạng
trực tuyến | online | trên cổng dịch vụ công | qua cổng dịch vụ công | qua bưu điện
mất bao lâu | mất mấy ngày | mất bao nhiêu | mất bao nhiêu ngày | mất bao nhiêu tiền | mất phí
mất mấy tháng | mất mấy tuần | mất thời gian | mất tiền không | có mất phí | có mất tiền
"""
CHANNEL_PHRASES: tuple[str, ...] = tuple(
    p.strip() for p in _CHANNEL_PHRASES.replace("\n", "|").split("|") if p.strip()
)
STOP_PHRASES: tuple[str, ...] = tuple(
    p.strip() for p in _FILLER_PHRASES.replace("\n", "|").split("|") if p.strip()
)
STOP_WORDS: frozenset[str] = frozenset(_FILLER_WORDS.split())

STOP_MATCHER = Lexicon((p, p) for p in STOP_PHRASES)
CHANNEL_MATCHER = Lexicon((p, p) for p in CHANNEL_PHRASES)
# Light words people put between a verb and its object: numerals, classifiers, degree adverbs
# ("cắt một phần đất", "gộp hai mảnh đất", "nâng thêm một tầng", "đóng cửa hẳn quán"). A
# lexicon phrase may match across up to two of them. Typed bare, their folded forms count too.
_LIGHT_WORDS = """
một hai ba bốn mấy vài các những phần mảnh miếng cái chiếc căn lô tờ cuốn quyển thêm hẳn
luôn bớt này đó ấy
"""
LIGHT_WORDS: frozenset[str] = frozenset(
    {w for w in _LIGHT_WORDS.split()} | {f for w in _LIGHT_WORDS.split() for f, _ in analyze(w)}
)
_STOP_FOLDED = frozenset(f for w in STOP_WORDS for f, _ in analyze(w, expand=False))
# Every folded syllable and pair the filler and aside phrases use: the query side knows them
# even when no procedure does.
FILLER_FOLDED_WORDS = _STOP_FOLDED | frozenset(
    w for e in (*STOP_MATCHER, *CHANNEL_MATCHER) for w in e.key
)
FILLER_FOLDED_PAIRS = frozenset(
    f"{a} {b}"
    for e in (*STOP_MATCHER, *CHANNEL_MATCHER)
    for a, b in zip(e.key, e.key[1:], strict=False)
)


def is_stop_word(folded: str, accented: str) -> bool:
    """A filler word as typed: with its diacritics, or bare when its folded form is filler."""
    return accented in STOP_WORDS or (accented == folded and folded in _STOP_FOLDED)
