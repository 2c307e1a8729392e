"""The job runner: schedules and slots, the lease, the run ledger, failures,
abandoned runs, `cs jobs status`'s judgement, and retention; on both dialects."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time

import pytest
import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import DomainEvent, EventCursor, JobLease, JobRun, OutboxMessage
from cs_cli.domain import Actor, JobStatus, OutboxChannel, OutboxStatus
from cs_cli.errors import BadInput, ConfigError
from cs_cli.jobs import lease as leases
from cs_cli.jobs import ledger, registry, runner
from cs_cli.jobs.log import JobLog
from cs_cli.jobs.registry import Job, JobContext
from cs_cli.jobs.schedule import Schedule
from cs_cli.jobs.status import status
from cs_cli.settings import load_settings

NOW = dt.datetime(2026, 11, 28, 14, 7, 30, tzinfo=dt.UTC)
SYSTEM = Actor.system()


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No config file of the person running the tests."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def _settings(**env: str):
    return load_settings({}, env)


class Lines:
    """A log that keeps its lines (level, text, fields)."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict]] = []

    def __call__(self, level: str, text: str, **fields) -> None:
        self.lines.append((level, text, fields))

    def texts(self, level: str | None = None) -> list[str]:
        return [t for lv, t, _ in self.lines if level is None or lv == level]


def _job(name: str, fn, schedule: Schedule | None = None) -> Job:
    return Job(name, schedule or Schedule.hourly(5), fn, "a test job")


def _runs(engine, job: str | None = None) -> list[JobRun]:
    with transaction(engine) as session:
        query = sa.select(JobRun).order_by(JobRun.id)
        if job:
            query = query.where(JobRun.job == job)
        return list(session.scalars(query))


# --- schedules -------------------------------------------------------------------------------------------


def test_slots_of_each_kind_of_schedule():
    daily = Schedule.daily(2, 0)
    assert daily.slot(NOW).key == "2026-11-28"
    early = NOW.replace(hour=1, minute=59)
    assert daily.slot(early).key == "2026-11-27"  # before the hour: still yesterday's slot
    assert daily.slot(early).end == dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.UTC)
    hourly = Schedule.hourly(15)
    assert hourly.slot(NOW).key == "2026-11-28T13"  # 14:07 is before :15
    assert hourly.slot(NOW.replace(minute=15)).key == "2026-11-28T14"
    five = Schedule.every(5)
    assert five.slot(NOW).key == "2026-11-28T14:05"
    assert five.slot(NOW).end == dt.datetime(2026, 11, 28, 14, 10, tzinfo=dt.UTC)
    assert Schedule.every(1).slot(NOW).key == "2026-11-28T14:07"
    with pytest.raises(ValueError):
        Schedule.every(7)


def test_a_daily_slot_follows_the_job_time_zone_across_daylight_saving_time():
    daily = Schedule.daily(2, 30)
    # 2026-03-29: Paris skips 02:00-03:00. The slot still starts that day, at 03:30 local.
    slot = daily.slot(dt.datetime(2026, 3, 29, 2, 0, tzinfo=dt.UTC), "Europe/Paris")
    assert slot.key == "2026-03-29"
    assert slot.start == dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)
    # In winter 02:30 Paris is 01:30 UTC: at 01:00 UTC it is yesterday's slot.
    assert daily.slot(dt.datetime(2026, 11, 28, 1, 0, tzinfo=dt.UTC), "Europe/Paris").key == "2026-11-27"
    assert daily.slot(dt.datetime(2026, 11, 28, 1, 31, tzinfo=dt.UTC), "Europe/Paris").key == "2026-11-28"


def test_job_times_move_daily_and_hourly_jobs_and_refuse_nonsense():
    plan = registry.schedules(_settings(CS_JOB_TIMES="health-refresh=05:45, alert-check=:20"))
    assert plan["health-refresh"].describe() == "daily at 05:45 UTC"
    assert plan["alert-check"].describe() == "hourly at :20"
    assert plan["segment-refresh"] == registry.BY_NAME["segment-refresh"].schedule
    for bad, words in (
        ("nope=01:00", "no job named 'nope'"),
        ("journey-tick=:10", "only daily and hourly jobs take a time"),
        ("health-refresh=:10", "use HH:MM"),
        ("alert-check=25:00", "use :MM"),
    ):
        with pytest.raises(ConfigError, match=words):
            registry.schedules(_settings(CS_JOB_TIMES=bad))
    with pytest.raises(ConfigError, match="job=HH:MM"):
        _settings(CS_JOB_TIMES="health-refresh")


def test_every_job_of_the_plan_is_registered_in_a_sensible_order():
    names = [job.name for job in registry.JOBS]
    for name in (
        "health-refresh",
        "churn-predict",
        "segment-refresh",
        "journey-tick",
        "task-reminders",
        "alert-check",
        "automation",
        "outbox-deliver",
        "retention",
    ):
        assert name in names
    assert names.index("health-refresh") < names.index("segment-refresh") < names.index("playbook-evaluate")
    assert names.index("automation") < names.index("journey-tick") < names.index("outbox-deliver")
    with pytest.raises(BadInput, match="no job named 'helth-refresh'") as caught:
        registry.get("helth-refresh")
    assert caught.value.exit_code == 2 and "health-refresh" in (caught.value.hint or "")


def test_a_missing_service_makes_a_clear_error():
    with pytest.raises(registry.JobUnavailable, match="not available in this version of cs"):
        registry.service("cs_cli.services.no_such_module", "run", job="x")
    with pytest.raises(registry.JobUnavailable, match=r"cs_cli\.services\.events\.no_such_function"):
        registry.service("cs_cli.services.events", "no_such_function", job="x")


# --- the ledger: a slot runs once -------------------------------------------------------------------------


def test_a_slot_runs_once_and_the_next_slot_runs_again(engine, admin):
    calls = []
    job = _job("test-job", lambda ctx: calls.append(ctx.now) or {"done": 1})
    log = Lines()
    settings = _settings()
    first = runner.run_job(engine, job, actor=admin, settings=settings, moment=NOW, log=log)
    again = runner.run_job(
        engine, job, actor=admin, settings=settings, moment=NOW + dt.timedelta(minutes=30), log=log
    )
    later = runner.run_job(
        engine, job, actor=admin, settings=settings, moment=NOW + dt.timedelta(hours=1), log=log
    )
    assert (first.result, again.result, later.result) == ("succeeded", "skipped", "succeeded")
    assert "already ran for this slot" in again.reason
    assert calls == [NOW, NOW + dt.timedelta(hours=1)]
    rows = _runs(engine, "test-job")
    assert [(r.slot, r.status, r.attempts, r.counts) for r in rows] == [
        ("2026-11-28T14", JobStatus.SUCCEEDED, 1, {"done": 1}),
        ("2026-11-28T15", JobStatus.SUCCEEDED, 1, {"done": 1}),
    ]
    assert rows[0].finished_at >= rows[0].started_at and rows[0].pid and rows[0].host
    # The lease is let go after each run.
    with transaction(engine) as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(JobLease)) == 0
    # --force runs again under a slot of its own.
    forced = runner.run_job(engine, job, actor=admin, settings=settings, moment=NOW, log=log, force=True)
    assert forced.result == "succeeded" and forced.slot.startswith("manual ")
    assert len(calls) == 3


def test_two_machines_claiming_one_slot_get_one_run(engine):
    started = dt.datetime.now(dt.UTC)
    first = ledger.claim(engine, "test-job", "2026-11-28", started_at=started, retry_failed=True)
    second = ledger.claim(engine, "test-job", "2026-11-28", started_at=started, retry_failed=True)
    assert isinstance(first, ledger.Claimed) and first.attempt == 1
    assert isinstance(second, ledger.Taken) and second.status == JobStatus.RUNNING
    ledger.finish(engine, first, status=JobStatus.SUCCEEDED, finished_at=started)
    third = ledger.claim(engine, "test-job", "2026-11-28", started_at=started, retry_failed=True)
    assert isinstance(third, ledger.Taken) and third.status == JobStatus.SUCCEEDED


# --- failures ---------------------------------------------------------------------------------------------


def test_a_job_that_raises_is_recorded_and_the_next_job_still_runs(engine, admin):
    def broken(ctx: JobContext):
        raise RuntimeError("the scorecard went missing\nSELECT secret FROM somewhere")

    ran = []
    jobs = [
        _job("test-broken", broken),
        _job("test-fine", lambda ctx: ran.append(1) or {"rows": 3}),
    ]
    log = Lines()
    outcomes = runner.run_due(engine, actor=admin, settings=_settings(), moment=NOW, log=log, jobs=jobs)
    assert [(o.job, o.result) for o in outcomes] == [("test-broken", "failed"), ("test-fine", "succeeded")]
    assert ran == [1]
    broken_run, fine_run = _runs(engine)
    assert broken_run.status == JobStatus.FAILED
    assert broken_run.error == "RuntimeError: the scorecard went missing"  # one line, no statement
    assert broken_run.finished_at is not None
    assert fine_run.status == JobStatus.SUCCEEDED and fine_run.counts == {"rows": 3}
    assert any("test-broken [2026-11-28T14]: failed" in t for t in log.texts("error"))


def test_a_failed_slot_is_tried_again_after_the_delay_up_to_the_attempts(engine, admin):
    attempts = []

    def flaky(ctx):
        attempts.append(1)
        raise RuntimeError("smtp is down")

    jobs = [_job("test-flaky", flaky)]
    settings = _settings(CS_JOB_ATTEMPTS="2", CS_JOB_RETRY_DELAY="1s")
    due = lambda: runner.run_due(engine, actor=admin, settings=settings, moment=NOW, log=Lines(), jobs=jobs)  # noqa: E731
    assert [o.result for o in due()] == ["failed"]
    assert due() == []  # within the retry delay: not tried again
    time.sleep(1.1)
    assert [o.result for o in due()] == ["failed"]
    time.sleep(1.1)
    assert due() == []  # two attempts made: it waits for the next slot
    (row,) = _runs(engine)
    assert row.attempts == 2 and row.error == "RuntimeError: smtp is down"
    # Named on the command line, a failed slot is tried again at once.
    jobs[0] = _job("test-flaky", lambda ctx: {"ok": 1})
    outcome = runner.run_job(engine, jobs[0], actor=admin, settings=settings, moment=NOW, log=Lines())
    assert outcome.result == "succeeded"
    (row,) = _runs(engine)
    assert (row.status, row.attempts, row.error) == (JobStatus.SUCCEEDED, 3, None)


# --- the lease --------------------------------------------------------------------------------------------


def test_a_lease_is_exclusive_until_it_expires_then_taken_over(engine):
    a, b = leases.Holder("host-a", 11, "", "aaaa"), leases.Holder("host-b", 22, "", "bbbb")
    ttl = dt.timedelta(seconds=1)
    assert leases.claim(engine, "test-job", a, ttl) is None
    busy = leases.claim(engine, "test-job", b, ttl)
    assert busy is not None and busy.describe() == "host-a (pid 11)"
    assert leases.renew(engine, "test-job", a, ttl)
    time.sleep(1.2)
    assert leases.claim(engine, "test-job", b, ttl) is None  # a stopped renewing: b takes over
    assert not leases.renew(engine, "test-job", a, ttl)  # a learns it lost the lease
    leases.release(engine, "test-job", a)  # a's release does not free b's lease
    assert leases.claim(engine, "test-job", a, ttl) is not None
    leases.release(engine, "test-job", b)
    assert leases.claim(engine, "test-job", a, ttl) is None


def test_an_expired_lease_of_a_live_process_on_this_host_is_not_taken(engine):
    me = leases.Holder.me()
    assert leases.claim(engine, "test-job", me, dt.timedelta(seconds=1)) is None
    time.sleep(1.2)
    other = dataclasses.replace(leases.Holder.me(), pid=1 if me.pid != 1 else 2, started="x")
    busy = leases.claim(engine, "test-job", other, dt.timedelta(seconds=1))
    assert busy is not None and busy.stale_but_alive


def test_the_heartbeat_keeps_a_long_job_s_lease(engine, admin):
    inside = threading.Event()

    def slow(ctx):
        inside.set()
        time.sleep(2.5)
        return {}

    settings = _settings(CS_JOB_LEASE="1s")
    thread = threading.Thread(
        target=runner.run_job,
        args=(engine, _job("test-slow", slow)),
        kwargs={"actor": admin, "settings": settings, "moment": NOW, "log": Lines()},
    )
    thread.start()
    assert inside.wait(10)
    time.sleep(1.5)  # past the lease's first expiry: only the heartbeat keeps it
    rival = leases.Holder("elsewhere", 99, "", "rival")
    assert leases.claim(engine, "test-slow", rival, dt.timedelta(seconds=1)) is not None
    log = Lines()
    overlap = runner.run_job(
        engine, _job("test-slow", slow), actor=admin, settings=settings, moment=NOW, log=log
    )
    assert overlap.result == "skipped" and "is running on" in overlap.reason
    assert any("skipped" in t for t in log.texts("info"))
    thread.join()
    (row,) = _runs(engine, "test-slow")
    assert row.status == JobStatus.SUCCEEDED


def test_a_run_left_running_by_a_killed_process_is_abandoned_and_its_slot_run_again(engine, admin):
    # What a run killed with SIGKILL leaves: its ledger row running, its lease expired.
    dead = leases.Holder("elsewhere", 4242, "", "dead")
    leases.claim(engine, "test-job", dead, dt.timedelta(seconds=1))
    ledger.claim(engine, "test-job", "2026-11-28T14", started_at=NOW, retry_failed=True)
    time.sleep(1.2)
    log = Lines()
    outcome = runner.run_due(
        engine, actor=admin, settings=_settings(), moment=NOW, log=log, jobs=[_job("test-job", lambda c: {})]
    )
    assert [o.result for o in outcome] == ["succeeded"]
    (warning,) = log.texts("warning")
    assert "the run on" in warning and "abandoned" in warning
    (row,) = _runs(engine, "test-job")
    assert (row.status, row.attempts) == (JobStatus.SUCCEEDED, 2)


# --- cs jobs status ---------------------------------------------------------------------------------------


def _record(engine, job: str, slot: str, status_: JobStatus, started: dt.datetime, error: str | None = None):
    with transaction(engine) as session:
        session.add(
            JobRun(
                job=job,
                slot=slot,
                status=status_,
                started_at=started,
                finished_at=None if status_ == JobStatus.RUNNING else started + dt.timedelta(seconds=3),
                error=error,
            )
        )


def test_status_says_ok_failing_overdue_running_and_never_run(engine):
    _record(engine, "health-refresh", "2026-11-28", JobStatus.SUCCEEDED, NOW.replace(hour=2))
    _record(engine, "segment-refresh", "2026-11-28T13", JobStatus.SUCCEEDED, NOW.replace(hour=13, minute=5))
    _record(engine, "alert-check", "2026-11-28T13", JobStatus.FAILED, NOW.replace(hour=13, minute=15), "boom")
    # journey-tick last succeeded an hour ago: the slot after it has been due for long.
    _record(engine, "journey-tick", "2026-11-28T13:05", JobStatus.SUCCEEDED, NOW.replace(hour=13, minute=5))
    # outbox-deliver is running now (a live lease); retention was killed (no lease).
    _record(engine, "outbox-deliver", "2026-11-28T14:07", JobStatus.RUNNING, NOW)
    leases.claim(engine, "outbox-deliver", leases.Holder("box-2", 7, "", "t"), dt.timedelta(days=2))
    _record(engine, "retention", "2026-11-28", JobStatus.RUNNING, NOW.replace(hour=4))
    states = {s.job: s for s in status(engine, _settings(), now=NOW)}
    assert states["health-refresh"].state == "ok"
    assert states["health-refresh"].next_due_at == dt.datetime(2026, 11, 29, 2, 0, tzinfo=dt.UTC)
    assert states["health-refresh"].last_seconds == 3
    assert states["segment-refresh"].state == "ok"  # 14:07: the 14:05 slot's run may be on its way
    assert states["alert-check"].state == "failing" and states["alert-check"].error == "boom"
    assert states["journey-tick"].state == "overdue"
    assert (
        states["outbox-deliver"].state == "running" and states["outbox-deliver"].running_on == "box-2 (pid 7)"
    )
    assert states["retention"].state == "failing" and "abandoned" in states["retention"].error
    assert states["churn-predict"].state == "never run"
    assert {s.job for s in states.values() if s.is_alarm} == {
        "alert-check",
        "journey-tick",
        "retention",
        "churn-predict",
        "playbook-evaluate",
        "automation",
        "task-reminders",
    }


# --- retention ----------------------------------------------------------------------------------------------


def test_retention_deletes_old_operational_rows_in_batches_and_keeps_the_rest(engine, admin):
    old = NOW - dt.timedelta(days=400)
    recent = NOW - dt.timedelta(days=10)
    with transaction(engine) as session:
        for n, (status_, at) in enumerate(
            [
                (OutboxStatus.SENT, old),
                (OutboxStatus.SENT, old),
                (OutboxStatus.DEAD, old),
                (OutboxStatus.PENDING, old),  # not delivered yet: kept
                (OutboxStatus.SENT, recent),
            ]
        ):
            session.add(
                OutboxMessage(
                    channel=OutboxChannel.EMAIL,
                    idempotency_key=f"k{n}",
                    status=status_,
                    recipient="a@example.com",
                    payload={},
                    sent_at=at if status_ == OutboxStatus.SENT else None,
                    created_at=at,
                )
            )
        for _ in range(5):
            session.add(DomainEvent(event_type="test.old", occurred_at=old, created_at=old))
        session.add(DomainEvent(event_type="test.new", occurred_at=recent, created_at=recent))
        session.flush()
        first_id = session.scalar(sa.select(sa.func.min(DomainEvent.id)))
        # One consumer has read only the first three events; one that has not
        # run for longer than events are kept (a removed rule) holds nothing back.
        session.add(EventCursor(consumer="journey:x", position=first_id + 2, updated_at=NOW))
        session.add(EventCursor(consumer="automation:gone", position=0, updated_at=old))
        session.add(JobRun(job="x", slot="a", status=JobStatus.SUCCEEDED, started_at=old, finished_at=old))
        session.add(
            JobRun(job="x", slot="b", status=JobStatus.SUCCEEDED, started_at=recent, finished_at=recent)
        )
    settings = _settings(CS_BATCH_SIZE="2")
    ctx = JobContext(engine=engine, actor=admin, now=NOW, settings=settings)
    counts = registry.retention(ctx)
    assert counts == {
        "outbox": 3,
        "events": 3,
        "job_runs": 1,
        "touchpoints": 0,
        "health_history": 0,
        "tasks": 0,
        "journeys": 0,
    }
    with transaction(engine) as session:
        assert sorted(session.scalars(sa.select(OutboxMessage.idempotency_key))) == ["k3", "k4"]
        assert session.scalar(sa.select(sa.func.min(DomainEvent.id))) == first_id + 3
        assert session.scalar(sa.select(sa.func.count()).select_from(DomainEvent)) == 3
        assert list(session.scalars(sa.select(JobRun.slot))) == ["b"]
    # off keeps a kind for ever.
    off = _settings(CS_RETENTION_EVENTS="off")
    with transaction(engine) as session:
        session.execute(sa.delete(EventCursor))
    assert registry.retention(JobContext(engine=engine, actor=admin, now=NOW, settings=off))["events"] == 0


def test_the_json_log_has_one_object_a_line(capsys):
    import io
    import json

    out, file = io.StringIO(), io.StringIO()
    log = JobLog(fmt="json", level="warning", stream=out, file=file)
    log("info", "x [s]: started", job="x", slot="s", event="started")
    log("error", "x [s]: failed", job="x", slot="s", event="failed", error="boom")
    assert [json.loads(line)["event"] for line in out.getvalue().splitlines()] == ["failed"]
    assert [json.loads(line)["level"] for line in file.getvalue().splitlines()] == ["info", "error"]
