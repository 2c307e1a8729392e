"""Streaming CSV and JSONL records with their line numbers.

Files are read once, in chunks; memory does not grow with file size. A `.gz`
suffix is read through gzip.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from cs_cli.errors import BadInput, FileError


class SourceFormat(StrEnum):
    CSV = "csv"
    JSONL = "jsonl"


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
    """A raw stream that counts the bytes read through it, for progress."""

    def __init__(self, raw) -> None:
        self._raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.count += n
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


@dataclass
class Source:
    """An open import file: its columns (CSV) and a stream of (line, record)."""

    path: Path
    fmt: SourceFormat
    columns: list[str] | None
    records: Iterator[tuple[int, Any]]
    _counter: _CountingReader
    _text: io.TextIOWrapper

    @property
    def bytes_read(self) -> int:
        return self._counter.count

    def close(self) -> None:
        self._text.close()


def open_source(path: Path, fmt: SourceFormat) -> Source:
    if not path.is_file():
        raise BadInput(f"{path}: no such file")
    raw = gzip.open(path, "rb") if path.suffix.lower() == ".gz" else path.open("rb")
    counter = _CountingReader(raw)
    # utf-8-sig: spreadsheet exports often start with a byte-order mark.
    stream = io.TextIOWrapper(io.BufferedReader(counter, 1 << 16), encoding="utf-8-sig", newline="")
    try:
        if fmt == SourceFormat.CSV:
            columns, records = _csv_records(path, stream)
        else:
            columns, records = None, _jsonl_records(path, stream)
    except BaseException:
        stream.close()
        raise
    return Source(path, fmt, columns, records, counter, stream)


def _decode_error(path: Path, exc: UnicodeDecodeError) -> FileError:
    return FileError(str(path), None, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})")


def _csv_records(path: Path, stream: io.TextIOWrapper) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    reader = csv.reader(stream, strict=True)
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
        if name in seen:
            raise FileError(str(path), 1, index, f"column '{name}' appears twice (also column {seen[name]})")
        seen[name] = index

    def records() -> Iterator[tuple[int, list[str]]]:
        width = len(columns)
        previous_end = reader.line_num
        try:
            for row in reader:
                start = previous_end + 1
                previous_end = reader.line_num
                if not row:
                    continue
                if len(row) != width:
                    if len(row) == 1 and not row[0].strip():
                        continue
                    raise FileError(
                        str(path), start, None, f"expected {width} fields as in the header, found {len(row)}"
                    )
                yield start, row
        except csv.Error as exc:
            raise FileError(str(path), reader.line_num, None, f"malformed CSV: {exc}") from None
        except UnicodeDecodeError as exc:
            raise _decode_error(path, exc) from None

    return columns, records()


def _jsonl_records(path: Path, stream: io.TextIOWrapper) -> Iterator[tuple[int, dict[str, Any]]]:
    loads = json.loads
    try:
        for line_no, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                record = loads(line)
            except json.JSONDecodeError as exc:
                raise FileError(str(path), line_no, exc.colno, f"invalid JSON: {exc.msg}") from None
            if not isinstance(record, dict):
                raise FileError(str(path), line_no, 1, "expected a JSON object on each line")
            yield line_no, record
    except UnicodeDecodeError as exc:
        raise _decode_error(path, exc) from None
