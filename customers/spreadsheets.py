"""Spreadsheets as firms keep them, in and out: CSV from any office program, or Excel's XLSX.

Reading takes bytes and gives a tablib.Dataset, or a SpreadsheetError with a message for the office: a
firm's CSV may be UTF-8 (with Excel's byte-order mark or without), Windows-1252 from an older program,
both (lines pasted together from two programs: each line is read in its own), or UTF-16 from Excel's
"Unicode text", separated by commas or, in Germany and the Netherlands, by semicolons. Every row keeps
the number it has in the file (ROW_COLUMN), so errors and the journal name the row the office sees.

Writing escapes cells that a spreadsheet program would run as a formula (=, +, -, @, tab, CR): a customer
who typed `=HYPERLINK("http://evil", "Klick")` as their name must not get a link into the office's Excel.
A CSV is written as the office's Excel splits it: separated by semicolons where the decimal separator is a
comma (German, Dutch), by commas in English, every field quoted. The file may still be opened with the other
separator (a colleague's Excel, a forwarded file) or by a reader that ends a row at any line break, so a formula
must not start after a separator or line break inside a cell either: `Weg 1;=1+1;` is written `Weg 1;'=1+1;`.
"""

import csv
import io
import re
import zipfile

import tablib
from django.conf import settings
from django.utils.formats import get_format, number_format
from django.utils.translation import gettext as _

ROW_COLUMN = "_row"
# What a spreadsheet program reads as the start of a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_SEPARATORS = (";", ",", "\t")
# Where a spreadsheet program may start a cell's text: the field's start, or a separator or line break inside
# the field when the file is split with another separator than it was written with, or at every line break.
# Quotes or apostrophes in between do not count: a reader that splits a quoted field drops quotes. escape_formula
# puts an apostrophe there, also where one is already, so that unescape_formula, removing one, gives the cell back.
_CELL_START = "(^|[" + re.escape("".join(CSV_SEPARATORS)) + r"\r\n])"
_BEFORE_FORMULA = "(?=['\"]*[" + re.escape("".join(FORMULA_STARTS)) + "])"
_FORMULA_AT = re.compile(_CELL_START + _BEFORE_FORMULA)
_ESCAPED_FORMULA_AT = re.compile(_CELL_START + "'" + _BEFORE_FORMULA)
_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls (and .doc)
# An XLSX is a ZIP: a few MB can unpack to gigabytes of repeated text, which openpyxl reads whole (the
# shared strings). A real workbook of IMPORT_MAX_ROWS customers unpacks to well under this.
XLSX_MAX_UNPACKED_BYTES = 200 * 1024 * 1024


class SpreadsheetError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def read_table(data: bytes) -> tablib.Dataset:
    """The first sheet of an XLSX file or a CSV file as a Dataset of text cells, with ROW_COLUMN added.

    Each cell is as it was before the export: a CSV's un-escaped (unescape_formula), an XLSX's as it stands,
    since export_xlsx types its text cells as text rather than escaping them. Only the headings are stripped:
    the caller strips a cell once it is un-escaped, as an apostrophe may shield the white space behind it.
    """
    if not data.strip():
        raise SpreadsheetError(_("The file is empty."))
    if data.startswith(_XLSX_MAGIC):
        rows = _xlsx_rows(data)
    elif data.startswith(_OLE_MAGIC):
        raise SpreadsheetError(
            _("This is an old Excel file (.xls). Please save it as Excel workbook (.xlsx) or as CSV and upload that.")
        )
    else:
        rows = [(number, [unescape_formula(cell) for cell in cells]) for number, cells in _csv_rows(_decoded(data))]
    return _dataset(rows)


def _not_a_spreadsheet() -> SpreadsheetError:
    return SpreadsheetError(
        _("This file is not a spreadsheet. Please upload a CSV file or an Excel workbook (.xlsx).")
    )


def _decoded(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text"
        return data.decode("utf-16")
    if b"\x00" in data[:4096]:
        raise _not_a_spreadsheet()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Lines pasted together from two programs can differ: one line written as Windows-1252 must not
        # turn the UTF-8 lines around it into "MÃ¼ller". A line is never split inside a character, as
        # neither encoding uses the bytes of \r and \n in another character.
        data = data.removeprefix(b"\xef\xbb\xbf")
        return "".join(_decoded_line(line) for line in data.splitlines(keepends=True))


def _decoded_line(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Not UTF-8: Windows-1252, which older office programs in Germany and the Netherlands write
    # (Latin-1 plus €, „ and “). Its few undefined bytes are read as Latin-1 rather than refused.
    try:
        return line.decode("cp1252")
    except UnicodeDecodeError:
        return line.decode("latin-1")


def _csv_rows(text: str) -> list[tuple[int, list[str]]]:
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    separator = max(CSV_SEPARATORS, key=first_line.count)
    if not first_line.count(separator) and _looks_binary(text):
        raise _not_a_spreadsheet()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    try:
        return [(reader.line_num, row) for row in reader]
    except csv.Error as error:
        raise SpreadsheetError(
            _("Row %(row)s of the file cannot be read as CSV (%(error)s).") % {"row": reader.line_num, "error": error}
        ) from error


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for char in sample if ord(char) < 32 and char not in "\r\n\t")
    return controls > len(sample) // 100


def _too_many_rows() -> SpreadsheetError:
    return SpreadsheetError(
        _("The file has more than %(rows)s rows. Please split it into files of at most %(rows)s rows each.")
        % {"rows": number_format(settings.IMPORT_MAX_ROWS, force_grouping=True)}
    )


def _xlsx_rows(data: bytes) -> list[tuple[int, list[str]]]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise _not_a_spreadsheet() from error
    if unpacked > XLSX_MAX_UNPACKED_BYTES:
        raise _not_a_spreadsheet()
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError) as error:
        raise _not_a_spreadsheet() from error
    try:
        sheet = book.worksheets[0]
        rows, formulas, filled = [], [], 0
        for number, row in enumerate(sheet.iter_rows(min_row=1), start=1):
            values = []
            for cell in row:
                if cell.data_type == "f":
                    formulas.append(cell.coordinate)
                values.append(_cell_text(cell.value))
            rows.append((number, values))
            filled += any(values)
            if filled > settings.IMPORT_MAX_ROWS + 1:  # the headings' row and one too many: stop reading
                raise _too_many_rows()
    finally:
        book.close()
    if formulas:
        # A formula's value is what Excel last computed, which other programs do not store: importing it
        # could give an empty or stale cell. The office pastes the values instead.
        shown = ", ".join(formulas[:5]) + (" …" if len(formulas) > 5 else "")
        raise SpreadsheetError(
            _(
                "The file contains formulas (cells %(cells)s). Please replace them by their values (copy the "
                "cells, then paste as values only) and upload the file again."
            )
            % {"cells": shown}
        )
    return rows


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 47533.0 is the postcode 47533
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _dataset(rows: list[tuple[int, list[str]]]) -> tablib.Dataset:
    while rows and not any(cell.strip() for cell in rows[0][1]):
        rows.pop(0)
    if not rows:
        raise SpreadsheetError(_("The file is empty."))
    headers = [cell.strip() for cell in rows[0][1]]
    while headers and not headers[-1]:
        headers.pop()
    if len(headers) < 1:
        raise SpreadsheetError(_("The file is empty."))
    dataset = tablib.Dataset(headers=[*headers, ROW_COLUMN])
    width = len(headers)
    for number, cells in rows[1:]:
        cells = (cells + [""] * width)[:width]
        if any(cell.strip() for cell in cells):  # blank lines between blocks of customers are no customers
            dataset.append([*cells, number])
    if not dataset.height:
        raise SpreadsheetError(_("The file has column headings but no rows below them."))
    if dataset.height > settings.IMPORT_MAX_ROWS:
        raise _too_many_rows()
    return dataset


# Out -----------------------------------------------------------------------------------------------


def escape_formula(value):
    """A text cell with an apostrophe wherever a spreadsheet could start a formula in it; others unchanged.

    The apostrophe shows in the cell (phone numbers too: "'+49 ..."), which is the price of never running
    what a customer typed.
    """
    if isinstance(value, str):
        return _FORMULA_AT.sub(r"\1'", value)
    return value


def unescape_formula(value: str) -> str:
    """The cell as it was before escape_formula, so that the office can import its own export."""
    return _ESCAPED_FORMULA_AT.sub(r"\1", value)


def csv_separator() -> str:
    """The separator Excel splits a CSV at in the active language: ";" where "," is the decimal separator."""
    return ";" if get_format("DECIMAL_SEPARATOR") == "," else ","


def export_csv(dataset: tablib.Dataset, *, separator: str) -> str:
    """CSV with a byte-order mark (Excel then reads UTF-8), every field quoted and formula-like cells escaped.

    Quoted, a separator or line break inside a field is never a cell boundary for a reader that honours quotes.
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=separator, quoting=csv.QUOTE_ALL)
    writer.writerow([escape_formula(header) for header in dataset.headers])
    for row in dataset:
        writer.writerow([escape_formula("" if cell is None else cell) for cell in row])
    return "\ufeff" + out.getvalue()


def export_xlsx(dataset: tablib.Dataset, *, title: str) -> bytes:
    """An XLSX workbook whose text cells are text: typed as strings and formatted as text, never formulas.

    openpyxl would store any string starting with = as a formula, which Excel then runs.
    """
    import openpyxl
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title[:31]
    for row_index, row in enumerate([dataset.headers, *dataset], start=1):
        for column_index, value in enumerate(row, start=1):
            cell = sheet.cell(row=row_index, column=column_index)
            if isinstance(value, str):
                cell.value = ILLEGAL_CHARACTERS_RE.sub("\N{REPLACEMENT CHARACTER}", value)
                cell.data_type = "s"
                cell.number_format = "@"
            else:
                cell.value = value
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
