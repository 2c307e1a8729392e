"""`cs report qbr`: a customer's quarterly business review pack, from the
shipped template or the user's own (sandboxed), only for customers the user
may see."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from cs_cli.db.models import CSTask, Customer, HealthScoreHistory, UsageEvent
from cs_cli.domain import HealthStatus, TaskOutcome, TaskStatus

AS_OF = "2025-01-15"


def _arrange(engine, users) -> None:
    with engine.begin() as conn:
        ids = dict(conn.execute(sa.select(Customer.external_id, Customer.id)).all())
        conn.execute(
            sa.update(Customer)
            .where(Customer.id == ids["E-1"])
            .values(name="<script>alert(1)</script> Alpha")
        )
        for day, score, adoption in ((dt.date(2024, 10, 20), 70, 60), (dt.date(2025, 1, 10), 55, 30)):
            conn.execute(
                sa.insert(HealthScoreHistory).values(
                    customer_id=ids["E-1"],
                    as_of=day,
                    overall_score=score,
                    health_status=HealthStatus.AT_RISK,
                    product_adoption_score=adoption,
                    measures={},
                    calculated_at=dt.datetime(2025, 1, 10, tzinfo=dt.UTC),
                )
            )
        for day in (dt.date(2024, 10, 20), dt.date(2024, 10, 21), dt.date(2025, 1, 14)):
            conn.execute(
                sa.insert(UsageEvent).values(
                    customer_id=ids["E-1"],
                    event_name="login",
                    occurred_at=dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC),
                    quantity=1,
                )
            )
        for title, status, done, outcome in (
            (
                "Kickoff call",
                TaskStatus.COMPLETED,
                dt.datetime(2024, 11, 2, tzinfo=dt.UTC),
                TaskOutcome.SUCCESSFUL,
            ),
            ("Adoption plan", TaskStatus.PENDING, None, None),
        ):
            conn.execute(
                sa.insert(CSTask).values(
                    customer_id=ids["E-1"],
                    assigned_to_user_id=users["ana"],
                    title=title,
                    status=status,
                    completed_at=done,
                    outcome=outcome,
                    due_date=dt.date(2025, 2, 1),
                )
            )


def test_a_qbr_pack_from_the_shipped_template(run_cli, book, engine, tmp_path):
    _arrange(engine, book)
    path = tmp_path / "qbr.html"
    result = run_cli("report", "qbr", "E-1", "--html", path, "--as-of", AS_OF, user="ana")
    assert result.exit_code == 0, result.stderr
    text = path.read_text()
    # Data is escaped, never markup.
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "2024-10-17 to 2025-01-15" in text
    assert "70 at the start of the quarter and 55 at its end" in text
    assert "product adoption: 60 to 30 (-30)" in text
    assert "3 events over the quarter; 1 in its last six weeks against 2 in its first six" in text
    assert "<td>Kickoff call</td><td>successful</td>" in text
    assert "Adoption plan (due 2025-02-01)" in text
    assert text.count("<svg") == 2 and "<script" not in text


def test_only_for_customers_you_can_see(run_cli, book, engine, tmp_path):
    _arrange(engine, book)
    path = tmp_path / "qbr.html"
    result = run_cli("report", "qbr", "W-1", "--html", path, user="ana")
    assert result.exit_code == 4
    assert "no customer 'W-1'" in result.stderr
    assert not path.exists()


def test_your_own_template_sandboxed(run_cli, book, engine, tmp_path):
    _arrange(engine, book)
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "qbr.html").write_text(
        "<h1>{{ customer.name }}</h1> ARR {{ customer.arr }} goals {{ goals | length }}\n"
    )
    path = tmp_path / "mine.html"
    result = run_cli("report", "qbr", "E-1", "--html", path, "--templates", folder, "--as-of", AS_OF)
    assert result.exit_code == 0, result.stderr
    assert path.read_text() == "<h1>&lt;script&gt;alert(1)&lt;/script&gt; Alpha</h1> ARR 120000.0 goals 1\n"
    (folder / "qbr.html").write_text("{{ customer.__class__.__mro__ }}\n")
    refused = run_cli("report", "qbr", "E-1", "--html", path, "--templates", folder, "--as-of", AS_OF)
    assert refused.exit_code == 2
    assert "qbr.html" in refused.stderr
    assert path.read_text().startswith("<h1>")  # the old file is left whole


def test_the_qbr_planning_playbook_points_at_the_pack(run_cli, book, engine):
    assert run_cli("playbooks", "load").exit_code == 0
    result = run_cli("playbooks", "trigger", "qbr_planning", "E-1")
    assert result.exit_code == 0, result.stderr
    with engine.connect() as conn:
        first = conn.scalar(
            sa.select(CSTask.description)
            .join(Customer, Customer.id == CSTask.customer_id)
            .where(Customer.external_id == "E-1", CSTask.title.like("%Gather Metrics%"))
        )
    assert "cs report qbr E-1 --html qbr-E-1.html" in first


def test_a_qbr_pack_as_pdf_fetches_nothing(run_cli, book, engine, tmp_path, http_server):
    import pypdf

    _arrange(engine, book)
    path = tmp_path / "qbr.pdf"
    result = run_cli("report", "qbr", "E-1", "--pdf", path, "--as-of", AS_OF, user="ana")
    assert result.exit_code == 0, result.stderr
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(path).pages)
    assert "Quarterly business review" in text and "<script>alert(1)</script> Alpha" in text
    # A template naming an image and a style sheet on a server and on disk:
    # the PDF is made, and neither is fetched or read.
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red }")
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "qbr.html").write_text(
        f'<link rel="stylesheet" href="{http_server.url("/style.css")}">'
        f'<link rel="stylesheet" href="file://{secret}">'
        f'<img src="{http_server.url("/logo.png")}"><h1>{{{{ customer.name }}}}</h1>\n'
    )
    mine = tmp_path / "mine.pdf"
    result = run_cli("report", "qbr", "E-1", "--pdf", mine, "--templates", folder, "--as-of", AS_OF)
    assert result.exit_code == 0, result.stderr
    assert "Alpha" in pypdf.PdfReader(mine).pages[0].extract_text()
    assert http_server.requests == []


def test_a_qbr_pack_needs_a_file(run_cli, book):
    result = run_cli("report", "qbr", "E-1")
    assert result.exit_code == 2
    assert "--html FILE, --pdf FILE or both" in result.stderr
