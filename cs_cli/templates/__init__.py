"""The one Jinja2 environment every template renders in: sandboxed (a template
cannot reach Python internals such as `''.__class__`, nor build a huge value
such as `'x' * 10**10`: see sandbox.py), strict (an undefined name or field
is an error, not an empty string), plain text (no HTML escaping). Playbooks
render agendas and talk tracks here; journeys and email will too.

Jinja2 is imported on first use, never when `cs` starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

# Compiling and checking happen here, in this process; rendering in the
# worker (render, below), which renders with engine.render_here.
from cs_cli.templates.engine import compile_template, environment, render_here, variables

if TYPE_CHECKING:
    from jinja2 import Template

__all__ = [
    "CUSTOMER_FIELDS",
    "compile_template",
    "environment",
    "render",
    "render_compiled",
    "render_here",
    "variables",
]

# The customer fields every template (agendas, talk tracks, emails) can read.
CUSTOMER_FIELDS: tuple[str, ...] = (
    "external_id",
    "name",
    "arr",
    "plan",
    "seats",
    "industry",
    "region",
    "renewal_date",
    "contract_start",
    "days_to_renewal",
    "attributes",
)


def render(text: str, context: Mapping[str, Any], *, name: str = "template") -> str:
    """`text` rendered with `context`, in the worker process with a deadline
    (see worker.py); any failure is a TemplateError."""
    from cs_cli.templates import worker

    compile_template(text, name)  # a syntax error is found here, without a round trip
    return worker.render(text, dict(context), name=name)


def render_compiled(template: Template, context: Mapping[str, Any], *, name: str = "template") -> str:
    """A template compiled by compile_template rendered with `context`, as
    `render` does."""
    return render(template.cs_source, context, name=name)
