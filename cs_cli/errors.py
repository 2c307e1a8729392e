"""The one error hierarchy. Each class carries its exit code; only the CLI's
error boundary turns an error into a line on stderr."""

from __future__ import annotations


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


class CsError(Exception):
    """Base of every error a user can cause or meet. Exit code 1."""

    exit_code = 1
    default_message = "the command failed"

    def __init__(self, message: str | None = None, *, hint: str | None = None) -> None:
        # One line on stderr, whatever a file or an option held: a name
        # quoted in the message may carry a line break.
        super().__init__(_one_line(message or self.default_message))
        self.hint = hint

    @property
    def message(self) -> str:
        return str(self.args[0])


class BadInput(CsError):
    """Bad usage or bad input: a malformed file, an invalid value. Exit code 2."""

    exit_code = 2
    default_message = "bad input"


class FileError(BadInput):
    """Bad input located in a file; the message starts with file:line:column."""

    def __init__(
        self,
        path: str,
        line: int | None,
        column: str | int | None,
        reason: str,
        *,
        hint: str | None = None,
    ) -> None:
        # A column name quoted in a CSV header (or a JSONL key) may carry a
        # line break: the reason goes to a rejects file's one cell too.
        reason = _one_line(reason)
        if isinstance(column, str):
            column = _one_line(column)
        self.path = path
        self.line = line
        self.column = column
        self.reason = reason
        where = path
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {reason}", hint=hint)


class NotPermitted(CsError):
    """The acting user may not do this. Exit code 3."""

    exit_code = 3
    default_message = "not permitted"


class NotFound(CsError):
    """A named thing does not exist (or is outside the actor's scope). Exit code 4."""

    exit_code = 4
    default_message = "not found"


class DatabaseUnavailable(CsError):
    """The database cannot be reached. Exit code 1."""

    default_message = "the database cannot be reached"


class SchemaOutOfDate(CsError):
    """The database schema is missing or behind this version of cs. Exit code 1."""

    default_message = "the database schema is not up to date"


class ConfigError(BadInput):
    """A setting has a bad value or the config file is malformed. Exit code 2."""

    default_message = "bad configuration"


class TemplateError(BadInput):
    """A Jinja2 template that does not parse or render: names the template
    and its line. Exit code 2."""

    def __init__(self, template: str, line: int | None, reason: str) -> None:
        self.template = template
        self.line = line
        self.reason = reason
        where = f"template {template}" + (f", line {line}" if line else "")
        super().__init__(f"{where}: {reason}")
