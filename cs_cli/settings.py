"""The one settings object.

Precedence, highest first: command-line flag, environment variable (`CS_*`),
the TOML config file (`CS_CONFIG`, else `config.toml` in the user's config
directory), the default. Every value remembers where it came from so
`cs config show` can say so.
"""

from __future__ import annotations

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
        "batch_size",
        "CS_BATCH_SIZE",
        "Rows per batch for imports and whole-book jobs.",
        lambda: 10_000,
        parse=_positive_int,
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
    config_file: Path | None = None
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_default_database(self) -> bool:
        return self.sources.get("database_url") == "default"


def config_file_path(environ: Mapping[str, str]) -> tuple[Path, bool]:
    """The config file to read, and whether the user named it explicitly."""
    named = environ.get("CS_CONFIG")
    if named:
        return Path(named).expanduser(), True
    return paths.user_config_dir() / "config.toml", False


def _read_config_file(path: Path, explicit: bool) -> dict[str, Any]:
    if not path.exists():
        if explicit:
            raise ConfigError(f"{path}: config file not found (named by CS_CONFIG)")
        return {}
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
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
