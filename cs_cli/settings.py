"""The one settings object.

Precedence, highest first: command-line flag, environment variable (`CS_*`),
the TOML config file (`CS_CONFIG`, else `config.toml` in the user's config
directory), the default. Every value remembers where it came from so
`cs config show` can say so.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cs_cli import paths
from cs_cli.errors import ConfigError


@dataclass(frozen=True)
class SettingSpec:
    name: str
    env: str
    help: str
    default: Callable[[], Any]
    parse: Callable[[str], Any] = str
    secret: bool = False


def _default_database_url() -> str:
    return f"sqlite:///{paths.user_data_dir() / 'cs.db'}"


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. in some containers
        return "admin"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"must be a positive whole number, not {text!r}") from None
    if value <= 0:
        raise ValueError("must be a positive whole number")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"must be a whole number, not {text!r}") from None
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _port(text: str) -> int:
    value = _non_negative_int(text)
    if value > 65535:
        raise ValueError("must be a port number (1-65535, or 0 for the usual one)")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"must be a number of seconds, not {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise ValueError("must be a positive number of seconds")
    return value


def _poll_seconds(text: str) -> float:
    """Seconds between looks, or 0 (or `off`) for none."""
    if text.strip().lower() in ("off", "0"):
        return 0.0
    return _seconds(text)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> dt.timedelta:
    """'90', '90s', '15m', '6h' or '7d' as a time span (more than zero)."""
    raw = text.strip().lower()
    number, unit = (raw[:-1], raw[-1]) if raw[-1:] in _UNITS else (raw, "s")
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"must be a duration like 90s, 15m, 6h or 7d, not {text!r}") from None
    if not 0 < value < 10**7:
        raise ValueError(f"must be a duration more than zero, not {text!r}")
    return dt.timedelta(seconds=value * _UNITS[unit])


def format_duration(span: dt.timedelta | None) -> str:
    """A time span as the settings write it (`parse_duration` reads it back):
    the largest unit that divides it, 7d, 6h, 15m, 90s; None is off."""
    if span is None:
        return "off"
    seconds = span.total_seconds()
    for unit in ("d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{int(seconds // _UNITS[unit])}{unit}"
    return f"{seconds:g}s"


def parse_quiet_hours(text: str) -> tuple[dt.time, dt.time] | None:
    """'20:00-08:00' as (start, end) local times; '' or 'off' for none."""
    raw = text.strip().lower()
    if raw in ("", "off", "none"):
        return None
    try:
        start, end = (dt.time.fromisoformat(part.strip()) for part in raw.split("-"))
    except ValueError:
        raise ValueError(f"must be a window like 20:00-08:00 (or off), not {text!r}") from None
    if start == end:
        raise ValueError("must have a start and an end that differ (or be off)")
    return start, end


def _quiet_hours(text: str) -> str:
    parse_quiet_hours(text)
    return text.strip()


def _timezone(text: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"must be a time zone name like Europe/Paris or UTC, not {text!r}") from None
    return text


def parse_retention(text: str) -> dt.timedelta | None:
    """A retention period like 90d, or off (keep for ever)."""
    raw = text.strip().lower()
    if raw in ("off", "never", "forever"):
        return None
    return parse_duration(raw)


def _retention(text: str) -> dt.timedelta | None:
    value = parse_retention(text)
    if value is not None and value < dt.timedelta(days=1):
        raise ValueError("must be at least a day (e.g. 90d), or off")
    return value


def parse_job_times(text: str) -> dict[str, str]:
    """'health-refresh=03:00, alert-check=:20' as {job: time}; the jobs
    registry checks the names and that each time fits its job."""
    times: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, at = part.partition("=")
        if not sep or not name.strip() or not at.strip():
            raise ValueError(f"must be job=HH:MM (daily) or job=:MM (hourly), comma-separated, not {part!r}")
        times[name.strip()] = at.strip()
    return times


def _job_times(text: str) -> str:
    parse_job_times(text)
    return text.strip()


def _success_targets(text: str) -> str:
    from cs_cli.domain.metrics import parse_targets

    parse_targets(text)
    return text.strip()


def _outbound_allow(text: str) -> str:
    from cs_cli.domain.outbound import parse_allow_list

    parse_allow_list(text)
    return text.strip()


def _endpoint(text: str) -> str:
    """An http(s) URL cs posts to, checked for its form (the allow-list is
    checked at delivery, after resolving the host)."""
    from cs_cli.domain.outbound import url_problem

    if text.strip() and (problem := url_problem(text.strip())):
        raise ValueError(problem)
    return text.strip()


SMTP_SECURITY = ("none", "starttls", "tls")


def _smtp_security(text: str) -> str:
    value = text.strip().lower()
    if value not in SMTP_SECURITY:
        raise ValueError(f"must be one of {', '.join(SMTP_SECURITY)}, not {text!r}")
    return value


SPECS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "database_url",
        "CS_DATABASE_URL",
        "SQLAlchemy URL of the database (postgresql+psycopg://... in production).",
        _default_database_url,
        secret=True,
    ),
    SettingSpec(
        "user",
        "CS_USER",
        "Name or email of the acting user; defaults to the login name.",
        _login_name,
    ),
    SettingSpec(
        "scorecard",
        "CS_SCORECARD",
        "Path of the scorecard YAML used by `cs recalc` (default: the one shipped).",
        lambda: "",
    ),
    SettingSpec(
        "playbooks",
        "CS_PLAYBOOKS",
        "Folder of playbook YAML files for `cs playbooks validate|load` (default: the shipped one).",
        lambda: "",
    ),
    SettingSpec(
        "automation_rules",
        "CS_AUTOMATION_RULES",
        "Automation rules file for `cs automation` and `cs alerts check` (default: the shipped one).",
        lambda: "",
    ),
    SettingSpec(
        "text_lexicon",
        "CS_TEXT_LEXICON",
        "Your customer-success words and phrases for sentiment, over the shipped ones (docs/text.md).",
        lambda: "",
    ),
    SettingSpec(
        "board_poll",
        "CS_BOARD_POLL",
        "Seconds between the task board's looks for changes made elsewhere (0 or off: none).",
        lambda: 3.0,
        parse=_poll_seconds,
    ),
    SettingSpec(
        "batch_size",
        "CS_BATCH_SIZE",
        "Rows per batch for imports and whole-book jobs.",
        lambda: 10_000,
        parse=_positive_int,
    ),
    # Delivery of the outbox (docs/outbox.md).
    SettingSpec("smtp_host", "CS_SMTP_HOST", "SMTP server that sends email.", lambda: "localhost"),
    SettingSpec(
        "smtp_port",
        "CS_SMTP_PORT",
        "SMTP port; 0 means the usual one for smtp_security (25, 587 or 465).",
        lambda: 0,
        parse=_port,
    ),
    SettingSpec(
        "smtp_security",
        "CS_SMTP_SECURITY",
        "none, starttls (upgrade a plain connection) or tls (TLS from the start).",
        lambda: "none",
        parse=_smtp_security,
    ),
    SettingSpec("smtp_user", "CS_SMTP_USER", "SMTP login; empty: no authentication.", lambda: ""),
    SettingSpec(
        "smtp_password",
        "CS_SMTP_PASSWORD",
        "SMTP password (better from the environment or smtp_password_file; never printed).",
        lambda: "",
        secret=True,
    ),
    SettingSpec(
        "smtp_password_file",
        "CS_SMTP_PASSWORD_FILE",
        "File holding the SMTP password (its first line), when smtp_password is not set.",
        lambda: "",
    ),
    SettingSpec("smtp_from", "CS_SMTP_FROM", "From address of automated email.", lambda: ""),
    SettingSpec(
        "smtp_timeout",
        "CS_SMTP_TIMEOUT",
        "Seconds to wait for the SMTP server at each step.",
        lambda: 30.0,
        parse=_seconds,
    ),
    SettingSpec(
        "webhook_secret",
        "CS_WEBHOOK_SECRET",
        "Key of the HMAC-SHA256 signature on webhooks and in-app messages (never printed).",
        lambda: "",
        secret=True,
    ),
    SettingSpec(
        "webhook_timeout",
        "CS_WEBHOOK_TIMEOUT",
        "Seconds to wait for a webhook or in-app endpoint to answer.",
        lambda: 10.0,
        parse=_seconds,
    ),
    SettingSpec(
        "in_app_url",
        "CS_IN_APP_URL",
        "Endpoint that receives in-app messages (HTTP POST); no user:password@ in it.",
        lambda: "",
        parse=_endpoint,
    ),
    SettingSpec(
        "outbound_allow",
        "CS_OUTBOUND_ALLOW",
        "Where webhooks and in-app messages may go: hosts, host:port, CIDRs and `public`, comma-separated;"
        " empty: any public address, nothing internal.",
        lambda: "",
        parse=_outbound_allow,
    ),
    SettingSpec(
        "outbox_max_attempts",
        "CS_OUTBOX_MAX_ATTEMPTS",
        "Attempts at a message before it is dead.",
        lambda: 8,
        parse=_positive_int,
    ),
    SettingSpec(
        "outbox_connections",
        "CS_OUTBOX_CONNECTIONS",
        "Messages a delivery run sends at once (SMTP connections, HTTP requests in flight).",
        lambda: 4,
        parse=_positive_int,
    ),
    SettingSpec(
        "outbox_backoff",
        "CS_OUTBOX_BACKOFF",
        "First retry delay, doubled per attempt, with full jitter (e.g. 60s, 5m).",
        lambda: dt.timedelta(minutes=1),
        parse=parse_duration,
    ),
    SettingSpec(
        "outbox_backoff_cap",
        "CS_OUTBOX_BACKOFF_CAP",
        "Longest retry delay (e.g. 6h).",
        lambda: dt.timedelta(hours=6),
        parse=parse_duration,
    ),
    SettingSpec(
        "email_cap",
        "CS_EMAIL_CAP",
        "At most this many automated emails per recipient per email_cap_period; 0: no cap.",
        lambda: 3,
        parse=_non_negative_int,
    ),
    SettingSpec(
        "email_cap_period",
        "CS_EMAIL_CAP_PERIOD",
        "The period of the email cap (e.g. 7d, 24h).",
        lambda: dt.timedelta(days=7),
        parse=parse_duration,
    ),
    SettingSpec(
        "quiet_hours",
        "CS_QUIET_HOURS",
        "Local hours when no email or in-app message goes out (e.g. 20:00-08:00, or off).",
        lambda: "20:00-08:00",
        parse=_quiet_hours,
    ),
    SettingSpec(
        "default_timezone",
        "CS_DEFAULT_TIMEZONE",
        "Time zone for quiet hours when neither the contact nor the customer has one.",
        lambda: "UTC",
        parse=_timezone,
    ),
    # Scheduled jobs (`cs run`, docs/operations.md).
    SettingSpec(
        "job_timezone",
        "CS_JOB_TIMEZONE",
        "Time zone of the daily jobs' hours (e.g. Europe/Paris); sub-daily jobs follow UTC.",
        lambda: "UTC",
        parse=_timezone,
    ),
    SettingSpec(
        "job_times",
        "CS_JOB_TIMES",
        "Other times for jobs: job=HH:MM for a daily job, job=:MM for an hourly one, comma-separated.",
        lambda: "",
        parse=_job_times,
    ),
    SettingSpec(
        "job_lease",
        "CS_JOB_LEASE",
        "How long a job's lock outlives its last heartbeat (a killed run's lock is taken over after it).",
        lambda: dt.timedelta(seconds=60),
        parse=parse_duration,
    ),
    SettingSpec(
        "job_attempts",
        "CS_JOB_ATTEMPTS",
        "Attempts `cs run due` makes at a schedule slot whose run failed.",
        lambda: 3,
        parse=_positive_int,
    ),
    SettingSpec(
        "job_retry_delay",
        "CS_JOB_RETRY_DELAY",
        "How long `cs run due` waits after a failed run before trying its slot again.",
        lambda: dt.timedelta(minutes=5),
        parse=parse_duration,
    ),
    # Analytics (docs/analytics.md).
    SettingSpec(
        "success_targets",
        "CS_SUCCESS_TARGETS",
        "Success metric targets other than the plan's, name=value comma-separated"
        " (e.g. nps=40,churn_monthly=3%).",
        lambda: "",
        parse=_success_targets,
    ),
    SettingSpec(
        "first_value_event",
        "CS_FIRST_VALUE_EVENT",
        "The usage event that marks a customer's first value (time to value);"
        " empty: its first use of any kind.",
        lambda: "",
    ),
    SettingSpec(
        "retention_outbox",
        "CS_RETENTION_OUTBOX",
        "`cs run retention` deletes sent and dead outbox messages older than this (or off).",
        lambda: dt.timedelta(days=90),
        parse=_retention,
    ),
    SettingSpec(
        "retention_events",
        "CS_RETENTION_EVENTS",
        "`cs run retention` deletes domain events older than this that every consumer has read (or off).",
        lambda: dt.timedelta(days=365),
        parse=_retention,
    ),
    SettingSpec(
        "retention_job_runs",
        "CS_RETENTION_JOB_RUNS",
        "`cs run retention` deletes finished job runs older than this (or off).",
        lambda: dt.timedelta(days=90),
        parse=_retention,
    ),
    SettingSpec(
        "retention_touchpoints",
        "CS_RETENTION_TOUCHPOINTS",
        "`cs run retention` deletes touchpoints older than this (the plan: 7 years; or off).",
        lambda: dt.timedelta(days=2557),
        parse=_retention,
    ),
    SettingSpec(
        "retention_health_history",
        "CS_RETENTION_HEALTH_HISTORY",
        "`cs run retention` deletes daily health scores older than this (the plan: 3 years; or off).",
        lambda: dt.timedelta(days=1096),
        parse=_retention,
    ),
    SettingSpec(
        "retention_tasks",
        "CS_RETENTION_TASKS",
        "`cs run retention` deletes tasks completed or cancelled longer ago than this"
        " (the plan: 2 years; or off).",
        lambda: dt.timedelta(days=730),
        parse=_retention,
    ),
    SettingSpec(
        "retention_journeys",
        "CS_RETENTION_JOURNEYS",
        "`cs run retention` deletes journey enrollments (and their step runs) that ended longer ago"
        " than this (the plan: 2 years; or off).",
        lambda: dt.timedelta(days=730),
        parse=_retention,
    ),
)
SPEC_BY_NAME = {spec.name: spec for spec in SPECS}


@dataclass(frozen=True)
class Settings:
    database_url: str
    user: str
    scorecard: str
    batch_size: int
    playbooks: str = ""
    automation_rules: str = ""
    text_lexicon: str = ""
    board_poll: float = 3.0
    smtp_host: str = "localhost"
    smtp_port: int = 0
    smtp_security: str = "none"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_password_file: str = ""
    smtp_from: str = ""
    smtp_timeout: float = 30.0
    webhook_secret: str = ""
    webhook_timeout: float = 10.0
    in_app_url: str = ""
    outbound_allow: str = ""
    outbox_max_attempts: int = 8
    outbox_connections: int = 4
    outbox_backoff: dt.timedelta = dt.timedelta(minutes=1)
    outbox_backoff_cap: dt.timedelta = dt.timedelta(hours=6)
    email_cap: int = 3
    email_cap_period: dt.timedelta = dt.timedelta(days=7)
    quiet_hours: str = "20:00-08:00"
    default_timezone: str = "UTC"
    job_timezone: str = "UTC"
    job_times: str = ""
    job_lease: dt.timedelta = dt.timedelta(seconds=60)
    job_attempts: int = 3
    job_retry_delay: dt.timedelta = dt.timedelta(minutes=5)
    success_targets: str = ""
    first_value_event: str = ""
    retention_outbox: dt.timedelta | None = dt.timedelta(days=90)
    retention_events: dt.timedelta | None = dt.timedelta(days=365)
    retention_job_runs: dt.timedelta | None = dt.timedelta(days=90)
    retention_touchpoints: dt.timedelta | None = dt.timedelta(days=2557)
    retention_health_history: dt.timedelta | None = dt.timedelta(days=1096)
    retention_tasks: dt.timedelta | None = dt.timedelta(days=730)
    retention_journeys: dt.timedelta | None = dt.timedelta(days=730)
    config_file: Path | None = None
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def user_given(self) -> bool:
        """Whether the acting user was named (flag, environment, file), not
        taken from the login name."""
        return self.sources.get("user", "default") != "default"

    @property
    def is_default_database(self) -> bool:
        return self.sources.get("database_url") == "default"

    def smtp_password_value(self) -> str:
        """The SMTP password: smtp_password, else the first line of
        smtp_password_file, else empty. Read when needed, never printed."""
        if self.smtp_password:
            return self.smtp_password
        if not self.smtp_password_file:
            return ""
        path = Path(self.smtp_password_file).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"smtp_password_file {path}: {exc.strerror or exc}") from None
        lines = text.splitlines()
        return lines[0].strip() if lines else ""


def config_file_path(environ: Mapping[str, str]) -> tuple[Path, bool]:
    """The config file to read, and whether the user named it explicitly."""
    named = environ.get("CS_CONFIG")
    if named:
        return Path(named).expanduser(), True
    return paths.user_config_dir() / "config.toml", False


_MAX_CONFIG_BYTES = 1_000_000  # a config file is a few lines


def _read_config_file(path: Path, explicit: bool) -> dict[str, Any]:
    if not path.exists():
        if explicit:
            raise ConfigError(f"{path}: config file not found (named by CS_CONFIG)")
        return {}
    try:
        if path.stat().st_size > _MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: larger than {_MAX_CONFIG_BYTES:,} bytes")
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except RecursionError:
        # tomllib recurses once per level of nested arrays and tables.
        raise ConfigError(f"{path}: nested deeper than the config file allows") from None
    unknown = sorted(set(data) - set(SPEC_BY_NAME))
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], SPEC_BY_NAME, n=1)
        known = f"did you mean '{close[0]}'?" if close else f"known: {', '.join(SPEC_BY_NAME)}"
        raise ConfigError(f"{path}: unknown setting '{unknown[0]}' ({known})")
    return data


def _coerce(spec: SettingSpec, raw: Any, where: str) -> Any:
    if spec.parse is str:
        if not isinstance(raw, str):
            raise ConfigError(f"{where}: '{spec.name}' must be a string")
        return raw
    try:
        return spec.parse(str(raw))
    except ValueError as exc:
        raise ConfigError(f"{where}: '{spec.name}' {exc}") from None


def load_settings(
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve every setting from flags, environment, config file and defaults."""
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    environ = os.environ if environ is None else environ
    path, explicit = config_file_path(environ)
    from_file = _read_config_file(path, explicit)

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for spec in SPECS:
        if spec.name in flags:
            values[spec.name] = _coerce(spec, flags[spec.name], f"--{spec.name.replace('_', '-')}")
            sources[spec.name] = "flag"
        elif environ.get(spec.env):
            values[spec.name] = _coerce(spec, environ[spec.env], spec.env)
            sources[spec.name] = f"env {spec.env}"
        elif spec.name in from_file:
            values[spec.name] = _coerce(spec, from_file[spec.name], str(path))
            sources[spec.name] = f"file {path}"
        else:
            values[spec.name] = spec.default()
            sources[spec.name] = "default"
    return Settings(**values, config_file=path if from_file else None, sources=sources)


def mask_url(url: str) -> str:
    """The URL with its password replaced by ***."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return "***@" + url.rsplit("@", 1)[-1] if "@" in url else url
