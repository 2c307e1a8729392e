"""Settings: precedence, the origin of each value, and config-file errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cs_cli.errors import ConfigError
from cs_cli.settings import SPEC_BY_NAME, SPECS, load_settings, mask_url

DEFAULTS = {spec.name: "default" for spec in SPECS}


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Keep the real user's config file and data directory out of these tests.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture
def toml(tmp_path: Path):
    def write(text: str) -> Path:
        path = tmp_path / "cs-config.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


def test_precedence_flag_env_file_default(toml):
    path = toml('database_url = "sqlite:///from-file.db"\nuser = "file-user"\nbatch_size = 7\n')
    environ = {"CS_CONFIG": str(path), "CS_USER": "env-user", "CS_DATABASE_URL": "sqlite:///from-env.db"}

    settings = load_settings({"database_url": "sqlite:///from-flag.db"}, environ)

    assert settings.database_url == "sqlite:///from-flag.db"
    assert settings.user == "env-user"
    assert settings.batch_size == 7
    assert settings.sources == {
        **DEFAULTS,
        "database_url": "flag",
        "user": "env CS_USER",
        "batch_size": f"file {path}",
    }
    assert settings.config_file == path
    assert not settings.is_default_database


def test_each_level_falls_through_to_the_next(toml, tmp_path: Path):
    path = toml('user = "file-user"\n')
    environ = {"CS_CONFIG": str(path), "CS_BATCH_SIZE": "250"}

    # A flag given as None means "not given" and must not hide the lower levels.
    settings = load_settings({"user": None, "batch_size": None}, environ)

    assert settings.user == "file-user"
    assert settings.batch_size == 250
    assert settings.database_url == f"sqlite:///{tmp_path / 'data' / 'cs' / 'cs.db'}"
    assert settings.sources == {**DEFAULTS, "user": f"file {path}", "batch_size": "env CS_BATCH_SIZE"}
    assert settings.is_default_database


def test_defaults_without_any_file(tmp_path: Path):
    # The implicit config file (config.toml in the config directory) may be absent.
    settings = load_settings({}, {})
    assert settings.batch_size == 10_000
    assert settings.config_file is None
    assert settings.sources == {spec.name: "default" for spec in SPECS}


def test_implicit_config_file_in_the_config_directory(tmp_path: Path):
    path = tmp_path / "config" / "cs" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text("batch_size = 3\n", encoding="utf-8")
    settings = load_settings({}, {})
    assert settings.batch_size == 3
    assert settings.sources["batch_size"] == f"file {path}"
    assert settings.config_file == path


def test_every_setting_has_an_env_var_and_help():
    for spec in SPECS:
        assert spec.env == "CS_" + spec.name.upper()
        assert spec.help.strip()


def test_unknown_key_names_file_and_key(toml):
    path = toml('user = "ana"\ndatabse_url = "sqlite:///typo.db"\n')
    with pytest.raises(ConfigError) as info:
        load_settings({}, {"CS_CONFIG": str(path)})
    assert str(path) in info.value.message
    assert "'databse_url' (did you mean 'database_url'?)" in info.value.message
    assert info.value.exit_code == 2


def test_malformed_toml_names_file_and_line(toml):
    path = toml('user = "ana"\nbatch_size = \ndatabase_url = "x"\n')
    with pytest.raises(ConfigError) as info:
        load_settings({}, {"CS_CONFIG": str(path)})
    assert info.value.message.startswith(str(path))
    assert "line 2" in info.value.message
    assert info.value.exit_code == 2


def test_missing_named_config_file(tmp_path: Path):
    missing = tmp_path / "nope" / "config.toml"
    with pytest.raises(ConfigError) as info:
        load_settings({}, {"CS_CONFIG": str(missing)})
    assert str(missing) in info.value.message
    assert "not found" in info.value.message
    assert "CS_CONFIG" in info.value.message


@pytest.mark.parametrize(
    ("flags", "environ_extra", "file_text", "where"),
    [
        ({"batch_size": 0}, {}, None, "--batch-size"),
        ({}, {"CS_BATCH_SIZE": "-5"}, None, "CS_BATCH_SIZE"),
        ({}, {}, "batch_size = 0\n", "FILE"),
    ],
)
def test_batch_size_must_be_positive(toml, flags, environ_extra, file_text, where):
    environ = {"CS_CONFIG": "", **environ_extra}
    if file_text is not None:
        path = toml(file_text)
        environ["CS_CONFIG"] = str(path)
        where = str(path)
    with pytest.raises(ConfigError) as info:
        load_settings(flags, environ)
    assert info.value.message.startswith(where)
    assert "batch_size" in info.value.message
    assert "positive" in info.value.message


def test_batch_size_that_is_not_a_number_gets_a_readable_message():
    with pytest.raises(ConfigError) as info:
        load_settings({}, {"CS_CONFIG": "", "CS_BATCH_SIZE": "lots"})
    assert info.value.message.startswith("CS_BATCH_SIZE")
    # A person should read what is expected, not Python's int() internals.
    assert "whole number" in info.value.message
    assert "invalid literal" not in info.value.message


def test_string_setting_of_wrong_type_in_file(toml):
    path = toml("user = 42\n")
    with pytest.raises(ConfigError, match="'user' must be a string"):
        load_settings({}, {"CS_CONFIG": str(path)})


def test_empty_env_var_counts_as_unset(toml):
    path = toml('user = "file-user"\n')
    settings = load_settings({}, {"CS_CONFIG": str(path), "CS_USER": ""})
    assert settings.user == "file-user"
    assert settings.sources["user"] == f"file {path}"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (
            "postgresql+psycopg://ana:s3cret@db.example.com:5432/cs",
            "postgresql+psycopg://ana:***@db.example.com:5432/cs",
        ),
        ("postgresql+psycopg://ana@db.example.com/cs", "postgresql+psycopg://ana@db.example.com/cs"),
        ("sqlite:////var/lib/cs/cs.db", "sqlite:////var/lib/cs/cs.db"),
    ],
)
def test_mask_url_hides_the_password(url, masked):
    assert mask_url(url) == masked
    assert "s3cret" not in mask_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg//ana:s3cret@db.example.com/cs",  # missing ':' after the scheme
        "postgresql+psycopg://ana:s3cret@db.example.com:port/cs",  # non-numeric port
    ],
)
def test_mask_url_hides_the_password_of_malformed_urls(url):
    masked = mask_url(url)
    assert "s3cret" not in masked
    assert "db.example.com" in masked


def test_outbox_settings_from_the_environment_and_the_file(toml):
    path = toml('smtp_host = "mail.example.com"\nsmtp_port = 587\nemail_cap = 0\nquiet_hours = "off"\n')
    environ = {
        "CS_CONFIG": str(path),
        "CS_SMTP_SECURITY": "STARTTLS",
        "CS_SMTP_PASSWORD": "s3cret",
        "CS_OUTBOX_BACKOFF": "90s",
        "CS_OUTBOX_BACKOFF_CAP": "2h",
        "CS_EMAIL_CAP_PERIOD": "7d",
        "CS_DEFAULT_TIMEZONE": "Europe/Paris",
        "CS_WEBHOOK_TIMEOUT": "2.5",
    }
    settings = load_settings({}, environ)
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_security) == (
        "mail.example.com",
        587,
        "starttls",
    )
    assert settings.smtp_password_value() == "s3cret"
    assert settings.outbox_backoff == dt.timedelta(seconds=90)
    assert settings.outbox_backoff_cap == dt.timedelta(hours=2)
    assert settings.email_cap_period == dt.timedelta(days=7)
    assert (settings.email_cap, settings.quiet_hours, settings.default_timezone) == (0, "off", "Europe/Paris")
    assert settings.webhook_timeout == 2.5
    assert SPEC_BY_NAME["smtp_password"].secret and SPEC_BY_NAME["webhook_secret"].secret


def test_outbox_defaults():
    settings = load_settings({}, {})
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_security) == ("localhost", 0, "none")
    assert (settings.email_cap, settings.email_cap_period) == (3, dt.timedelta(days=7))
    assert (settings.quiet_hours, settings.default_timezone) == ("20:00-08:00", "UTC")
    assert (settings.outbox_max_attempts, settings.outbox_backoff) == (8, dt.timedelta(minutes=1))
    assert settings.smtp_password_value() == ""


def test_the_smtp_password_comes_from_a_file_when_not_set(tmp_path: Path):
    secret = tmp_path / "smtp-password"
    secret.write_text("from-file\nignored\n", encoding="utf-8")
    settings = load_settings({}, {"CS_SMTP_PASSWORD_FILE": str(secret)})
    assert settings.smtp_password_value() == "from-file"
    # The variable wins over the file.
    both = load_settings({}, {"CS_SMTP_PASSWORD_FILE": str(secret), "CS_SMTP_PASSWORD": "from-env"})
    assert both.smtp_password_value() == "from-env"
    missing = load_settings({}, {"CS_SMTP_PASSWORD_FILE": str(tmp_path / "nope")})
    with pytest.raises(ConfigError, match=r"smtp_password_file .*nope"):
        missing.smtp_password_value()


@pytest.mark.parametrize(
    ("env", "value", "says"),
    [
        ("CS_SMTP_SECURITY", "ssl", "must be one of none, starttls, tls"),
        ("CS_SMTP_PORT", "70000", "port number"),
        ("CS_QUIET_HOURS", "8pm-8am", "a window like 20:00-08:00"),
        ("CS_QUIET_HOURS", "08:00-08:00", "differ"),
        ("CS_DEFAULT_TIMEZONE", "Mars/Olympus", "time zone name"),
        ("CS_OUTBOX_BACKOFF", "soon", "a duration like 90s"),
        ("CS_EMAIL_CAP_PERIOD", "0d", "more than zero"),
        ("CS_EMAIL_CAP", "-1", "must not be negative"),
        ("CS_SMTP_TIMEOUT", "0", "positive number of seconds"),
    ],
)
def test_bad_outbox_settings_name_the_variable(env, value, says):
    with pytest.raises(ConfigError) as info:
        load_settings({}, {"CS_CONFIG": "", env: value})
    assert info.value.message.startswith(env)
    assert says in info.value.message


def test_every_setting_is_in_the_readme_table():
    readme = (Path(__file__).parent.parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    for spec in SPECS:
        assert f"`{spec.name}`" in table, spec.name
        assert f"`{spec.env}`" in table, spec.env
