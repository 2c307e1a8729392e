"""Writers at the same moment, as cron and people start them: real `cs`
processes against the test database (each its own connections), on both
dialects. Each case waits or retries transparently and doubles nothing."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from cs_cli.db.engine import make_engine
from cs_cli.db.models import Customer, DomainEvent, ImportRun, UsageEvent

# Real processes over files big enough to overlap: about 45 s of both
# dialects, in the slow suite (which CI runs).
pytestmark = pytest.mark.slow

EVENTS = 150_000
CUSTOMERS = 20_000  # enough for two imports to overlap and lock rows in opposite orders


def _env(db_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "CS_DATABASE_URL": db_url,
        "CS_USER": "admin",
        "CS_CONFIG": "",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "NO_COLOR": "1",
        **extra,
    }


def _at_once(env: dict[str, str], *commands: list[str], timeout: float = 300) -> list[tuple[int, str, str]]:
    """Start every command together; (exit code, stdout, stderr) of each."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "cs_cli", *command],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command in commands
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        results.append((proc.returncode, out, err))
    return results


def _count(engine: sa.Engine, stmt) -> int:
    with engine.connect() as conn:
        return conn.scalar(stmt)


def _customers_file(path: Path) -> Path:
    lines = ["external_id,name,arr,plan"]
    lines += [f"C-{i:05},Customer {i},{1000 + i},pro" for i in range(CUSTOMERS)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_same_events_file_imported_twice_at_once_is_written_once(db_url, engine, admin, tmp_path):
    env = _env(db_url, tmp_path)
    customers = tmp_path / "customers.csv"
    customers.write_text("external_id,name\nA,Alpha\nB,Beta\n")
    assert _at_once(env, ["import", "customers", str(customers)])[0][0] == 0
    events = tmp_path / "events.csv"
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with events.open("w") as f:
        f.write("customer_id,event_name,occurred_at\n")
        for i in range(EVENTS):
            moment = start + dt.timedelta(seconds=i)
            f.write(f"{'AB'[i % 2]},login,{moment:%Y-%m-%dT%H:%M:%SZ}\n")

    results = _at_once(env, ["import", "events", str(events)], ["import", "events", str(events)])

    assert [code for code, _out, _err in results] == [0, 0], results
    said = sorted("already imported on" in err for _code, _out, err in results)
    assert said == [False, True], results
    assert _count(engine, sa.select(sa.func.count()).select_from(UsageEvent)) == EVENTS
    assert (
        _count(engine, sa.select(sa.func.count()).select_from(ImportRun).where(ImportRun.entity == "events"))
        == 1
    )


def test_overlapping_customer_imports_wait_for_each_other_and_record_each_customer_once(
    db_url, engine, admin, tmp_path
):
    env = _env(db_url, tmp_path)
    path = _customers_file(tmp_path / "customers.csv")
    # The same file twice, and a newer export with every ARR changed and its
    # rows in the opposite order (locks taken in another order), all at once.
    lines = path.read_text().splitlines()
    backwards = tmp_path / "backwards.csv"
    newer = [line.replace(",pro", "5,pro") for line in reversed(lines[1:])]
    backwards.write_text("\n".join([lines[0], *newer]) + "\n")

    results = _at_once(
        env,
        ["import", "customers", str(path)],
        ["import", "customers", str(path)],
        ["import", "customers", str(backwards)],
    )

    assert [code for code, _out, _err in results] == [0, 0, 0], results
    assert _count(engine, sa.select(sa.func.count()).select_from(Customer)) == CUSTOMERS
    created = (
        sa.select(sa.func.count())
        .select_from(DomainEvent)
        .where(DomainEvent.event_type == "customer.created")
    )
    assert _count(engine, created) == CUSTOMERS


def test_two_upgrades_of_a_new_database_at_once_both_succeed(db_url, tmp_path, request):
    if db_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'new.db'}"
    else:
        url = request.getfixturevalue("empty_pg_url")
    env = _env(url, tmp_path)

    results = _at_once(env, ["db", "upgrade"], ["db", "upgrade"])

    assert [code for code, _out, _err in results] == [0, 0], results
    messages = sorted(err.strip() for _code, _out, err in results)
    assert "already at revision" in messages[0] and "created the cs schema" in messages[1], messages
    engine = make_engine(url)
    try:
        current = _at_once(env, ["db", "current"])[0]
        assert current[0] == 0, current
    finally:
        engine.dispose()


def test_jobs_status_shows_a_job_that_holds_the_database_as_running(db_url, admin, tmp_path):
    """On SQLite a job's long write keeps its heartbeat from renewing the
    lease; the run is alive on this machine and is not abandoned."""
    slow_job = Path(__file__).parent.parent / "fixtures" / "slow_job.py"
    env = _env(
        db_url,
        tmp_path,
        CS_TEST_JOB_MARK=str(tmp_path / "mark"),
        CS_TEST_JOB_SLEEP="6",
        CS_TEST_JOB_HOLD_WRITE="1",
        CS_JOB_LEASE="1s",
    )
    job = subprocess.Popen(
        [sys.executable, str(slow_job), "run", "retention"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "mark").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(3)  # the lease (1 s) has run out; the heartbeat is stuck behind the write
        _code, out, err = _at_once(env, ["jobs", "status", "--format", "json"])[0]
        (retention,) = [r for r in json.loads(out) if r["job"] == "retention"]
        assert retention["state"] == "running", (retention, err)
        assert retention["error"] is None
    finally:
        _out, err = job.communicate(timeout=120)
    assert job.returncode == 0, err
