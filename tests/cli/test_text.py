"""Reading what customers say (docs/text.md): sentiment and key topics of
touchpoints and tickets, on import, when logged and by `cs touchpoints
analyze`; book-wide themes; `key_topics contains` in segment rules."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import sqlalchemy as sa

from cs_cli.db.engine import transaction
from cs_cli.db.models import Customer, SupportTicket, Touchpoint
from cs_cli.enums import Sentiment, SentimentSource, TouchpointType
from cs_cli.services.text.language import MAX_CHARS, readable
from cs_cli.services.text.sentiment import Analyser, analyser_for
from cs_cli.specs.lexicon import load_lexicon


def _at(day: int) -> dt.datetime:
    return dt.datetime(2026, 11, day, 10, tzinfo=dt.UTC)


def _row(engine, model, key, value):
    with transaction(engine) as s:
        return s.scalars(sa.select(model).where(getattr(model, key) == value)).one()


# -- the analyser alone ------------------------------------------------------


def test_negation_emphasis_and_the_domain_lexicon():
    cs, plain = analyser_for(), Analyser(load_lexicon(), domain=False)
    # Words VADER does not know here.
    assert plain.read("Customer wants to escalate the outage").label == Sentiment.NEUTRAL
    assert cs.read("Customer wants to escalate the outage").label == Sentiment.NEGATIVE
    assert plain.read("We're not renewing").label == Sentiment.NEUTRAL
    assert cs.read("We're not renewing").label == Sentiment.NEGATIVE
    # A phrase, and the same phrase negated.
    at_risk = cs.read("The renewal at risk after budget cuts")
    assert at_risk.label == Sentiment.NEGATIVE and at_risk.score < -0.5
    assert cs.read("The renewal is not at risk").label == Sentiment.POSITIVE
    # Emphasis: capitals and exclamation marks push the same words further.
    assert cs.read("They LOVE the new dashboard!!!").score > cs.read("they love the new dashboard").score
    # "support" is no praise in a support ticket.
    assert plain.read("Support ticket").label == Sentiment.POSITIVE
    assert cs.read("Support ticket").label == Sentiment.NEUTRAL


def test_empty_and_non_english_text_get_no_score_not_neutral():
    cs = analyser_for()
    for text in (
        None,
        "",
        "   \n",
        "42 / 17",
        "Der Kunde ist nicht zufrieden mit dem Support",
        "お客様は新しいダッシュボードにとても満足しています",
        "Merci à vous pour votre aide",
    ):
        assert cs.read(text) is None, text
    assert readable("Check-in") and cs.read("Check-in").label == Sentiment.NEUTRAL
    # Only the first MAX_CHARS characters are read: praise after them counts for nothing.
    long = "x " * (MAX_CHARS // 2) + "we love it, wonderful, excellent"
    assert cs.read(long).score == 0.0


def test_a_lexicon_file_adds_words_and_its_errors_name_the_line(tmp_path, run_cli, book):
    own = tmp_path / "lexicon.yaml"
    own.write_text("words:\n  sunset: -3.0\nphrases:\n  moving off: -2.5\n")
    lexicon = load_lexicon(own)
    assert ("sunset", -3.0) in lexicon.words and ("churn", -3.0) in lexicon.words
    assert analyser_for(lexicon).read("They plan to sunset our tool").label == Sentiment.NEGATIVE
    assert analyser_for().read("They plan to sunset our tool").label == Sentiment.NEUTRAL
    replaced = tmp_path / "only.yaml"
    replaced.write_text("replace: true\nwords:\n  sunset: -3.0\n")
    assert [w for w, _ in load_lexicon(replaced).words] == ["sunset"]

    bad = tmp_path / "bad.yaml"
    bad.write_text("words:\n  churn: -3\n  outage: bad\n")
    logged = run_cli(
        "touchpoints", "log", "E-1", "-t", "call", "--subject", "x", env={"CS_TEXT_LEXICON": str(bad)}
    )
    assert logged.exit_code == 2
    assert (
        logged.stderr.startswith(f"error: {bad}:3")
        and "words.outage: the valence is a number" in logged.stderr
    )
    bad.write_text("words:\n  renewal at risk: -3\n")
    assert (
        "one word; put it under phrases"
        in run_cli(
            "touchpoints", "log", "E-1", "-t", "call", "--subject", "x", env={"CS_TEXT_LEXICON": str(bad)}
        ).stderr
    )


# -- when text arrives ---------------------------------------------------------


def test_logging_reads_the_text_unless_a_sentiment_is_given(run_cli, book, engine, tmp_path):
    read = run_cli(
        "touchpoints",
        "log",
        "E-1",
        "-t",
        "call",
        "--subject",
        "Escalation: SSO outage",
        "--notes",
        "They are frustrated and mention cancelling",
        "--format",
        "json",
    )
    assert read.exit_code == 0, read
    card = json.loads(read.stdout)
    assert card["sentiment_label"] == "negative" and -1 <= card["sentiment_score"] < -0.5
    assert "sso outage" in card["key_topics"]
    given = run_cli(
        "touchpoints",
        "log",
        "E-1",
        "-t",
        "call",
        "--subject",
        "Escalation: SSO outage",
        "--sentiment",
        "positive",
        "--format",
        "json",
    )
    card = json.loads(given.stdout)
    assert card["sentiment_label"] == "positive" and card["sentiment_score"] is None
    row = _row(engine, Touchpoint, "id", card["id"])
    assert row.sentiment_source == SentimentSource.GIVEN
    foreign = run_cli(
        "touchpoints",
        "log",
        "E-1",
        "-t",
        "call",
        "--subject",
        "Llamada con el cliente",
        "--notes",
        "El cliente está muy contento con la nueva versión",
        "--format",
        "json",
    )
    card = json.loads(foreign.stdout)
    assert card["sentiment_label"] is None and card["sentiment_score"] is None and card["key_topics"] == []


def test_import_reads_touchpoints_and_tickets_and_keeps_a_given_label(run_cli, book, engine, tmp_path):
    touchpoints = tmp_path / "touchpoints.csv"
    touchpoints.write_text(
        "external_id,customer_id,touchpoint_type,occurred_at,subject,description,sentiment_label\n"
        "T-1,E-1,call,2026-11-02T10:00,Renewal call,Renewal at risk: budget cuts,\n"
        "T-2,E-1,call,2026-11-03T10:00,Renewal call,Renewal at risk: budget cuts,positive\n"
    )
    tickets = tmp_path / "tickets.csv"
    tickets.write_text(
        "external_id,customer_id,opened_at,subject,description\n"
        "K-1,E-1,2026-11-04T10:00,Dashboard broken,The export crashes every time; we are very frustrated\n"
        "K-2,E-1,2026-11-05T10:00,,\n"
    )
    assert run_cli("import", "touchpoints", touchpoints).exit_code == 0
    imported = run_cli("import", "tickets", tickets)
    assert imported.exit_code == 0, imported
    t1, t2 = _row(engine, Touchpoint, "external_id", "T-1"), _row(engine, Touchpoint, "external_id", "T-2")
    assert t1.sentiment_label == Sentiment.NEGATIVE and t1.sentiment_source == SentimentSource.CS
    assert t1.key_topics and "budget cuts" in t1.key_topics
    assert t2.sentiment_label == Sentiment.POSITIVE and t2.sentiment_score is None
    assert t2.sentiment_source == SentimentSource.GIVEN
    k1, k2 = (
        _row(engine, SupportTicket, "external_id", "K-1"),
        _row(engine, SupportTicket, "external_id", "K-2"),
    )
    assert k1.sentiment_label == Sentiment.NEGATIVE and k1.sentiment_score < -0.5
    assert k1.description.startswith("The export") and "dashboard broken" in k1.key_topics
    assert k2.sentiment_score is None and k2.sentiment_label is None and k2.key_topics == []
    # The same file again changes nothing.
    again = run_cli("import", "tickets", tickets)
    assert "2 unchanged" in again.stderr, again.stderr


def test_analyze_reads_stored_rows_once_and_overwrite_replaces_given_labels(run_cli, book, engine):
    with transaction(engine) as s:
        e1 = s.scalar(sa.select(Customer.id).where(Customer.external_id == "E-1"))
        s.add_all(
            [
                Touchpoint(
                    customer_id=e1,
                    touchpoint_type=TouchpointType.CALL,
                    occurred_at=_at(1),
                    subject="Great QBR, they want to expand seats",
                ),
                Touchpoint(
                    customer_id=e1,
                    touchpoint_type=TouchpointType.CALL,
                    occurred_at=_at(2),
                    subject="Customer threatens to churn",
                    sentiment_label=Sentiment.POSITIVE,
                    sentiment_source=SentimentSource.GIVEN,
                ),
                Touchpoint(
                    customer_id=e1,
                    touchpoint_type=TouchpointType.CALL,
                    occurred_at=_at(3),
                    subject="Anruf mit dem Kunden",
                    description="Der Kunde ist nicht zufrieden",
                ),
            ]
        )
        s.add(SupportTicket(external_id="K-9", customer_id=e1, opened_at=_at(4), subject="Login outage"))
    first = run_cli("touchpoints", "analyze", "--format", "json")
    assert first.exit_code == 0, first
    counts = {r["kind"]: r for r in json.loads(first.stdout)}
    assert counts["touchpoints"] == {
        "kind": "touchpoints",
        "read": 3,
        "scored": 1,
        "kept": 1,
        "unscored": 1,
        "with_topics": 2,
    }
    assert counts["tickets"]["read"] == 1 and counts["tickets"]["scored"] == 1
    with transaction(engine) as s:
        rows = s.scalars(sa.select(Touchpoint).order_by(Touchpoint.id)).all()
        assert (
            rows[0].sentiment_label == Sentiment.POSITIVE and rows[0].sentiment_source == SentimentSource.CS
        )
        assert rows[1].sentiment_label == Sentiment.POSITIVE  # given: kept
        assert (
            rows[2].sentiment_score is None and rows[2].sentiment_label is None and rows[2].key_topics == []
        )
    again = run_cli("touchpoints", "analyze")
    assert again.exit_code == 0 and "nothing to read" in again.stderr
    overwritten = json.loads(
        run_cli(
            "touchpoints", "analyze", "--all", "--overwrite", "--only", "touchpoints", "--format", "json"
        ).stdout
    )
    assert overwritten == [
        {"kind": "touchpoints", "read": 3, "scored": 2, "kept": 0, "unscored": 1, "with_topics": 2}
    ]
    assert _row(engine, Touchpoint, "id", rows[1].id).sentiment_label == Sentiment.NEGATIVE
    bad = run_cli("touchpoints", "analyze", "--only", "calls")
    assert bad.exit_code == 2 and "'calls' is not touchpoints or tickets" in bad.stderr
    assert run_cli("touchpoints", "analyze", user="ana").exit_code == 3


# -- themes ------------------------------------------------------------------


def test_topics_over_a_period_with_volume_sentiment_and_trend(run_cli, book, engine):
    def log(customer, day, subject):
        done = run_cli(
            "touchpoints",
            "log",
            customer,
            "-t",
            "call",
            "--subject",
            subject,
            "--at",
            f"2026-11-{day:02d}T10:00",
        )
        assert done.exit_code == 0, done

    # 1-15 November is the period before 16-30 November.
    log("E-1", 2, "Pricing: a question")
    for day in (17, 18, 19):
        log("E-1", day, "Pricing is too expensive, unhappy")
    log("E-2", 20, "Pricing: all fine")
    for day in (3, 4, 5):
        log("E-1", day, "Onboarding plan")
    out = run_cli("touchpoints", "topics", "--from", "2026-11-16", "--to", "2026-11-30", "--format", "json")
    assert out.exit_code == 0, out
    themes = {t["topic"]: t for t in json.loads(out.stdout)}
    assert themes["pricing"]["mentions"] == 4 and themes["pricing"]["customers"] == 2
    assert themes["pricing"]["previous"] == 1 and themes["pricing"]["trend"] == "rising"
    assert themes["pricing"]["negative"] == 3 and themes["pricing"]["mean_sentiment"] < 0
    assert themes["onboarding plan"]["mentions"] == 0 and themes["onboarding plan"]["trend"] == "gone"
    as_csv = list(
        csv.DictReader(
            io.StringIO(
                run_cli(
                    "touchpoints", "topics", "--from", "2026-11-16", "--to", "2026-11-30", "--format", "csv"
                ).stdout
            )
        )
    )
    assert len(as_csv) == len(themes)
    table = run_cli("touchpoints", "topics", "--from", "2026-11-16", "--to", "2026-11-30")
    assert all(len(line) <= 80 for line in table.stdout.splitlines())
    assert "2026-11-16 to 2026-11-30; before: 2026-11-01 to 2026-11-15" in table.stderr
    # A CSM sees the themes of their own customers only.
    ana = json.loads(
        run_cli(
            "touchpoints",
            "topics",
            "--from",
            "2026-11-16",
            "--to",
            "2026-11-30",
            "--format",
            "json",
            user="bo",
        ).stdout
    )
    assert all(t["topic"] != "pricing" or t["mentions"] < 4 for t in ana)
    backwards = run_cli("touchpoints", "topics", "--from", "2026-11-30", "--to", "2026-11-01")
    assert backwards.exit_code == 2 and "is after --to" in backwards.stderr
    assert run_cli("touchpoints", "topics", "--segment", "nope").exit_code == 4


def test_key_topics_contains_in_segment_rules(run_cli, book):
    today = dt.datetime.now(dt.UTC).date()
    recent = (today - dt.timedelta(days=5)).isoformat() + "T10:00"
    old = (today - dt.timedelta(days=200)).isoformat() + "T10:00"
    run_cli("touchpoints", "log", "E-1", "-t", "call", "--subject", "SSO integration failing", "--at", recent)
    run_cli("touchpoints", "log", "E-2", "-t", "call", "--subject", "SSO integration failing", "--at", old)
    found = run_cli(
        "segments", "preview", "--rules", '{"key_topics": {"contains": "SSO"}}', "--format", "json"
    )
    assert found.exit_code == 0, found
    assert [r["external_id"] for r in json.loads(found.stdout)["sample"]] == [
        "E-1"
    ]  # E-2's is older than 90 days
    none = run_cli(
        "segments", "preview", "--rules", '{"key_topics": {"contains": "100%_"}}', "--format", "json"
    )
    assert json.loads(none.stdout)["count"] == 0
    wrong = run_cli("segments", "preview", "--rules", '{"key_topics": {"eq": "sso"}}')
    assert wrong.exit_code == 2 and "use one of contains" in wrong.stderr
