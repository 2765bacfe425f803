"""Dashboard accounts: who signs in, with which role and area.

With no account stored the dashboard runs in demo mode (the viewer picks a role and says so on
every page); once one account exists, every visitor signs in and the role and area of the
account decide what they see — residents' names and phones and people under community
correction only for the roles of :data:`grid_model.scope.PERSONAL_DATA_ROLES`, data only of
their area.

Passwords are stored as salted scrypt hashes (``hashlib.scrypt``, the standard library's
memory-hard key derivation), compared in constant time.

>>> stored = hash_password("correct horse")
>>> stored.startswith("scrypt$") and verify_password("correct horse", stored)
True
>>> verify_password("wrong", stored)
False
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grid_model import fields
from grid_model.errors import InvalidInputError, NotFoundError
from grid_model.messages import t
from grid_model.models import Account, Area, AuditEntry, Grid
from grid_model.scope import ROLES, Viewer, require

#: scrypt cost parameters (n = 2**14, r = 8: 16 MiB and ~50 ms a hash here).
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD = 8
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
# verified against when the username does not exist, so both paths cost one hash
_DUMMY = None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` of ``password`` with a random salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (from :func:`hash_password`)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


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
    session.add(
        AuditEntry(
            actor=viewer.name,
            action="account_add",
            entity="accounts",
            entity_id=username,
            details={"role": role, "area_code": area_code},
        )
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
    session.add(
        AuditEntry(
            actor=viewer.name,
            action="account_enable" if active else "account_disable",
            entity="accounts",
            entity_id=username,
        )
    )
    session.flush()
    return account


def authenticate(session: Session, username: str, password: str) -> Viewer | None:
    """The :class:`~grid_model.scope.Viewer` of an active account whose password matches, or
    None (unknown user, wrong password or disabled account alike)."""
    global _DUMMY
    account = session.scalar(select(Account).where(Account.username == (username or "").strip()))
    if account is None or not account.active:
        if _DUMMY is None:
            _DUMMY = hash_password(secrets.token_hex(8))
        verify_password(password or "", _DUMMY)
        return None
    if not verify_password(password or "", account.password_hash):
        return None
    return Viewer(role=account.role, area_code=account.area_code, name=account.name)


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
