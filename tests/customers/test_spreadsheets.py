"""The office's own export read back by the import's reader: every cell as it was, whatever it holds."""

import pytest
import tablib
from hypothesis import given, settings
from hypothesis import strategies as st

from customers.spreadsheets import export_csv, export_xlsx, read_table

# Separators, line breaks, quotes, apostrophes, formula starts and spaces: what escaping and stripping trip on.
TRICKY = list("ab ';,\t\r\n\"=+-@ä")
TRICKY_VALUES = ["foo;\t", "foo\n\r", "\tfoo", "\r=1", "'=x", "a;'\t", "  '+49 ", "x,\r\n-1", "''=1", "'", ";"]


def as_xml_reads_it(value: str) -> str:
    # An XLSX is XML, whose readers turn every line break into "\n": the one change a workbook makes.
    return value.replace("\r\n", "\n").replace("\r", "\n")


def round_trip(values: list[str], *, file_format: str, separator: str = ";") -> list[str]:
    dataset = tablib.Dataset(headers=["Name", "Notes"])
    for value in values:
        dataset.append(["Kunde", value])
    if file_format == "csv":
        data = export_csv(dataset, separator=separator).encode("utf-8")
    else:
        data = export_xlsx(dataset, title="Kunden")
    return [row["Notes"] for row in read_table(data).dict]


@pytest.mark.parametrize(("file_format", "separator"), [("csv", ";"), ("csv", ","), ("xlsx", "")])
def test_tricky_cells_of_the_offices_export_are_read_back_exactly(file_format, separator):
    expected = TRICKY_VALUES if file_format == "csv" else [as_xml_reads_it(value) for value in TRICKY_VALUES]

    assert round_trip(TRICKY_VALUES, file_format=file_format, separator=separator) == expected


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.text(alphabet=TRICKY, max_size=8), min_size=1, max_size=5), separator=st.sampled_from(";,"))
def test_any_cell_of_a_csv_export_is_read_back_exactly(values, separator):
    assert round_trip(values, file_format="csv", separator=separator) == values


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.text(alphabet=TRICKY, max_size=8), min_size=1, max_size=5))
def test_any_cell_of_an_xlsx_export_is_read_back_exactly(values):
    assert round_trip(values, file_format="xlsx") == [as_xml_reads_it(value) for value in values]
