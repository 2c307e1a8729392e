"""`cs run` and `cs jobs`: exit codes, quiet under cron, logs, status for
monitoring; and real processes that overlap or are killed mid-run."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import JobLease, JobRun, User
from cs_cli.domain import JobStatus, Role
from cs_cli.jobs import registry

SLOW_JOB = Path(__file__).parent.parent / "fixtures" / "slow_job.py"


@pytest.fixture
def replace_job():
    """Swap a job's function for the test's, and back."""
    saved = {}

    def replace(name: str, fn) -> None:
        job = registry.BY_NAME[name]
        saved.setdefault(name, job.run)
        object.__setattr__(job, "run", fn)

    yield replace
    for name, fn in saved.items():
        object.__setattr__(registry.BY_NAME[name], "run", fn)


def _runs(engine) -> list[JobRun]:
    with transaction(engine) as session:
        return list(session.scalars(sa.select(JobRun).order_by(JobRun.id)))


def test_unknown_job_and_bad_combinations_are_bad_input(run_cli, admin):
    result = run_cli("run", "helth-refresh")
    assert result.exit_code == 2
    assert "error: no job named 'helth-refresh'" in result.stderr
    assert "did you mean 'health-refresh'?" in result.stderr
    assert run_cli("run", "due", "retention").exit_code == 2
    assert run_cli("run", "due", "--force").exit_code == 2
    assert run_cli("jobs", "history", "nope").exit_code == 2
    bad = run_cli("run", "due", env={"CS_JOB_TIMES": "journey-tick=:10"})
    assert bad.exit_code == 2 and "only daily and hourly jobs take a time" in bad.stderr
    assert _runs_count(run_cli) == 0


def _runs_count(run_cli) -> int:
    result = run_cli("jobs", "history", "--format", "json")
    return len(json.loads(result.stdout))


def test_running_jobs_needs_an_admin(run_cli, engine, admin):
    with transaction(engine) as session:
        session.add(User(login="ana", name="Ana", email="ana@example.com", role=Role.CSM))
    result = run_cli("run", "retention", user="ana")
    assert result.exit_code == 3 and "running jobs needs the admin role" in result.stderr


def test_quiet_under_cron_unless_something_fails(run_cli, engine, admin, replace_job):
    # Not on a terminal (as under cron): a job that works says nothing at all.
    result = run_cli("run", "retention")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")
    assert run_cli("run", "retention").stderr == ""  # nor does a skip
    # A job that fails says so on stderr (cron mails it) and exits 1; the next job still runs.
    replace_job("churn-predict", lambda ctx: 1 / 0)
    replace_job("segment-refresh", lambda ctx: {"entered": 2})
    result = run_cli("run", "churn-predict", "segment-refresh")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        next(line for line in result.stderr.splitlines() if line.startswith("error: churn-predict ["))
    ]
    assert "failed after" in result.stderr and "ZeroDivisionError: division by zero" in result.stderr
    rows = {r.job: r for r in _runs(engine)}
    assert rows["churn-predict"].status == JobStatus.FAILED
    assert rows["churn-predict"].error == "ZeroDivisionError: division by zero"
    assert rows["segment-refresh"].status == JobStatus.SUCCEEDED and rows["segment-refresh"].counts == {
        "entered": 2
    }


def test_verbose_and_json_logs_and_the_log_file(run_cli, admin, tmp_path):
    result = run_cli("run", "retention", "-v")
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("retention [") and lines[0].endswith("]: started")
    assert "succeeded in" in lines[1] and "outbox 0, events 0, job_runs 0" in lines[1]
    log_file = tmp_path / "logs" / "jobs.log"
    result = run_cli("run", "retention", "--force", "--log-format", "json", "--log-file", str(log_file))
    assert result.stderr == ""  # under cron, the file gets the lines
    records = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert [r["event"] for r in records] == ["started", "succeeded"]
    assert records[1]["job"] == "retention" and records[1]["counts"] == {
        "outbox": 0,
        "events": 0,
        "job_runs": 0,
        "touchpoints": 0,
        "health_history": 0,
        "tasks": 0,
        "journeys": 0,
    }
    assert records[1]["slot"].startswith("manual ") and "ts" in records[1]


def test_run_due_runs_each_due_job_once(run_cli, engine, admin, replace_job):
    ran = []
    for job in registry.JOBS:
        replace_job(job.name, lambda ctx, name=job.name: ran.append(name) or {"n": 1})
    assert run_cli("run", "due", "--as-of", "2026-11-28T14:07").exit_code == 0
    assert ran == [job.name for job in registry.JOBS]
    assert run_cli("run", "due", "--as-of", "2026-11-28T14:07:50", "-v").stderr.strip() == "nothing due"
    assert run_cli("run", "due", "--as-of", "2026-11-28T14:08").exit_code == 0
    assert ran[len(registry.JOBS) :] == ["outbox-deliver"]  # the only job with a new slot at 14:08
    slots = {r.job: r.slot for r in _runs(engine) if r.job != "outbox-deliver"}
    assert slots["health-refresh"] == "2026-11-28" and slots["segment-refresh"] == "2026-11-28T14"
    assert slots["journey-tick"] == "2026-11-28T14:05"


def test_jobs_status_for_monitoring(run_cli, engine, admin, replace_job):
    result = run_cli("jobs", "status")
    assert result.exit_code == 1 and "health-refresh" in result.stdout
    assert f"{len(registry.JOBS)} jobs need attention" in result.stderr
    for job in registry.JOBS:
        replace_job(job.name, lambda ctx: {})
    assert run_cli("run", "due").exit_code == 0
    result = run_cli("jobs", "status", "--format", "json")
    assert result.exit_code == 0, result
    states = json.loads(result.stdout)
    assert [s["job"] for s in states] == [job.name for job in registry.JOBS]
    assert {s["state"] for s in states} == {"ok"} and {s["last_result"] for s in states} == {"succeeded"}
    replace_job("alert-check", lambda ctx: 1 / 0)
    assert run_cli("run", "alert-check", "--force").exit_code == 1
    result = run_cli("jobs", "status")
    assert result.exit_code == 1 and "a job needs attention: alert-check failing" in result.stderr
    history = json.loads(run_cli("jobs", "history", "alert-check", "--format", "json").stdout)
    assert [h["status"] for h in history] == ["failed", "succeeded"]
    assert history[0]["error"] == "ZeroDivisionError: division by zero"


# --- real processes ---------------------------------------------------------------------------------------


def _env(db_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "CS_DATABASE_URL": db_url,
        "CS_USER": "admin",
        "CS_CONFIG": "",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "CS_TEST_JOB_MARK": str(tmp_path / "mark"),
        **extra,
    }


def _cs(env: dict[str, str], *args: str) -> subprocess.Popen:
    command = [sys.executable, str(SLOW_JOB), "run", *args, "--log-format", "json", "-v"]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _events(stderr: str) -> list[str]:
    return [json.loads(line)["event"] for line in stderr.splitlines() if line.startswith("{")]


def test_two_runs_started_together_one_works_one_skips(db_url, admin, tmp_path):
    env = _env(db_url, tmp_path, CS_TEST_JOB_SLEEP="5")
    first, second = _cs(env, "retention"), _cs(env, "retention")
    logs = []
    for proc in (first, second):
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        logs.append([json.loads(line) for line in err.splitlines() if line.startswith("{")])
    skipper, worker = sorted(logs, key=lambda records: [r["event"] for r in records] != ["skipped"])
    assert [r["event"] for r in skipper] == ["skipped"] and "retention is running on" in skipper[0]["message"]
    assert [r["event"] for r in worker] == ["started", "succeeded"]
    # The overlapping run did not wait for the job: it skipped while the job slept.
    at = lambda record: dt.datetime.fromisoformat(record["ts"])  # noqa: E731
    assert at(skipper[0]) < at(worker[1])
    assert (tmp_path / "mark").read_text().count("\n") == 1


def test_a_run_killed_mid_job_is_recorded_and_the_next_run_recovers(db_url, engine, admin, tmp_path, run_cli):
    env = _env(db_url, tmp_path, CS_TEST_JOB_SLEEP="60", CS_JOB_LEASE="5s")
    victim = _cs(env, "retention")
    deadline = time.monotonic() + 30
    while not (tmp_path / "mark").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert (tmp_path / "mark").exists(), victim.stderr.read() if victim.poll() is not None else "no start"
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    victim.stdout.close()
    victim.stderr.close()
    (row,) = _runs(engine)
    assert row.status == JobStatus.RUNNING  # what the kill left behind

    # While its lease lasts, the next run skips...
    quick = {**env, "CS_TEST_JOB_SLEEP": "0"}
    early = run_cli("run", "retention", "-v", env={"CS_JOB_LEASE": "5s"})
    assert early.exit_code == 0 and f"retention is running on {os.uname().nodename}" in early.stderr
    # ...and after it expires the next run takes over, records the killed
    # run as abandoned, and runs the slot again.
    with transaction(engine) as session:
        expires = session.scalar(sa.select(JobLease.expires_at))
    time.sleep(max(0.0, (expires - dt.datetime.now(dt.UTC)).total_seconds()) + 0.3)
    later = _cs(quick, "retention")
    _out, err = later.communicate(timeout=120)
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    abandoned = [e for e in events if e.get("event") == "abandoned"]
    assert len(abandoned) == 1 and abandoned[0]["job"] == "retention" and abandoned[0]["level"] == "warning"
    assert f"pid {victim.pid}" in abandoned[0]["message"]
    assert any(e.get("event") == "succeeded" and e["job"] == "retention" for e in events)
    (row,) = [r for r in _runs(engine) if r.job == "retention"]
    assert (row.status, row.attempts) == (JobStatus.SUCCEEDED, 2)
    with transaction(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(JobLease)) == 0
