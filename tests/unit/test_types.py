"""Rendering values (cli/_output.py) and the error hierarchy (errors.py)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from cs_cli import errors
from cs_cli.cli._output import OutputFormat, cell, dataclass_rows, emit_object, emit_rows, plain
from cs_cli.domain import CustomerStatus, HealthStatus, Role

# --- plain() ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Inner:
    when: dt.date
    status: CustomerStatus


@dataclass(frozen=True)
class _Outer:
    name: str
    arr: Decimal
    inner: _Inner
    tags: tuple[str, ...]


def test_plain_converts_to_json_types():
    value = _Outer(
        name="Acme",
        arr=Decimal("1234.50"),
        inner=_Inner(when=dt.date(2025, 1, 2), status=CustomerStatus.CHURNED),
        tags=("a", "b"),
    )
    assert plain(value) == {
        "name": "Acme",
        "arr": 1234.5,
        "inner": {"when": "2025-01-02", "status": "churned"},
        "tags": ["a", "b"],
    }
    assert plain(dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)) == "2025-01-02T03:04:05+00:00"
    assert plain({1: Role.ADMIN, "x": None}) == {"1": "admin", "x": None}
    assert plain(Path("/tmp/x")) == "/tmp/x"
    for scalar in (None, True, 3, 2.5, "s"):
        assert plain(scalar) == scalar
    assert plain(True) is True
    # The result is something json.dumps accepts as is.
    json.dumps(plain(value))


# --- cell() -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (HealthStatus.AT_RISK, "at_risk"),
        (True, "yes"),
        (False, "no"),
        (dt.datetime(2025, 3, 4, 5, 6, 7, tzinfo=dt.UTC), "2025-03-04 05:06"),
        (dt.date(2025, 3, 4), "2025-03-04"),
        (Decimal("1234567.5"), "1,234,567.50"),
        (0.25, "0.25"),
        (42, "42"),
        ({"b": [1, 2], "a": None}, '{"b":[1,2],"a":null}'),
        ("text", "text"),
    ],
)
def test_cell(value, text):
    assert cell(value) == text


# --- emit_rows / emit_object ------------------------------------------------------------------------

ROWS = [
    {
        "name": "Acme, Inc.",
        "arr": Decimal("1000.50"),
        "renewal": dt.date(2025, 6, 1),
        "active": True,
        "score": None,
    },
    {"name": 'Quote "Co"', "arr": None, "renewal": None, "active": False, "score": 71},
]
COLUMNS = ["name", "arr", "renewal", "active", "score"]


def test_emit_rows_json(capsys):
    count = emit_rows(iter(ROWS), COLUMNS, OutputFormat.JSON)
    out, err = capsys.readouterr()
    assert count == 2
    assert err == ""
    assert json.loads(out) == [
        {"name": "Acme, Inc.", "arr": 1000.5, "renewal": "2025-06-01", "active": True, "score": None},
        {"name": 'Quote "Co"', "arr": None, "renewal": None, "active": False, "score": 71},
    ]


def test_emit_rows_json_empty(capsys):
    assert emit_rows(iter([]), COLUMNS, OutputFormat.JSON) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_emit_rows_csv(capsys):
    count = emit_rows(ROWS, COLUMNS, OutputFormat.CSV)
    out, err = capsys.readouterr()
    assert count == 2
    assert err == ""
    assert out.splitlines()[0] == "name,arr,renewal,active,score"
    assert list(csv.reader(io.StringIO(out))) == [
        COLUMNS,
        ["Acme, Inc.", "1000.50", "2025-06-01", "true", ""],
        ['Quote "Co"', "", "", "false", "71"],
    ]


def test_emit_rows_csv_keeps_full_precision(capsys):
    # CSV is for scripts: numbers must survive a round trip, not be shortened for display.
    emit_rows(
        [
            {
                "quantity": 1234567.5,
                "ratio": 0.123456789,
                "when": dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            }
        ],
        ["quantity", "ratio", "when"],
        OutputFormat.CSV,
    )
    [_, row] = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert float(row[0]) == 1234567.5
    assert float(row[1]) == 0.123456789
    assert dt.datetime.fromisoformat(row[2]) == dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def test_emit_rows_table(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    count = emit_rows(ROWS, COLUMNS, OutputFormat.TABLE, headers={"arr": "ARR"})
    out, err = capsys.readouterr()
    assert count == 2
    assert err == ""
    assert "ARR" in out
    assert "Acme, Inc." in out and "1,000.50" in out and "yes" in out and "2025-06-01" in out


def test_emit_object(capsys):
    emit_object({"id": 7, "arr": Decimal("10.00"), "tags": ["x"]}, OutputFormat.JSON)
    assert json.loads(capsys.readouterr().out) == {"id": 7, "arr": 10.0, "tags": ["x"]}
    emit_object({"id": 7, "arr": Decimal("10.00")}, OutputFormat.CSV)
    assert capsys.readouterr().out.splitlines() == ["field,value", "id,7", "arr,10.00"]


def test_dataclass_rows():
    rows = list(dataclass_rows([_Inner(when=dt.date(2025, 1, 1), status=CustomerStatus.ACTIVE)]))
    assert rows == [{"when": dt.date(2025, 1, 1), "status": CustomerStatus.ACTIVE}]


# --- errors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "line", "column", "message"),
    [
        ("playbooks/renewal.yaml", 12, 5, "playbooks/renewal.yaml:12:5: unknown key 'stpes'"),
        ("data.csv", 3, "arr", "data.csv:3:arr: unknown key 'stpes'"),
        ("data.csv", 3, None, "data.csv:3: unknown key 'stpes'"),
        ("data.csv", None, None, "data.csv: unknown key 'stpes'"),
        # A column without a line cannot be placed; it is left out.
        ("data.csv", None, 4, "data.csv: unknown key 'stpes'"),
    ],
)
def test_file_error_message(path, line, column, message):
    err = errors.FileError(path, line, column, "unknown key 'stpes'", hint="did you mean 'steps'?")
    assert err.message == message
    assert str(err) == message
    assert (err.path, err.line, err.column, err.reason) == (path, line, column, "unknown key 'stpes'")
    assert err.hint == "did you mean 'steps'?"
    assert err.exit_code == 2
    assert isinstance(err, errors.BadInput)


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (errors.CsError, 1),
        (errors.DatabaseUnavailable, 1),
        (errors.SchemaOutOfDate, 1),
        (errors.BadInput, 2),
        (errors.ConfigError, 2),
        (errors.NotPermitted, 3),
        (errors.NotFound, 4),
    ],
)
def test_exit_codes_and_default_messages(cls, code):
    assert cls.exit_code == code
    err = cls()
    assert err.exit_code == code
    assert err.message == cls.default_message
    assert err.message.strip()
    assert err.hint is None
    assert isinstance(err, errors.CsError)
    custom = cls("something specific", hint="try this")
    assert (custom.message, custom.hint) == ("something specific", "try this")


def test_default_messages_differ():
    classes = [
        errors.CsError,
        errors.BadInput,
        errors.NotPermitted,
        errors.NotFound,
        errors.ConfigError,
        errors.DatabaseUnavailable,
        errors.SchemaOutOfDate,
    ]
    assert len({c.default_message for c in classes}) == len(classes)
