"""Hostile import files through `cs import`: non-finite numbers, dates out
of range, integers too big for their column, NUL bytes, broken gzip, deep
or huge JSON lines. Each is one line naming file:line:column, exit code 2,
and nothing written (on both dialects)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from cs_cli.db.models import Contact, Customer, DomainEvent, ImportRun, Touchpoint, UsageEvent

RANGE = "is outside the dates cs accepts (1900-01-01 to 2200-12-31)"


def one_error(result) -> str:
    assert result.exit_code == 2, result
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0].removeprefix("error: ")


def nothing_written(engine, *models) -> None:
    with engine.connect() as conn:
        for model in (*models, DomainEvent, ImportRun):
            assert conn.execute(sa.select(sa.func.count()).select_from(model)).scalar_one() == 0, model


@pytest.fixture
def customer(engine, admin):
    with engine.begin() as conn:
        conn.execute(sa.insert(Customer).values(external_id="C1", name="Acme"))


@pytest.mark.parametrize("cell", ["1e999", "-1E400", "inf", "NaN", "-Infinity", "1.5e999"])
def test_a_non_finite_attribute_in_csv_is_refused(run_cli, engine, admin, tmp_path, cell):
    path = tmp_path / "accounts.csv"
    path.write_text(f"external_id,name,score\nC1,Acme,1\nC2,Beta,{cell}\n")
    message = one_error(run_cli("import", "customers", path))
    assert message == f"{path}:3:3: score: {cell!r} is not a finite number"
    nothing_written(engine, Customer)


@pytest.mark.parametrize(
    ("value", "where", "reason"),
    [
        ("1e999", "score", "inf is not a finite number"),
        ("NaN", "score", "nan is not a finite number"),
        ("-Infinity", "score", "-inf is not a finite number"),
        ('{"a": [1, Infinity]}', "score", "a.1: inf is not a finite number"),
        ('"x\\u0000y"', "score", "text cannot contain a NUL character"),
        ('{"k": "x\\u0000"}', "score", "k: text cannot contain a NUL character"),
        ('"\\ud800"', "score", "text is not valid Unicode (a lone surrogate)"),
        ("9" * 30, "score", f"{'9' * 30} is out of range (at most 9,223,372,036,854,775,807 either way)"),
        ("[" * 40 + "]" * 40, "score", "nested deeper than 32 levels"),
    ],
)
def test_a_jsonl_attribute_no_database_keeps_is_refused(
    run_cli, engine, admin, tmp_path, value, where, reason
):
    path = tmp_path / "accounts.jsonl"
    # The first line's keys are the columns, so score is on it too.
    path.write_text(f'{{"external_id": "C1", "score": 1}}\n{{"external_id": "C2", "score": {value}}}\n')
    assert one_error(run_cli("import", "customers", path)) == f"{path}:2:{where}: score: {reason}"
    nothing_written(engine, Customer)


def test_numbers_in_range_and_long_codes_still_import(run_cli, engine, admin, tmp_path):
    path = tmp_path / "accounts.csv"
    code = "12345678901234567890123"  # more than 64 bits: kept as the text it is
    path.write_text(f"external_id,big,small,code\nC1,1.5e300,-2.5e-300,{code}\n")
    assert run_cli("import", "customers", path).exit_code == 0
    with engine.connect() as conn:
        attributes = conn.execute(sa.select(Customer.attributes)).scalar_one()
    # PostgreSQL's jsonb writes 1.5e300 out in digits: the same number.
    assert float(attributes["big"]) == 1.5e300
    assert attributes["small"] == -2.5e-300 and attributes["code"] == code


@pytest.mark.parametrize(
    ("header", "row", "where", "reason"),
    [
        ("seats", "2147483648", 2, "seats: 2147483648 is more than 2147483647"),
        ("seats", "99999999999999999999999", 2, "seats: 99999999999999999999999 is more than 2147483647"),
        ("seats", "1e999", 2, "seats: '1e999' is not a whole number"),
        ("name", "a\x00b", 2, "name: text cannot contain a NUL character"),
        ("renewal_date", "9999-12-31", 2, f"renewal_date: '9999-12-31' {RANGE}"),
        ("renewal_date", "1899-12-31", 2, f"renewal_date: '1899-12-31' {RANGE}"),
        ("churned_at", "0001-01-01T00:30:00+05:00", 2, f"churned_at: '0001-01-01T00:30:00+05:00' {RANGE}"),
        ("churned_at", "9999-12-31T23:30-05:00", 2, f"churned_at: '9999-12-31T23:30-05:00' {RANGE}"),
        ("tier", "gold\x00", 2, "tier: text cannot contain a NUL character"),
    ],
)
def test_bad_customer_values_name_line_and_column(
    run_cli, engine, admin, tmp_path, header, row, where, reason
):
    path = tmp_path / "accounts.csv"
    path.write_text(f"external_id,{header}\nC1,{row}\n")
    assert one_error(run_cli("import", "customers", path)) == f"{path}:2:{where}: {reason}"
    nothing_written(engine, Customer)


def test_a_nul_in_the_header_is_refused(run_cli, engine, admin, tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text("external_id,ti\x00er\nC1,gold\n")
    assert one_error(run_cli("import", "customers", path)) == (
        f"{path}:1:2: column name: text cannot contain a NUL character"
    )
    nothing_written(engine, Customer)


def test_a_big_integer_in_jsonl_is_refused_for_its_column(run_cli, engine, customer, tmp_path):
    path = tmp_path / "touchpoints.jsonl"
    row = {
        "external_id": "T1",
        "customer_id": "C1",
        "type": "call",
        "occurred_at": "2026-01-01T10:00:00Z",
        "duration_minutes": 2**40,
    }
    path.write_text(json.dumps(row) + "\n")
    assert one_error(run_cli("import", "touchpoints", path)) == (
        f"{path}:1:duration_minutes: duration_minutes: {2**40} is more than 2147483647"
    )
    nothing_written(engine, Touchpoint)


@pytest.mark.parametrize(
    ("at", "reason"),
    [
        ("9999-12-31T23:30-05:00", f"occurred_at: '9999-12-31T23:30-05:00' {RANGE}"),
        ("9999-12-31T23:30:00Z", f"occurred_at: '9999-12-31T23:30:00Z' {RANGE}"),
        ("2201-01-01T00:00:00Z", f"occurred_at: '2201-01-01T00:00:00Z' {RANGE}"),
        ("0001-01-01T00:30+05:00", f"occurred_at: '0001-01-01T00:30+05:00' {RANGE}"),
        ("1899-12-31 23:00:00", f"occurred_at: '1899-12-31 23:00:00' {RANGE}"),
    ],
)
def test_event_times_out_of_range_are_refused_on_either_path(run_cli, engine, customer, tmp_path, at, reason):
    path = tmp_path / "events.csv"
    path.write_text(f"customer_id,event_name,occurred_at\nC1,login,2026-01-01T10:00:00Z\nC1,login,{at}\n")
    assert one_error(run_cli("import", "events", path)) == f"{path}:3:3: {reason}"
    nothing_written(engine, UsageEvent)


def test_event_times_at_the_ends_of_the_range_import(run_cli, engine, customer, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(
        "customer_id,event_name,occurred_at\nC1,a,1900-01-01T00:00:00Z\nC1,b,2200-12-31T23:59:59Z\n"
        "C1,c,2200-12-31T23:30-05:00\n"
    )
    result = run_cli("import", "events", path)
    assert result.exit_code == 2  # the last one is 2201-01-01 in UTC
    assert one_error(result) == f"{path}:4:3: occurred_at: '2200-12-31T23:30-05:00' {RANGE}"
    path.write_text(path.read_text().rsplit("C1,c", 1)[0])
    assert run_cli("import", "events", path).exit_code == 0
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(UsageEvent)).scalar_one() == 2


@pytest.mark.parametrize("where", ["customer", "contact", "name"])
def test_a_nul_in_an_event_is_refused_not_sent_to_the_database(run_cli, engine, customer, tmp_path, where):
    values = {"customer": "C1", "contact": "", "name": "login"}
    values[where] = "x\x00y"
    column = {"customer": 1, "contact": 2, "name": 3}[where]
    field = {"customer": "customer_id", "contact": "contact_id", "name": "event_name"}[where]
    path = tmp_path / "events.csv"
    path.write_text(
        "customer_id,contact_id,event_name,occurred_at\n"
        f"{values['customer']},{values['contact']},{values['name']},2026-01-01T10:00:00Z\n"
    )
    assert one_error(run_cli("import", "events", path)) == (
        f"{path}:2:{column}: {field}: text cannot contain a NUL character"
    )
    nothing_written(engine, UsageEvent)


def test_a_nul_in_a_contact_or_its_customer_reference_is_refused(run_cli, engine, customer, tmp_path):
    path = tmp_path / "contacts.jsonl"
    path.write_text('{"external_id": "P1", "customer_id": "C\\u00001", "name": "Ann"}\n')
    assert one_error(run_cli("import", "contacts", path)) == (
        f"{path}:1:customer_id: customer_id: text cannot contain a NUL character"
    )
    nothing_written(engine, Contact)


def _gz(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_truncated_or_false_gzip_file_is_exit_2(run_cli, engine, admin, tmp_path):
    whole = gzip.compress(b"external_id,name\n" + b"".join(b"C%d,Acme\n" % i for i in range(5000)))
    truncated = _gz(tmp_path, "cut.csv.gz", whole[: len(whole) // 2])
    assert one_error(run_cli("import", "customers", truncated)) == (
        f"{truncated}: the gzip file is cut short (the compressed data ends early)"
    )
    false = _gz(tmp_path, "plain.csv.gz", b"external_id,name\nC1,Acme\n")
    assert one_error(run_cli("import", "customers", false)) == f"{false}: not a gzip file"
    corrupt = _gz(tmp_path, "corrupt.csv.gz", whole[:20] + bytes(200) + whole[220:])
    assert one_error(run_cli("import", "customers", corrupt)).startswith(
        f"{corrupt}: not a valid gzip file ("
    )
    nothing_written(engine, Customer)


def test_deep_or_huge_jsonl_lines_are_refused_at_their_line(run_cli, engine, admin, tmp_path):
    deep = tmp_path / "deep.jsonl"
    deep.write_text(
        '{"external_id": "C1"}\n' + '{"external_id": "C2", "x": ' + "[" * 5000 + "]" * 5000 + "}\n"
    )
    assert one_error(run_cli("import", "customers", deep)) == f"{deep}:2: nested deeper than 32 levels"
    digits = tmp_path / "digits.jsonl"
    digits.write_text('{"external_id": "C1", "x": ' + "9" * 5000 + "}\n")
    assert one_error(run_cli("import", "customers", digits)).startswith(
        f"{digits}:1: invalid JSON: a number of more than 4300 digits"
    )
    huge = tmp_path / "huge.jsonl"
    huge.write_text('{"external_id": "C1"}\n{"external_id": "C2", "x": "' + "a" * 1_100_000 + '"}\n')
    assert one_error(run_cli("import", "customers", huge)) == (
        f"{huge}:2: a line longer than 1,048,576 characters"
    )
    nothing_written(engine, Customer)


def test_a_jsonl_key_first_seen_after_the_first_record_is_refused_not_dropped(
    run_cli, engine, admin, tmp_path
):
    late = tmp_path / "late.jsonl"
    late.write_text(
        '{"external_id": "C1", "name": "One"}\n'
        '{"external_id": "C2"}\n'  # fewer keys: fine (no value)
        '{"external_id": "C3", "name": "Three", "arr": 5000}\n'
    )
    result = run_cli("import", "customers", late)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: {late}:3: key 'arr' is not in the first record, whose keys name the columns",
        "hint: give every key in the first record (null where it has no value)",
    ]
    nothing_written(engine, Customer)


def test_a_jsonl_event_whose_reference_is_an_object_is_refused(run_cli, engine, customer, tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text(
        '{"customer_id": "C1", "event_name": "a", "occurred_at": "2026-01-01T10:00:00Z"}\n'
        '{"customer_id": {}, "event_name": "a", "occurred_at": "2026-01-01T10:00:00Z"}\n'
    )
    assert one_error(run_cli("import", "events", path)) == (
        f"{path}:2:customer_id: customer_id: expected text, not a JSON object or list"
    )
    nothing_written(engine, UsageEvent)


def test_a_line_break_in_a_column_name_stays_on_one_line(run_cli, engine, admin, tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text('external_id,"a\rb","a\rb"\nC1,1,2\n')
    assert one_error(run_cli("import", "customers", path)) == (
        f"{path}:1:3: column 'a\\rb' appears twice (also column 2)"
    )
    nothing_written(engine, Customer)


@pytest.mark.parametrize(
    ("contact", "reason"),
    [
        ("[]", "contact_id: expected text, not a JSON object or list"),
        ('"\\u0000"', "contact_id: text cannot contain a NUL character"),
    ],
    ids=["list", "nul"],
)
def test_a_jsonl_event_with_a_bad_contact_on_the_deferred_path(
    run_cli, engine, customer, tmp_path, contact, reason
):
    # Found by the long fuzz run: a line whose values all fail to parse is
    # resolved with the deferred rows, where a list broke the reference set
    # and a NUL reached PostgreSQL's lookup.
    path = tmp_path / "events.jsonl"
    path.write_text(
        f'{{"customer_id": "1e999", "quantity": "1e999", "occurred_at": "1e999", "event_name": "x", '
        f'"contact_id": {contact}}}\n'
    )
    result = run_cli("import", "events", path)
    assert result.exit_code == 2, result
    assert "\n" not in result.stderr.strip()
    assert result.stderr.startswith(f"error: {path}:1:")
    nothing_written(engine, UsageEvent)
