"""`cs import` and `cs export` as a user runs them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from cs_cli.db.models import Customer, UsageEvent

FIXTURES = Path(__file__).parent.parent / "fixtures"


def customers_in(engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(sa.select(Customer.external_id)).scalars())


def test_import_with_map_then_reimport_reports_unchanged(run_cli, engine, admin):
    args = ["import", "customers", FIXTURES / "telco_customers.csv", "--map", FIXTURES / "telco_map.yaml"]
    first = run_cli(*args)
    assert first.exit_code == 0, first
    assert "5 rows read; 5 created, 0 updated, 0 unchanged" in first.stderr
    assert first.stdout == ""
    again = run_cli(*args)
    assert "5 rows read; 0 created, 0 updated, 5 unchanged" in again.stderr
    listed = run_cli("customers", "list", "--format", "json", "--sort", "external_id")
    rows = json.loads(listed.stdout)
    assert [r["external_id"] for r in rows][:2] == ["3668-QPYBK", "5575-GNVDE"]
    assert {r["status"] for r in rows} == {"active", "churned"}
    shown = json.loads(run_cli("customers", "show", "7590-VHVEG", "--format", "json").stdout)
    assert shown["attributes"]["contract_type"] == "Month-to-month"
    assert shown["attributes"]["MonthlyCharges"] == 29.85
    assert shown["attributes"]["tenure"] == 1


def test_a_bad_file_is_rejected_whole_with_exit_2(run_cli, engine, admin, tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text("external_id,name,arr\nC1,Acme,100\nC2,Beta,lots\n")
    result = run_cli("import", "customers", path)
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}:3:3: arr: 'lots' is not an amount\n"
    assert customers_in(engine) == []


def test_skip_invalid_writes_a_rejects_file(run_cli, engine, admin, tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text("external_id,name,arr\nC1,Acme,100\nC2,Beta,lots\nC3,Gamma,300\n")
    result = run_cli("import", "customers", path, "--skip-invalid")
    assert result.exit_code == 0, result
    rejects = tmp_path / "accounts.csv.rejects.csv"
    assert f"1 rejected (see {rejects})" in result.stderr
    assert customers_in(engine) == ["C1", "C3"]
    rows = list(csv.DictReader(rejects.open()))
    assert rows == [
        {
            "line": "3",
            "column": "arr",
            "reason": "arr: 'lots' is not an amount",
            "record": '{"external_id": "C2", "name": "Beta", "arr": "lots"}',
        }
    ]


def test_skip_invalid_with_every_row_rejected_fails_and_writes_nothing(run_cli, engine, admin, tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text("external_id,name,arr\nC1,Acme,lots\nC2,Beta,many\n")
    result = run_cli("import", "customers", path, "--skip-invalid")
    assert result.exit_code == 2, result
    rejects = tmp_path / "accounts.csv.rejects.csv"
    assert result.stderr == (
        f"error: {path}: all 2 rows were rejected, nothing written (reasons in {rejects})\n"
    )
    assert [r["line"] for r in csv.DictReader(rejects.open())] == ["2", "3"]
    assert customers_in(engine) == []
    from cs_cli.db.models import ImportRun

    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(ImportRun)).scalar_one() == 0
    # A header alone is not a failure: there was nothing to write.
    empty = tmp_path / "empty.csv"
    empty.write_text("external_id,name\n")
    assert run_cli("import", "customers", empty, "--skip-invalid").exit_code == 0


def test_usage_errors_exit_2(run_cli, admin, tmp_path):
    missing = run_cli("import", "customers", tmp_path / "nope.csv")
    assert missing.exit_code == 2 and "nope.csv: no such file" in missing.stderr
    unknown_entity = run_cli("import", "widgets", tmp_path / "x.csv")
    assert unknown_entity.exit_code == 2 and "widgets" in unknown_entity.stderr
    bad_map = tmp_path / "map.yaml"
    bad_map.write_text("columns: {a: b}\nrename: {}\n")
    data = tmp_path / "c.csv"
    data.write_text("a\nC1\n")
    mapped = run_cli("import", "customers", data, "--map", bad_map)
    assert mapped.exit_code == 2
    assert mapped.stderr == f"error: {bad_map}:2: unknown key 'rename' (expected columns, values, computed)\n"


def test_a_csm_may_not_import(run_cli, session, admin, tmp_path):
    from cs_cli.db.models import User
    from cs_cli.domain import Role

    session.add(User(login="cara", name="Cara", email="cara@example.com", role=Role.CSM))
    session.commit()
    result = run_cli("import", "customers", FIXTURES / "telco_customers.csv", user="cara")
    assert result.exit_code == 3
    assert "importing needs the admin role; cara is a csm" in result.stderr


def test_events_import_is_once_per_file(run_cli, engine, admin, tmp_path):
    (tmp_path / "c.csv").write_text("external_id\nC1\n")
    (tmp_path / "e.csv").write_text("customer_id,event_name,occurred_at\nC1,login,2026-01-01T00:00:00Z\n")
    assert run_cli("import", "customers", tmp_path / "c.csv").exit_code == 0
    assert run_cli("import", "events", tmp_path / "e.csv").exit_code == 0
    again = run_cli("import", "events", tmp_path / "e.csv")
    assert again.exit_code == 0 and "already imported" in again.stderr
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(UsageEvent)).scalar_one() == 1


def test_export_round_trips_through_import(run_cli, engine, admin, tmp_path):
    run_cli("import", "customers", FIXTURES / "telco_customers.csv", "--map", FIXTURES / "telco_map.yaml")
    (tmp_path / "contacts.csv").write_text(
        "external_id,customer_id,name,is_champion\nP1,5575-GNVDE,Ann,yes\n"
    )
    run_cli("import", "contacts", tmp_path / "contacts.csv")
    exported = run_cli("export", "customers", "--format", "csv")
    assert exported.exit_code == 0, exported
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert len(rows) == 5
    assert rows[0]["external_id"] == "7590-VHVEG" and rows[0]["contract_type"] == "Month-to-month"
    out = tmp_path / "customers.csv"
    out.write_text(exported.stdout)
    back = run_cli("import", "customers", out)
    assert "5 rows read; 0 created, 0 updated, 5 unchanged" in back.stderr, back
    jsonl = run_cli("export", "contacts", "--format", "jsonl", "-o", tmp_path / "contacts.jsonl")
    assert "exported 1 contacts" in jsonl.stderr
    record = json.loads((tmp_path / "contacts.jsonl").read_text())
    assert record["customer_id"] == "5575-GNVDE" and record["is_champion"] is True
    back = run_cli("import", "contacts", tmp_path / "contacts.jsonl")
    assert "1 unchanged" in back.stderr, back


def _telco_export(path: Path, rows: int) -> None:
    """A churn-dataset style CRM export: Yes/No flags, a blank-padded number."""
    import random

    rng = random.Random(3)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["customerID", "gender", "tenure", "Contract", "MonthlyCharges", "TotalCharges", "Churn"]
        )
        for i in range(rows):
            tenure = rng.randint(0, 72)
            monthly = round(rng.uniform(18, 120), 2)
            total = " " if tenure == 0 else f"{monthly * tenure:.2f}"
            contract = rng.choice(["Month-to-month", "One year", "Two year"])
            writer.writerow(
                [
                    f"{i:04d}-TELCO",
                    rng.choice(["Female", "Male"]),
                    tenure,
                    contract,
                    monthly,
                    total,
                    rng.choice(["Yes", "No", "No", "No"]),
                ]
            )


def test_a_crm_export_of_thousands_imports_with_typed_attributes(run_cli, engine, admin, tmp_path):
    export = tmp_path / "telco.csv"
    _telco_export(export, 3000)
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        "columns: {customerID: external_id, Churn: status, Contract: contract_type,"
        " MonthlyCharges: monthly_charges, TotalCharges: total_charges}\n"
        "values: {status: {Yes: churned, No: active}}\n"
    )
    result = run_cli("import", "customers", export, "--map", mapping)
    assert result.exit_code == 0, result
    assert "3,000 rows read; 3,000 created" in result.stderr
    with engine.connect() as conn:
        rows = {
            r.external_id: r
            for r in conn.execute(sa.select(Customer.external_id, Customer.status, Customer.attributes))
        }
    assert len(rows) == 3000
    source = {r["customerID"]: r for r in csv.DictReader(export.open())}
    for external_id, row in rows.items():
        raw = source[external_id]
        assert row.status.value == ("churned" if raw["Churn"] == "Yes" else "active")
        attrs = row.attributes
        assert attrs["tenure"] == int(raw["tenure"]) and isinstance(attrs["tenure"], int)
        assert attrs["monthly_charges"] == float(raw["MonthlyCharges"])
        assert attrs["contract_type"] == raw["Contract"]
        if raw["TotalCharges"].strip():
            assert attrs["total_charges"] == float(raw["TotalCharges"])
        else:
            assert "total_charges" not in attrs
    churned = sum(1 for r in source.values() if r["Churn"] == "Yes")
    listed = run_cli("customers", "list", "--status", "churned", "--format", "csv", "--all")
    assert len(listed.stdout.strip().splitlines()) == churned + 1


ENTITY_ORDER = ["users", "customers", "contacts", "events", "touchpoints", "tickets", "invoices", "nps"]


@pytest.fixture
def second_db(db_url, tmp_path, request) -> str:
    """Another empty database of the same dialect, migrated."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'second.db'}"
    return request.getfixturevalue("empty_pg_url")


@pytest.mark.parametrize("file_format", ["csv", "jsonl"])
def test_every_entity_exports_and_imports_back_to_the_same_rows(
    run_cli, admin, second_db, tmp_path, file_format
):
    made = run_cli("demo", "--customers", "12", "--months", "3", "--as-of", "2026-06-30", "--no-score")
    assert made.exit_code == 0, made
    # A touchpoint logged here (no source system): it exports with an id of its own.
    logged = run_cli("touchpoints", "log", "C-00001", "--type", "call", "--subject", "Roadmap call")
    assert logged.exit_code == 0, logged
    other = {"CS_DATABASE_URL": second_db}
    assert run_cli("db", "upgrade", env=other).exit_code == 0

    for entity in ENTITY_ORDER:
        path = tmp_path / f"{entity}.{file_format}"
        exported = run_cli("export", entity, "--format", file_format, "-o", path)
        assert exported.exit_code == 0, exported
        assert path.stat().st_size > 100, entity
        imported = run_cli("import", entity, path, env=other)
        assert imported.exit_code == 0, (entity, imported)
        again = run_cli("export", entity, "--format", file_format, env=other)
        assert again.exit_code == 0, again
        assert again.stdout == path.read_text(), entity
        if entity != "events":
            # Keyed entities import onto themselves: nothing new the second time.
            back = run_cli("import", entity, path)
            assert back.exit_code == 0, back
            assert " 0 created, 0 updated" in back.stderr, (entity, back)


def test_a_map_computes_fields_from_other_columns(run_cli, engine, admin, tmp_path):
    data = tmp_path / "accounts.csv"
    data.write_text(
        "customerID,MonthlyCharges,Contract,Signup,Seats\n"
        "C1,29.85,Month-to-month,03/14/2025,600\n"
        "C2,,One year,01/02/2024,12\n"
    )
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        "columns:\n"
        "  customerID: external_id\n"
        "computed:\n"
        "  arr: MonthlyCharges * 12\n"
        '  name: customerID & " (" & Contract & ")"\n'
        '  contract_start: date(Signup, "%m/%d/%Y")\n'
        '  tier: \'"enterprise" if Seats >= 500 else "growth"\'\n'
    )
    result = run_cli("import", "customers", data, "--map", mapping)
    assert result.exit_code == 0, result
    rows = {r["external_id"]: r for r in json.loads(run_cli("customers", "list", "--format", "json").stdout)}
    assert rows["C1"]["arr"] == 358.2 and rows["C1"]["name"] == "C1 (Month-to-month)"
    assert rows["C2"]["arr"] is None  # an empty cell computes to nothing
    shown = json.loads(run_cli("customers", "show", "C1", "--format", "json").stdout)
    assert shown["contract_start"] == "2025-03-14" and shown["attributes"]["tier"] == "enterprise"
    assert (
        json.loads(run_cli("customers", "show", "C2", "--format", "json").stdout)["attributes"]["tier"]
        == "growth"
    )


def test_a_computed_field_never_runs_code_and_errors_name_the_map_line(run_cli, engine, admin, tmp_path):
    data = tmp_path / "accounts.csv"
    data.write_text("customerID,MonthlyCharges\nC1,12\nC2,lots\n")
    cases = {
        'arr: __import__("os").system("touch pwned")': "unknown function",
        "arr: MonthlyCharges.real * 12": "attribute access (a.b) is not allowed",
        "arr: MonthlyCharges ** 2": "** (powers) is not allowed",
        "arr: MonthlyCharge * 12": "the file accounts.csv has no column 'MonthlyCharge'",
        "arr: '(lambda: 1)()'": "unknown function",
    }
    for expression, says in cases.items():
        mapping = tmp_path / "map.yaml"
        mapping.write_text(f"columns:\n  customerID: external_id\ncomputed:\n  {expression}\n")
        result = run_cli("import", "customers", data, "--map", mapping)
        assert result.exit_code == 2, (expression, result)
        assert result.stderr.startswith(f"error: {mapping}:4"), result.stderr
        assert says in result.stderr, result.stderr
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()
    assert customers_in(engine) == []
    # A value the expression cannot use is the row's error, at its line.
    mapping.write_text("columns:\n  customerID: external_id\ncomputed:\n  arr: MonthlyCharges * 12\n")
    bad_row = run_cli("import", "customers", data, "--map", mapping)
    assert bad_row.exit_code == 2
    assert bad_row.stderr == f"error: {data}:3:2: arr (computed): MonthlyCharges: 'lots' is not a number\n"
    assert customers_in(engine) == []
