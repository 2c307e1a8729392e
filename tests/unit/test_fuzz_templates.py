"""Fuzzing of templates: text made of Jinja pieces, sensible and hostile,
either renders or fails with a TemplateError of one line naming the
template, within the render deadline; never another exception, never a
hang. A few dozen examples by default; `-m slow` runs hundreds."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cs_cli import templates
from cs_cli.errors import TemplateError
from cs_cli.templates import emails
from cs_cli.templates.worker import RENDER_SECONDS

PIECES = [
    "Hello ",
    "{{ customer.name }}",
    "{{ contact.first_name|default('there') }}",
    "{{ customer.arr|round }}",
    "{% if customer.health_score < 50 %}",
    "{% else %}",
    "{% endif %}",
    "{% for i in range(3) %}",
    "{% for i in range(10**6) %}",
    "{% endfor %}",
    "{{ i }}",
    "{{ 'x' * 99999 }}",
    "{{ ('x' * 9999)|replace('x', 'yy') }}",
    "{{ [1, 2, 3]|join(', ') }}",
    "{{ '{:>50}'.format('x') }}",
    "{{ 9 ** 9 ** 9 }}",
    "{{ customer.__class__ }}",
    "{{ ''.__class__.__mro__ }}",
    "{% set ns = namespace(s='ab') %}",
    "{% set ns.s = ns.s ~ ns.s %}",
    "{{ ns.s|length }}",
    "{{ lipsum(9999) }}",
    "{{ undefined_name }}",
    "{% raw %}",
    "{% endraw %}",
    "{{",
    "}}",
    "{%",
    "\n",
    "ünïcødé ✓",
    "\x00",
]


def fuzz(budget: int):
    return settings(
        max_examples=budget,
        deadline=None,
        derandomize=True,  # the same examples every run (see test_fuzz_readers)
        suppress_health_check=[HealthCheck.too_slow],
    )


@pytest.mark.parametrize(
    "budget", [pytest.param(30, id="quick"), pytest.param(500, id="long", marks=pytest.mark.slow)]
)
def test_any_template_renders_or_fails_with_one_line(budget):
    @fuzz(budget)
    @given(st.lists(st.sampled_from(PIECES), max_size=12).map("".join))
    def check(text: str) -> None:
        started = time.monotonic()
        try:
            out = templates.render(text, emails.sample_context(), name="fuzz.txt")
        except TemplateError as exc:
            assert exc.message.startswith("template fuzz.txt"), exc.message
            assert "\n" not in exc.message, exc.message
        else:
            assert isinstance(out, str)
        # The deadline, plus the worker's restart after it.
        assert time.monotonic() - started < RENDER_SECONDS + 8

    check()
