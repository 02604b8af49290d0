"""Benchmark the procedure search on a synthetic 10,000-procedure knowledge base.

Run: .venv/bin/python benchmarks/bench_search.py [--docs 10000] [--queries 2000]
     .venv/bin/python benchmarks/bench_search.py --bundled  (the bundled KB, the eval questions)

Builds a synthetic KB (fixed seed) from Vietnamese administrative vocabulary plus the real
sample procedures, then times index construction and queries in mixed styles (formal, no
diacritics, chat abbreviations, typos, long questions, chit-chat) through our `SearchEngine`
and, for comparison, through `rank_bm25.BM25Okapi` over the same folded tokens. Not a test.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from knowledge.evaluation import load_rows  # noqa: E402
from knowledge.examples import default_examples  # noqa: E402
from knowledge.lexicon import default_lexicon  # noqa: E402
from knowledge.lifeevents import default_life_events  # noqa: E402
from knowledge.normalize import fold, tokenize  # noqa: E402
from knowledge.records import ProcedureRecord  # noqa: E402
from knowledge.sample import DEFAULT_PROCEDURES_PATH, load_procedures_json  # noqa: E402
from knowledge.search import SearchEngine  # noqa: E402

ACTIONS = (
    "Cấp",
    "Cấp lại",
    "Cấp đổi",
    "Đăng ký",
    "Điều chỉnh",
    "Gia hạn",
    "Thu hồi",
    "Xác nhận",
    "Công nhận",
    "Thẩm định",
    "Phê duyệt",
    "Hỗ trợ",
    "Giải quyết",
    "Thông báo",
    "Chấm dứt",
    "Tạm ngừng",
    "Sửa đổi, bổ sung",
    "Chuyển đổi",
    "Xóa đăng ký",
    "Cho phép",
)
OBJECTS = (
    "giấy phép kinh doanh vận tải bằng xe ô tô",
    "chứng chỉ hành nghề dược",
    "giấy chứng nhận đủ điều kiện kinh doanh xăng dầu",
    "giấy phép khai thác khoáng sản",
    "giấy phép xả thải vào nguồn nước",
    "giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm",
    "giấy phép hoạt động điện lực",
    "chứng chỉ quy hoạch xây dựng",
    "giấy phép thành lập hội",
    "giấy phép tổ chức biểu diễn nghệ thuật",
    "giấy chứng nhận đăng ký hợp tác xã",
    "trợ cấp ưu đãi người có công với cách mạng",
    "chế độ mai táng phí cựu chiến binh",
    "giấy phép hoạt động khám bệnh, chữa bệnh",
    "chứng chỉ hành nghề luật sư",
    "giấy phép sử dụng vật liệu nổ công nghiệp",
    "giấy chứng nhận quyền tác giả",
    "giấy phép lưu hành phim",
    "giấy phép nhập khẩu thuốc thú y",
    "chứng nhận vùng an toàn dịch bệnh",
    "giấy phép khai thác thủy sản",
    "giấy chứng nhận đăng ký tàu cá",
    "giấy phép lao động",
    "thẻ hướng dẫn viên du lịch",
    "giấy phép kinh doanh lữ hành",
    "giấy phép xây dựng công trình",
    "hồ sơ thiết kế phòng cháy chữa cháy",
    "giấy phép quảng cáo ngoài trời",
    "giấy chứng nhận kinh tế trang trại",
    "danh hiệu gia đình văn hóa",
    "giấy phép dạy thêm học thêm",
    "quyết định thành lập trường mầm non tư thục",
    "giấy chứng nhận đăng ký đầu tư",
    "giấy phép môi trường",
    "giấy phép sử dụng tần số vô tuyến điện",
    "giấy phép hoạt động in",
    "giấy chứng nhận đăng ký hoạt động tôn giáo",
    "giấy phép chặt hạ cây xanh đô thị",
    "giấy phép thi công công trình trên đường bộ",
    "chế độ bảo hiểm xã hội tự nguyện",
    "giấy chứng nhận đủ điều kiện chăn nuôi",
    "phương án sử dụng đất trồng lúa",
    "giấy phép bán buôn rượu",
    "giấy phép bán lẻ thuốc lá",
    "chứng nhận hộ gia đình làm nông nghiệp có mức sống trung bình",
    "trợ giúp pháp lý",
    "giấy chứng nhận quyền sử dụng đất",
    "hợp đồng thuê đất",
    "thẻ bảo hiểm y tế",
)
TARGETS = (
    "đối với hộ gia đình, cá nhân",
    "cho doanh nghiệp",
    "có yếu tố nước ngoài",
    "tại cấp xã",
    "lần đầu",
    "trong trường hợp bị mất, hư hỏng",
    "do hết hạn",
    "cho tổ chức kinh tế",
    "đối với người nước ngoài",
    "cho hợp tác xã",
    "cấp tỉnh",
    "theo hình thức trực tuyến",
    "",
    "",
    "",
)
FIELDS = (
    "Hộ tịch",
    "Chứng thực",
    "Đất đai",
    "Hoạt động xây dựng",
    "Bảo trợ xã hội",
    "Y tế",
    "Giáo dục và Đào tạo",
    "Giao thông vận tải",
    "Công thương",
    "Nông nghiệp",
    "Tài nguyên nước",
    "Văn hóa",
    "Du lịch",
    "Lao động",
    "Người có công",
    "Môi trường",
    "Thông tin và truyền thông",
)
DOCUMENTS = (
    "Đơn đề nghị theo mẫu",
    "Bản sao giấy tờ tùy thân",
    "Bản sao có chứng thực giấy phép",
    "Sơ đồ vị trí khu đất",
    "Bản vẽ thiết kế",
    "Giấy chứng nhận đăng ký doanh nghiệp",
    "Văn bản ủy quyền hợp lệ",
    "Báo cáo đánh giá tác động môi trường",
    "Hợp đồng thuê",
    "Giấy khám sức khỏe",
    "Phiếu lý lịch tư pháp",
    "Bản kê khai thông tin",
    "Quyết định bổ nhiệm",
    "Giấy xác nhận của Ủy ban nhân dân cấp xã",
    "Ảnh chân dung 4x6",
    "Biên lai nộp phí",
    "Danh sách thành viên",
    "Phương án kinh doanh",
    "Điều lệ hoạt động",
)
_STEP_TEXT = (
    "tổ chức cá nhân nộp hồ sơ tại bộ phận một cửa cơ quan tiếp nhận kiểm tra tính đầy đủ hợp lệ"
    " của hồ sơ trường hợp chưa đầy đủ thì hướng dẫn bổ sung trong thời hạn ngày làm việc cơ"
    " quan có thẩm quyền thẩm định trình lãnh đạo xem xét quyết định trả kết quả cho người"
    " nộp qua dịch vụ bưu chính công ích hoặc trực tuyến trên cổng dịch vụ công quốc gia"
)
STEP_WORDS = _STEP_TEXT.split()
COLLOQUIAL = (
    "xin giấy phép",
    "làm giấy",
    "đăng ký online",
    "làm lại giấy",
    "xin hỗ trợ",
    "mở cơ sở",
    "làm thủ tục",
    "xin cấp phép",
    "gia hạn giấy",
    "đổi giấy mới",
    "báo cáo",
    "làm hồ sơ",
)
CHITCHAT = (
    "xin chào",
    "hôm nay trời có mưa không",
    "giá vàng hôm nay",
    "tối nay ai đá bóng",
    "cách nấu phở bò",
    "kể chuyện cười đi",
    "cảm ơn bạn",
    "bot ơi",
    "mua iphone ở đâu rẻ",
    "tỷ giá đô la",
    "lịch cắt điện",
    "xổ số miền bắc",
    "ok",
    "test",
)


def synthetic_records(n: int, rng: random.Random) -> list[ProcedureRecord]:
    """Generate `n` varied procedure records from the vocabulary above."""
    out: list[ProcedureRecord] = []
    for i in range(n):
        obj = rng.choice(OBJECTS)
        name = f"{rng.choice(ACTIONS)} {obj} {rng.choice(TARGETS)}".strip()
        docs = "; ".join(rng.sample(DOCUMENTS, rng.randint(3, 8)))
        steps = " ".join(rng.choice(STEP_WORDS) for _ in range(rng.randint(50, 120)))
        conditions = " ".join(rng.choice(STEP_WORDS) for _ in range(rng.randint(10, 60)))
        keywords = tuple(
            f"{rng.choice(COLLOQUIAL)} {' '.join(obj.split()[: rng.randint(2, 4)])}"
            for _ in range(rng.randint(2, 6))
        )
        out.append(
            ProcedureRecord(
                code=f"9.{i:06d}",
                name=name,
                field=rng.choice(FIELDS),
                steps=steps,
                documents=docs,
                processing_time=f"{rng.randint(3, 30)} ngày làm việc",
                fee=f"{rng.randint(0, 50) * 10000} đồng",
                result=f"{obj.capitalize()} được cấp",
                conditions=conditions,
                legal_basis=f"Nghị định số {rng.randint(1, 200)}/{rng.randint(2010, 2025)}/NĐ-CP",
                keywords=keywords,
            )
        )
    return out


def _typo(text: str, rng: random.Random) -> str:
    chars = list(text)
    letters = [i for i, c in enumerate(chars) if c.isalpha()]
    if len(letters) < 4:
        return text
    i = rng.choice(letters[1:-1])
    op = rng.random()
    if op < 0.4:
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    elif op < 0.7:
        del chars[i]
    else:
        chars.insert(i, chars[i])
    return "".join(chars)


def make_queries(records: Sequence[ProcedureRecord], n: int, rng: random.Random) -> list[str]:
    """Queries in mixed styles built from the KB (and chit-chat), our labelled questions
    (life situations, variants) first; deterministic for a seed."""
    queries: list[str] = []
    for name in ("eval_questions.jsonl", "dev_variants_questions.jsonl"):
        sample_path = DEFAULT_PROCEDURES_PATH.with_name(name)
        if not sample_path.exists():
            continue
        import json

        for line in sample_path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                queries.append(json.loads(line)["q"])
    styles: list[Callable[[ProcedureRecord], str]] = [
        lambda r: r.name,
        lambda r: fold(r.name),
        lambda r: f"cho tôi hỏi thủ tục {r.name.lower()} cần giấy tờ gì",
        lambda r: f"{fold(rng.choice(r.keywords) if r.keywords else r.name)} o dau ad",
        lambda r: _typo(fold(r.name), rng),
        lambda r: " ".join(r.name.split()[: rng.randint(2, 5)]),
        lambda r: (
            f"Chào anh chị, em muốn hỏi về việc {r.name.lower()}, hồ sơ gồm những gì, "
            "nộp ở đâu và mất bao lâu thì có kết quả ạ"
        ),
    ]
    while len(queries) < n:
        if rng.random() < 0.1:
            queries.append(rng.choice(CHITCHAT))
        else:
            queries.append(rng.choice(styles)(rng.choice(records)))
    return queries[:n]


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    """p50, p95, p99 of `samples` (milliseconds)."""
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return statistics.median(ordered), pick(0.95), pick(0.99)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=20_240_601)
    parser.add_argument(
        "--bundled",
        action="store_true",
        help="the bundled procedures only, queried with the labelled eval questions",
    )
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)

    real = load_procedures_json() if DEFAULT_PROCEDURES_PATH.exists() else []
    if args.bundled:
        records = real
        rows = load_rows(DEFAULT_PROCEDURES_PATH.with_name("eval_questions.jsonl"))
        queries = [row.q for row in rows] * 5
    else:
        records = real + synthetic_records(max(0, args.docs - len(real)), rng)
        queries = make_queries(records, args.queries, rng)
    lexicon = default_lexicon()

    gc.collect()
    start = time.perf_counter()
    engine = SearchEngine(
        records, lexicon, events=default_life_events(), examples=default_examples()
    )
    build_ours = time.perf_counter() - start
    for q in queries[:50]:  # warm caches the way a running bot has them
        engine.search(q)
    # ... and keep the index out of the cyclic collector's reach, as the running bot does
    # (bot.domain.knowledge.keep_out_of_collections): a full collection walks every tracked
    # object, and with the 10,000-procedure index tracked it lands inside some queries
    gc.freeze()
    ours: list[float] = []
    abstained = 0
    for q in queries:
        t0 = time.perf_counter()
        response = engine.search(q, limit=5)
        ours.append((time.perf_counter() - t0) * 1000)
        abstained += response.abstained

    rows: list[tuple[str, str, str, str, str]] = []
    p50, p95, p99 = percentiles(ours)
    rows.append(
        ("SearchEngine (ours)", f"{build_ours:.2f}", f"{p50:.2f}", f"{p95:.2f}", f"{p99:.2f}")
    )

    try:
        from rank_bm25 import BM25Okapi
    except ImportError:  # dev dependency only
        BM25Okapi = None  # noqa: N806
    if BM25Okapi is not None:
        gc.collect()
        start = time.perf_counter()
        corpus = [
            tokenize(
                " ".join(
                    (
                        r.name,
                        " ".join(r.keywords),
                        r.field,
                        r.result,
                        r.documents,
                        r.conditions,
                        r.steps,
                    )
                )
            )
            for r in records
        ]
        bm25 = BM25Okapi(corpus)
        build_bm25 = time.perf_counter() - start
        theirs: list[float] = []
        for q in queries[: min(len(queries), 1000)]:
            t0 = time.perf_counter()
            scores = bm25.get_scores(tokenize(q))
            sorted(range(len(scores)), key=scores.__getitem__, reverse=True)[:5]
            theirs.append((time.perf_counter() - t0) * 1000)
        p50, p95, p99 = percentiles(theirs)
        rows.append(
            ("rank_bm25.BM25Okapi", f"{build_bm25:.2f}", f"{p50:.2f}", f"{p95:.2f}", f"{p99:.2f}")
        )

    print(
        f"procedures: {len(records)} ({len(real)} real), queries: {len(queries)}, "
        f"abstained: {abstained} ({abstained / len(queries):.0%})"
    )
    header = ("engine", "build s", "p50 ms", "p95 ms", "p99 ms")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
