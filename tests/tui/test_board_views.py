"""The task board's customer-side filters (owner, health, renewal, ARR band,
segment), its saved views and its live updates, driven with Textual's pilot
on both dialects: card ids checked against the rows made here, views against
the board_views rows and the audit trail, live reloads against a second
connection's commits."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import (
    AuditEntry,
    BoardView,
    CSTask,
    Customer,
    CustomerSegment,
    HealthOverride,
    Playbook,
    Segment,
    User,
)
from cs_cli.domain import HealthStatus, PlaybookCategory, Priority, TaskStatus, TaskType
from cs_cli.services.tasks.saved_views import find_view
from cs_cli.tui.app import BoardApp
from cs_cli.tui.data import Database
from cs_cli.tui.driving import notices, run, screen_text, settle, until
from cs_cli.tui.widgets.tasks.column import TaskColumn

DAY = dt.date(2025, 1, 10)
NOW = dt.datetime(2025, 1, 10, 12, tzinfo=dt.UTC)
P, W, B = TaskStatus.PENDING, TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED
PLAYBOOK = "[b]Risky[/b] Response"
SEGMENT = "Top [accounts]"


@pytest.fixture
def world(engine, book) -> dict[str, int]:
    """One pending task per customer of the small book (E-2 is churned: none),
    assigned to its CSM (the orphan's to admin), and a blocked one for E-1.
    E-3 has a critical override in force; W-2 and U-1 are not scored; the
    segment holds E-3 and W-2 (E-1 left it). Task ids by customer."""
    with transaction(engine) as s:
        ids = dict(s.execute(sa.select(Customer.external_id, Customer.id)).all())
        csm = dict(s.execute(sa.select(Customer.external_id, Customer.csm_id)).all())
        admin = s.scalar(sa.select(User.id).where(User.login == "admin"))
        playbook = Playbook(key="risky", name=PLAYBOOK, category=PlaybookCategory.CHURN_RISK)
        segment = Segment(name=SEGMENT)
        s.add_all([playbook, segment])
        s.flush()
        tasks = {}
        for n, ext in enumerate(("E-1", "E-3", "M-1", "W-1", "W-2", "U-1")):
            task = CSTask(
                customer_id=ids[ext],
                title=f"Work on {ext}",
                task_type=TaskType.CALL,
                priority=Priority.MEDIUM,
                status=TaskStatus.PENDING,
                due_date=DAY + dt.timedelta(days=n),
                assigned_to_user_id=csm[ext] or admin,
                playbook_id=playbook.id if ext == "W-1" else None,
                created_at=NOW,
            )
            s.add(task)
            s.flush()
            tasks[ext] = task.id
        blocked = CSTask(
            customer_id=ids["E-1"],
            title="Waiting on E-1",
            task_type=TaskType.INTERNAL,
            priority=Priority.LOW,
            status=TaskStatus.BLOCKED,
            blocked_reason="legal",
            assigned_to_user_id=csm["E-1"],
            created_at=NOW,
        )
        s.add(blocked)
        s.add(
            HealthOverride(
                customer_id=ids["E-3"],
                overall_score=20,
                health_status=HealthStatus.CRITICAL,
                reason="exec left",
                expires_on=DAY + dt.timedelta(days=30),
                set_by="admin",
            )
        )
        entered = NOW - dt.timedelta(days=30)
        s.add_all(
            [
                CustomerSegment(customer_id=ids["E-3"], segment_id=segment.id, entered_at=entered),
                CustomerSegment(customer_id=ids["W-2"], segment_id=segment.id, entered_at=entered),
                CustomerSegment(
                    customer_id=ids["E-1"], segment_id=segment.id, entered_at=entered, exited_at=NOW
                ),
            ]
        )
        s.flush()
        tasks["blocked"] = blocked.id
    return tasks


def _app(engine, user: str, **kw) -> BoardApp:
    db = Database(engine, user, as_of=DAY)
    db.connect()
    return BoardApp(db, **kw)


def _run(app: BoardApp, scenario, size=(120, 40)) -> None:
    run(app, scenario, size, settled=True)


def column(app: BoardApp, status: TaskStatus) -> TaskColumn:
    return app.screen.query_one(f"#col-{status.value}", TaskColumn)


def pending(app: BoardApp) -> set[int]:
    return {c.id for c in column(app, P).cards}


def status_line(app: BoardApp) -> str:
    return str(app.screen.query_one("#status-line").render())


def test_each_customer_filter_narrows_the_cards(engine, world):
    app = _app(engine, "admin")
    t = world

    async def scenario(pilot) -> None:
        board = app.screen
        assert pending(app) == {t[e] for e in ("E-1", "E-3", "M-1", "W-1", "W-2", "U-1")}
        cases = [
            ({"owner": "bo@example.com"}, {"W-1", "W-2"}, "owner bo@example.com"),
            ({"health": "critical"}, {"W-1", "E-3"}, "health critical"),  # E-3 by its override
            ({"health": "at_risk"}, {"M-1"}, "health at risk"),
            ({"health": "healthy"}, {"E-1"}, "health healthy"),
            ({"health": "not_scored"}, {"W-2", "U-1"}, "health not scored"),
            ({"health": "onboarding"}, set(), "health onboarding"),
            ({"renewal_within": 15}, {"M-1", "W-1"}, "renewing within 15d"),
            ({"renewal_within": 30}, {"M-1", "W-1", "E-1"}, "renewing within 30d"),
            ({"arr_min": 100_000}, {"E-1", "E-3", "W-2"}, "ARR 100k+"),
            ({"arr_min": 60_000, "arr_max": 150_000}, {"E-1", "M-1"}, "ARR 60k-150k"),
            ({"arr_max": 60_000}, {"W-1"}, "ARR up to 60k"),
            ({"segment": SEGMENT}, {"E-3", "W-2"}, f"segment {SEGMENT}"),
            ({"segment": SEGMENT, "arr_min": 400_000}, {"W-2"}, "ARR 400k+"),
            ({"playbook": "risky"}, {"W-1"}, "playbook risky"),
        ]
        for changes, expected, words in cases:
            board._set_filter(**{**dict.fromkeys(("owner", "health", "renewal_within"), None), **changes})
            await settle(pilot)
            assert pending(app) == {t[e] for e in expected}, changes
            assert words in status_line(app), (changes, status_line(app))
            board.board_filter = board.board_filter.cleared()
        # The blocked card of E-1 follows the same filters.
        board._set_filter(arr_min=100_000)
        await settle(pilot)
        assert [c.id for c in column(app, B).cards] == [t["blocked"]]
        board._set_filter(arr_min=None, segment=SEGMENT)
        await settle(pilot)
        assert column(app, B).cards == []  # E-1 left the segment

    _run(app, scenario)


def test_the_filter_form_sets_them_and_shows_names_as_plain_text(engine, world):
    app = _app(engine, "admin")

    async def scenario(pilot) -> None:
        await pilot.press("f")
        await settle(pilot)
        form = app.screen
        assert form.__class__.__name__ == "FilterModal"
        # Names that look like markup are drawn as they are, in the closed
        # select and in its list.
        form.query_one("#playbook").value = "risky"
        form.query_one("#segment").value = SEGMENT
        await pilot.pause()
        text = screen_text(app)
        assert PLAYBOOK in text and SEGMENT in text
        form.query_one("#playbook").focus()
        await pilot.press("enter")
        await pilot.pause()
        assert f"{PLAYBOOK} (risky)" in screen_text(app)
        await pilot.press("escape")
        form.query_one("#playbook").clear()
        # Health by the keyboard; renewal window and ARR band typed.
        form.query_one("#health").focus()
        await pilot.press("enter", "down", "down", "enter")  # any -> healthy -> at risk
        form.query_one("#renewal").value = "30"
        form.query_one("#arr-min").value = "50k"
        form.query_one("#arr-max").value = "0.1m"
        form.query_one("#snoozed").focus()
        await pilot.press("tab", "enter")  # Apply
        await settle(pilot)
        flt = app.screen.board_filter
        assert (flt.health, flt.renewal_within, flt.arr_min, flt.arr_max, flt.segment) == (
            "at_risk",
            30,
            50_000,
            100_000,
            SEGMENT,
        )
        assert pending(app) == set()  # M-1 is at risk but outside the segment
        line = status_line(app)
        for words in ("health at risk", "renewing within 30d", "ARR 50k-100k", f"segment {SEGMENT}"):
            assert words in line

        # A band upside down is said under the fields; the form stays open.
        await pilot.press("f")
        await settle(pilot)
        app.screen.query_one("#arr-min").value = "2m"
        app.screen.query_one("#arr-min").focus()
        await pilot.press("enter")
        assert app.screen.__class__.__name__ == "FilterModal"
        assert "upside down" in str(app.screen.query_one(".form-error").render())
        await pilot.click("#back")  # clear all
        await settle(pilot)
        assert app.screen.board_filter.describe() == [] and len(pending(app)) == 6

    _run(app, scenario)


def _views(engine) -> list[tuple[str, str, dict]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(User.login, BoardView.name, BoardView.filters)
            .join(User, User.id == BoardView.user_id)
            .order_by(BoardView.name)
        )
        return [tuple(r) for r in rows]


def _audit(engine, action: str) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(AuditEntry.details).where(AuditEntry.action == action))
        return [r.details for r in rows]


def test_save_apply_and_delete_a_view(engine, world):
    t = world
    app = _app(engine, "ana")

    async def scenario(pilot) -> None:
        board = app.screen
        assert pending(app) == {t["E-1"], t["E-3"]}
        assert "saved view" not in status_line(app)  # none yet: no hint
        board._set_filter(arr_min=200_000)
        await settle(pilot)
        assert pending(app) == {t["E-3"]}

        # v: the list (empty); a name typed and enter saves the filters.
        await pilot.press("v")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "ViewsModal"
        assert "No saved views yet" in screen_text(app)
        app.screen.query_one("#view-name").insert_text_at_cursor("Big ones")
        await pilot.press("enter")
        await settle(pilot)
        assert _views(engine) == [("ana", "Big ones", {"arr_min": 200000})]
        assert _audit(engine, "board_view.save") == [
            {"name": "Big ones", "filters": {"arr_min": 200000}, "replaced": False}
        ]
        assert "view Big ones" in status_line(app)
        assert any(n.startswith("saved view Big ones") for n in notices(app))

        # Clear the filters, then apply the view from the list.
        board._set_filter(arr_min=None)
        await settle(pilot)
        assert "view Big ones (changed)" in status_line(app)
        assert len(pending(app)) == 2
        await pilot.press("v")
        await settle(pilot)
        assert "Big ones" in screen_text(app) and "ARR 200k+" in screen_text(app)
        await pilot.press("enter")
        await settle(pilot)
        assert pending(app) == {t["E-3"]} and board.board_filter.arr_min == 200_000

        # d deletes the highlighted one.
        await pilot.press("v")
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert _views(engine) == []
        assert _audit(engine, "board_view.delete") == [{"name": "Big ones", "filters": {"arr_min": 200000}}]
        assert "view Big ones" not in status_line(app)

    _run(app, scenario)


def test_a_board_starts_on_a_view_and_offers_saved_ones(engine, world):
    t = world
    with transaction(engine) as s:
        ana = s.scalar(sa.select(User.id).where(User.login == "ana"))
        s.add_all(
            [
                BoardView(user_id=ana, name="Renewals", filters={"renewal_within": 30}, created_at=NOW),
                BoardView(user_id=ana, name="Top", filters={"segment": SEGMENT}, created_at=NOW),
            ]
        )
    db = Database(engine, "ana", as_of=DAY)
    db.connect()
    view = db.call(find_view, "Top")
    app = BoardApp(db, view=view)

    async def scenario(pilot) -> None:
        assert pending(app) == {t["E-3"]}
        assert "view Top" in status_line(app) and f"segment {SEGMENT}" in status_line(app)

    _run(app, scenario)

    # Without --view: the status line says there are two, v opens them.
    plain = _app(engine, "ana")

    async def offered(pilot) -> None:
        assert "v: your 2 saved views" in status_line(plain)
        await pilot.press("v")
        await settle(pilot)
        await pilot.press("enter")  # the first, by name: Renewals
        await settle(pilot)
        assert pending(plain) == {t["E-1"]}
        assert "view Renewals" in status_line(plain)

    _run(plain, offered)


def _touch(engine, task_id: int, **values) -> None:
    """A change from another connection, as another shell or cron makes it."""
    with transaction(engine) as s:
        s.execute(
            sa.update(CSTask).where(CSTask.id == task_id).values(**values, updated_at=dt.datetime.now(dt.UTC))
        )


def test_changes_made_elsewhere_show_without_a_key_and_the_cursor_stays(engine, world):
    t = world
    app = _app(engine, "admin", poll=0.1)

    async def scenario(pilot) -> None:
        # The cursor on W-1's card (the fourth).
        column(app, P).card_list.focus()
        await pilot.press("down", "down", "down")
        assert app.screen.current_card().id == t["W-1"]
        blocked_options = list(column(app, B).card_list._options)

        # Another connection starts E-1's task: it moves without a key.
        _touch(engine, t["E-1"], status=TaskStatus.IN_PROGRESS, started_at=NOW)
        await until(pilot, lambda: [c.id for c in column(app, W).cards] == [t["E-1"]], "the live reload")
        assert t["E-1"] not in pending(app)
        # The cursor stayed on its card though it moved up a place.
        assert app.screen.current_card().id == t["W-1"]
        # The blocked column's cards did not change: it was not drawn again.
        assert column(app, B).card_list._options == blocked_options
        assert all(a is b for a, b in zip(column(app, B).card_list._options, blocked_options, strict=True))

        # A new title elsewhere shows too, on the same card.
        _touch(engine, t["W-1"], title="Renamed elsewhere")
        await until(
            pilot, lambda: "Renamed elsewhere" in [c.title for c in column(app, P).cards], "the new title"
        )
        assert app.screen.current_card().id == t["W-1"]

    _run(app, scenario)


def test_health_and_arr_changed_elsewhere_show_on_the_cards_without_a_key(engine, world):
    """A card shows its customer's health and ARR: an override set and an
    ARR changed from another connection (cs health override, an import)
    redraw it with no key pressed."""
    t = world
    app = _app(engine, "admin", poll=0.1)

    def card(ext: str):
        return next(c for c in column(app, P).cards if c.id == t[ext])

    async def scenario(pilot) -> None:
        assert not card("M-1").health_overridden
        with transaction(engine) as s:
            m1 = s.scalar(sa.select(Customer.id).where(Customer.external_id == "M-1"))
            s.execute(sa.update(Customer).where(Customer.id == m1).values(arr=777000))
            s.add(
                HealthOverride(
                    customer_id=m1,
                    overall_score=17,
                    health_status=HealthStatus.CRITICAL,
                    reason="champion left",
                    expires_on=DAY + dt.timedelta(days=30),
                    set_by="admin",
                )
            )
        await until(pilot, lambda: card("M-1").health_overridden, "the live reload")
        await until(pilot, lambda: "♥ 17* critical" in screen_text(app), "the new badge painted")
        assert "ARR 777k" in screen_text(app)

    _run(app, scenario, size=(160, 48))


def test_a_change_refused_because_the_task_moved_reloads_it(engine, world):
    t = world
    app = _app(engine, "admin")  # no live updates: only the refusal reloads

    async def scenario(pilot) -> None:
        column(app, P).card_list.focus()
        assert app.screen.current_card().id == t["E-1"]
        _touch(engine, t["E-1"], status=TaskStatus.COMPLETED, completed_at=NOW)
        await pilot.press("t")  # start: it is completed by now
        await settle(pilot)
        assert any(f"task {t['E-1']}" in n and "completed" in n for n in notices(app))
        assert t["E-1"] not in pending(app)
        assert t["E-1"] in {c.id for c in column(app, TaskStatus.COMPLETED).cards}

    _run(app, scenario)
