"""Streaming CSV and JSONL records with their line numbers.

Files are read once, in chunks; memory does not grow with file size. A `.gz`
suffix is read through gzip.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import itertools
import json
import zlib
from collections.abc import Iterator, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

from cs_cli.errors import BadInput, FileError
from cs_cli.services.importers.values import MAX_NESTING
from cs_cli.specs.documents import text_problem


class SourceFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


# A JSONL line (one record) is read whole: a line without an end would
# otherwise be read into memory however long it is.
MAX_JSONL_LINE = 1 << 20

_SUFFIXES = {".csv": SourceFormat.CSV, ".jsonl": SourceFormat.JSONL, ".ndjson": SourceFormat.JSONL}


def detect_format(path: Path, explicit: SourceFormat | None) -> SourceFormat:
    if explicit is not None:
        return explicit
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in _SUFFIXES:
        return _SUFFIXES[suffixes[-1]]
    raise BadInput(f"{path}: cannot tell the format from the name; pass --format csv or --format jsonl")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class _CountingReader(io.RawIOBase):
    """A raw stream that counts the bytes read through it, for progress. A
    gzip stream's faults (not gzip, cut short, corrupt) surface at any read,
    deep in a reader: they are said here, as bad input."""

    def __init__(self, raw, path: Path | None = None) -> None:
        self._raw = raw
        self._gzip_path = path
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._gzip_path is None:
            data = self._raw.read(len(buffer))
        else:
            data = self._read_gzip(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n

    def _read_gzip(self, size: int) -> bytes:
        where = str(self._gzip_path)
        try:
            return self._raw.read(size)
        except EOFError:
            reason = "the gzip file is cut short (the compressed data ends early)"
            raise FileError(where, None, None, reason) from None
        except gzip.BadGzipFile as exc:
            if str(exc).startswith("Not a gzipped file"):
                raise FileError(where, None, None, "not a gzip file") from None
            raise FileError(where, None, None, f"not a valid gzip file ({exc})") from None
        except zlib.error as exc:
            raise FileError(where, None, None, f"not a valid gzip file ({exc})") from None

    def close(self) -> None:
        self._raw.close()
        super().close()


class Source:
    """An open import file: its columns (CSV) and its records with their line
    numbers, one at a time (`records`) or in lists (`batches`)."""

    def __init__(self, path: Path, fmt: SourceFormat, counter: _CountingReader, stream: io.TextIOWrapper):
        self.path = path
        self.fmt = fmt
        self._counter = counter
        self._stream = stream
        if fmt == SourceFormat.CSV:
            self._reader = csv.reader(stream, strict=True)
            self.columns = _csv_header(path, self._reader)
        else:
            # JSONL has no header: the first record's keys act as one.
            self._jsonl = _jsonl_records(path, stream)
            self._first = next(self._jsonl, None)
            if self._first is None:
                raise FileError(str(path), 1, None, "the file is empty")
            self.columns = list(self._first[1].keys())
            for name in self.columns:
                if problem := text_problem(name):
                    raise FileError(str(path), self._first[0], None, f"key {name[:40]!r}: {problem}")

    @property
    def bytes_read(self) -> int:
        return self._counter.count

    columns: list[str]

    def batches(self, size: int) -> Iterator[tuple[Sequence[int], list[Any]]]:
        """Lists of up to `size` (line numbers, records): CSV records are
        lists of strings in header order, JSONL records are dicts."""
        if self.fmt == SourceFormat.CSV:
            yield from _csv_batches(self.path, self._reader, len(self.columns), size)
            return
        lines: list[int] = []
        records: list[Any] = []
        pending = [self._first] if self._first is not None else []
        self._first = None
        # The first record's keys are the columns: a key first seen later
        # would be dropped without a word, so it is refused at its line.
        known = set(self.columns)
        for line, record in itertools.chain(pending, self._jsonl):
            if not known.issuperset(record):
                extra = next(k for k in record if k not in known)
                raise FileError(
                    str(self.path),
                    line,
                    None,
                    f"key {extra[:40]!r} is not in the first record, whose keys name the columns",
                    hint="give every key in the first record (null where it has no value)",
                )
            lines.append(line)
            records.append(record)
            if len(records) >= size:
                yield lines, records
                lines, records = [], []
        if records:
            yield lines, records

    def column_batches(self, size: int) -> Iterator[Batch]:
        """CSV records in batches of up to `size`, each batch also as columns
        where that comes for free: see `_plain_batches`."""
        if self.fmt != SourceFormat.CSV:
            raise ValueError("column batches are read from CSV only")
        yield from _plain_batches(self.path, self._stream, self._reader, len(self.columns), size)

    @property
    def records(self) -> Iterator[tuple[int, Any]]:
        for lines, records in self.batches(1024):
            yield from zip(lines, records, strict=True)

    def close(self) -> None:
        self._stream.close()


def open_source(path: Path, fmt: SourceFormat) -> Source:
    if not path.is_file():
        raise BadInput(f"{path}: no such file")
    if path.suffix.lower() == ".gz":
        counter = _CountingReader(gzip.open(path, "rb"), path)
    else:
        counter = _CountingReader(path.open("rb"))
    # utf-8-sig: spreadsheet exports often start with a byte-order mark.
    stream = io.TextIOWrapper(io.BufferedReader(counter, 1 << 16), encoding="utf-8-sig", newline="")
    try:
        return Source(path, fmt, counter, stream)
    except BaseException:
        stream.close()
        raise


def _decode_error(path: Path, exc: UnicodeDecodeError) -> FileError:
    return FileError(str(path), None, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})")


def _csv_header(path: Path, reader) -> list[str]:
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise FileError(str(path), 1, None, f"malformed CSV: {exc}") from None
    except UnicodeDecodeError as exc:
        raise _decode_error(path, exc) from None
    if not header or not any(h.strip() for h in header):
        raise FileError(str(path), 1, None, "the file is empty; expected a header row")
    columns = [h.strip() for h in header]
    seen: dict[str, int] = {}
    for index, name in enumerate(columns, start=1):
        if not name:
            raise FileError(str(path), 1, index, "empty column name in the header")
        if problem := text_problem(name):
            raise FileError(str(path), 1, index, f"column name: {problem}")
        if name in seen:
            raise FileError(str(path), 1, index, f"column '{name}' appears twice (also column {seen[name]})")
        seen[name] = index
    return columns


class Batch:
    """Records of a CSV file with the lines they start on; `columns` holds
    the same values column by column (header order) when the reader had
    them that way, else None. Records are made from columns on first use."""

    def __init__(
        self, lines: Sequence[int], records: list[list[str]] | None, columns: list[list[str]] | None
    ) -> None:
        self.lines = lines
        self._records = records
        self.columns = columns

    @property
    def records(self) -> list[list[str]]:
        if self._records is None:
            assert self.columns is not None
            self._records = list(map(list, zip(*self.columns, strict=True)))
        return self._records


# Characters read at a time by the plain reader: about 10,000 event lines.
_CHUNK = 1 << 19


def _plain_batches(path: Path, stream: io.TextIOWrapper, reader, width: int, size: int) -> Iterator[Batch]:
    """Batches of a CSV file, cut from the text itself while it is plain:
    no quote anywhere, so every line is one record and every comma separates
    two fields. Such a chunk is split on newlines and commas by str.split,
    which gives exactly what the csv module gives, column by column for the
    price of one call (the csv module costs a microsecond a record, and the
    records must then be turned into columns). A chunk with blank lines, a
    carriage return alone or lines of the wrong width goes through the csv
    module, which words the error. From the first quote on, the rest of the
    file goes through the csv module (a quoted field may hold line breaks,
    so the text can no longer be cut at any newline)."""
    line = reader.line_num + 1  # the first line after the header
    rest = ""
    try:
        while True:
            text = stream.read(_CHUNK)
            if '"' in text:
                text = rest + text + stream.readline()
                csv_reader = csv.reader(itertools.chain(io.StringIO(text, newline=""), stream), strict=True)
                for lines, records in _csv_batches(path, csv_reader, width, size, first=line):
                    yield Batch(lines, records, None)
                return
            if not text:
                chunk, rest = rest, ""
            else:
                text = rest + text
                cut = text.rfind("\n") + 1
                chunk, rest = text[:cut], text[cut:]
            if not chunk:
                if text:
                    continue  # a line longer than the chunk: read on
                return
            if "\r" in chunk and chunk.count("\r") == chunk.count("\r\n"):
                # Windows line ends only. (With a lone CR as well, the csv
                # module reads the chunk as it is: replacing would join a
                # CR and a CRLF that it reads as two line ends.)
                chunk = chunk.replace("\r\n", "\n")
            texts = chunk.split("\n")
            if texts[-1] == "":
                texts.pop()
            n = len(texts)
            commas = width - 1
            if (
                "\r" in chunk
                or "\x00" in chunk
                or "" in texts
                or set(map(str.count, texts, itertools.repeat(","))) != {commas}
            ):
                csv_reader = csv.reader(io.StringIO(chunk, newline=""), strict=True)
                for lines, records in _csv_batches(path, csv_reader, width, size, first=line):
                    yield Batch(lines, records, None)
                # Its lines as the csv module counts them: a lone CR ends one.
                line += csv_reader.line_num
            else:
                for start in range(0, n, size):
                    part = texts[start : start + size]
                    fields = ",".join(part).split(",")
                    columns = [fields[i::width] for i in range(width)]
                    first = line + start
                    yield Batch(range(first, first + len(part)), None, columns)
                line += n
    except UnicodeDecodeError as exc:
        raise _decode_error(path, exc) from None


def _csv_batches(
    path: Path, reader, width: int, size: int, *, first: int | None = None
) -> Iterator[tuple[Sequence[int], list[list[str]]]]:
    """Records in lists of `size`, read by the C parser without a Python step
    per record; line numbers are worked out per batch (see `_record_lines`).
    `first`: the file's line number of the reader's first line, when the
    reader starts part way through the file."""
    offset = 0 if first is None else first - 1
    end = reader.line_num
    try:
        while rows := list(itertools.islice(reader, size)):
            start, end = end + 1, reader.line_num
            lines = _record_lines(rows, start + offset, end + offset)
            if len(set(map(len, rows))) > 1 or len(rows[0]) != width:
                rows, lines = _drop_blank_lines(path, rows, lines, width)
            if rows:
                yield lines, rows
    except csv.Error as exc:
        raise FileError(str(path), reader.line_num + offset, None, f"malformed CSV: {exc}") from None
    except UnicodeDecodeError as exc:
        raise _decode_error(path, exc) from None


def _record_lines(rows: list[list[str]], start: int, end: int) -> list[int]:
    """The line each record starts on, given the lines the batch spans.

    Usually every record is one line. When not, quoted fields hold line
    breaks, and counting them gives each record's extra lines.
    """
    if end - start + 1 == len(rows):
        return list(range(start, end + 1))
    lines, line = [], start
    for row in rows:
        lines.append(line)
        line += 1 + sum(f.count("\n") + f.count("\r") - f.count("\r\n") for f in row)
    return lines


def _drop_blank_lines(
    path: Path, rows: list[list[str]], lines: list[int], width: int
) -> tuple[list[list[str]], list[int]]:
    kept_rows, kept_lines = [], []
    for row, line in zip(rows, lines, strict=True):
        if len(row) != width:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            raise FileError(
                str(path), line, None, f"expected {width} fields as in the header, found {len(row)}"
            )
        kept_rows.append(row)
        kept_lines.append(line)
    return kept_rows, kept_lines


def _jsonl_records(path: Path, stream: io.TextIOWrapper) -> Iterator[tuple[int, dict[str, Any]]]:
    """The objects of a JSONL file with their line numbers, each line read
    within bounds: its length, and the nesting of its values (json.loads
    recurses once per level, and so would whatever reads a value later)."""
    loads = json.loads
    where = str(path)
    try:
        line_no = 0
        while line := stream.readline(MAX_JSONL_LINE + 1):
            line_no += 1
            if len(line) > MAX_JSONL_LINE and not line.endswith("\n"):
                raise FileError(where, line_no, None, f"a line longer than {MAX_JSONL_LINE:,} characters")
            if not line.strip():
                continue
            try:
                record = loads(line)
            except json.JSONDecodeError as exc:
                raise FileError(where, line_no, exc.colno, f"invalid JSON: {exc.msg}") from None
            except RecursionError:
                raise FileError(where, line_no, None, f"nested deeper than {MAX_NESTING} levels") from None
            except ValueError:  # Python reads integers of at most 4300 digits
                reason = "invalid JSON: a number of more than 4300 digits"
                raise FileError(where, line_no, None, reason) from None
            if not isinstance(record, dict):
                raise FileError(where, line_no, 1, "expected a JSON object on each line")
            # Only a line with a second brace or a bracket can nest: the walk
            # is skipped for the flat records of big files.
            if "[" in line or line.count("{") > 1:
                for key, value in record.items():
                    if isinstance(value, dict | list) and _too_deep(value):
                        reason = f"{key}: nested deeper than {MAX_NESTING} levels"
                        raise FileError(where, line_no, key, reason)
            yield line_no, record
    except UnicodeDecodeError as exc:
        raise _decode_error(path, exc) from None


def _too_deep(value: Any) -> bool:
    """Whether a JSON value nests deeper than MAX_NESTING (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_NESTING:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
