"""Tests for knowledge.importers: reading admin files, header mapping, validation, diff."""

from __future__ import annotations

import io
import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from knowledge.importers import (
    FORMAT_ERROR_CODES,
    PROBLEM_CODES,
    ImportFormatError,
    Problem,
    Table,
    TableRow,
    diff_records,
    fold_header,
    parse_agencies,
    parse_procedures,
    read_table,
)
from knowledge.records import ONLINE_FULL, ONLINE_PARTIAL, AgencyRecord, ProcedureRecord

DATA_DIR = Path(__file__).resolve().parents[2] / "knowledge" / "data"

AGENCIES = {"SXD": "Sở Xây dựng", "STP": "Sở Tư pháp", "UBND-AP": "UBND phường An Phú"}

VI_HEADERS = "Mã thủ tục,Tên thủ tục,Cơ quan thực hiện,Mức độ dịch vụ công,Từ khóa"


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def xlsx_bytes(rows: list[list[object]], formats: dict[str, str] | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    for coordinate, number_format in (formats or {}).items():
        sheet[coordinate].number_format = number_format
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def table(headers: list[str], *rows: list[str]) -> Table:
    """Build a Table directly, rows numbered as a spreadsheet (header = row 1)."""
    return Table(
        headers=headers,
        rows=[
            TableRow(number=i + 2, values=dict(zip(headers, r, strict=True)))
            for i, r in enumerate(rows)
        ],
    )


def codes_of(problems: list[Problem]) -> list[tuple[int | None, str | None, str]]:
    return [(p.row, p.column, p.code) for p in problems]


# --------------------------------------------------------------------------- read_table


def test_json_list_of_objects() -> None:
    data = json.dumps(
        [
            {"code": "1.001193", "name": "Đăng ký khai sinh", "keywords": ["khai sinh", "trẻ em"]},
            {},
            {"code": 2.5, "name": None, "online": True},
        ],
        ensure_ascii=False,
    ).encode()
    result = read_table(data, "procedures.json")
    assert result.headers == ["code", "name", "keywords", "online"]
    # Element i is row i + 2; the empty object (row 3) is skipped.
    assert [r.number for r in result.rows] == [2, 4]
    assert result.rows[0].values["keywords"] == "khai sinh;trẻ em"
    assert result.rows[1].values == {"code": "2.5", "name": "", "keywords": "", "online": "true"}


def test_csv_comma_with_quoted_multiline_cell() -> None:
    text = (
        f"{VI_HEADERS},Trình tự thực hiện\n"
        '1.001193,Đăng ký khai sinh,STP,toàn trình,khai sinh,"Bước 1: nộp hồ sơ\nBước 2: nhận"\n'
        "\n"
        "1.000001,Cấp phép xây dựng,SXD,,,\n"
    )
    result = read_table(text.encode(), "a.csv")
    # The multi-line record is one spreadsheet row; the blank line is row 3.
    assert [r.number for r in result.rows] == [2, 4]
    assert result.rows[0].values["Trình tự thực hiện"] == "Bước 1: nộp hồ sơ\nBước 2: nhận"


def test_csv_with_bom_and_semicolons_and_comma_in_header() -> None:
    # "Phí, lệ phí" holds a comma: the delimiter must still be detected as ";".
    text = "Mã TTHC;Tên TTHC;Phí, lệ phí\r\n1.001193;Khai sinh;Miễn phí, không thu\r\n"
    result = read_table(b"\xef\xbb\xbf" + text.encode(), "export.csv")
    assert result.headers == ["Mã TTHC", "Tên TTHC", "Phí, lệ phí"]
    assert result.rows[0].values["Phí, lệ phí"] == "Miễn phí, không thu"
    records = parse_procedures(result, AGENCIES)
    assert records.ok
    assert records.records[0].fee == "Miễn phí, không thu"


def test_csv_tab_delimited() -> None:
    text = "code\tname\n1.001193\tKhai sinh, kết hôn\n"
    result = read_table(text.encode(), "a.tsv")
    assert result.rows[0].values == {"code": "1.001193", "name": "Khai sinh, kết hôn"}


def test_xlsx_numbers_come_back_as_text() -> None:
    data = xlsx_bytes(
        [
            ["Mã cơ quan", "Tên cơ quan", "Chat ID", "Số ngày trả lời", "Ghi chú"],
            [1.001193, "Sở Xây dựng", -1001234567890, 10, None],
            [None, None, None, None, None],
            [1.00119, "Sở Tư pháp", -1001234567891.0, 15.0, 0.1],
            [1234, "  UBND  ", None, None, 12.5],
        ],
        formats={"A4": "0.000000", "A5": "000000"},
    )
    result = read_table(data, "agencies.xlsx")
    assert result.headers == ["Mã cơ quan", "Tên cơ quan", "Chat ID", "Số ngày trả lời", "Ghi chú"]
    assert [r.number for r in result.rows] == [2, 4, 5]
    first, second, third = (r.values for r in result.rows)
    assert first["Mã cơ quan"] == "1.001193"
    assert first["Chat ID"] == "-1001234567890"
    assert first["Ghi chú"] == ""
    # The cell format "0.000000" restores the trailing zero the stored number lost.
    assert second["Mã cơ quan"] == "1.001190"
    assert second["Chat ID"] == "-1001234567891"
    assert second["Số ngày trả lời"] == "15"
    assert second["Ghi chú"] == "0.1"
    assert third["Mã cơ quan"] == "001234"
    assert third["Tên cơ quan"] == "UBND"
    assert third["Ghi chú"] == "12.5"
    parsed = parse_agencies(result)
    assert parsed.ok, parsed.problems
    assert parsed.records[0] == AgencyRecord(
        code="1.001193", name="Sở Xây dựng", chat_id=-1001234567890, reply_days=10
    )
    assert "Unknown column 'Ghi chú' was ignored." in parsed.warnings


def test_xlsx_procedures_end_to_end() -> None:
    data = xlsx_bytes(
        [
            ["STT", "Mã thủ tục (*)", "Tên thủ tục (*)", "Cơ quan thực hiện", "Từ khoá"],
            [1, 1.001193, "Đăng ký khai sinh", "Sở Tư pháp", "khai sinh; giấy khai sinh"],
        ]
    )
    parsed = parse_procedures(read_table(data, "tthc.xlsx"), AGENCIES)
    assert parsed.ok, parsed.problems
    assert parsed.records == [
        ProcedureRecord(
            code="1.001193",
            name="Đăng ký khai sinh",
            agency="STP",
            keywords=("khai sinh", "giấy khai sinh"),
        )
    ]


def test_xlsx_header_without_column_name_warns() -> None:
    data = xlsx_bytes([["code", "name", None], ["1.001193", "A", "stray"]])
    result = read_table(data, "a.xlsx")
    assert result.headers == ["code", "name"]
    assert result.warnings == [
        "Column C has values but no header (first at row 2); it was ignored."
    ]


def test_content_sniffing_beats_extension() -> None:
    data = xlsx_bytes([["code", "name"], ["1.001193", "A"]])
    assert read_table(data, "upload.bin").rows[0].values["code"] == "1.001193"
    assert read_table(b' \n[{"code": "X1", "name": "A"}]', "upload").rows[0].number == 2


@pytest.mark.parametrize(
    ("data", "filename", "code"),
    [
        (b"x" * 101, "a.csv", "too_large"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(64)), "a.png", "unknown_format"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(64)), "a.csv", "unknown_format"),
        (bytes(range(7, 90)), "data.bin", "unknown_format"),
        (b"code,name\n1,2\n", "notes.txt", "unknown_format"),
        (b"not a workbook", "a.xlsx", "unknown_format"),
        (b"PK\x03\x04garbage", "a.xlsx", "unknown_format"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "old.xls", "unknown_format"),
        # cp1258 (Windows Vietnamese) spells "Mã,Tên / Sở Tư pháp" with combining marks.
        (
            "Ma\u0303,Tên\n1,S\u01a1\u0309 T\u01b0 pha\u0301p\n".encode("cp1258"),
            "a.csv",
            "bad_encoding",
        ),
        ("code,name\n1,Hà Tĩnh\n".encode("latin-1", "replace"), "a.csv", "bad_encoding"),
        ("code,name\n1,Hà Nội\n".encode("utf-16"), "a.csv", "bad_encoding"),
        (b'{"code": "1.001193", "name": "A"}', "a.json", "not_a_table"),
        (b'[{"code": "1"}, "oops"]', "a.json", "not_a_table"),
        (b'[{"code": "1",}]', "a.json", "bad_json"),
        (b"", "a.csv", "empty"),
        (b"\xef\xbb\xbf \r\n", "a.csv", "empty"),
        (b"[]", "a.json", "empty"),
        (b"code,name\n", "a.csv", "empty"),
        (b"code,name,code\n1,2,3\n", "a.csv", "duplicate_header"),
    ],
)
def test_whole_file_errors(data: bytes, filename: str, code: str) -> None:
    with pytest.raises(ImportFormatError) as info:
        read_table(data, filename, max_bytes=100)
    assert info.value.code == code
    assert code in FORMAT_ERROR_CODES
    assert str(info.value)  # an English sentence for logs and the English locale


def test_too_large_message_and_params() -> None:
    with pytest.raises(ImportFormatError) as info:
        read_table(b"x" * 11, "a.csv", max_bytes=10)
    assert str(info.value) == "The file is 11 bytes; the limit is 10 bytes."
    assert info.value.params == {"size": 11, "max_bytes": 10}


def test_too_many_rows() -> None:
    data = ("code,name\n" + "".join(f"C{i},N{i}\n" for i in range(4))).encode()
    assert len(read_table(data, "a.csv", max_rows=4).rows) == 4
    with pytest.raises(ImportFormatError) as info:
        read_table(data, "a.csv", max_rows=3)
    assert info.value.code == "too_many_rows"


def test_bad_encoding_message_is_helpful() -> None:
    with pytest.raises(ImportFormatError) as info:
        read_table("code,name\n1,S\u01a1\u0309\n".encode("cp1258"), "a.csv")
    assert "UTF-8" in str(info.value)


# --------------------------------------------------------------------------- headers


@pytest.mark.parametrize(
    "header",
    [
        "Mã thủ tục",
        "MÃ THỦ TỤC",
        "ma thu tuc",
        "  Mã thủ tục (*):",
        nfd("Mã TTHC"),
        "Mã số",
        "CODE",
    ],
)
def test_code_header_variants(header: str) -> None:
    parsed = parse_procedures(table([header, "Tên thủ tục"], ["1.001193", "A"]), AGENCIES)
    assert parsed.ok, parsed.problems
    assert parsed.records[0].code == "1.001193"
    assert parsed.warnings == []


def test_all_vietnamese_procedure_headers_map() -> None:
    headers = [
        "Mã thủ tục",
        "TEN TTHC",
        "Lĩnh vực",
        "Cấp thực hiện",
        "Cơ quan giải quyết",
        "Trình tự thực hiện",
        "Cách thức thực hiện",
        "Thành phần, số lượng hồ sơ",
        "Thời hạn giải quyết",
        "Lệ phí",
        "Kết quả thực hiện",
        "Yêu cầu, điều kiện",
        "Căn cứ pháp lý",
        "Dịch vụ công trực tuyến",
        "Đường dẫn",
        "Tu khoa",
    ]
    values = [
        "1.001193",
        "Đăng ký khai sinh",
        "Hộ tịch",
        "Cấp xã",
        "UBND-AP",
        "Bước 1\nBước 2",
        "Trực tiếp",
        "Tờ khai\nGiấy chứng sinh",
        "Ngay trong ngày",
        "Miễn phí",
        "Giấy khai sinh",
        "Không",
        "Luật Hộ tịch 2014",
        "Mức độ 4",
        "dichvucong.gov.vn/p/home",
        "khai sinh\ntrẻ em;Khai sinh",
    ]
    parsed = parse_procedures(table(headers, values), AGENCIES)
    assert parsed.ok, parsed.problems
    assert parsed.warnings == []
    assert parsed.records == [
        ProcedureRecord(
            code="1.001193",
            name="Đăng ký khai sinh",
            field="Hộ tịch",
            level="Cấp xã",
            agency="UBND-AP",
            steps="Bước 1\nBước 2",
            channels="Trực tiếp",
            documents="Tờ khai\nGiấy chứng sinh",
            processing_time="Ngay trong ngày",
            fee="Miễn phí",
            result="Giấy khai sinh",
            conditions="Không",
            legal_basis="Luật Hộ tịch 2014",
            online=ONLINE_FULL,
            url="https://dichvucong.gov.vn/p/home",
            keywords=("khai sinh", "trẻ em"),
        )
    ]


def test_fold_header() -> None:
    assert fold_header(" Đường dẫn (*): ") == "duong dan"
    assert fold_header("Phí, lệ phí") == "phi le phi"
    # A parenthesised remark is not part of the header's meaning.
    assert fold_header("Phí, lệ phí (nếu có)") == fold_header("Phí, lệ phí [VNĐ]") == "phi le phi"
    assert fold_header("chat_id") == fold_header("Chat ID") == "chat id"


def test_unknown_columns_warned_once_each() -> None:
    headers = ["code", "name", "Đối tượng thực hiện", "Ghi chú"]
    parsed = parse_procedures(
        table(headers, ["1.001193", "A", "x", "y"], ["1.001194", "B", "z", "w"]), AGENCIES
    )
    assert parsed.ok
    assert parsed.warnings == [
        "Unknown column 'Đối tượng thực hiện' was ignored.",
        "Unknown column 'Ghi chú' was ignored.",
    ]


def test_nfd_input_is_normalised() -> None:
    csv_text = nfd(
        f"{VI_HEADERS}\n1.001193,  Đăng ký   khai sinh ,Sở Tư pháp,Toàn trình,Khai Sinh\n"
    )
    parsed = parse_procedures(read_table(csv_text.encode(), "a.csv"), AGENCIES)
    assert parsed.ok, parsed.problems
    record = parsed.records[0]
    assert record.name == "Đăng ký khai sinh"
    assert record.name == unicodedata.normalize("NFC", record.name)
    assert record.agency == "STP"
    assert record.online == ONLINE_FULL
    assert record.keywords == ("Khai Sinh",)


# --------------------------------------------------------------------------- procedures


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("toàn trình", ONLINE_FULL),
        ("Toan trinh", ONLINE_FULL),
        ("Mức độ 4", ONLINE_FULL),
        ("4", ONLINE_FULL),
        ("full", ONLINE_FULL),
        ("một phần", ONLINE_PARTIAL),
        ("MOT PHAN", ONLINE_PARTIAL),
        ("mức độ 3", ONLINE_PARTIAL),
        ("3", ONLINE_PARTIAL),
        ("partial", ONLINE_PARTIAL),
        ("", ""),
        ("Không", ""),
        ("Mức độ 2", ""),
    ],
)
def test_online_levels(value: str, expected: str) -> None:
    parsed = parse_procedures(table(["code", "name", "online"], ["1.001193", "A", value]), {})
    assert parsed.ok, parsed.problems
    assert parsed.records[0].online == expected


def test_agency_resolution_by_code_and_name() -> None:
    parsed = parse_procedures(
        table(
            ["code", "name", "agency"],
            ["P-01", "A", "SXD"],
            ["P-02", "B", "sxd"],
            ["P-03", "C", "  sở   XÂY dựng "],
            ["P-04", "D", ""],
        ),
        AGENCIES,
    )
    assert parsed.ok, parsed.problems
    assert [r.agency for r in parsed.records] == ["SXD", "SXD", "SXD", ""]


def test_unknown_agency_by_name() -> None:
    parsed = parse_procedures(
        table(
            ["code", "Cơ quan thực hiện", "name"],
            ["P-01", "Sở Y tế", "A"],
            ["P-02", "SỞ Y TẾ", "B"],
            ["P-03", "Sở Tư pháp", "C"],
            ["P-04", "Công an tỉnh", "D"],
        ),
        AGENCIES,
    )
    assert codes_of(parsed.problems) == [
        (2, "Cơ quan thực hiện", "unknown_agency"),
        (3, "Cơ quan thực hiện", "unknown_agency"),
        (5, "Cơ quan thực hiện", "unknown_agency"),
    ]
    assert parsed.problems[0].value == "Sở Y tế"
    assert parsed.unknown_agencies == ["Sở Y tế", "Công an tỉnh"]
    assert [r.code for r in parsed.records] == ["P-03"]
    assert not parsed.ok


def test_ambiguous_agency_name() -> None:
    agencies = {"A1": "UBND xã An Phú", "A2": "UBND xã An Phú"}
    parsed = parse_procedures(
        table(["code", "name", "agency"], ["P-01", "A", "UBND xã An Phú"]), agencies
    )
    assert codes_of(parsed.problems) == [(2, "agency", "ambiguous_agency")]


def test_procedure_row_problems_have_rows_and_columns() -> None:
    headers = ["Mã TTHC", "Tên TTHC", "Mức độ dịch vụ công", "Link"]
    parsed = parse_procedures(
        table(
            headers,
            ["1.001193", "Khai sinh", "toàn trình", "https://dichvucong.gov.vn/x"],  # row 2
            ["", "Không có mã", "", ""],  # row 3
            ["1.001194", "", "", ""],  # row 4
            ["1.001193", "Trùng mã", "", ""],  # row 5
            ["mã có dấu cách", "Sai mã", "", ""],  # row 6
            ["1.0011\x0793", "Ký tự điều khiển", "", ""],  # row 7
            ["1.001195", "Mức lạ", "mức độ 9", ""],  # row 8
            ["1.001196", "Link lạ", "", "javascript:alert(1)"],  # row 9
            ["X", "Quá ngắn", "", ""],  # row 10
        ),
        AGENCIES,
    )
    assert codes_of(parsed.problems) == [
        (3, "Mã TTHC", "missing_required"),
        (4, "Tên TTHC", "missing_required"),
        (5, "Mã TTHC", "duplicate_code"),
        (6, "Mã TTHC", "bad_code_format"),
        (7, "Mã TTHC", "bad_code_format"),
        (8, "Mức độ dịch vụ công", "bad_value"),
        (9, "Link", "bad_value"),
        (10, "Mã TTHC", "bad_code_format"),
    ]
    duplicate = parsed.problems[2]
    assert "row 2" in duplicate.message
    assert duplicate.value == "1.001193"
    assert parsed.problems[5].value == "mức độ 9"
    assert {p.code for p in parsed.problems} <= set(PROBLEM_CODES)
    assert [r.code for r in parsed.records] == ["1.001193"]


def test_local_codes_accepted() -> None:
    codes = ["BTP-HT-01", "2.000986.000.00.00.H12", "QĐ_15/2023", "1.001193"]
    parsed = parse_procedures(table(["code", "name"], *[[c, "A"] for c in codes]), {})
    assert parsed.ok, parsed.problems
    assert [r.code for r in parsed.records] == codes


def test_truncated_national_code_warns() -> None:
    parsed = parse_procedures(table(["code", "name"], ["1.00119", "A"]), {})
    assert parsed.ok
    assert any("trailing zeros" in w for w in parsed.warnings)


def test_missing_required_column() -> None:
    parsed = parse_procedures(table(["Tên thủ tục", "Lĩnh vực"], ["A", "B"]), AGENCIES)
    assert codes_of(parsed.problems) == [(None, "code", "missing_column")]
    assert parsed.records == []


def test_duplicate_column_meaning() -> None:
    parsed = parse_procedures(
        table(["Mã thủ tục", "Mã TTHC", "name"], ["1.001193", "1.001194", "A"]), AGENCIES
    )
    assert codes_of(parsed.problems) == [(None, "Mã TTHC", "duplicate_column")]


def test_keywords_and_multiline_cells() -> None:
    parsed = parse_procedures(
        table(
            ["code", "name", "steps", "keywords"],
            ["P-01", " Tên\n dài ", " Bước 1  \r\nBước 2\n", " a ; b;\n A;;c ; "],
        ),
        {},
    )
    record = parsed.records[0]
    assert record.name == "Tên dài"
    assert record.steps == "Bước 1\nBước 2"
    assert record.keywords == ("a", "b", "c")


@given(st.lists(st.text(alphabet="abcđêô ;\n", max_size=8), max_size=6))
def test_keywords_are_clean_and_unique(parts: list[str]) -> None:
    parsed = parse_procedures(
        table(["code", "name", "keywords"], ["P-01", "A", ";".join(parts)]), {}
    )
    keywords = parsed.records[0].keywords
    assert all(k and k == k.strip() and ";" not in k and "\n" not in k for k in keywords)
    assert len({k.casefold() for k in keywords}) == len(keywords)


# --------------------------------------------------------------------------- agencies


def test_agencies_parse_with_vietnamese_headers() -> None:
    csv_text = (
        "Mã;Tên;Nhóm Telegram;Cơ quan chủ quản;Thời hạn trả lời\n"
        "UBND;UBND tỉnh;;;\n"
        "SXD;Sở Xây dựng;-1001234567890;UBND;10 ngày\n"
        "PXD;Phòng quản lý;;sxd;7\n"
    )
    parsed = parse_agencies(read_table(csv_text.encode(), "agencies.csv"))
    assert parsed.ok, parsed.problems
    assert parsed.records == [
        AgencyRecord(code="UBND", name="UBND tỉnh"),
        AgencyRecord(
            code="SXD", name="Sở Xây dựng", chat_id=-1001234567890, parent="UBND", reply_days=10
        ),
        AgencyRecord(code="PXD", name="Phòng quản lý", parent="SXD", reply_days=7),
    ]


def test_agency_parent_from_existing_directory() -> None:
    rows = table(["code", "name", "parent"], ["PXD", "Phòng", "SXD"])
    assert codes_of(parse_agencies(rows).problems) == [(2, "parent", "unknown_parent")]
    assert parse_agencies(rows, existing_codes={"SXD"}).records[0].parent == "SXD"


def test_agency_parent_cycle() -> None:
    parsed = parse_agencies(
        table(
            ["code", "name", "parent"],
            ["ROOT", "Gốc", ""],  # row 2
            ["A", "A", "B"],  # row 3
            ["B", "B", "A"],  # row 4
            ["C", "C", "C"],  # row 5
            ["D", "D", "A"],  # row 6: points into the loop, not part of it
        )
    )
    assert codes_of(parsed.problems) == [
        (3, "parent", "parent_cycle"),
        (5, "parent", "parent_cycle"),
    ]
    assert "A → B → A" in parsed.problems[0].message
    assert "rows 3, 4" in parsed.problems[0].message
    assert not parsed.ok


def test_agency_row_problems() -> None:
    parsed = parse_agencies(
        table(
            ["Mã cơ quan", "Tên cơ quan", "Chat ID", "Số ngày trả lời"],
            ["SXD", "Sở Xây dựng", "-1001234567890", "10"],  # row 2
            ["SXD", "Trùng", "", ""],  # row 3
            ["STP", "", "", ""],  # row 4
            ["SYT", "Sở Y tế", "-100123.5", ""],  # row 5
            ["SGD", "Sở Giáo dục", "nhóm sở", ""],  # row 6
            ["SNV", "Sở Nội vụ", "", "0"],  # row 7
            ["SCT", "Sở Công thương", "", "91"],  # row 8
            ["STC", "Sở Tài chính", "", "mười"],  # row 9
            ["SKH", "Sở Kế hoạch", "123456789", "90"],  # row 10: a person's id, only warned
        )
    )
    assert codes_of(parsed.problems) == [
        (3, "Mã cơ quan", "duplicate_code"),
        (4, "Tên cơ quan", "missing_required"),
        (5, "Chat ID", "bad_value"),
        (6, "Chat ID", "bad_value"),
        (7, "Số ngày trả lời", "bad_value"),
        (8, "Số ngày trả lời", "bad_value"),
        (9, "Số ngày trả lời", "bad_value"),
    ]
    assert [r.code for r in parsed.records] == ["SXD", "SKH"]
    assert parsed.records[1].chat_id == 123456789
    assert any("positive" in w and "Row 10" in w for w in parsed.warnings)


# --------------------------------------------------------------------------- diff


def test_diff_records_categories() -> None:
    existing = {
        "1.000001": ProcedureRecord(code="1.000001", name="Giữ nguyên"),
        "1.000002": ProcedureRecord(code="1.000002", name="Tên cũ"),
        "1.000003": ProcedureRecord(code="1.000003", name="Không còn trong tệp"),
    }
    new = [
        ProcedureRecord(code="1.000001", name="Giữ nguyên"),
        ProcedureRecord(code="1.000002", name="Tên mới"),
        ProcedureRecord(code="1.000004", name="Thêm mới"),
    ]
    diff = diff_records(new, existing)
    assert diff.added == ["1.000004"]
    assert diff.updated == ["1.000002"]
    assert diff.unchanged == ["1.000001"]
    assert diff.removed == ["1.000003"]  # reported only
    assert diff.has_changes
    assert len(existing) == 3


def test_diff_records_agencies_unchanged() -> None:
    record = AgencyRecord(code="SXD", name="Sở Xây dựng", chat_id=-1001234567890)
    diff = diff_records([record], {"SXD": record})
    assert (diff.added, diff.updated, diff.unchanged, diff.removed) == ([], [], ["SXD"], [])
    assert not diff.has_changes


# --------------------------------------------------------------------------- shipped data


def test_shipped_data_files_parse_cleanly() -> None:
    agencies_path = DATA_DIR / "agencies.json"
    procedures_path = DATA_DIR / "procedures.json"
    missing = [p.name for p in (agencies_path, procedures_path) if not p.exists()]
    if missing:
        pytest.skip(f"knowledge/data/{' and '.join(missing)} not written yet")
    agencies = parse_agencies(read_table(agencies_path.read_bytes(), agencies_path.name))
    assert agencies.problems == []
    assert agencies.records
    directory = {a.code: a.name for a in agencies.records}
    procedures = parse_procedures(
        read_table(procedures_path.read_bytes(), procedures_path.name), directory
    )
    assert procedures.problems == []
    assert procedures.unknown_agencies == []
    assert procedures.records
