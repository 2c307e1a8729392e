"""`cs customers list` and `cs customers show` over a small book of business."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import Customer

AS_OF = "2025-01-15"
ALL = {"E-1", "E-2", "E-3", "M-1", "W-1", "W-2", "U-1"}
# For tests that never reach the rows (option parsing), one dialect is enough.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
COLUMNS = "external_id,name,arr,plan,seats,status,renewal_date,csm_email,health_score,health_status"


def _ids(result) -> list[str]:
    assert result.exit_code == 0, result
    return [row["external_id"] for row in json.loads(result.stdout)]


def _list(run_cli, *args: str, user: str = "admin") -> list[str]:
    return _ids(run_cli("customers", "list", "--format", "json", "--all", "--as-of", AS_OF, *args, user=user))


# --- scope ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("ana", {"E-1", "E-2", "E-3"}),
        ("bo@example.com", {"W-1", "W-2"}),
        ("mia", {"E-1", "E-2", "E-3", "M-1"}),
        ("admin", ALL),
    ],
)
def test_list_shows_what_the_user_may_see(run_cli, book, user, expected):
    ids = _list(run_cli, user=user)
    assert set(ids) == expected
    assert len(ids) == len(expected)


# --- filters ----------------------------------------------------------------------------------------


def test_filter_by_csm_and_status(run_cli, book):
    assert _list(run_cli, "--csm", "ana@example.com") == ["E-1", "E-2", "E-3"]
    assert _list(run_cli, "--csm", "BO@example.com") == ["W-1", "W-2"]
    assert _list(run_cli, "--csm", "mia") == ["M-1"]
    assert _list(run_cli, "--csm", "nobody@example.com") == []
    assert _list(run_cli, "--status", "churned") == ["E-2"]
    assert set(_list(run_cli, "--status", "active")) == ALL - {"E-2"}
    assert run_cli("customers", "list", "--status", "dormant").exit_code == 2


def test_filter_by_renewal_within_is_relative_to_as_of(run_cli, book):
    # From 2025-01-15: M-1 renews on the 20th, W-1 on the 25th, E-1 on 1 February.
    assert _list(run_cli, "--renewal-within", "10", "--sort", "renewal") == ["M-1", "W-1"]
    assert _list(run_cli, "--renewal-within", "9", "--sort", "renewal") == ["M-1"]
    assert _list(run_cli, "--renewal-within", "17", "--sort", "renewal") == ["M-1", "W-1", "E-1"]
    # The same window from a later date: renewals already past drop out.
    ids = _ids(
        run_cli(
            "customers",
            "list",
            "-f",
            "json",
            "--renewal-within",
            "10",
            "--as-of",
            "2025-01-22",
            "--sort",
            "renewal",
        )
    )
    assert ids == ["W-1", "E-1"]


def test_filter_by_arr_bounds_are_inclusive(run_cli, book):
    assert _list(run_cli, "--min-arr", "50000", "--max-arr", "120000", "--sort", "arr") == [
        "W-1",
        "M-1",
        "E-1",
    ]
    assert _list(run_cli, "--min-arr", "300000", "--sort", "arr") == ["E-3", "W-2"]
    assert _list(run_cli, "--max-arr", "30000") == ["E-2"]


@SQLITE_ONLY
def test_arr_that_is_not_a_number_is_a_usage_error(run_cli):
    result = run_cli("customers", "list", "--min-arr", "lots")
    assert result.exit_code == 2, result
    assert "lots" in result.stderr
    assert "unexpected" not in result.stderr


def test_search_name_or_external_id_case_insensitive(run_cli, book):
    assert _list(run_cli, "--search", "DYNAM") == ["W-1"]
    assert _list(run_cli, "-s", "w-2") == ["W-2"]
    assert _list(run_cli, "--search", "an") == ["E-1", "E-2", "U-1"]  # Alpha ANalytics, Beta BANk, OrphAN Org


def test_filters_combine(run_cli, book):
    assert _list(run_cli, "--csm", "ana", "--status", "active", "--min-arr", "200000") == ["E-3"]
    assert _list(run_cli, "--status", "active", "--renewal-within", "30", user="bo") == ["W-1"]


def test_search_treats_like_wildcards_literally(run_cli, book, engine):
    with transaction(engine) as sess:
        sess.add_all(
            [
                Customer(external_id="P-1", name="100% Uptime"),
                Customer(external_id="P-2", name="1000 Lakes"),
                Customer(external_id="P-3", name="Foo_Bar"),
                Customer(external_id="P-4", name="FooXBar"),
            ]
        )
    assert _list(run_cli, "--search", "100%") == ["P-1"]
    assert _list(run_cli, "--search", "o_b") == ["P-3"]


def test_search_is_case_insensitive_beyond_ascii(run_cli, book, engine):
    with transaction(engine) as sess:
        sess.add(Customer(external_id="X-1", name="École Numérique"))
    # Postgres and SQLite must agree.
    assert _list(run_cli, "--search", "école") == ["X-1"]
    assert _list(run_cli, "--search", "ÉCOLE") == ["X-1"]


# --- sorting and paging -----------------------------------------------------------------------------


def test_sort_by_arr_descending_with_unknown_arr_last(run_cli, book):
    assert _list(run_cli, "--sort", "-arr") == ["W-2", "E-3", "E-1", "M-1", "W-1", "E-2", "U-1"]
    assert _list(run_cli, "--sort", "arr") == ["E-2", "W-1", "M-1", "E-1", "E-3", "W-2", "U-1"]


def test_sort_by_health_and_default_by_name(run_cli, book):
    assert _list(run_cli, "--sort", "health")[:3] == ["W-1", "M-1", "E-1"]
    assert _list(run_cli) == ["E-1", "E-2", "W-1", "W-2", "E-3", "M-1", "U-1"]


@SQLITE_ONLY
def test_sort_by_unknown_key_is_bad_input(run_cli, admin):
    result = run_cli("customers", "list", "--sort", "-mood")
    assert result.exit_code == 2, result
    assert "cannot sort by 'mood'" in result.stderr
    assert "arr" in result.stderr


def test_paging_with_next_page_hint(run_cli, book):
    result = run_cli("customers", "list", "--limit", "2", "--sort", "-arr")
    assert result.exit_code == 0, result
    assert "1-2 of 7 customers" in result.stderr
    assert "next page: --offset 2" in result.stderr
    assert "Epsilon Energy" in result.stdout and "Gamma Goods" in result.stdout
    assert "Alpha Analytics" not in result.stdout
    # The hint is a message, never data.
    assert "next page" not in result.stdout

    result = run_cli("customers", "list", "--limit", "2", "--offset", "2", "--sort", "-arr")
    assert "3-4 of 7 customers" in result.stderr
    assert "next page: --offset 4" in result.stderr
    assert "Alpha Analytics" in result.stdout and "Mia Media" in result.stdout

    result = run_cli("customers", "list", "--limit", "2", "--offset", "6", "--sort", "-arr")
    assert result.exit_code == 0, result
    assert "next page" not in result.stderr
    assert "7 customers" in result.stderr
    assert "Orphan Org" in result.stdout

    ids = _ids(run_cli("customers", "list", "-f", "json", "-n", "3", "--offset", "1", "--sort", "-arr"))
    assert ids == ["E-3", "E-1", "M-1"]


@SQLITE_ONLY
def test_limit_must_be_positive(run_cli):
    assert run_cli("customers", "list", "--limit", "0").exit_code == 2
    assert run_cli("customers", "list", "--offset", "-1").exit_code == 2


# --- formats ----------------------------------------------------------------------------------------


def test_csv_header_and_rows(run_cli, book):
    result = run_cli("customers", "list", "--format", "csv", "--sort", "external_id", user="ana")
    assert result.exit_code == 0, result
    lines = result.stdout.splitlines()
    assert lines[0] == COLUMNS
    assert lines[1:] == [
        "E-1,Alpha Analytics,120000.00,enterprise,250,active,2025-02-01,ana@example.com,82,healthy",
        "E-2,Beta Bank,30000.00,pro,20,churned,2024-12-01,ana@example.com,,",
        "E-3,Gamma Goods,300000.00,enterprise,900,active,2025-08-01,ana@example.com,,",
    ]
    assert result.stderr == ""


def test_csv_of_an_empty_listing_is_just_the_header(run_cli, book):
    result = run_cli("customers", "list", "--format", "csv", "--search", "zzz")
    assert result.exit_code == 0, result
    assert result.stdout == COLUMNS + "\n"


def test_json_rows_have_typed_values(run_cli, book):
    result = run_cli("customers", "list", "--format", "json", "--search", "alpha")
    assert result.exit_code == 0, result
    [row] = json.loads(result.stdout)
    assert row == {
        "id": row["id"],
        "external_id": "E-1",
        "name": "Alpha Analytics",
        "arr": 120000.0,
        "plan": "enterprise",
        "seats": 250,
        "status": "active",
        "renewal_date": "2025-02-01",
        "csm_email": "ana@example.com",
        "health_score": 82,
        "health_status": "healthy",
    }
    assert isinstance(row["id"], int)


def test_table_lists_names(run_cli, book):
    result = run_cli("customers", "list", user="bo")
    assert result.exit_code == 0, result
    assert "Delta Dynamics" in result.stdout and "Epsilon Energy" in result.stdout
    assert "Alpha Analytics" not in result.stdout
    assert "2 customers" in result.stderr


# --- show -------------------------------------------------------------------------------------------


def test_show_table(run_cli, book):
    result = run_cli("customers", "show", "E-1")
    assert result.exit_code == 0, result
    out = result.stdout
    for text in (
        "Alpha Analytics",
        "E-1",
        "120,000.00",
        "ana@example.com",
        "82 (healthy)",
        "Software",
        "EMEA",
        # contacts
        "Carla Champion",
        "carla@alpha.example",
        "champion",
        "Ed Sponsor",
        "exec sponsor",
        # attributes
        "tier",
        "gold",
        '["slack","jira"]',
    ):
        assert text in out, text
    assert "no contacts" not in out


def test_show_customer_without_health_or_contacts(run_cli, book):
    result = run_cli("customers", "show", "W-2", user="bo")
    assert result.exit_code == 0, result
    assert "Epsilon Energy" in result.stdout
    assert "not scored" in result.stdout
    assert "no contacts" in result.stdout


def test_show_json(run_cli, book):
    result = run_cli("customers", "show", "E-1", "--format", "json")
    assert result.exit_code == 0, result
    detail = json.loads(result.stdout)
    assert set(detail) == {
        "customer",
        "industry",
        "region",
        "contract_start",
        "churned_at",
        "attributes",
        "created_at",
        "contacts",
        "counts",
        "last_event_at",
        "open_tasks",
        "latest_nps",
    }
    assert detail["customer"]["external_id"] == "E-1"
    assert detail["customer"]["health_score"] == 82
    assert detail["attributes"] == {"tier": "gold", "sso": True, "integrations": ["slack", "jira"]}
    # Executive sponsors first, then champions.
    assert [c["name"] for c in detail["contacts"]] == ["Ed Sponsor", "Carla Champion"]
    assert detail["contacts"][1]["is_champion"] is True
    assert detail["counts"]["nps_responses"] == 1
    assert detail["counts"]["tickets"] == 0
    assert detail["latest_nps"] == 9
    assert detail["open_tasks"] == 0
    assert detail["industry"] == "Software"
    assert dt.datetime.fromisoformat(detail["created_at"]).utcoffset() == dt.timedelta(0)


def test_show_csv_is_field_value_pairs(run_cli, book):
    result = run_cli("customers", "show", "E-2", "--format", "csv")
    assert result.exit_code == 0, result
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["field", "value"]
    fields = dict(rows[1:])
    assert fields["external_id"] == "E-2"
    assert fields["status"] == "churned"
    assert fields["churned_at"] == "2024-12-02T09:00:00+00:00"


def test_show_by_numeric_id(run_cli, book, engine):
    with engine.connect() as conn:
        w1 = conn.scalar(sa.select(Customer.id).where(Customer.external_id == "W-1"))
    result = run_cli("customers", "show", str(w1), "--format", "json", user="bo")
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["customer"]["name"] == "Delta Dynamics"


def test_show_unknown_customer(run_cli, book):
    result = run_cli("customers", "show", "X")
    assert result.exit_code == 4, result
    assert "no customer 'X'" in result.stderr
    assert result.stdout == ""


def test_csm_cannot_show_another_csms_customer(run_cli, book):
    result = run_cli("customers", "show", "W-1", user="ana")
    assert result.exit_code == 4, result
    assert "no customer 'W-1'" in result.stderr
    assert "Delta Dynamics" not in result.stdout + result.stderr
    # ... but the manager of ana's team sees ana's customers.
    assert run_cli("customers", "show", "E-3", user="mia").exit_code == 0
    assert run_cli("customers", "show", "W-1", user="mia").exit_code == 4
