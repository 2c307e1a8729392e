"""The Jinja2 environment itself: compiling, checking and rendering here, in
this process. The parent renders through the worker (see worker.py and
cs_cli.templates.render); the worker renders with render_here.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

from cs_cli.errors import TemplateError

if TYPE_CHECKING:
    from jinja2 import Template

    from cs_cli.templates.sandbox import BoundedSandbox


def _finalize(value: Any) -> Any:
    # A missing value (a customer with no renewal date) prints as nothing,
    # not as "None".
    return "" if value is None else value


@functools.cache
def environment() -> BoundedSandbox:
    """The sandboxed environment (one per process)."""
    from jinja2 import StrictUndefined

    from cs_cli.templates.sandbox import BoundedSandbox

    return BoundedSandbox(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        finalize=_finalize,
    )


@functools.lru_cache(maxsize=1024)
def compile_template(text: str, name: str = "template") -> Template:
    """`text` parsed once; a syntax error is a TemplateError naming `name` and the line."""
    from jinja2 import TemplateSyntaxError

    try:
        template = environment().from_string(text)
    except TemplateSyntaxError as exc:
        raise TemplateError(name, exc.lineno, exc.message or "syntax error") from None
    template.cs_source = text  # what render_compiled sends to the worker
    return template


def render_here(text: str, context: Mapping[str, Any], *, name: str = "template") -> str:
    """`text` rendered with `context` in this process, its output at most
    MAX_OUTPUT characters; any failure (an undefined name, an unsafe
    attribute, a bad operation) is a TemplateError. Only the worker calls
    this: here nothing stops a render that runs for ever."""
    from jinja2 import TemplateError as JinjaError
    from jinja2.sandbox import SecurityError

    from cs_cli.templates.sandbox import MAX_OUTPUT

    template = compile_template(text, name)
    try:
        parts, size = [], 0
        for part in template.generate(context):
            size += len(part)
            if size > MAX_OUTPUT:
                raise SecurityError(f"its text would be longer than {MAX_OUTPUT:,} characters")
            parts.append(part)
        return "".join(parts)
    except JinjaError as exc:
        raise TemplateError(name, _template_line(exc.__traceback__), _reason(exc)) from None
    except (TypeError, ValueError, ArithmeticError, LookupError, AttributeError) as exc:
        raise TemplateError(name, _template_line(exc.__traceback__), f"{type(exc).__name__}: {exc}") from None
    except (MemoryError, RecursionError) as exc:
        # What the sandbox's bounds did not foresee: still the template's fault.
        reason = (
            "it needs more memory than a template may use"
            if isinstance(exc, MemoryError)
            else "it recurses too deeply"
        )
        raise TemplateError(name, _template_line(exc.__traceback__), f"not allowed: {reason}") from None


def variables(text: str, name: str = "template") -> set[str]:
    """The top-level names `text` reads from its context."""
    from jinja2 import TemplateSyntaxError, meta

    try:
        return set(meta.find_undeclared_variables(environment().parse(text)))
    except TemplateSyntaxError as exc:
        raise TemplateError(name, exc.lineno, exc.message or "syntax error") from None


def _reason(exc: Exception) -> str:
    from jinja2 import UndefinedError
    from jinja2.exceptions import SecurityError

    text = str(exc) or type(exc).__name__
    if isinstance(exc, SecurityError):
        return f"not allowed: {text}"
    if isinstance(exc, UndefinedError):
        return f"undefined: {text}"
    return text


def _template_line(tb: TracebackType | None) -> int | None:
    """The template line being rendered when it failed (Jinja2 rewrites the
    traceback so a frame of the template carries the template's line)."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
