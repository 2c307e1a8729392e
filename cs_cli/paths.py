"""Where cs keeps and finds its files."""

from __future__ import annotations

from pathlib import Path

APP_NAME = "cs"
PACKAGE_DIR = Path(__file__).resolve().parent
_BUNDLED = PACKAGE_DIR / "_bundled"
_CHECKOUT = PACKAGE_DIR.parent


def user_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_config_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def shipped_dir(name: str) -> Path:
    """A top-level folder of the project (migrations, playbooks, journeys).

    A wheel carries it inside the package (`_bundled/`); a checkout or an
    editable install finds it at the top of the source tree.
    """
    bundled = _BUNDLED / name
    if bundled.is_dir():
        return bundled
    return _CHECKOUT / name


def migrations_dir() -> Path:
    return shipped_dir("migrations")


def playbooks_dir() -> Path:
    """The standard playbooks shipped with cs."""
    return shipped_dir("playbooks")


def journeys_dir() -> Path:
    """The standard journeys shipped with cs."""
    return shipped_dir("journeys")
