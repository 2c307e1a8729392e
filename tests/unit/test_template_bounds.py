"""Template resource bombs: every render is bounded in time, output size,
memory and integer size; a bomb fails its own render with a clear reason,
and the process that asked goes on. Validation refuses what it can see."""

from __future__ import annotations

import time

import pytest

from cs_cli import templates
from cs_cli.errors import TemplateError
from cs_cli.templates import emails

BOMBS = {
    "nested loops": "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
    "loops over text": "{% set s = 'x' * 90000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}",
    "~ doubling": (
        "{% set ns = namespace(s='x' * 1000) %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}"
        "{% endfor %}{{ ns.s|length }}"
    ),
    "format width": "{{ '{:>1000000000}'.format('x') }}",
    "format width as an argument": "{{ '{:>{}}'.format('x', 1000000000) }}",
    "join": "{{ (['x' * 90000] * 90000)|join }}",
    "join of joins": "{% set s = (['x' * 90000] * 50)|join %}{{ ([s] * 90000)|join('-') }}",
    "replace": "{{ ('x' * 90000)|replace('x', 'y' * 90000) }}",
    "tojson": "{{ ([['x' * 90000] * 90000] * 10)|tojson }}",
    "big integer products": (
        "{% set ns = namespace(n=99999) %}{% for i in range(100) %}{% set ns.n = ns.n * ns.n %}"
        "{% endfor %}{{ ns.n > 0 }}"
    ),
    "output": "{% for i in range(100000) %}{{ 'x' * 90000 }}{% endfor %}",
}


@pytest.mark.parametrize("name", BOMBS)
def test_a_bomb_fails_its_render_quickly_with_a_reason(name):
    started = time.monotonic()
    with pytest.raises(TemplateError) as caught:
        templates.render(BOMBS[name], {}, name="bomb")
    assert time.monotonic() - started < 10
    assert caught.value.message.startswith("template bomb"), caught.value.message
    assert "not allowed: " in caught.value.message
    # ...and the next render works as ever.
    assert templates.render("Hello {{ who }}", {"who": "Ana"}, name="greeting") == "Hello Ana"


def test_the_reasons_say_which_bound():
    def reason(text: str) -> str:
        with pytest.raises(TemplateError) as caught:
            templates.render(text, {}, name="t")
        return caught.value.message

    assert reason(BOMBS["nested loops"]) == "template t: not allowed: it takes longer than 2 s to render"
    assert "would be longer than 1,000,000 characters" in reason(BOMBS["output"])
    assert "format width" in reason(BOMBS["format width"])
    assert "digits" in reason(BOMBS["big integer products"])
    assert "join" in reason(BOMBS["join"])


def test_ordinary_numbers_and_formats_still_render():
    text = "{{ '{:,}'.format(arr) }} {{ '{:>8}'.format('x') }} {{ '%5.1f' % 3.14159 }} {{ arr * 12 }}"
    assert templates.render(text, {"arr": 150000}, name="t") == "150,000        x   3.1 1800000"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "{% if customer.plan == 'x' %}{% for a in range(100) %}{% for b in range(100) %}"
            "{% for c in range(100) %}.{% endfor %}{% endfor %}{% endfor %}{% endif %}",
            "line 1: not allowed: loops nested 3 deep (at most 2)",
        ),
        (
            "{% if customer.plan == 'x' %}{% for a in range(1000000) %}.{% endfor %}{% endif %}",
            "line 1: not allowed: range(1000000) (at most 10,000 items)",
        ),
        (
            "Hi\n{% if customer.plan == 'x' %}{{ '{:>1000000}'.format('x') }}{% endif %}",
            "line 2: not allowed: a format width of 1000000 (at most 100,000)",
        ),
        (
            "{% if customer.plan == 'x' %}{{ '%1000000s' % 'x' }}{% endif %}",
            "line 1: not allowed: this %-format width would make 1,000,000 characters or items",
        ),
    ],
)
def test_validation_refuses_a_bomb_behind_an_if(text, reason):
    with pytest.raises(TemplateError) as caught:
        emails.check(text, "welcome.txt.j2")
    assert reason in caught.value.message, caught.value.message
