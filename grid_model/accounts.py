"""Dashboard accounts: who signs in, with which role and area.

With no account stored the dashboard runs in demo mode (the viewer picks a role and says so on
every page); once one account exists, every visitor signs in and the role and area of the
account decide what they see — residents' names and phones and people under community
correction only for the roles of :data:`grid_model.scope.PERSONAL_DATA_ROLES`, data only of
their area.

Passwords are stored as salted scrypt hashes (``hashlib.scrypt``, the standard library's
memory-hard key derivation) at OWASP's parameters, the parameters kept in the hash string and
compared in constant time; a hash made with weaker parameters is replaced at the next
successful sign-in.

Guessing is throttled (:func:`sign_in`): per attempted username in the database
(:class:`~grid_model.models.SignInThrottle`, so it holds across browser sessions, server
processes and restarts) and per browser session (an :class:`Attempts` the dashboard keeps).
After :data:`MAX_FAILURES` consecutive failures the name, or the session, is locked for
:data:`LOCK_PERIOD`, even against the right password; before that each failure asks the caller
to wait :func:`failure_delay` seconds. A name that is no account is throttled the same way and
gets the same answer at the same cost (one hash). Every failure and every lock is audited
(who tried, when, why), never the password.

>>> stored = hash_password("correct horse")
>>> stored.startswith("scrypt$131072$8$1$") and verify_password("correct horse", stored)
True
>>> verify_password("wrong", stored)
False
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import math
import re
import secrets
import threading
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from grid_model import audit, fields
from grid_model.errors import InvalidInputError, NotFoundError
from grid_model.messages import t
from grid_model.models import Account, Area, Grid, SignInThrottle
from grid_model.scope import ROLES, Viewer, require

#: scrypt cost parameters, OWASP Password Storage Cheat Sheet (2^17, 8, 1): 128 MiB and
#: about 0.5 s a hash here. Stored in each hash string; a weaker stored hash is rehashed.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
_SALT_BYTES, _KEY_BYTES = 16, 32
#: at most this many hashes at once in a process: each takes 128 MiB and a core, so a flood of
#: sign-ins queues here instead of exhausting the memory
MAX_CONCURRENT_HASHES = 2
_HASHING = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)
#: stored parameters beyond these are refused (a damaged hash must not take gigabytes)
_MAX_N, _MAX_R, _MAX_P = 2**20, 32, 16
MIN_PASSWORD = 8
#: longer passwords are refused as wrong without hashing (the text input allows no more)
MAX_PASSWORD = 1024

#: consecutive failed sign-ins of one username or one browser session that lock it
MAX_FAILURES = 5
#: how long a lock lasts, from the failure that set it; failures further apart than this
#: from the last one are forgotten (the count starts again)
LOCK_PERIOD = dt.timedelta(minutes=15)
#: seconds to wait after the first failure, doubling with each further one up to MAX_DELAY;
#: short on purpose: a waiting server thread is a cost too, the lock is what stops guessing
FIRST_DELAY, MAX_DELAY = 0.25, 2.0

_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
# Verified against when the username is no account, so every path costs one hash, from the
# first attempt on: a hash at today's parameters of a random password nobody kept.
_DUMMY = "scrypt$131072$8$1$qRwp/tjM4UJZR+NI9K+SwQ==$EdCrJTpxo5dAI7C9on65irvB01hAEXRPcI95+PeJlHE="


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    # OpenSSL needs 128·r·(n + p + 2) bytes; its default limit (32 MiB) is below OWASP's n
    maxmem = 128 * r * (n + p + 2) + 1024 * 1024
    with _HASHING:
        return hashlib.scrypt(
            password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=maxmem
        )


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """``scrypt$n$r$p$salt$hash`` of ``password`` with a random salt (the parameters are
    there only to make old-style hashes in tests)."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(password, salt, n, r, p, _KEY_BYTES)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    """n, r, p, salt and digest of a stored hash, or None when it is not one of ours."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        n, r, p = int(n), int(r), int(p)
        raw_salt, raw_digest = base64.b64decode(salt), base64.b64decode(digest)
    except (ValueError, TypeError, AttributeError):
        return None
    sane = 1 < n <= _MAX_N and n & (n - 1) == 0 and 0 < r <= _MAX_R and 0 < p <= _MAX_P
    if scheme != "scrypt" or not sane or not raw_digest:
        return None
    return n, r, p, raw_salt, raw_digest


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (from :func:`hash_password`, any parameters)."""
    parsed = _parse(stored)
    if parsed is None or len(password or "") > MAX_PASSWORD:
        return False
    n, r, p, salt, expected = parsed
    try:
        got = _scrypt(password or "", salt, n, r, p, len(expected))
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(got, expected)


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` was made with weaker parameters than today's (or is unreadable)."""
    parsed = _parse(stored)
    if parsed is None:
        return True
    n, r, p, salt, digest = parsed
    return (
        n < SCRYPT_N or r < SCRYPT_R or p < SCRYPT_P
        or len(salt) < _SALT_BYTES or len(digest) < _KEY_BYTES
    )  # fmt: skip


def accounts_enabled(session: Session) -> bool:
    """Whether any account exists, active or not (else the dashboard runs in demo mode).
    Disabling every account must not open the dashboard to everyone."""
    return bool(session.scalar(select(func.count()).select_from(Account)))


def _area_exists(session: Session, code: str) -> bool:
    return bool(
        session.scalar(select(func.count()).select_from(Area).where(Area.code == code))
        or session.scalar(select(func.count()).select_from(Grid).where(Grid.code == code))
    )


def _text_errors(values: dict[str, tuple[str | None, object]], lang: str) -> list[str]:
    """Control characters or too many characters (:mod:`grid_model.fields`), per field."""
    errors = []
    for label, (value, column) in values.items():
        limit = fields.max_length(column)
        problem = fields.text_problem(value, max_length=limit) if value else None
        if problem:
            expected = (
                t("expected_no_control", lang)
                if problem == "control"
                else t("expected_max_length", lang, n=limit, length=len(value.strip()))
            )
            shown = fields.shown(value)
            errors.append(t("invalid_field", lang, field=label, value=shown, expected=expected))
    return errors


def add_account(
    session: Session,
    username: str,
    password: str,
    *,
    role: str,
    area_code: str | None = None,
    name: str | None = None,
    viewer: Viewer,
    lang: str = "zh",
) -> Account:
    """Store a new account (flushes, does not commit); ``viewer`` must be allowed to manage
    accounts (an administrator without area limit) and is the actor of the audit entry.

    Raises
    ------
    InvalidInputError
        A bad or taken username, a role not in :data:`grid_model.scope.ROLES`, a password
        shorter than :data:`MIN_PASSWORD`, or an area code that is neither an area nor a grid.
    PermissionDeniedError
        ``viewer`` may not manage accounts.
    """
    viewer = require(session, viewer, "manage_accounts", lang=lang)
    errors = []
    if not _USERNAME.match(username or ""):
        errors.append(t("account_bad_username", lang, value=username))
    elif session.scalar(select(Account.id).where(Account.username == username)):
        errors.append(t("account_taken", lang, value=username))
    if role not in ROLES:
        errors.append(t("account_bad_role", lang, value=role, choices=", ".join(ROLES)))
    if len(password or "") < MIN_PASSWORD:
        errors.append(t("account_short_password", lang, n=MIN_PASSWORD))
    errors += _text_errors({"name": (name, Account.name)}, lang)
    area_errors = _text_errors({"area": (area_code, Account.area_code)}, lang)
    errors += area_errors
    if area_code and not area_errors and not _area_exists(session, area_code):
        errors.append(t("account_bad_area", lang, value=area_code))
    if errors:
        raise InvalidInputError("; ".join(errors))
    account = Account(
        username=username,
        name=name or username,
        role=role,
        area_code=area_code or None,
        password_hash=hash_password(password),
        active=True,
    )
    session.add(account)
    audit.record(
        session,
        viewer,
        "account_add",
        "accounts",
        entity_id=username,
        details={"role": role, "area_code": area_code},
    )
    session.flush()
    return account


def set_active(
    session: Session, username: str, active: bool, *, viewer: Viewer, lang: str = "zh"
) -> Account:
    """Enable or disable an account: a disabled account can no longer sign in, and the
    services refuse its next change (:func:`grid_model.scope.check_viewer`). ``viewer`` must
    be allowed to manage accounts."""
    viewer = require(session, viewer, "manage_accounts", lang=lang)
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None:
        raise NotFoundError(t("account_unknown", lang, value=username))
    account.active = active
    action = "account_enable" if active else "account_disable"
    audit.record(session, viewer, action, "accounts", entity_id=username)
    session.flush()
    return account


# --- sign-in and its throttle ------------------------------------------------------------


@dataclass
class Attempts:
    """Consecutive failed sign-ins of one browser session (the dashboard keeps one per
    session); the same three fields as a :class:`~grid_model.models.SignInThrottle` row,
    which holds them per username, and the same rules apply to both."""

    failures: int = 0
    last_failed_at: dt.datetime | None = None
    locked_until: dt.datetime | None = None


@dataclass(frozen=True)
class SignIn:
    """What :func:`sign_in` decided.

    Attributes
    ----------
    viewer
        The signed-in account's viewer, or None.
    retry_after
        How long the username or the browser session stays locked (None when not locked).
    delay
        Seconds the caller waits before answering a failure (after committing).
    """

    viewer: Viewer | None
    retry_after: dt.timedelta | None = None
    delay: float = 0.0

    def message(self, lang: str = "zh") -> str | None:
        """What to tell the user: None once signed in; the same words for a wrong password, a
        disabled account and a name that is no account."""
        if self.viewer is not None:
            return None
        if self.retry_after is not None:
            minutes = max(1, math.ceil(self.retry_after / dt.timedelta(minutes=1)))
            return t("sign_in_locked", lang, minutes=minutes)
        return t("sign_in_failed", lang)


def failure_delay(failures: int) -> float:
    """Seconds to wait after the ``failures``-th consecutive failure (0 before any)."""
    if failures <= 0:
        return 0.0
    return min(MAX_DELAY, FIRST_DELAY * 2 ** (failures - 1))


def _locked_for(state: Attempts | SignInThrottle | None, now: dt.datetime) -> dt.timedelta | None:
    if state is None or state.locked_until is None or state.locked_until <= now:
        return None
    return state.locked_until - now


def _count_failure(state: Attempts | SignInThrottle, now: dt.datetime) -> bool:
    """Count one failure on ``state`` (a session's or a username's); True when it locks."""
    if state.last_failed_at is None or now - state.last_failed_at >= LOCK_PERIOD:
        state.failures = 0
    state.failures = (state.failures or 0) + 1
    state.last_failed_at = now
    if state.failures >= MAX_FAILURES:
        state.locked_until = now + LOCK_PERIOD
        return True
    return False


def _utc(now: dt.datetime | None) -> dt.datetime:
    """``now`` (default: the clock) as naive UTC, as the database stores times."""
    now = now or dt.datetime.now(dt.UTC)
    return now.astimezone(dt.UTC).replace(tzinfo=None) if now.tzinfo else now


def _key(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()


def _shown(name: str) -> str:
    """The attempted name as the audit log may hold it: printable, at most 64 characters."""
    return "".join(c if c.isprintable() else "?" for c in name[:64])


def _throttle(session: Session, name: str) -> SignInThrottle | None:
    # PostgreSQL: concurrent attempts on one name wait for each other, so none is uncounted
    return session.scalar(
        select(SignInThrottle).where(SignInThrottle.key == _key(name)).with_for_update()
    )


def _audit_sign_in(
    session: Session, action: str, name: str, now: dt.datetime, origin: str | None, **details
) -> None:
    if origin:
        details["origin"] = origin[:64]
    entry = audit.record(
        session, _shown(name) or "?", action, "accounts", entity_id=_shown(name), details=details
    )
    entry.at = now  # the attempt's time as sign_in reads it (a caller may give its clock)


def sign_in(
    session: Session,
    username: str,
    password: str,
    *,
    client: Attempts | None = None,
    origin: str | None = None,
    now: dt.datetime | None = None,
) -> SignIn:
    """Check a sign-in, throttled per username and per browser session (flushes, does not
    commit: the caller commits, also after a failure, then waits ``result.delay``).

    Parameters
    ----------
    username, password
        As typed (the username is stripped).
    client
        The browser session's :class:`Attempts`, updated in place (None: no session).
    origin
        Where the attempt came from (e.g. the client's address), for the audit log.
    now
        The time (default: the clock); tests pass one instead of waiting for locks to end.
    """
    now = _utc(now)
    name = (username or "").strip()
    row = _throttle(session, name)
    locked = max(filter(None, [_locked_for(row, now), _locked_for(client, now)]), default=None)
    if locked is not None:
        # no hash while locked, for a real name as for any other: the same cost, no answer
        _audit_sign_in(session, "sign_in_failed", name, now, origin, reason="locked")
        session.flush()
        return SignIn(viewer=None, retry_after=locked, delay=MAX_DELAY)
    account = (
        session.scalar(select(Account).where(Account.username == name))
        if _USERNAME.match(name)
        else None
    )
    matches = verify_password(password or "", account.password_hash if account else _DUMMY)
    if account is not None and matches and account.active:
        return _signed_in(session, account, password, row, client)
    reason = "unknown_user" if account is None else "disabled" if matches else "wrong_password"
    return _failed(session, name, reason, row, client, now, origin)


def _signed_in(
    session: Session,
    account: Account,
    password: str,
    row: SignInThrottle | None,
    client: Attempts | None,
) -> SignIn:
    if row is not None:
        session.delete(row)
    if client is not None:
        client.failures, client.last_failed_at, client.locked_until = 0, None, None
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
        audit.record(
            session,
            account.username,
            "password_rehash",
            "accounts",
            entity_id=account.username,
            details={"scrypt": [SCRYPT_N, SCRYPT_R, SCRYPT_P]},
        )
    session.flush()
    return SignIn(
        viewer=Viewer(
            role=account.role,
            area_code=account.area_code,
            name=account.name,
            username=account.username,
        )
    )


def _failed(
    session: Session,
    name: str,
    reason: str,
    row: SignInThrottle | None,
    client: Attempts | None,
    now: dt.datetime,
    origin: str | None,
) -> SignIn:
    # rows of names nobody tried for LOCK_PERIOD are forgotten: the table stays small even
    # when many made-up names are tried
    key = _key(name)
    session.execute(
        delete(SignInThrottle)
        .where(SignInThrottle.last_failed_at < now - LOCK_PERIOD, SignInThrottle.key != key)
        .execution_options(synchronize_session=False)
    )
    if row is None:
        row = SignInThrottle(key=key, failures=0)
        session.add(row)
    locks = {"username": _count_failure(row, now)}
    if client is not None:
        locks["session"] = _count_failure(client, now)
    _audit_sign_in(session, "sign_in_failed", name, now, origin, reason=reason,
                   failures=row.failures)  # fmt: skip
    for by, locked in locks.items():
        if locked:
            until = (now + LOCK_PERIOD).isoformat()
            _audit_sign_in(session, "sign_in_locked", name, now, origin, by=by, until=until)
    session.flush()
    retry = max(filter(None, [_locked_for(row, now), _locked_for(client, now)]), default=None)
    failures = max(row.failures, client.failures if client else 0)
    return SignIn(viewer=None, retry_after=retry, delay=failure_delay(failures))


def authenticate(
    session: Session, username: str, password: str, *, now: dt.datetime | None = None
) -> Viewer | None:
    """:func:`sign_in` without a browser session: the viewer, or None (unknown user, wrong
    password, disabled or locked account alike)."""
    return sign_in(session, username, password, now=now).viewer


def current_viewer(session: Session, username: str) -> Viewer | None:
    """The viewer an already signed-in ``username`` is now: None once the account is disabled
    or gone, its new role or area once changed (sessions do not keep old rights)."""
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None or not account.active:
        return None
    return Viewer(
        role=account.role,
        area_code=account.area_code,
        name=account.name,
        username=account.username,
    )


def list_accounts(session: Session, viewer: Viewer, *, lang: str = "zh") -> list[dict]:
    """Every account without its password hash, by username; for viewers allowed to manage
    accounts."""
    require(session, viewer, "manage_accounts", lang=lang)
    rows = session.scalars(select(Account).order_by(Account.username)).all()
    return [
        {
            "username": a.username,
            "name": a.name,
            "role": a.role,
            "area_code": a.area_code,
            "active": a.active,
        }
        for a in rows
    ]
