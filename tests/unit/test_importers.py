"""Importing files through the service, on SQLite and Postgres."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import (
    Contact,
    Customer,
    ImportRun,
    Invoice,
    NpsResponse,
    SupportTicket,
    Team,
    Touchpoint,
    UsageEvent,
    User,
)
from cs_cli.domain import CustomerStatus, Role, TouchpointType
from cs_cli.errors import BadInput, FileError
from cs_cli.services.importers import Reject, import_file, load_map

FIXTURES = Path(__file__).parent.parent / "fixtures"
NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def run_import(engine, actor, entity, path, **kwargs):
    with transaction(engine) as session:
        return import_file(session, actor, entity, path, now=NOW, **kwargs)


def count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def test_customers_with_map_keep_extra_columns_as_typed_attributes(engine, admin):
    mapping = load_map(FIXTURES / "telco_map.yaml")
    result = run_import(engine, admin, "customers", FIXTURES / "telco_customers.csv", mapping=mapping)
    assert (result.rows_read, result.created, result.updated) == (5, 5, 0)
    with transaction(engine) as session:
        c = session.scalar(sa.select(Customer).where(Customer.external_id == "5575-GNVDE"))
        assert c.name == "5575-GNVDE"  # name defaults to the external id
        assert c.status == CustomerStatus.ACTIVE
        assert c.renewal_date == dt.date(2027, 3, 1)
        assert c.attributes == {
            "gender": "Male",
            "SeniorCitizen": 0,
            "tenure": 34,
            "contract_type": "One year",
            "PaperlessBilling": "No",
            "MonthlyCharges": 56.95,
        }
        churned = session.scalars(
            sa.select(Customer.external_id).where(Customer.status == CustomerStatus.CHURNED)
        ).all()
        assert sorted(churned) == ["3668-QPYBK", "9237-HQITU"]


def test_reimporting_the_same_file_changes_nothing(engine, admin):
    mapping = load_map(FIXTURES / "telco_map.yaml")
    run_import(engine, admin, "customers", FIXTURES / "telco_customers.csv", mapping=mapping)
    with engine.connect() as conn:
        before = conn.execute(sa.select(Customer.external_id, Customer.updated_at, Customer.attributes)).all()
    again = run_import(engine, admin, "customers", FIXTURES / "telco_customers.csv", mapping=mapping)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    with engine.connect() as conn:
        after = conn.execute(sa.select(Customer.external_id, Customer.updated_at, Customer.attributes)).all()
    assert sorted(before) == sorted(after)


def test_changed_rows_update_and_attributes_merge(engine, admin, tmp_path):
    write(tmp_path / "a.csv", "external_id,name,arr,tier\nC1,Acme,1000,gold\nC2,Beta,2000,silver\n")
    run_import(engine, admin, "customers", tmp_path / "a.csv")
    write(tmp_path / "b.csv", "external_id,arr,region_code\nC1,1500.5,EU\nC2,2000,\n")
    result = run_import(engine, admin, "customers", tmp_path / "b.csv")
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    with transaction(engine) as session:
        c1 = session.scalar(sa.select(Customer).where(Customer.external_id == "C1"))
        assert c1.name == "Acme"  # not in the second file: untouched
        assert c1.arr == Decimal("1500.50")
        assert c1.attributes == {"tier": "gold", "region_code": "EU"}
        assert c1.updated_at == NOW


def test_a_bad_value_rejects_the_whole_file(engine, admin, tmp_path):
    lines = ["external_id,name,arr"] + [f"C{i},N{i},{i * 10}" for i in range(1, 30)] + ["C30,N30,lots"]
    path = write(tmp_path / "bad.csv", "\n".join(lines) + "\n")
    with pytest.raises(FileError) as info:
        run_import(engine, admin, "customers", path, batch_size=5)  # earlier batches were flushed
    assert str(info.value) == f"{path}:31:3: arr: 'lots' is not an amount"
    assert count(engine, Customer) == 0
    assert count(engine, ImportRun) == 0


@pytest.mark.parametrize(
    ("text", "where", "reason"),
    [
        ("name,arr\nAcme,1\n", ":1:", "missing required column 'external_id'"),
        ("external_id,renewal_date\nC1,2027-13-01\n", ":2:2:", "'2027-13-01' is not a date"),
        ("external_id,seats\nC1,12.5\n", ":2:2:", "'12.5' is not a whole number"),
        ("external_id,status\nC1,gone\n", ":2:2:", "'gone' is not one of: active, churned"),
        ("external_id,name\nC1,A\nC1,B\n", ":3:1:", "duplicate external_id 'C1' (first on line 2)"),
        ("external_id,name\nC1,A,extra\n", ":2:", "expected 2 fields as in the header, found 3"),
        ("external_id,name\n,A\n", ":2:1:", "external_id: a value is required"),
        ("external_id,csm_email\nC1,nobody@example.com\n", ":2:2:", "unknown user 'nobody@example.com'"),
        ('external_id,name\nC1,"unterminated\n', ":", "malformed CSV"),
        ("", ":1:", "the file is empty"),
    ],
)
def test_bad_csv_files_name_line_column_and_reason(engine, admin, tmp_path, text, where, reason):
    path = write(tmp_path / "customers.csv", text)
    with pytest.raises(FileError) as info:
        run_import(engine, admin, "customers", path)
    message = str(info.value)
    assert message.startswith(f"{path}{where}"), message
    assert reason in message
    assert count(engine, Customer) == 0


def test_jsonl_customers_and_json_errors(engine, admin, tmp_path):
    good = tmp_path / "c.jsonl"
    good.write_text(
        json.dumps(
            {"external_id": "J1", "name": "Jay", "arr": 1200, "seats": None, "score": 7, "tags": ["a"]}
        )
        + "\n\n"
        + json.dumps({"external_id": "J2", "seats": 10.0})
        + "\n"
    )
    result = run_import(engine, admin, "customers", good)
    assert result.created == 2
    with transaction(engine) as session:
        j1 = session.scalar(sa.select(Customer).where(Customer.external_id == "J1"))
        assert j1.arr == Decimal("1200.00")
        assert j1.attributes == {"score": 7, "tags": ["a"]}
        # A key of the first record (here with no value) is read in every record.
        assert session.scalar(sa.select(Customer.seats).where(Customer.external_id == "J2")) == 10
    bad = write(tmp_path / "bad.jsonl", '{"external_id": "J3"}\n{"external_id": "J4", oops}\n')
    with pytest.raises(FileError) as info:
        run_import(engine, admin, "customers", bad)
    assert str(info.value).startswith(f"{bad}:2:")
    assert "invalid JSON" in str(info.value)
    bad_type = write(tmp_path / "bad2.jsonl", '{"external_id": "J5", "seats": "many"}\n')
    with pytest.raises(FileError, match=r":1:seats: seats: 'many' is not a whole number"):
        run_import(engine, admin, "customers", bad_type)
    assert count(engine, Customer) == 2


def test_skip_invalid_writes_good_rows_and_reports_rejects(engine, admin, tmp_path):
    path = write(tmp_path / "c.csv", "external_id,arr\nC1,10\nC2,ten\nC3,30\nC3,31\n")
    rejects: list[Reject] = []
    result = run_import(engine, admin, "customers", path, skip_invalid=True, on_reject=rejects.append)
    assert (result.rows_read, result.created, result.rejected) == (4, 2, 2)
    assert [(r.line, r.column, r.reason) for r in rejects] == [
        (3, "arr", "arr: 'ten' is not an amount"),
        (5, "external_id", "duplicate external_id 'C3' (first on line 4)"),
    ]
    assert count(engine, Customer) == 2


def _book(engine, admin, tmp_path):
    write(tmp_path / "customers.csv", "external_id,name\nC1,Acme\nC2,Beta\n")
    write(
        tmp_path / "contacts.csv",
        "external_id,customer_id,name,email,is_champion,is_exec_sponsor,left_at\n"
        "P1,C1,Ann,ANN@acme.test,yes,no,\n"
        "P2,C1,Ben,ben@acme.test,no,true,2026-05-01T10:00:00+02:00\n"
        "P3,C2,Cy,cy@beta.test,0,0,\n",
    )
    run_import(engine, admin, "customers", tmp_path / "customers.csv")
    run_import(engine, admin, "contacts", tmp_path / "contacts.csv")


def test_contacts_resolve_customers_and_unknown_ones_fail(engine, admin, tmp_path):
    _book(engine, admin, tmp_path)
    with transaction(engine) as session:
        ben = session.scalar(sa.select(Contact).where(Contact.external_id == "P2"))
        assert ben.is_exec_sponsor and not ben.is_champion
        assert ben.left_at == dt.datetime(2026, 5, 1, 8, 0, tzinfo=dt.UTC)
        ann = session.scalar(sa.select(Contact).where(Contact.external_id == "P1"))
        assert ann.email == "ann@acme.test" and ann.is_champion
    orphan = write(tmp_path / "orphans.csv", "external_id,customer_id\nP9,C1\nP10,NOPE\n")
    with pytest.raises(FileError, match=r"orphans.csv:3:2: unknown customer 'NOPE'"):
        run_import(engine, admin, "contacts", orphan)
    assert count(engine, Contact) == 3


def test_events_append_resolve_and_normalise_time(engine, admin, tmp_path):
    _book(engine, admin, tmp_path)
    path = write(
        tmp_path / "events.csv",
        "customer_id,contact_id,event_name,occurred_at,quantity\n"
        "C1,P1,login,2026-10-01T09:00:00Z,\n"
        "C1,,report\texport,2026-10-01T10:30:00+02:00,2.5\n"
        "C2,P3,login,2026-10-02 08:00:00,3\n",
    )
    result = run_import(engine, admin, "events", path)
    assert result.created == 3
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                UsageEvent.event_name, UsageEvent.occurred_at, UsageEvent.quantity, UsageEvent.contact_id
            ).order_by(UsageEvent.occurred_at)
        ).all()
    assert [(r.event_name, r.occurred_at, r.quantity) for r in rows] == [
        ("report\texport", dt.datetime(2026, 10, 1, 8, 30, tzinfo=dt.UTC), 2.5),
        ("login", dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.UTC), 1.0),
        ("login", dt.datetime(2026, 10, 2, 8, 0, tzinfo=dt.UTC), 3.0),
    ]
    assert rows[0].contact_id is None and rows[1].contact_id is not None
    # Time-window queries compare correctly with the stored values on both dialects.
    with engine.connect() as conn:
        since = dt.datetime(2026, 10, 1, 8, 45, tzinfo=dt.UTC)
        assert (
            conn.execute(
                sa.select(sa.func.count()).select_from(UsageEvent).where(UsageEvent.occurred_at >= since)
            ).scalar_one()
            == 2
        )

    again = run_import(engine, admin, "events", path)
    assert again.already_imported_at is not None and again.created == 0
    assert count(engine, UsageEvent) == 3
    forced = run_import(engine, admin, "events", path, force=True)
    assert forced.created == 3
    assert count(engine, UsageEvent) == 6


@pytest.mark.parametrize(
    ("row", "where", "reason"),
    [
        ("C1,P1,login,yesterday,1", ":3:4:", "occurred_at: 'yesterday' is not a date-time"),
        ("C1,P1,login,2026-10-01T00:00:00Z,-1", ":3:5:", "quantity: '-1' must be zero or more"),
        ("C1,P1,login,2026-10-01T00:00:00Z,many", ":3:5:", "quantity: 'many' is not a number"),
        ("C9,P1,login,2026-10-01T00:00:00Z,1", ":3:1:", "unknown customer 'C9'"),
        ("C1,P9,login,2026-10-01T00:00:00Z,1", ":3:2:", "unknown contact 'P9'"),
        ("C1,P1,,2026-10-01T00:00:00Z,1", ":3:3:", "event_name: a value is required"),
    ],
)
def test_bad_events_reject_the_whole_file(engine, admin, tmp_path, row, where, reason):
    _book(engine, admin, tmp_path)
    path = write(
        tmp_path / "events.csv",
        "customer_id,contact_id,event_name,occurred_at,quantity\nC1,P1,login,2026-10-01T00:00:00Z,1\n"
        + row
        + "\n",
    )
    with pytest.raises(FileError) as info:
        run_import(engine, admin, "events", path)
    assert str(info.value).startswith(f"{path}{where}"), str(info.value)
    assert reason in str(info.value)
    assert count(engine, UsageEvent) == 0


def test_users_with_teams_and_managers_later_in_the_file(engine, admin, tmp_path):
    path = write(
        tmp_path / "users.csv",
        "email,name,role,team,manager_email\n"
        "ana@example.com,Ana,csm,East,bo@example.com\n"
        "bo@example.com,Bo,manager,East,\n",
    )
    result = run_import(engine, admin, "users", path)
    assert result.created == 2
    with transaction(engine) as session:
        ana = session.scalar(sa.select(User).where(User.email == "ana@example.com"))
        bo = session.scalar(sa.select(User).where(User.email == "bo@example.com"))
        team = session.scalar(sa.select(Team).where(Team.name == "East"))
        assert ana.manager_id == bo.id and ana.team_id == team.id == bo.team_id
        assert bo.role == Role.MANAGER and ana.role == Role.CSM
    assert run_import(engine, admin, "users", path).unchanged == 2
    bad = write(tmp_path / "bad.csv", "email,manager_email\ncy@example.com,ghost@example.com\n")
    with pytest.raises(FileError, match=r"bad.csv:2:2: unknown manager 'ghost@example.com'"):
        run_import(engine, admin, "users", bad)


def test_tickets_invoices_nps_and_touchpoints(engine, admin, tmp_path):
    _book(engine, admin, tmp_path)
    write(
        tmp_path / "tickets.csv",
        "external_id,customer_id,opened_at,priority,status,escalated,satisfaction,closed_at\n"
        "T1,C1,2026-09-01T10:00:00Z,urgent,open,yes,,\n"
        "T2,C2,2026-09-02T10:00:00Z,low,closed,no,4,2026-09-03T10:00:00Z\n",
    )
    write(
        tmp_path / "invoices.csv",
        "external_id,customer_id,amount,issued_on,due_on,paid_on\n"
        'I1,C1,"1,200.50",2026-08-01,2026-08-31,2026-09-15\nI2,C2,99,2026-08-01,2026-08-31,\n',
    )
    write(
        tmp_path / "nps.jsonl",
        json.dumps(
            {
                "external_id": "N1",
                "customer_id": "C1",
                "contact_id": "P1",
                "score": 9,
                "responded_at": "2026-07-01T00:00:00Z",
                "comment": "Love it",
            }
        )
        + "\n",
    )
    write(
        tmp_path / "touchpoints.csv",
        "external_id,customer_id,type,occurred_at,subject,user_email,key_topics,sentiment_score\n"
        "TP1,C1,qbr,2026-10-01T15:00:00Z,Q3 review,admin@example.com,roadmap;pricing,0.4\n",
    )
    assert run_import(engine, admin, "tickets", tmp_path / "tickets.csv").created == 2
    assert run_import(engine, admin, "invoices", tmp_path / "invoices.csv").created == 2
    assert run_import(engine, admin, "nps", tmp_path / "nps.jsonl").created == 1
    assert run_import(engine, admin, "touchpoints", tmp_path / "touchpoints.csv").created == 1
    with transaction(engine) as session:
        t1 = session.scalar(sa.select(SupportTicket).where(SupportTicket.external_id == "T1"))
        assert t1.escalated and t1.priority.value == "urgent" and t1.satisfaction is None
        i1 = session.scalar(sa.select(Invoice).where(Invoice.external_id == "I1"))
        assert i1.amount == Decimal("1200.50") and i1.paid_on == dt.date(2026, 9, 15)
        n1 = session.scalar(sa.select(NpsResponse))
        assert (n1.score, n1.comment) == (9, "Love it")
        tp = session.scalar(sa.select(Touchpoint))
        assert tp.touchpoint_type == TouchpointType.QBR and tp.key_topics == ["roadmap", "pricing"]
        assert tp.user_id == admin.user_id
    bad = write(tmp_path / "nps_bad.csv", "external_id,customer_id,score,responded_at\nN2,C1,11,2026-07-01\n")
    with pytest.raises(FileError, match=r"nps_bad.csv:2:3: score: 11 is more than 10"):
        run_import(engine, admin, "nps", bad)


def test_only_admins_import(engine, admin, tmp_path):
    from cs_cli.domain import Actor
    from cs_cli.errors import NotPermitted

    csm = Actor(name="c", role=Role.CSM, user_id=admin.user_id)
    with pytest.raises(NotPermitted):
        run_import(engine, csm, "customers", FIXTURES / "telco_customers.csv")


def test_map_file_errors_name_the_line(tmp_path):
    with pytest.raises(FileError, match=r"m.yaml:3: unknown key 'renames'"):
        load_map(write(tmp_path / "m.yaml", "columns: {a: b}\n# comment\nrenames: {}\n"))
    with pytest.raises(FileError, match=r"m2.yaml:3:1: invalid YAML"):
        load_map(write(tmp_path / "m2.yaml", "columns:\n  a: [b\n"))
    unquoted = load_map(write(tmp_path / "m3.yaml", "values: {status: {Yes: churned, No: active}}\n"))
    assert unquoted.value_map("status")["Yes"] == "churned"
    assert unquoted.value_map("status")["no"] == "active"


def test_format_must_be_known(engine, admin, tmp_path):
    with pytest.raises(BadInput, match="pass --format"):
        run_import(engine, admin, "customers", write(tmp_path / "c.txt", "external_id\nC1\n"))


def test_user_logins_are_unique_and_the_first_admin_is_claimed(engine, tmp_path):
    from cs_cli.services.access import resolve_actor

    with transaction(engine) as session:
        first = resolve_actor(session, "sam")  # bootstraps sam@localhost as the first admin
    path = write(
        tmp_path / "users.csv",
        "email,login,role\nsam@example.com,sam,admin\nana@example.com,ana,csm\nann@example.com,ana,csm\n",
    )
    with pytest.raises(FileError, match=r"users.csv:4:2: duplicate login 'ana' \(first on line 3\)"):
        run_import(engine, first, "users", path)
    write(path, "email,login,role\nsam@example.com,sam,admin\nana@example.com,ana,csm\n")
    result = run_import(engine, first, "users", path)
    assert (result.created, result.updated) == (1, 0)
    with transaction(engine) as session:
        sam = session.scalar(sa.select(User).where(User.login == "sam"))
        assert sam.id == first.user_id and sam.email == "sam@example.com"
    clash = write(tmp_path / "clash.csv", "email,login\nother@example.com,ana\n")
    with pytest.raises(FileError, match=r"clash.csv:2:2: login 'ana' already belongs to ana@example.com"):
        run_import(engine, first, "users", clash)


def test_line_numbers_stay_exact_across_quoted_line_breaks_and_blank_lines(engine, admin, tmp_path):
    text = (
        "external_id,name,arr\n"
        'C1,"Acme\nCorp",1\n'  # lines 2-3
        "\n"  # line 4: blank
        'C2,"Beta\r\nInc\rLtd",2\n'  # lines 5-7
        "C3,Gamma,three\n"  # line 8
    )
    path = tmp_path / "c.csv"
    path.write_bytes(text.encode())
    with pytest.raises(FileError, match=r"c.csv:8:3: arr: 'three' is not an amount"):
        run_import(engine, admin, "customers", path, batch_size=2)
    with pytest.raises(FileError, match=r"c.csv:8:3: arr: 'three' is not an amount"):
        run_import(engine, admin, "customers", path)


def test_every_batch_stores_the_same_rows(engine, admin, tmp_path):
    _book(engine, admin, tmp_path)
    plain = [
        "C1,P1,login,2026-10-01T09:00:00Z,2",
        "C2,,report_export,2026-10-01 10:00:00,1",
        "C1,P2,api_call,2026-10-02T11:30:00,7",
    ]
    # The first batch fills the reference cache; the later ones find their
    # references there. All must store exactly the same.
    path = write(
        tmp_path / "events.csv",
        "customer_id,contact_id,event_name,occurred_at,quantity\n" + "\n".join(plain * 3) + "\n",
    )
    assert run_import(engine, admin, "events", path, batch_size=3).created == 9
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                UsageEvent.customer_id,
                UsageEvent.contact_id,
                UsageEvent.event_name,
                UsageEvent.occurred_at,
                UsageEvent.quantity,
            )
        ).all()
    by_batch = [sorted(rows[i : i + 3], key=lambda r: r.occurred_at) for i in (0, 3, 6)]
    assert by_batch[0] == by_batch[1] == by_batch[2]
    assert [(r.event_name, r.occurred_at, r.quantity) for r in by_batch[0]] == [
        ("login", dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.UTC), 2.0),
        ("report_export", dt.datetime(2026, 10, 1, 10, 0, tzinfo=dt.UTC), 1.0),
        ("api_call", dt.datetime(2026, 10, 2, 11, 30, tzinfo=dt.UTC), 7.0),
    ]
    assert by_batch[0][1].contact_id is None


def test_a_bad_row_in_a_later_batch_is_still_found(engine, admin, tmp_path):
    _book(engine, admin, tmp_path)
    good = "C1,P1,login,2026-10-01T09:00:00Z,2"
    path = write(
        tmp_path / "events.csv",
        "customer_id,contact_id,event_name,occurred_at,quantity\n"
        + "\n".join([good] * 4 + ["C1,P1,login,2026-02-30T09:00:00Z,2"])
        + "\n",
    )
    with pytest.raises(
        FileError, match=r"events.csv:6:4: occurred_at: '2026-02-30T09:00:00Z' is not a date-time"
    ):
        run_import(engine, admin, "events", path, batch_size=2)
    assert count(engine, UsageEvent) == 0


def _events(engine):
    with engine.connect() as conn:
        return conn.execute(
            sa.select(
                UsageEvent.customer_id,
                UsageEvent.contact_id,
                UsageEvent.event_name,
                UsageEvent.occurred_at,
                UsageEvent.quantity,
            ).order_by(UsageEvent.occurred_at, UsageEvent.event_name)
        ).all()


def test_plain_batches_take_the_column_path_and_store_what_the_row_path_does(
    engine, admin, tmp_path, monkeypatch
):
    from cs_cli.services.importers import events as fast

    _book(engine, admin, tmp_path)
    header = "customer_id,contact_id,event_name,occurred_at,quantity\n"
    plain = ["C1,P1,login,2026-10-01T09:00:00Z,2", "C2,,report_export,2026-10-01T10:00:00Z,007"]
    # Batches of two: the first and last are plain; the middle one has a time
    # with an offset, an empty quantity and a tab in a name.
    other = ["C1,P2,api_call,2026-10-02T13:30:00+02:00,", 'C2,P3,"a\tb",2026-10-03T00:00:00Z,1']
    path = write(tmp_path / "events.csv", header + "\n".join(plain + other + plain) + "\n")
    rows_seen = []
    row_path = fast._encode
    monkeypatch.setattr(fast, "_encode", lambda *a, **k: rows_seen.append(len(a[5])) or row_path(*a, **k))
    assert run_import(engine, admin, "events", path, batch_size=2).created == 6
    assert rows_seen == [2]  # only the middle batch went row by row
    with transaction(engine) as session:
        c1, c2 = (
            session.scalar(sa.select(Customer.id).where(Customer.external_id == k)) for k in ("C1", "C2")
        )
        p1, p2, p3 = (
            session.scalar(sa.select(Contact.id).where(Contact.external_id == k)) for k in ("P1", "P2", "P3")
        )
    at = dt.datetime
    assert _events(engine) == [
        (c1, p1, "login", at(2026, 10, 1, 9, 0, tzinfo=dt.UTC), 2.0),
        (c1, p1, "login", at(2026, 10, 1, 9, 0, tzinfo=dt.UTC), 2.0),
        (c2, None, "report_export", at(2026, 10, 1, 10, 0, tzinfo=dt.UTC), 7.0),
        (c2, None, "report_export", at(2026, 10, 1, 10, 0, tzinfo=dt.UTC), 7.0),
        (c1, p2, "api_call", at(2026, 10, 2, 11, 30, tzinfo=dt.UTC), 1.0),
        (c2, p3, "a\tb", at(2026, 10, 3, 0, 0, tzinfo=dt.UTC), 1.0),
    ]


def test_a_big_plain_batch_stores_every_row_once(engine, admin, tmp_path):
    """257 rows in one plain batch: on SQLite two statements of 100 rows and
    57 single ones; every row arrives once, with its own values."""
    _book(engine, admin, tmp_path)
    header = "customer_id,contact_id,event_name,occurred_at,quantity\n"
    lines = [
        f"C{1 + i % 2},{'P1' if i % 3 else ''},feature_{i % 7},2026-10-01T{i % 24:02d}:{i % 60:02d}:00Z,{i}"
        for i in range(257)
    ]
    path = write(tmp_path / "events.csv", header + "\n".join(lines) + "\n")
    assert run_import(engine, admin, "events", path, batch_size=1000).created == 257
    with transaction(engine) as session:
        c1, c2 = (
            session.scalar(sa.select(Customer.id).where(Customer.external_id == k)) for k in ("C1", "C2")
        )
        p1 = session.scalar(sa.select(Contact.id).where(Contact.external_id == "P1"))

    def key(row: tuple) -> tuple:
        return (row[3], row[4])  # every row has its own quantity

    expected = sorted(
        (
            (
                c2 if i % 2 else c1,
                p1 if i % 3 else None,
                f"feature_{i % 7}",
                dt.datetime(2026, 10, 1, i % 24, i % 60, tzinfo=dt.UTC),
                float(i),
            )
            for i in range(257)
        ),
        key=key,
    )
    assert sorted((tuple(r) for r in _events(engine)), key=key) == expected


@pytest.mark.parametrize(
    ("row", "where", "reason"),
    [
        ("C1,P1,login,2026-13-01T09:00:00Z,1", ":6:4:", "occurred_at: '2026-13-01T09:00:00Z' is not"),
        ("C1,P1,login,2026-10-01T24:00:00Z,1", ":6:4:", "occurred_at: '2026-10-01T24:00:00Z' is not"),
        ("C1,P1,login,2026-10-01T09:00:0xZ,1", ":6:4:", "occurred_at: '2026-10-01T09:00:0xZ' is not"),
        ("C1,P1,login,2026-10-01T09:00:00Z,1000000000000000", ":6:5:", "must be zero or more"),
        ("C1,P1," + "x" * 101 + ",2026-10-01T09:00:00Z,1", ":6:3:", "at most 100 characters"),
        ("C9,P1,login,2026-10-01T09:00:00Z,1", ":6:1:", "unknown customer 'C9'"),
        ("C1,P9,login,2026-10-01T09:00:00Z,1", ":6:2:", "unknown contact 'P9'"),
        (",P1,login,2026-10-01T09:00:00Z,1", ":6:1:", "customer_id: a value is required"),
    ],
)
def test_a_bad_row_after_plain_batches_names_its_place_and_writes_nothing(
    engine, admin, tmp_path, row, where, reason
):
    _book(engine, admin, tmp_path)
    good = "C1,P1,login,2026-10-01T09:00:00Z,2"
    path = write(
        tmp_path / "events.csv",
        "customer_id,contact_id,event_name,occurred_at,quantity\n"
        + "\n".join([good] * 4 + [row, good])
        + "\n",
    )
    with pytest.raises(FileError) as info:
        run_import(engine, admin, "events", path, batch_size=2)
    assert str(info.value).startswith(f"{path}{where}"), str(info.value)
    assert reason in str(info.value)
    assert count(engine, UsageEvent) == 0


def test_skip_invalid_events_keep_the_good_rows_of_plain_batches(engine, admin, tmp_path):
    _book(engine, admin, tmp_path)
    good = "C1,P1,login,2026-10-01T09:00:00Z,2"
    path = write(
        tmp_path / "events.csv",
        "customer_id,contact_id,event_name,occurred_at,quantity\n"
        + "\n".join(
            [good] * 3 + ["C9,P1,login,2026-10-01T09:00:00Z,1", good, "C1,P1,login,2026-02-30T09:00:00Z,1"]
        )
        + "\n",
    )
    rejects: list[Reject] = []
    result = run_import(
        engine, admin, "events", path, batch_size=2, skip_invalid=True, on_reject=rejects.append
    )
    assert (result.rows_read, result.created, result.rejected) == (6, 4, 2)
    assert [(r.line, r.column, r.reason) for r in rejects] == [
        (5, "customer_id", "unknown customer 'C9'"),
        (7, "occurred_at", "occurred_at: '2026-02-30T09:00:00Z' is not a date-time (use ISO 8601)"),
    ]
    assert count(engine, UsageEvent) == 4


def test_a_first_load_builds_the_index_at_the_end_and_a_failed_one_keeps_it(engine, admin, tmp_path):
    """usage_events empty: its indexes are dropped for the load and built
    again in the same transaction; a failed load rolls the drops back; a
    later import into a table with rows keeps the indexes up to date instead."""
    _book(engine, admin, tmp_path)
    first = ["DROP INDEX", "DROP INDEX", "CREATE INDEX", "CREATE INDEX"]
    header = "customer_id,contact_id,event_name,occurred_at,quantity\n"
    good = "C1,P1,login,2026-10-01T09:00:00Z,2\n"
    ddl: list[str] = []

    def listen(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith(("DROP INDEX", "CREATE INDEX")):
            ddl.append(statement.split("ON")[0].split()[0] + " " + statement.split()[1])

    def indexes() -> list[str]:
        return sorted(ix["name"] for ix in sa.inspect(engine).get_indexes("usage_events"))

    before = indexes()
    assert before == ["ix_usage_events_customer_id_occurred_at", "ix_usage_events_occurred_at"]
    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        bad = write(tmp_path / "bad.csv", header + good * 3 + "C1,P1,login,yesterday,2\n")
        with pytest.raises(FileError):
            run_import(engine, admin, "events", bad, batch_size=2)
        assert (ddl, indexes(), count(engine, UsageEvent)) == (first[:2], before, 0)

        ddl.clear()
        run_import(engine, admin, "events", write(tmp_path / "first.csv", header + good * 5), batch_size=2)
        assert (ddl, indexes(), count(engine, UsageEvent)) == (first, before, 5)

        ddl.clear()
        run_import(engine, admin, "events", write(tmp_path / "more.csv", header + good * 3), batch_size=2)
        assert (ddl, indexes(), count(engine, UsageEvent)) == ([], before, 8)
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)
