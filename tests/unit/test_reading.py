"""The plain CSV reader (str.split on chunks of text) gives exactly what the
csv module gives: the same records on the same lines, the same errors."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_cli.errors import FileError
from cs_cli.services.importers import reading
from cs_cli.services.importers.reading import SourceFormat, open_source


def _by_csv(path) -> list[tuple[int, list[str]]]:
    source = open_source(path, SourceFormat.CSV)
    try:
        return [pair for lines, records in source.batches(7) for pair in zip(lines, records, strict=True)]
    finally:
        source.close()


def _by_plain(path) -> tuple[list[tuple[int, list[str]]], int]:
    """Records with their lines, and how many batches came as columns."""
    source = open_source(path, SourceFormat.CSV)
    out, columnar = [], 0
    try:
        for batch in source.column_batches(7):
            assert len(batch.records) == len(batch.lines) <= 7
            if batch.columns is not None:
                columnar += 1
                assert [list(r) for r in zip(*batch.columns, strict=True)] == batch.records
            out.extend(zip(batch.lines, batch.records, strict=True))
    finally:
        source.close()
    return out, columnar


@pytest.fixture
def small_chunks(monkeypatch):
    # Chunks of a few lines, so that every boundary case comes up.
    monkeypatch.setattr(reading, "_CHUNK", 40)


def _write(tmp_path, text: str, name: str = "events.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def test_plain_text_comes_as_columns_on_the_right_lines(tmp_path, small_chunks):
    rows = [f"C{i},P{i},login,2026-10-01T09:{i % 60:02d}:00Z,{i}" for i in range(40)]
    header = "customer_id,contact_id,event_name,occurred_at,quantity\n"
    path = _write(tmp_path, header + "\n".join(rows) + "\n")
    records, columnar = _by_plain(path)
    assert records == _by_csv(path)
    assert [line for line, _ in records] == list(range(2, 42))
    assert records[-1][1] == ["C39", "P39", "login", "2026-10-01T09:39:00Z", "39"]
    assert columnar >= 6


def test_a_quote_part_way_hands_the_rest_to_the_csv_module(tmp_path, small_chunks):
    head = "a,b,c\n" + "".join(f"x{i},y{i},z{i}\n" for i in range(10))
    quoted = 'q1,"two\nlines, and a comma",q3\n'
    tail = "".join(f"t{i},u{i},v{i}\n" for i in range(5))
    path = _write(tmp_path, head + quoted + tail)
    records, columnar = _by_plain(path)
    assert records == _by_csv(path)
    assert (12, ["q1", "two\nlines, and a comma", "q3"]) in records
    assert records[-1] == (18, ["t4", "u4", "v4"])  # the quoted record spans lines 12-13
    assert columnar >= 1


def test_windows_line_ends_blank_lines_and_no_final_newline(tmp_path, small_chunks):
    text = "a,b\r\n1,2\r\n\r\n3,4\r\n5,6\n\n7,8"
    path = _write(tmp_path, text)
    records, _ = _by_plain(path)
    assert records == _by_csv(path) == [(2, ["1", "2"]), (4, ["3", "4"]), (5, ["5", "6"]), (7, ["7", "8"])]


def test_a_lone_carriage_return_ends_a_line_as_in_the_csv_module(tmp_path, small_chunks):
    # The csv module writes a lone CR unquoted when its line ends are "\n";
    # reading it back, the CR ends a (blank) line of its own.
    path = _write(tmp_path, "a,b,c\n\r,,\n,,\nx,y,z\n")
    records, _ = _by_plain(path)
    assert records == _by_csv(path) == [(3, ["", "", ""]), (4, ["", "", ""]), (5, ["x", "y", "z"])]
    # A CR before a CRLF: two line ends, not one.
    path = _write(tmp_path, "a,b,c\n,,\r\r\n,,\n")
    records, _ = _by_plain(path)
    assert records == _by_csv(path) == [(2, ["", "", ""]), (4, ["", "", ""])]


def test_a_line_longer_than_a_chunk(tmp_path, small_chunks):
    long = "y" * 500
    path = _write(tmp_path, f"a,b\n1,{long}\n2,3\n")
    records, _ = _by_plain(path)
    assert records == _by_csv(path) == [(2, ["1", long]), (3, ["2", "3"])]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a,b\n1,2\n3,4,5\n6,7\n", 3),  # a field too many
        ("a,b\n1,2\n3,4\n5\n", 4),  # a field short, in a later chunk
        ('a,b\n1,2\n3,"4\n', 3),  # a quote never closed
    ],
)
def test_a_bad_line_is_named_as_the_csv_module_names_it(tmp_path, small_chunks, text, line):
    path = _write(tmp_path, text)
    with pytest.raises(FileError) as plain:
        _by_plain(path)
    with pytest.raises(FileError) as by_csv:
        _by_csv(path)
    assert plain.value.line == by_csv.value.line == line
    assert str(plain.value) == str(by_csv.value)


def test_text_that_is_not_utf8_is_one_clear_error(tmp_path, small_chunks):
    path = tmp_path / "events.csv"
    path.write_bytes(b"a,b\n1,2\n" + b"3,\xff\xfe\n" * 20)
    with pytest.raises(FileError, match="not UTF-8"):
        _by_plain(path)


_FIELD = st.text(alphabet=st.sampled_from(list('ab ,"\n\r\t\x00é')), max_size=6)


@settings(max_examples=1000, deadline=None)
@given(
    rows=st.lists(st.lists(_FIELD, min_size=3, max_size=3), max_size=25),
    crlf=st.booleans(),
    blanks=st.lists(st.integers(0, 25), max_size=3),
    chunk=st.integers(1, 80),
)
def test_same_records_as_the_csv_module_whatever_the_text(tmp_path_factory, rows, crlf, blanks, chunk):
    """Any table the csv module writes (quoting what needs it), with blank
    lines thrown in, reads back the same through the plain reader."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(["a", "b", "c"])
    writer.writerows(rows)
    lines = buffer.getvalue().split("\n")
    for at in blanks:
        lines.insert(min(at + 1, len(lines)), "")
    path = _write(tmp_path_factory.mktemp("csv"), "\n".join(lines))
    old = reading._CHUNK
    reading._CHUNK = chunk
    try:
        try:
            expected: object = _by_csv(path)
        except FileError as exc:
            expected = str(exc)
        try:
            got: object = _by_plain(path)[0]
        except FileError as exc:
            got = str(exc)
    finally:
        reading._CHUNK = old
    assert got == expected
