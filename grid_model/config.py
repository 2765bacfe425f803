"""Settings, read from the environment with defaults.

GRIDLAW_DATABASE_URL
    SQLAlchemy URL. Default: a SpatiaLite file ``gridlaw.sqlite`` in the working directory.
    PostGIS: ``postgresql+psycopg://user@host:5432/db``.
GRIDLAW_SNAP_M
    Snap tolerance in metres for needs just outside every grid (default 30).
GRIDLAW_TODAY
    The day to count from (ISO date, e.g. ``2025-12-31``): plausible dates of input and the
    dashboard's "today"; default the machine's date.
GRIDLAW_TIMEZONE
    IANA time zone of the area (default ``Asia/Shanghai``): the zone that timestamps without an
    offset are read in, that instants are shown in, and whose midnight a date-only value means.
GRIDLAW_LANG
    ``zh`` or ``en``. The CLI's default otherwise follows the locale (``LANG``), Chinese when
    unknown; the dashboard's is Chinese (its users are not at the server).
GRIDLAW_TIANDITU_KEY
    A Tianditu (天地图) browser key: offers Tianditu base maps on the dashboard's maps.
GRIDLAW_DB_BUSY_TIMEOUT
    Seconds a write waits for another writer to finish before it tries again (default 10; it
    tries 3 times, then says "the database is busy, try again").
GRIDLAW_SMTP_URL
    Where ``gridlaw remind`` sends its e-mail: ``smtp://[user:password@]host[:port]`` (STARTTLS
    when the server offers it; ``?starttls=no`` to never try), ``smtps://…`` (TLS from the
    start); ``?from=address`` sets the sender (default ``gridlaw@localhost``). Unset: reminders
    stay in the outbox.
SPATIALITE_LIBRARY_PATH
    Where mod_spatialite is; default ``mod_spatialite`` (found by the dynamic loader).
GRIDLAW_MEDIA_DIR
    Folder of the photos sent with needs through the API (default ``media`` in the working
    directory); files get random names and are served only to those who may see the need.
GRIDLAW_API_SECRET
    Secret that signs the intake page's session cookie (default: a random one per process, so
    signed-in phones sign in again after a restart).
GRIDLAW_API_WRITES_PER_MINUTE
    Writes one API key (or signed-in account) may make per minute (default 60); beyond that
    the API answers 429 with Retry-After.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import zoneinfo

from grid_model.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite:///gridlaw.sqlite"
DEFAULT_TIMEZONE = "Asia/Shanghai"


def database_url() -> str:
    return os.environ.get("GRIDLAW_DATABASE_URL") or DEFAULT_DATABASE_URL


def today() -> dt.date:
    """``GRIDLAW_TODAY`` if set, else the machine's date."""
    value = os.environ.get("GRIDLAW_TODAY")
    if not value:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise ConfigError(f"GRIDLAW_TODAY={value!r} is not an ISO date such as 2025-06-30") from exc


def snap_m() -> float:
    """``GRIDLAW_SNAP_M``, else 30 m: the default of every service that geolocates."""
    value = os.environ.get("GRIDLAW_SNAP_M") or "30"
    try:
        metres = float(value)
    except ValueError:
        metres = math.nan
    if not 0 <= metres < math.inf:
        raise ConfigError(f"GRIDLAW_SNAP_M={value!r} is not a distance in metres such as 30")
    return metres


def timezone() -> zoneinfo.ZoneInfo:
    """``GRIDLAW_TIMEZONE``, else Asia/Shanghai: the zone of :mod:`grid_model.instants`."""
    name = os.environ.get("GRIDLAW_TIMEZONE") or DEFAULT_TIMEZONE
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"GRIDLAW_TIMEZONE={name!r} is not an IANA time zone such as Asia/Shanghai"
        ) from exc


def busy_timeout_s() -> float:
    return float(os.environ.get("GRIDLAW_DB_BUSY_TIMEOUT", "10"))


def lang_setting() -> str | None:
    """``GRIDLAW_LANG`` when it is ``zh`` or ``en``, else None."""
    lang = os.environ.get("GRIDLAW_LANG")
    return lang if lang in ("zh", "en") else None


def default_lang() -> str:
    """The CLI's language: ``GRIDLAW_LANG``, else the locale's, else Chinese."""
    lang = lang_setting()
    if lang:
        return lang
    loc = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG") or ""
    return "en" if loc.lower().startswith("en") else "zh"


def tianditu_key() -> str | None:
    return os.environ.get("GRIDLAW_TIANDITU_KEY") or None


def spatialite_library() -> str:
    """``SPATIALITE_LIBRARY_PATH``, else ``mod_spatialite`` (found by the dynamic loader)."""
    return os.environ.get("SPATIALITE_LIBRARY_PATH") or "mod_spatialite"


def smtp_url() -> str | None:
    """``GRIDLAW_SMTP_URL`` (see the module docstring), or None when unset; a value that is no
    ``smtp://`` or ``smtps://`` URL with a host is a ConfigError."""
    from urllib.parse import urlsplit

    value = os.environ.get("GRIDLAW_SMTP_URL") or None
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a port that is no number
    except ValueError as exc:
        raise ConfigError(
            "GRIDLAW_SMTP_URL is not a URL such as smtp://mail.example.cn:587"
        ) from exc
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError("GRIDLAW_SMTP_URL is not a URL such as smtp://mail.example.cn:587")
    return value


# --- s11-api ---


def media_dir() -> str:
    """``GRIDLAW_MEDIA_DIR``, else ``media`` in the working directory."""
    return os.environ.get("GRIDLAW_MEDIA_DIR") or "media"


def api_secret() -> str | None:
    """``GRIDLAW_API_SECRET`` (None: the API makes a random one when it starts)."""
    return os.environ.get("GRIDLAW_API_SECRET") or None


def api_writes_per_minute() -> int:
    """``GRIDLAW_API_WRITES_PER_MINUTE``, else 60."""
    value = os.environ.get("GRIDLAW_API_WRITES_PER_MINUTE") or "60"
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise ConfigError(f"GRIDLAW_API_WRITES_PER_MINUTE={value!r} is not a whole number ≥ 1")
    return number
