"""The migration tree: one head, no drift from the models, a working round trip,
the schema check every command makes, and the shared column types."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

import cs_cli.db.models  # noqa: F401  (registers every table on Base.metadata)
from cs_cli.db import migrate
from cs_cli.db.base import Base
from cs_cli.db.engine import make_engine, transaction
from cs_cli.db.models import Customer, User
from cs_cli.domain import Role
from cs_cli.errors import SchemaOutOfDate


@pytest.fixture(params=["sqlite", "postgres"])
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """An engine on a brand-new, empty database (no tables at all)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        url = request.getfixturevalue("empty_pg_url")
    eng = make_engine(url)
    yield eng
    eng.dispose()


def _tables(eng: sa.Engine) -> set[str]:
    with eng.connect() as conn:
        return set(sa.inspect(conn).get_table_names())


def _add_customer_and_user(eng: sa.Engine, suffix: str) -> tuple[int, int]:
    with transaction(eng) as sess:
        user = User(login=f"ana{suffix}", name="Ana", email=f"ana{suffix}@example.com", role=Role.CSM)
        sess.add(user)
        sess.flush()
        customer = Customer(external_id=f"C-{suffix}", name=f"Acme {suffix}", arr=Decimal("1000.00"))
        customer.csm_id = user.id
        sess.add(customer)
        sess.flush()
        return customer.id, user.id


# --- the tree ------------------------------------------------------------------------------------------


def test_single_head_equal_to_schema_revision():
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate.alembic_config())
    heads = script.get_heads()
    assert heads == [migrate.SCHEMA_REVISION]
    assert migrate.SCHEMA_REVISION in migrate.known_revisions()


def test_upgrade_from_empty_leaves_no_diff_against_models(fresh_engine: sa.Engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    assert _tables(fresh_engine) == set()
    before, after = migrate.upgrade(fresh_engine)
    assert (before, after) == (None, migrate.SCHEMA_REVISION)
    assert _tables(fresh_engine) == {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"}

    with fresh_engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "render_as_batch": conn.dialect.name == "sqlite"}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_downgrade_to_base_and_upgrade_round_trip_with_rows(fresh_engine: sa.Engine):
    migrate.upgrade(fresh_engine)
    customer_id, user_id = _add_customer_and_user(fresh_engine, "1")
    with fresh_engine.connect() as conn:
        assert conn.execute(sa.select(Customer.csm_id).where(Customer.id == customer_id)).scalar() == user_id

    before, after = migrate.downgrade(fresh_engine, "base")
    assert (before, after) == (migrate.SCHEMA_REVISION, None)
    # Only Alembic's own bookkeeping table may remain.
    assert _tables(fresh_engine) <= {"alembic_version"}

    before, after = migrate.upgrade(fresh_engine)
    assert (before, after) == (None, migrate.SCHEMA_REVISION)
    customer_id, user_id = _add_customer_and_user(fresh_engine, "2")
    with fresh_engine.connect() as conn:
        rows = conn.execute(sa.select(Customer.external_id, Customer.csm_id)).all()
        users = conn.execute(sa.select(User.login)).scalars().all()
    # The rows from before the downgrade are gone with their tables; the new ones are there.
    assert rows == [("C-2", user_id)]
    assert users == ["ana2"]


# --- ensure_schema ------------------------------------------------------------------------------------


def test_ensure_schema_on_empty_database_says_to_run_db_upgrade(fresh_engine: sa.Engine):
    with pytest.raises(SchemaOutOfDate) as info:
        migrate.ensure_schema(fresh_engine, create_if_empty=False)
    assert "no cs schema" in info.value.message
    assert info.value.hint is not None and "cs db upgrade" in info.value.hint
    assert info.value.exit_code == 1
    # Checking must not create anything.
    assert _tables(fresh_engine) == set()


def test_ensure_schema_creates_an_empty_database_when_asked(fresh_engine: sa.Engine):
    assert migrate.ensure_schema(fresh_engine, create_if_empty=True) is True
    assert migrate.current_revision(fresh_engine) == migrate.SCHEMA_REVISION
    assert "customers" in _tables(fresh_engine)
    # Once current, the check is a no-op.
    assert migrate.ensure_schema(fresh_engine, create_if_empty=True) is False


def test_ensure_schema_does_not_create_into_a_database_with_other_tables(tmp_path: Path):
    eng = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    with eng.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE something_else (id INTEGER PRIMARY KEY)")
    with pytest.raises(SchemaOutOfDate, match="no cs schema"):
        migrate.ensure_schema(eng, create_if_empty=True)
    assert _tables(eng) == {"something_else"}
    eng.dispose()


@pytest.fixture
def unknown_revision(engine: sa.Engine) -> Iterator[sa.Engine]:
    """The database stamped with a revision no version of cs wrote; restored afterwards
    (the Postgres test database is shared and alembic_version is not truncated)."""
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'ffff'"))
    yield engine
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE alembic_version SET version_num = :rev"), {"rev": migrate.SCHEMA_REVISION}
        )


def test_ensure_schema_unknown_revision(unknown_revision: sa.Engine):
    with pytest.raises(SchemaOutOfDate) as info:
        migrate.ensure_schema(unknown_revision, create_if_empty=True)
    assert "ffff" in info.value.message
    assert "does not know" in info.value.message
    assert info.value.hint is not None and "upgrade cs" in info.value.hint


def test_ensure_schema_behind(engine: sa.Engine):
    # Pretend the database is still at the first revision.
    first = migrate.known_revisions()[-1]
    assert first != migrate.SCHEMA_REVISION
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = :v"), {"v": first})
    try:
        with pytest.raises(SchemaOutOfDate) as info:
            migrate.ensure_schema(engine, create_if_empty=True)
    finally:
        with engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE alembic_version SET version_num = :v"), {"v": migrate.SCHEMA_REVISION}
            )
    assert f"at revision {first}" in info.value.message
    assert f"needs {migrate.SCHEMA_REVISION}" in info.value.message
    assert info.value.hint == "run `cs db upgrade`"


def test_ensure_schema_current_is_silent(engine: sa.Engine):
    assert migrate.ensure_schema(engine, create_if_empty=False) is False


# --- shared column types ------------------------------------------------------------------------------


def test_utc_datetime_round_trips_aware_values_as_utc(engine: sa.Engine):
    plus_five = dt.timezone(dt.timedelta(hours=5))
    churned = dt.datetime(2024, 3, 1, 17, 30, 15, 123456, tzinfo=plus_five)
    with transaction(engine) as sess:
        sess.add(Customer(external_id="C-1", name="Aware", churned_at=churned))

    with transaction(engine) as sess:
        loaded = sess.scalar(sa.select(Customer).where(Customer.external_id == "C-1"))
        assert loaded is not None
        value = loaded.churned_at
        created = loaded.created_at
    assert value == churned
    assert value.utcoffset() == dt.timedelta(0)
    assert (value.hour, value.minute, value.microsecond) == (12, 30, 123456)
    assert created.tzinfo is not None and created.utcoffset() == dt.timedelta(0)

    # Comparisons bind the same way, whatever the offset of the bound value.
    with engine.connect() as conn:
        plus_one = dt.timezone(dt.timedelta(hours=1))
        count = sa.select(sa.func.count()).select_from(Customer)
        # 12:30:15.123456 UTC is 13:30:15.123456 at +01:00.
        assert (
            conn.scalar(
                count.where(Customer.churned_at > dt.datetime(2024, 3, 1, 13, 30, 15, tzinfo=plus_one))
            )
            == 1
        )
        assert (
            conn.scalar(
                count.where(Customer.churned_at > dt.datetime(2024, 3, 1, 13, 30, 16, tzinfo=plus_one))
            )
            == 0
        )
        assert conn.scalar(count.where(Customer.churned_at == churned)) == 1


def test_utc_datetime_takes_naive_values_as_utc(engine: sa.Engine):
    with transaction(engine) as sess:
        sess.add(Customer(external_id="C-2", name="Naive", churned_at=dt.datetime(2024, 6, 30, 23, 0)))
    with engine.connect() as conn:
        value = conn.scalar(sa.select(Customer.churned_at).where(Customer.external_id == "C-2"))
    assert value == dt.datetime(2024, 6, 30, 23, 0, tzinfo=dt.UTC)
    assert value.utcoffset() == dt.timedelta(0)


def test_json_attributes_round_trip_nested_values(engine: sa.Engine):
    nested = {
        "tier": "gold",
        "owners": [{"name": "Zoë", "since": "2020-01-01"}, {"name": "Li", "tags": ["a", "b"]}],
        "limits": {"api": {"per_minute": 600, "burst": 1.5}, "sso": True, "note": None},
        "empty": {},
    }
    with transaction(engine) as sess:
        sess.add(Customer(external_id="C-3", name="Json", attributes=nested))
        sess.add(Customer(external_id="C-4", name="Default"))
    with transaction(engine) as sess:
        rows = {c.external_id: c.attributes for c in sess.scalars(sa.select(Customer))}
    assert rows["C-3"] == nested
    assert rows["C-4"] == {}


def test_json_none_is_stored_as_sql_null(engine: sa.Engine):
    # A nullable JSON column set to None must be SQL NULL, so that `IS NULL` finds it
    # the same way whether the attribute was set to None or never set.
    from cs_cli.db.models import Alert
    from cs_cli.domain import AlertSeverity

    raised = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    with transaction(engine) as sess:
        customer = Customer(external_id="C-5", name="Alerted")
        sess.add(customer)
        sess.flush()
        common = {
            "customer_id": customer.id,
            "severity": AlertSeverity.INFO,
            "raised_at": raised,
        }
        sess.add_all(
            [
                Alert(title="explicit", alert_type="t1", details=None, **common),
                Alert(title="omitted", alert_type="t2", **common),
            ]
        )
    with engine.connect() as conn:
        null_titles = conn.scalars(
            sa.select(Alert.title).where(Alert.details.is_(None)).order_by(Alert.title)
        ).all()
    assert null_titles == ["explicit", "omitted"]


def test_a_table_rebuilt_on_sqlite_keeps_the_rows_pointing_at_it(tmp_path):
    """Batch mode copies cs_touchpoints (0016) and drops the old table: with
    foreign keys on, that drop would cascade to the touchpoint's attendees."""
    from cs_cli.db import migrate
    from cs_cli.db.engine import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(engine, "0015")
    with engine.begin() as conn:
        day = "'2026-01-01'"
        conn.exec_driver_sql(
            "INSERT INTO customers (external_id, name, status, attributes, created_at, updated_at)"
            f" VALUES ('A', 'A', 'active', '{{}}', {day}, {day})"
        )
        conn.exec_driver_sql(
            "INSERT INTO contacts (customer_id, external_id, name, email, is_champion, is_exec_sponsor,"
            f" created_at, updated_at) VALUES (1, 'c1', 'C', 'c@example.com', 0, 0, {day}, {day})"
        )
        conn.exec_driver_sql(
            "INSERT INTO cs_touchpoints (external_id, customer_id, touchpoint_type, direction, subject,"
            f" occurred_at, created_at) VALUES ('t1', 1, 'call', 'inbound', 's', {day}, {day})"
        )
        conn.exec_driver_sql("INSERT INTO cs_touchpoint_attendees (touchpoint_id, contact_id) VALUES (1, 1)")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM cs_touchpoint_attendees").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_0017_grants_board_views_to_the_roles_already_mapped(empty_pg_url):
    """A role mapped before 0017 (`cs users grant-db` run by another role
    than the one upgrading, so no default privileges apply) may use the new
    table and its sequence, and sees only its own user's views."""
    import uuid

    eng = make_engine(empty_pg_url)
    role = f"cs_test_{uuid.uuid4().hex[:10]}"
    try:
        migrate.upgrade(eng, "0016")
        with eng.begin() as conn:
            conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
            conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA public TO {role}")
            conn.exec_driver_sql(
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
            )
            conn.exec_driver_sql(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}")
            for login, db_role in (("ana", f"'{role}'"), ("bo", "NULL")):
                conn.exec_driver_sql(
                    "INSERT INTO api_users (email, login, name, role, is_active, notify_preference, db_role,"
                    f" created_at) VALUES ('{login}@example.com', '{login}', '{login}', 'csm', true,"
                    f" 'none', {db_role}, now())"
                )
        migrate.upgrade(eng)
        with eng.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO board_views (user_id, name, filters, created_at)"
                " SELECT id, 'Bo''s', '{}', now() FROM api_users WHERE login = 'bo'"
            )
        as_role = make_engine(sa.engine.make_url(empty_pg_url).set(username=role, password=None))
        try:
            with as_role.begin() as conn:
                conn.exec_driver_sql(
                    "INSERT INTO board_views (user_id, name, filters, created_at)"
                    " SELECT id, 'Mine', '{}', now() FROM api_users WHERE login = 'ana'"
                )
                assert conn.exec_driver_sql("SELECT name FROM board_views").scalars().all() == ["Mine"]
        finally:
            as_role.dispose()
    finally:
        with eng.begin() as conn:
            conn.exec_driver_sql(f"DROP OWNED BY {role}")
            conn.exec_driver_sql(f"DROP ROLE {role}")
        eng.dispose()


def test_0018_downgrade_puts_the_arrays_back_into_the_json(fresh_engine: sa.Engine):
    """Rows kept as arrays are readable by the code before 0018: their
    numbers go back into `measures`, named by the version's scorecard."""
    from cs_cli.db.models import HealthScoreHistory, ScorecardVersion
    from cs_cli.services.health.scoring import SIGNAL_VALUES, kept, measure_names
    from cs_cli.specs.scorecard import load_scorecard

    migrate.upgrade(fresh_engine)
    customer_id, _ = _add_customer_and_user(fresh_engine, "1")
    loaded = load_scorecard()
    names = measure_names(loaded.card)
    raw = [float(i) if i % 3 else None for i in range(len(names))]
    signals = [12.0, 1.0, 0.0, 400.0, 0.75, 61.5]
    assert len(signals) == len(SIGNAL_VALUES)
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    with transaction(fresh_engine) as sess:
        sess.add(ScorecardVersion(version=loaded.version, name=loaded.card.name, content=loaded.text))
        sess.add(
            HealthScoreHistory(
                customer_id=customer_id,
                as_of=dt.date(2026, 11, 30),
                overall_score=61,
                health_status="at_risk",
                scorecard_version=loaded.version,
                raw_values=raw,
                signal_values=signals,
                calculated_at=now,
            )
        )
    expected = kept(loaded.card, raw, signals, None)
    assert expected["signals"]["tenure_days"] == 400 and expected["base"] == 61.5

    migrate.downgrade(fresh_engine, "0017")
    with fresh_engine.connect() as conn:
        measures = conn.execute(sa.text("SELECT measures FROM cs_health_score_history")).scalar_one()
    if isinstance(measures, str):  # JSON text on SQLite
        import json

        measures = json.loads(measures)
    assert measures["raw"] == expected["raw"]
    assert measures["signals"] == expected["signals"]
    assert measures["base"] == 61.5
    migrate.upgrade(fresh_engine)
