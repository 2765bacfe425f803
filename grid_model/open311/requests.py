"""GeoReport requests: one in (a need recorded through :func:`grid_model.needs.cases.record_need`),
requests out (through :func:`~grid_model.needs.cases.search_needs` and
:func:`~grid_model.needs.cases.need_detail`, so redacted as everywhere).

Readers without an API key read as :data:`PUBLIC`: the ``public`` role, which changes nothing
and sees no personal data (nor needs of people under community correction); for them a need's
coordinates are those of its grid's centre (a need outside every grid has none), never the
point where it was recorded, and its description (free text that may name people) is left
out. Photos are listed only for viewers who may see personal data.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import pandas as pd
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geodata.media import StoredPhoto
from grid_model import audit, config, instants
from grid_model.errors import InvalidInputError, NotFoundError
from grid_model.messages import t
from grid_model.models import Grid, Need, NeedMedia
from grid_model.needs.cases import NeedInput, need_detail, record_need, search_needs
from grid_model.open311 import services, steps
from grid_model.scope import Scope, Viewer, check_viewer

#: Who reads without a key: taken as it is (``local``), a role that may change nothing and
#: sees no personal data.
PUBLIC = Viewer(role="public", name="open311-public", local=True)
MAX_PAGE_SIZE = 200
MAX_IDS = 50
_CODE = re.compile(r"^[0-9A-Za-z-]{1,32}$")
MEDIA_PATH = "/open311/v2/media/"


@dataclass
class RequestInput:
    """A GeoReport ``POST requests`` as sent (strings as typed)."""

    service_code: str | None
    lat: str | float | None
    long: str | float | None
    description: str | None = None
    address_string: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    coord_system: str = "wgs84"
    attributes: dict[str, str] = field(default_factory=dict)

    def as_payload(self) -> dict:
        """The request's content, for its idempotency hash."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class RequestQuery:
    """A GeoReport ``GET requests`` filter (checked by :func:`list_requests`)."""

    service_request_id: str | None = None
    service_code: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    status: str | None = None
    grid: str | None = None
    area: str | None = None
    page: int = 1
    page_size: int = 50


def _bad(field_: str, value: object, expected: str, lang: str) -> InvalidInputError:
    line = t("invalid_field", lang, field=field_, value="" if value is None else value,
             expected=expected)  # fmt: skip
    exc = InvalidInputError(line)
    exc.fields = ((field_, line),)
    return exc


# --- in -------------------------------------------------------------------------------------


def _resident(data: RequestInput) -> str | None:
    """The resident's name: family name first without a space when Chinese (张 + 三 = 张三),
    else ``first last``."""
    first, last = (data.first_name or "").strip(), (data.last_name or "").strip()
    if not (first or last):
        return None
    if any("\u4e00" <= ch <= "\u9fff" for ch in first + last):
        return last + first
    return " ".join(p for p in (first, last) if p)


def need_input(data: RequestInput, lang: str = "zh") -> NeedInput:
    """The need a request describes (its fields checked by the needs validator later)."""
    code = services.check_service(data.service_code, lang)
    attributes = services.check_attributes(code, dict(data.attributes), lang)
    if data.coord_system not in services.COORD_SYSTEMS:
        raise _bad("coord_system", data.coord_system,
                   t("expected_one_of", lang, choices=", ".join(services.COORD_SYSTEMS)), lang)  # fmt: skip
    return NeedInput(
        lon=data.long,
        lat=data.lat,
        category=code,
        reported_at=attributes.get("reported_at") or config.today(),
        source=attributes.get("source"),
        description=data.description,
        dispute_type=attributes.get("dispute_type") or None,
        resident_name=_resident(data),
        resident_phone=(data.phone or "").strip() or None,
        under_correction=attributes.get("under_correction") or False,
    )


def record_request(
    session: Session,
    data: RequestInput,
    *,
    viewer: Viewer,
    photo: StoredPhoto | None = None,
    lang: str = "zh",
) -> tuple[dict, bool]:
    """Record the need of ``data`` (and its photo); the GeoReport answer and whether a new
    need was stored (False: the same need was already there)."""
    need, created = record_need(
        session, need_input(data, lang), viewer=viewer, crs=data.coord_system, lang=lang
    )
    if created:
        details = {"service_code": need.category, "coord_system": data.coord_system}
        if data.address_string:
            details["address_string"] = data.address_string[:200]
        audit.record(session, viewer, "open311_request", "need", entity_id=need.id,
                     details=details)  # fmt: skip
    if photo is not None and created:
        session.add(NeedMedia(need_id=need.id, filename=photo.filename, size=photo.size,
                              content_type=photo.content_type, width=photo.width,
                              height=photo.height))  # fmt: skip
    session.flush()
    answer = {
        "service_request_id": str(need.id),
        "service_notice": t("o311.notice_created" if created else "o311.notice_existing", lang),
        "account_id": None,
        "grid": need.grid_code,
        "location_quality": need.quality,
    }
    return answer, created


# --- out ------------------------------------------------------------------------------------


def _day(value: str | None, name: str, lang: str) -> dt.date | None:
    """A GeoReport date filter (ISO date or datetime; a naive time read in the area's zone)."""
    if value is None or not str(value).strip():
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise _bad(name, value, t("expected_iso_datetime", lang), lang) from None
    return instants.local(instants.aware(parsed)).date()


def _check_filters(query: RequestQuery, lang: str) -> None:
    """InvalidInputError naming a grid or area that is no code, a status that is neither
    ``open`` nor ``closed``, a service that is none."""
    for name in ("grid", "area"):
        value = getattr(query, name)
        if value is not None and not _CODE.match(value):
            raise _bad(name, value, t("expected_area_code", lang), lang)
    if query.status is not None and query.status not in steps.GEOREPORT_STATUSES:
        raise _bad("status", query.status, t("expected_one_of", lang, choices="open, closed"), lang)
    if query.service_code is not None:
        services.check_service(query.service_code, lang)


def _area(query: RequestQuery, viewer: Viewer) -> str | None | bool:
    """The area code a query reads (None: all the viewer's); False when the grid lies outside
    the area, or the area outside the viewer's (nothing to read, as if empty)."""
    if query.grid and query.area and not query.grid.startswith(query.area):
        return False
    code = query.grid or query.area
    mine = viewer.area_code
    if code and mine and not (code.startswith(mine) or mine.startswith(code)):
        return False
    return code


def _scope(query: RequestQuery, viewer: Viewer, lang: str) -> Scope | None:
    """The scope a query asks for; None when it lies outside the viewer's area (nothing)."""
    _check_filters(query, lang)
    code = _area(query, viewer)
    if code is False:
        return None
    return Scope(
        area_code=code,
        start=_day(query.start_date, "start_date", lang),
        end=_day(query.end_date, "end_date", lang),
        categories=(query.service_code,) if query.service_code else (),
        statuses=steps.stored_statuses(query.status) if query.status else (),
    )


def _ids(value: str, lang: str) -> list[int]:
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if not parts or len(parts) > MAX_IDS or not all(p.isdigit() and len(p) < 19 for p in parts):
        raise _bad("service_request_id", value[:60], t("expected_request_ids", lang, n=MAX_IDS),
                   lang)  # fmt: skip
    return [int(p) for p in parts]


def _check_page(query: RequestQuery, lang: str) -> None:
    if query.page < 1 or query.page > 1_000_000:
        raise _bad("page", query.page, t("expected_whole_between", lang, low=1, high=1_000_000),
                   lang)  # fmt: skip
    if not 1 <= query.page_size <= MAX_PAGE_SIZE:
        raise _bad("page_size", query.page_size,
                   t("expected_whole_between", lang, low=1, high=MAX_PAGE_SIZE), lang)  # fmt: skip


def list_requests(
    session: Session, query: RequestQuery, *, viewer: Viewer, lang: str = "zh"
) -> list[dict]:
    """The needs a GeoReport query asks for that ``viewer`` may see, newest first, as
    GeoReport requests. With ``service_request_id`` (ids separated by commas) those needs, in
    that order, whatever the other filters say (as the spec has it)."""
    _check_page(query, lang)
    viewer = check_viewer(session, viewer, lang=lang)
    scope = _scope(query, viewer, lang)
    if query.service_request_id is not None:
        ids = _ids(query.service_request_id, lang)
        rows = []
        for need_id in ids:
            try:
                rows.append(need_detail(session, need_id, viewer, lang=lang))
            except NotFoundError:
                continue
        return _shown(session, pd.DataFrame(rows), viewer, lang)
    if scope is None:
        return []
    frame = search_needs(session, scope, viewer, limit=query.page_size,
                         offset=(query.page - 1) * query.page_size, lang=lang)  # fmt: skip
    return _shown(session, frame, viewer, lang)


def get_request(session: Session, need_id: int, *, viewer: Viewer, lang: str = "zh") -> dict:
    """One need as a GeoReport request; NotFoundError when absent or not the viewer's."""
    detail = need_detail(session, need_id, viewer, lang=lang)
    detail.pop("history", None)
    return _shown(session, pd.DataFrame([detail]), check_viewer(session, viewer), lang)[0]


def _grid_centres(session: Session, codes: set[str]) -> dict[str, tuple[float, float]]:
    if not codes:
        return {}
    rows = session.execute(
        select(Grid.code, func.ST_AsBinary(Grid.boundary)).where(Grid.code.in_(sorted(codes)))
    ).all()
    out = {}
    for code, wkb in rows:
        centre = shapely.from_wkb(bytes(wkb)).centroid
        out[code] = (round(centre.x, 6), round(centre.y, 6))
    return out


def _grid_communities(session: Session, codes: set[str]) -> dict[str, str]:
    """The community of each grid, from the stored ancestry (never from a code's prefix)."""
    if not codes:
        return {}
    rows = session.execute(
        select(Grid.code, Grid.community_code).where(Grid.code.in_(sorted(codes)))
    ).all()
    return dict(rows)


def _media(session: Session, ids: list[int], viewer: Viewer) -> dict[int, str]:
    if not ids or not viewer.sees_personal_data:
        return {}
    rows = session.execute(
        select(NeedMedia.need_id, NeedMedia.filename)
        .where(NeedMedia.need_id.in_(ids))
        .order_by(NeedMedia.id)
    ).all()
    return {need_id: MEDIA_PATH + name for need_id, name in rows}


def _when(day) -> str | None:
    if day is None or pd.isna(day):
        return None
    return instants.aware(day).isoformat(timespec="seconds")


def _shown(session: Session, frame: pd.DataFrame, viewer: Viewer, lang: str) -> list[dict]:
    """Needs (rows of :func:`search_needs`) as GeoReport requests for ``viewer``."""
    if frame.empty:
        return []
    exact = viewer.role != PUBLIC.role
    codes = {c for c in frame["grid_code"] if isinstance(c, str)}
    centres = {} if exact else _grid_centres(session, codes)
    communities = _grid_communities(session, codes)
    media = _media(session, [int(i) for i in frame["id"]], viewer)
    out = []
    for row in frame.to_dict("records"):
        grid = row["grid_code"] if isinstance(row["grid_code"], str) else None
        lon, lat = (row["lon"], row["lat"]) if exact else centres.get(grid, (None, None))
        status, detailed = steps.shown_status(row["status"], row.get("outcome"))
        item = {
            "service_request_id": str(int(row["id"])),
            "status": status,
            "status_notes": detailed,
            "service_code": row["category"],
            "service_name": t(f"o311.service.{row['category']}", lang),
            # free text may name people: not for readers without a key
            "description": row.get("description") if exact else None,
            "agency_responsible": grid,
            "requested_datetime": _when(row["reported_at"]),
            "expected_datetime": _when(row.get("due_date")),
            "updated_datetime": _when(row.get("closed_at")),
            "lat": None if lat is None else float(lat),
            "long": None if lon is None else float(lon),
            "media_url": media.get(int(row["id"])),
            "grid": grid,
            "area": communities.get(grid),
            "location_quality": row["quality"],
            "dispute_type": row.get("dispute_type"),
        }
        if viewer.sees_personal_data:
            item["resident_name"] = row.get("resident_name")
            item["resident_phone"] = row.get("resident_phone")
        out.append({k: (None if _missing(v) else v) for k, v in item.items()})
    return out


def _missing(value) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value))


def photo_for(session: Session, filename: str, *, viewer: Viewer, lang: str = "zh") -> NeedMedia:
    """The stored photo ``filename`` when ``viewer`` may see its need and personal data;
    NotFoundError otherwise (as if absent)."""
    viewer = check_viewer(session, viewer, lang=lang)
    row = session.scalar(select(NeedMedia).where(NeedMedia.filename == filename))
    need = session.get(Need, row.need_id) if row is not None else None
    if need is None or not viewer.sees_personal_data or not viewer.sees_need(need):
        raise NotFoundError(t("o311.no_media", lang))
    return row


__all__ = ["MAX_PAGE_SIZE", "PUBLIC", "RequestInput", "RequestQuery", "get_request",
           "list_requests", "need_input", "photo_for", "record_request"]  # fmt: skip
