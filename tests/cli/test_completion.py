"""Shell completion of values: customer ids (those the user may see), people,
segment, playbook and journey names come from the database."""

from __future__ import annotations

import re

import pytest


def complete(run_cli, line: str, user: str = "admin") -> list[str]:
    result = run_cli(env={"_CS_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": line}, user=user)
    assert result.exit_code == 0, result
    # zsh's form: ("value":"help" ...), or ("value") when there is no help.
    return re.findall(r'"((?:[^"\\]|\\.)*)"(?::"(?:[^"\\]|\\.)*")?', result.stdout)


def test_values_complete_from_the_book_as_the_user_sees_it(run_cli, book):
    assert complete(run_cli, "cs customers show E-") == ["E-1", "E-2", "E-3"]
    assert complete(run_cli, "cs customers show W") == ["W-1", "W-2"]
    # A CSM completes only their own customers.
    assert complete(run_cli, "cs customers show ", user="bo") == ["W-1", "W-2"]
    assert complete(run_cli, "cs tasks list --assignee ana") == ["ana@example.com"]
    assert complete(run_cli, "cs touchpoints timeline M") == ["M-1"]
    # Names of things: loaded playbooks and journeys, segments.
    assert run_cli("playbooks", "load").exit_code == 0
    assert complete(run_cli, "cs playbooks trigger r") == ["renewal_prep", "risk_response"]
    assert run_cli("segments", "create", "Key accounts").exit_code == 0
    assert complete(run_cli, "cs segments show K") == ["Key accounts"]
    assert complete(run_cli, "cs customers show nothing-like-this") == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_no_database_no_completions_and_no_noise(run_cli):
    result = run_cli(
        env={
            "_CS_COMPLETE": "complete_zsh",
            "_TYPER_COMPLETE_ARGS": "cs customers show C",
            "CS_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none",
        }
    )
    assert result.exit_code == 0
    assert result.stderr == ""
    assert '"C' not in result.stdout
