"""What a message asks besides (or instead of) a procedure: small talk, a request the knowledge
base cannot answer, the facet of a procedure asked for, and questions typed in English.

- **Small talk** ("alo", "chào bạn", "cảm ơn"): a greeting, thanks or "who are you" with
  nothing else in it. The bot answers in kind instead of a failed search.
- **Requests the knowledge base cannot answer**, each with its own channel:
  `status` (where is my dossier: the portal's lookup with the receipt code, /status for a
  feedback case), `complaint` (khiếu nại, tố cáo: the Law on Complaints and the Law on
  Denunciations, not PAKN), `legal` (legal advice, court matters: legal aid, a lawyer, the
  court), `feedback` (slow or rude handling: a phản ánh, which the bot does take).
- **Facet**: "mất bao lâu" asks for the processing time, "lệ phí" for the fee, "nộp ở đâu"
  for the agency and channels, "cần giấy tờ gì" for the documents.
- **English**: a question typed in English is translated word by word through a small
  glossary (`knowledge/data/english.tsv`) into the official Vietnamese wording; when nothing
  in it is known the bot says how to ask.

All phrases match on folded syllables like lexicon phrases (diacritics optional, but they
must agree when typed).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge.lexicon import Lexicon, Pair
from knowledge.normalize import ABBREVIATIONS, is_syllable, nfc

__all__ = [
    "DEFAULT_ENGLISH_PATH",
    "English",
    "FACETS",
    "INTENTS",
    "Reading",
    "read_intent",
]

SMALLTALK, STATUS, COMPLAINT = "smalltalk", "status", "complaint"
LEGAL, FEEDBACK = "legal", "feedback"
INTENTS = (SMALLTALK, STATUS, COMPLAINT, LEGAL, FEEDBACK)
TIME, FEE, WHERE, DOCUMENTS = "time", "fee", "where", "documents"
FACETS = (TIME, FEE, WHERE, DOCUMENTS)


def _phrases(block: str) -> list[str]:
    return [p.strip() for p in block.replace("\n", "|").split("|") if p.strip()]


# Small talk: the whole message is made of these (with filler around them), by kind.
_SMALLTALK = {
    "greeting": """alo | a lô | alo alo | xin chào | chào | chào bạn | chào bot | chào ad
        | chào admin | chào em | chào anh | chào chị | chào buổi sáng | chào buổi chiều
        | chào buổi tối | hello | hi | hey | hi there | hello bot | good morning
        | good afternoon | good evening""",
    "thanks": """cảm ơn | cám ơn | cảm ơn bạn | cảm ơn nhiều | cảm ơn nhé | cảm ơn nha | thank
        | thanks | thank you | thanks bot | bye | tạm biệt | nhiều | lắm | rất nhiều""",
    "who": """bạn là ai | bot là ai | em là ai | bạn tên gì | bạn là gì | who are you""",
    "ack": """ok | oke | okay | ừ | vâng | dạ | được rồi | tốt quá | hay quá""",
}
# Requests the knowledge base cannot answer. Checked on the whole message.
_STATUS = """
hồ sơ đến đâu | hồ sơ của tôi đến đâu | hồ sơ đã đến đâu | đến đâu rồi | tới đâu rồi
tình trạng hồ sơ | tra cứu hồ sơ | tra cứu tình trạng | kiểm tra hồ sơ | theo dõi hồ sơ
tiến độ hồ sơ | hồ sơ bị trễ | hồ sơ trễ hẹn | trễ hẹn | quá hẹn | quá hạn trả kết quả
chưa có kết quả | chưa trả kết quả | chưa nhận được kết quả | sao chưa có | sao lâu vậy
nộp rồi mà chưa | đã nộp mà chưa | nộp lâu rồi | mã hồ sơ | giấy hẹn trả kết quả
chưa thấy trả | chưa thấy gọi | chưa thấy kết quả | chưa thấy giấy | sao chưa thấy
mà chưa thấy | vẫn chưa thấy | vẫn chưa có kết quả | vẫn chưa nhận được | chưa được trả
chờ mãi | đợi mãi | chờ lâu quá | đợi lâu quá | quá ngày hẹn | hết hạn hẹn
sao chưa về | chưa về tài khoản | chưa nhận được tiền | chưa thấy tiền | chưa được nhận tiền
"""
_COMPLAINT = """
khiếu nại | tố cáo | đơn khiếu nại | đơn tố cáo | tố giác | khởi kiện | kiện ra tòa | đi kiện
muốn kiện | kiện ở đâu | kiện đòi | kiện hàng xóm | kiện công ty | kiện cán bộ | kiện ủy ban
báo ai | complaint | complain | denounce
"""
_LEGAL = """
tư vấn pháp luật | tư vấn luật | hỏi luật | luật sư tư vấn | trợ giúp pháp lý
thủ tục ly hôn | muốn ly hôn | ly hôn đơn phương | ly hôn thuận tình | đơn ly hôn | xin ly hôn
chia tài sản khi ly hôn | quyền nuôi con | tranh chấp hợp đồng | nợ lương | quỵt lương
nợ tiền | đòi nợ | bị lừa | lừa đảo | có phạm pháp không | có vi phạm pháp luật không
có hợp pháp không | bị phạt bao nhiêu | phạt bao nhiêu tiền | đánh người | bạo lực gia đình
chồng đánh vợ | ai được chia | được chia bao nhiêu | tranh chấp lao động | legal advice | lawyer
divorce | sue | lawsuit | court | unpaid salary | unpaid wages | not pay my salary
"""
_FEEDBACK = """
phản ánh | kiến nghị | góp ý | làm chậm | giải quyết chậm | làm hồ sơ chậm | xử lý chậm
thái độ không tốt | thái độ kém | hách dịch | gây khó dễ | gây khó khăn | nhũng nhiễu
đòi thêm giấy tờ | bắt nộp thêm | đòi tiền | vòi tiền | ăn hối lộ | nhận hối lộ | tham nhũng
hẹn lên hẹn xuống | hẹn đi hẹn lại | hẹn tới hẹn lui | cáu gắt | quát nạt | thái độ
"""
# Requests for services that are not administrative procedures of a commune or province
# KB, or that such a KB seldom holds: checked against the best candidate's name and keywords
# (a KB that has the procedure still answers it), else the engine asks instead of guessing.
# Not "đóng thuế" ("sang tên đất có phải đóng thuế không" asks about the costs of the
# procedure) nor "nhập khẩu" (also "nhập hộ khẩu", a permanent residence).
_ELSEWHERE = """
visa | xin visa | làm visa | thị thực | xin thị thực | chứng minh tài chính | đăng kiểm
| kiểm định xe | nghĩa vụ quân sự | khám nghĩa vụ | đi nghĩa vụ | nhập ngũ | giấy gọi nhập ngũ
| quyết toán thuế | hoàn thuế | thuế thu nhập | thuế thu nhập cá nhân
| thuế đất | thuế nhà đất | học lái xe | học lái | học bằng lái | trung tâm dạy lái
| bảo hiểm xe máy | bảo hiểm ô tô | bảo hiểm xe | bảo hiểm nhân thọ | hợp pháp hóa lãnh sự
| chứng nhận lãnh sự | lãnh sự | xuất khẩu hàng | nhập khẩu hàng | hải quan | thông quan
| vật liệu nổ | vũ khí | súng | pháo hoa | lắp điện | đồng hồ điện | đồng hồ nước
| tiền điện | tiền nước | cắt điện | mất điện | lịch cắt điện | tài khoản ngân hàng
| mở tài khoản | thẻ atm | vay tín chấp | vay ưu đãi | vay vốn ưu đãi | ngân hàng chính sách
| thi tốt nghiệp | thi đại học | điểm thi
| xét tuyển | tuyển sinh | sim | số điện thoại | wifi | phạt nguội | nộp phạt | giá đất
| bảng giá đất | đền bù | giải phóng mặt bằng | lương tối thiểu | lương cơ sở | giá vàng
| thời tiết | xổ số | bank account | tax | taxes | military service | sim card
"""
# The facet asked for. Several may match; the first in this order wins for "the" facet.
_FACETS = {
    TIME: """mất bao lâu | bao lâu | mấy ngày | bao nhiêu ngày | mấy tháng | mấy tuần
        | thời gian giải quyết | thời hạn giải quyết | bao giờ có | khi nào có | khi nào xong
        | bao giờ xong | bao giờ nhận | khi nào nhận | lâu không | có lâu không | mất mấy ngày
        | how long""",
    FEE: """lệ phí | phí | mức phí | bao nhiêu tiền | mất bao nhiêu tiền | hết bao nhiêu
        | tốn bao nhiêu | mất tiền không | có mất phí | có mất tiền | có tốn tiền | tiền phí
        | chi phí làm | mất phí | bao nhiêu tiền | how much | fee | fees | cost""",
    WHERE: """ở đâu | nộp ở đâu | làm ở đâu | chỗ nào | nơi nào | cơ quan nào | đến đâu làm
        | nộp hồ sơ ở đâu | xin ở đâu | online được không | làm online | nộp online
        | trực tuyến được không | trên vneid | qua mạng được không | ở xã nào | ở phường nào
        | where""",
    DOCUMENTS: """giấy tờ gì | cần giấy tờ gì | những giấy tờ gì | cần những gì | cần gì
        | hồ sơ gồm | hồ sơ gồm những gì | cần chuẩn bị gì | chuẩn bị những gì | mang theo gì
        | mang gì | cần mang | thành phần hồ sơ | hồ sơ cần | what documents | documents
        | what do i need""",
}


# One matcher for every phrase above; an entry's expansion names its kinds ("talk-thanks",
# "intent-status", "facet-time"), several when a phrase belongs to more than one list.
def _build_matcher() -> Lexicon:
    kinds: dict[str, list[str]] = {}
    blocks = [(f"talk-{k}", b) for k, b in _SMALLTALK.items()]
    blocks += [(f"intent-{n}", b) for n, b in ((STATUS, _STATUS), (COMPLAINT, _COMPLAINT))]
    blocks += [(f"intent-{n}", b) for n, b in ((LEGAL, _LEGAL), (FEEDBACK, _FEEDBACK))]
    blocks += [(f"facet-{k}", b) for k, b in _FACETS.items()]
    blocks += [("elsewhere", _ELSEWHERE)]
    for kind, block in blocks:
        for phrase in _phrases(block):
            kinds.setdefault(phrase, []).append(kind)
    return Lexicon((phrase, " ".join(ks)) for phrase, ks in kinds.items())


_MATCHER = _build_matcher()
_INTENT_ORDER = (STATUS, COMPLAINT, LEGAL, FEEDBACK)
_FACET_ORDER = FACETS
_TALK_ORDER = ("thanks", "who", "greeting", "ack")  # "chào, cảm ơn nhé" is a thanks


@dataclass(frozen=True, slots=True)
class Reading:
    """What the message asks besides a procedure."""

    intent: str = ""  # one of INTENTS, or "" for an ordinary procedure question
    facet: str = ""  # one of FACETS, or "" for the whole card
    smalltalk_only: bool = False  # nothing but greetings, thanks, filler
    talk: str = ""  # the kind of small talk: greeting, thanks, who, ack
    # folded phrases naming a service seldom in a procedure KB ("visa", "đăng kiểm")
    elsewhere: tuple[tuple[str, ...], ...] = ()


def read_intent(pairs: Sequence[Pair], content: Sequence[bool]) -> Reading:
    """Intent, facet and small talk of an analysed message; `content[i]` tells whether
    syllable i carries meaning (not filler) for the search."""
    found: set[str] = set()
    talk = [False] * len(pairs)
    elsewhere: list[tuple[str, ...]] = []
    for m in _MATCHER.find(pairs, overlapping=True):
        kinds = m.entry.expansion.split()
        found.update(kinds)
        if "elsewhere" in kinds:
            elsewhere.append(m.entry.key)
        if any(k.startswith("talk-") for k in kinds):
            for i in range(m.start, m.end):
                talk[i] = True
    intent = next((n for n in _INTENT_ORDER if f"intent-{n}" in found), "")
    facet = next((n for n in _FACET_ORDER if f"facet-{n}" in found), "")
    kind = next((k for k in _TALK_ORDER if f"talk-{k}" in found), "")
    smalltalk_only = any(talk) and not any(c and not t for c, t in zip(content, talk, strict=True))
    if smalltalk_only and not intent:
        intent = SMALLTALK
    return Reading(
        intent=intent,
        facet=facet,
        smalltalk_only=smalltalk_only,
        talk=kind,
        elsewhere=tuple(elsewhere),
    )


# ---------------------------------------------------------------------------------- English
DEFAULT_ENGLISH_PATH = Path(__file__).parents[1] / "data" / "english.tsv"
_EN_WORD_RE = re.compile(r"[a-z]+(?:'[a-z]+)?")
# Function words of English questions: they say "I am asking", not what about.
_EN_FUNCTION_WORDS = """
a an the i me my mine we our you your he she his her it its they their them this that these
those is am are was were be been being do does did have has had can could would should will
shall may might must to of in on at for from by with about as into how what which who whom
where when why please help want wanted need needs get got make made apply applying register
registering registration and or but if so just also there here some any one new old there's
i'm i'd i've what's how's can't don't doesn't not no yes much many long take takes taking
"""
_EN_FILLER = frozenset(_EN_FUNCTION_WORDS.split())
# Past forms that no suffix rule undoes; regular inflections are undone by `_base_forms`.
_EN_IRREGULAR = {
    "bought": "buy",
    "sold": "sell",
    "gave": "give",
    "given": "give",
    "paid": "pay",
    "left": "leave",
    "broke": "break",
    "broken": "break",
    "built": "build",
    "wives": "wife",
    "men": "man",
    "women": "woman",
    "grew": "grow",
    "went": "go",
    "gone": "go",
    "came": "come",
    "became": "become",
    "lent": "lend",
    "burnt": "burn",
    "fell": "fall",
    "torn": "tear",
    "tore": "tear",
}


def _base_forms(word: str) -> list[str]:
    """What an inflected English word may come from: "babies" → "baby", "registering" →
    "register", "notarizing" → "notarize", "moved" → "move", "stopped" → "stop"."""
    out = [_EN_IRREGULAR[word]] if word in _EN_IRREGULAR else []
    if word.endswith("ies") and len(word) > 4:
        out.append(word[:-3] + "y")
    if word.endswith("es") and len(word) > 3:
        out.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        out.append(word[:-1])
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            stem = word[: -len(suffix)]
            out += [stem, stem + "e"]
            if len(stem) > 2 and stem[-1] == stem[-2]:
                out.append(stem[:-1])  # "stopped", "planning"
            if suffix == "ed" and stem.endswith("i"):
                out.append(stem[:-1] + "y")  # "married" is known; "applied" → "apply"
    return out


@dataclass(frozen=True, slots=True)
class English:
    """A small English → official Vietnamese glossary for questions typed in English."""

    phrases: tuple[tuple[tuple[str, ...], str], ...]  # (English words, Vietnamese), longest first
    known: frozenset[str] = frozenset()  # every word of the phrases

    @classmethod
    def load(cls, path: str | Path = DEFAULT_ENGLISH_PATH) -> English:
        """Read `english<TAB>vietnamese` lines (`#` comments)."""
        out: list[tuple[tuple[str, ...], str]] = []
        for raw in Path(path).read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            en, _, vi = line.partition("\t")
            words = tuple(_EN_WORD_RE.findall(en.lower()))
            if words and vi.strip():
                out.append((words, vi.strip()))
        out.sort(key=lambda p: -len(p[0]))
        return cls(tuple(out), frozenset(w for words, _ in out for w in words))

    @property
    def vocabulary(self) -> frozenset[str]:
        """Every English word the glossary knows."""
        return self.known

    def looks_english(self, text: str) -> bool:
        """Whether `text` is an English question: no Vietnamese diacritics, and more words
        that cannot be Vietnamese syllables ("passport", "birth") than words that can only
        be Vietnamese ("lam", "tach"); words both languages spell alike ("do", "to") and chat
        abbreviations ("cccd") count for neither."""
        plain = nfc(text).lower()
        if any(ord(ch) > 127 and ch.isalpha() for ch in plain):
            return False  # Vietnamese diacritics
        known = self.vocabulary | _EN_FILLER
        english = vietnamese = 0
        for word in _EN_WORD_RE.findall(plain):
            if word in ABBREVIATIONS:
                continue
            if not is_syllable(word):
                english += 1
            elif word not in known:
                vietnamese += 1
        return english > vietnamese

    def base(self, word: str) -> str:
        """The word as the glossary knows it: itself, or the form it was inflected from
        ("babies" → "baby", "renewing" → "renew"), or itself when neither is known."""
        if word in self.known or word in _EN_FILLER:
            return word
        for form in _base_forms(word):
            if form in self.known or form in _EN_FILLER:
                return form
        return word

    def translate(self, text: str) -> tuple[str, int]:
        """The Vietnamese wording of the known English phrases in `text`, and how many of the
        question's content words stayed unknown. Inflected words are read as the form the
        glossary knows ("registering the babies" as "register the baby")."""
        out, unknown = self.read(text)
        return out, len(unknown)

    def read(self, text: str) -> tuple[str, list[str]]:
        """The Vietnamese wording of the known English phrases in `text` (as `translate`), and
        the content words the glossary does not know (as typed, in order)."""
        typed = _EN_WORD_RE.findall(nfc(text).lower())
        words = [self.base(w) for w in typed]
        out: list[str] = []
        unknown: list[str] = []
        i = 0
        while i < len(words):
            for phrase, vi in self.phrases:
                if tuple(words[i : i + len(phrase)]) == phrase:
                    out.append(vi)
                    i += len(phrase)
                    break
            else:
                if words[i] not in _EN_FILLER:
                    unknown.append(typed[i])
                i += 1
        return " ".join(out), unknown
