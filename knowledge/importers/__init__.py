"""Read and validate admin files for the procedure knowledge base and the agency directory.

Three steps, all pure (no database, no Telegram):

1. `read_table` turns the bytes of a JSON, CSV or XLSX file into a `Table` of text cells, or
   raises `ImportFormatError` when the file as a whole is unusable.
2. `parse_procedures` / `parse_agencies` map the headers (English keys or the Vietnamese headers
   the national portal exports: the parts every procedure must state under Nghị định
   63/2010/NĐ-CP Điều 8, such as "Trình tự thực hiện" or "Thành phần hồ sơ"), validate each row
   and return a `ParseResult` with the records of the valid rows and a `Problem` for every
   invalid cell.
3. `diff_records` compares the parsed records with what is stored, so the admin can confirm
   before anything is written.

Row numbers are the ones a spreadsheet shows: the header is row 1 and the first data row is row
2. JSON files have no rows on screen, so element ``i`` of the list is reported as row ``i + 2``;
the same file exported to a spreadsheet then gives the same numbers.

Every error carries a machine `code` next to its English message so the bot can show a
translated text; the codes are listed in `FORMAT_ERROR_CODES` and `PROBLEM_CODES`.
"""

from knowledge.importers.agencies import parse_agencies
from knowledge.importers.columns import (
    PROBLEM_CODES,
    ParseResult,
    Problem,
    fold_header,
    guess_kind,
)
from knowledge.importers.diff import ImportDiff, diff_records
from knowledge.importers.procedures import parse_procedures
from knowledge.importers.tables import (
    FORMAT_ERROR_CODES,
    NOTICE_CODES,
    ImportFormatError,
    Notice,
    Table,
    TableRow,
    read_table,
)

__all__ = [
    "FORMAT_ERROR_CODES",
    "NOTICE_CODES",
    "PROBLEM_CODES",
    "ImportDiff",
    "ImportFormatError",
    "Notice",
    "ParseResult",
    "Problem",
    "Table",
    "TableRow",
    "diff_records",
    "fold_header",
    "guess_kind",
    "parse_agencies",
    "parse_procedures",
    "read_table",
]
