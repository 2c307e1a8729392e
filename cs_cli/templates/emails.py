"""Named email templates: a plain-text part and an optional HTML part.

A template named `welcome` is the file `welcome.txt.j2` (required) and
`welcome.html.j2` (optional) in `emails/`: first in an extra folder (a
journeys folder's `templates/emails/`), then in the package's own
`cs_cli/templates/emails/`, so a user's file overrides a shipped one of the
same name. Both parts render in the one sandbox (see cs_cli/templates); the
HTML part with autoescaping on, so a customer named `<b>` stays text.

`FIELDS` is everything a journey's texts (email parts, subjects, task titles,
in-app messages) can read; `sample_context()` fills every field, for checking
a template before any customer sees it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cs_cli.errors import TemplateError
from cs_cli.templates import CUSTOMER_FIELDS
from cs_cli.templates.static import check_cost

PACKAGE_FOLDER = Path(__file__).resolve().parent / "emails"
NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
TEXT_SUFFIX = ".txt.j2"
HTML_SUFFIX = ".html.j2"
# The HTML part is wrapped in this, on its first line, so line numbers stay
# those of the file.
_ESCAPE_OPEN = "{% autoescape true %}"
_ESCAPE_CLOSE = "{% endautoescape %}"

# What a journey's templates can read: each top-level name and its fields.
FIELDS: dict[str, tuple[str, ...]] = {
    "customer": CUSTOMER_FIELDS,
    # The person the message is for: the enrollment's contact (or whom the
    # step's `to:` names).
    "contact": ("name", "first_name", "email", "title"),
    "csm": ("name", "first_name", "email"),
    "health": ("overall_score", "health_status", "score_trend"),
    "journey": ("key", "name"),
    "step": ("key", "name"),
    "enrollment": ("id", "enrolled_on"),
    "today": (),
}


def sample_context() -> dict[str, Any]:
    """A context with every field filled, for checking templates before use."""
    return {
        "customer": {
            "external_id": "C-0001",
            "name": "Acme Corp",
            "arr": 120000,
            "plan": "enterprise",
            "seats": 250,
            "industry": "Software",
            "region": "EMEA",
            "renewal_date": dt.date(2027, 2, 1),
            "contract_start": dt.date(2026, 2, 1),
            "days_to_renewal": 90,
            "attributes": {},
        },
        "contact": {
            "name": "Dana Lee",
            "first_name": "Dana",
            "email": "dana@acme.example",
            "title": "Ops lead",
        },
        "csm": {"name": "Ana Ruiz", "first_name": "Ana", "email": "ana@example.com"},
        "health": {"overall_score": 64, "health_status": "at_risk", "score_trend": "stable"},
        "journey": {"key": "onboarding", "name": "Onboarding"},
        "step": {"key": "welcome_email", "name": "Welcome email"},
        "enrollment": {"id": 1, "enrolled_on": dt.date(2026, 11, 1)},
        "today": dt.date(2026, 11, 3),
    }


@dataclass(frozen=True)
class EmailTemplate:
    """The source of one named template, and where each part came from."""

    name: str
    text: str
    html: str | None
    text_path: Path
    html_path: Path | None

    def label(self, part: str = "text") -> str:
        """How errors name a part: `emails/NAME.txt.j2`."""
        return f"emails/{self.name}{TEXT_SUFFIX if part == 'text' else HTML_SUFFIX}"


def find(name: str, extra: Path | None = None) -> EmailTemplate | None:
    """The template `name`: from `extra` (a folder holding `emails/`) if it
    has it, else the package's; None if neither does."""
    if not re.match(NAME_PATTERN, name):
        return None
    for folder in ([extra / "emails"] if extra is not None else []) + [PACKAGE_FOLDER]:
        text_path = folder / f"{name}{TEXT_SUFFIX}"
        if text_path.is_file():
            html_path = folder / f"{name}{HTML_SUFFIX}"
            html_path = html_path if html_path.is_file() else None
            return EmailTemplate(
                name=name,
                text=_read(text_path, name),
                html=_read(html_path, name) if html_path else None,
                text_path=text_path,
                html_path=html_path,
            )
    return None


def available(extra: Path | None = None) -> list[str]:
    """Every template name there is (the package's and `extra`'s)."""
    names = set()
    for folder in ([extra / "emails"] if extra is not None else []) + [PACKAGE_FOLDER]:
        if folder.is_dir():
            names.update(p.name.removesuffix(TEXT_SUFFIX) for p in folder.glob(f"*{TEXT_SUFFIX}"))
    return sorted(n for n in names if re.match(NAME_PATTERN, n))


def _read(path: Path, name: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise TemplateError(f"emails/{path.name}", None, "not UTF-8 text") from None


def html_source(html: str) -> str:
    """The HTML part as it is compiled: autoescaped, lines unchanged."""
    return f"{_ESCAPE_OPEN}{html}{_ESCAPE_CLOSE}"


def render_parts(
    text: str, html: str | None, context: dict[str, Any], *, name: str
) -> tuple[str, str | None]:
    """Both parts of a template rendered for one context (TemplateError on any failure)."""
    from cs_cli import templates

    body = templates.render(text, context, name=f"emails/{name}{TEXT_SUFFIX}")
    markup = (
        templates.render(html_source(html), context, name=f"emails/{name}{HTML_SUFFIX}")
        if html is not None
        else None
    )
    return body, markup


def check(text: str, where: str, *, html: bool = False) -> None:
    """Check a journey text before use: it parses, reads only known names and
    fields, touches nothing private (`_x`, `__x__`, even in a branch the
    sample does not take), costs nothing static.py can see to be too much,
    and renders in the sandbox with the sample context. TemplateError names `where` and the line."""
    from jinja2 import nodes

    from cs_cli import templates

    source = html_source(text) if html else text
    names = templates.variables(source, where) - set(templates.environment().globals)
    unknown = sorted(names - set(FIELDS))
    if unknown:
        found = re.search(rf"\b{re.escape(unknown[0])}\b", text)
        line = text.count("\n", 0, found.start()) + 1 if found else None
        raise TemplateError(where, line, f"unknown name '{unknown[0]}' (known: {', '.join(FIELDS)})")
    tree = templates.environment().parse(source)
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Const, nodes.Filter)):
        _check_node(node, where)
    check_cost(tree, where)
    templates.render(source, sample_context(), name=where)


def _check_node(node: Any, where: str) -> None:
    from jinja2 import nodes

    if isinstance(node, nodes.Getattr):
        if node.attr.startswith("_"):
            raise TemplateError(where, node.lineno, f"not allowed: the private attribute '{node.attr}'")
        target = node.node
        if (
            isinstance(target, nodes.Name)
            and FIELDS.get(target.name)
            and node.attr not in FIELDS[target.name]
        ):
            fields = ", ".join(FIELDS[target.name])
            raise TemplateError(
                where, node.lineno, f"{target.name} has no field '{node.attr}' (fields: {fields})"
            )
    elif isinstance(node, nodes.Getitem):
        key = node.arg
        if isinstance(key, nodes.Const) and isinstance(key.value, str) and key.value.startswith("_"):
            raise TemplateError(where, node.lineno, f"not allowed: the private attribute '{key.value}'")
    elif isinstance(node, nodes.Filter) and node.name == "attr":
        raise TemplateError(where, node.lineno, "not allowed: the attr filter (use customer.field)")
    elif isinstance(node, nodes.Const) and isinstance(node.value, str) and "__" in node.value:
        # '{0.__class__}'.format(x) and friends reach internals through a string.
        raise TemplateError(where, node.lineno, "not allowed: text with '__' (a way to reach internals)")
