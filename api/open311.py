"""GeoReport v2 routes under ``/open311/v2/`` (JSON; the ``.json`` suffixes as the spec writes
them). Each route reads its parameters, asks :mod:`api.auth` who calls, and calls one
``grid_model.open311`` service; errors are GeoReport lists (:mod:`api.errors`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Header, Path, Query, Request, Security, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.auth import caller, writer
from api.errors import ERROR_RESPONSES, ApiError, request_lang
from geodata import media
from grid_model import config, db
from grid_model.messages import t
from grid_model.open311 import intake, outlines, services, updates
from grid_model.open311.requests import (
    RequestInput,
    RequestQuery,
    get_request,
    list_requests,
    photo_for,
)
from grid_model.open311.services import ATTRIBUTES

#: declared for the docs' "Authorize" button; api.auth reads the key (header or parameter)
KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False,
                          description="an API key: gridlaw account key create USER")  # fmt: skip
router = APIRouter(prefix="/open311/v2", tags=["Open311 GeoReport v2"], responses=ERROR_RESPONSES,
                   dependencies=[Security(KEY_HEADER)])  # fmt: skip

ApiKey = Annotated[str | None, Query(max_length=100, description="API key (or X-API-Key)")]
IdemKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=100,
           description="a key of the client's making (a UUID): a retry with it writes nothing"),
]  # fmt: skip
Text = Annotated[str | None, Form(max_length=4000)]
Short = Annotated[str | None, Form(max_length=100)]


class Service(BaseModel):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


class AttributeValue(BaseModel):
    key: str
    name: str


class Attribute(BaseModel):
    variable: bool
    code: str
    datatype: str
    required: bool
    datatype_description: str
    order: int
    description: str
    values: list[AttributeValue] | None = None


class ServiceDefinition(BaseModel):
    service_code: str
    attributes: list[Attribute]


class Created(BaseModel):
    service_request_id: str
    service_notice: str
    account_id: str | None
    grid: str | None
    location_quality: str


class ServiceRequest(BaseModel):
    service_request_id: str
    status: str
    status_notes: str | None
    service_code: str
    service_name: str
    description: str | None
    agency_responsible: str | None
    requested_datetime: str | None
    expected_datetime: str | None
    updated_datetime: str | None
    lat: float | None
    long: float | None
    media_url: str | None
    grid: str | None
    area: str | None
    location_quality: str
    dispute_type: str | None
    resident_name: str | None = None
    resident_phone: str | None = None


class Update(BaseModel):
    update_id: str
    service_request_id: str
    status: str
    external_status_code: str | None
    description: str | None
    updated_datetime: str | None
    media_url: str | None


class Outline(BaseModel):
    code: str
    name: str
    rings: list[list[list[float]]]


def _read(request: Request, work):
    with db.reading(request.app.state.engine, lang=request_lang(request)) as session:
        return work(session)


@router.get("/services.json", response_model=list[Service], summary="the services (categories)")
def get_services(request: Request):
    return services.services(request_lang(request))


@router.get("/services/{service_code}.json", response_model=ServiceDefinition,
            summary="one service's attributes")  # fmt: skip
def get_service(request: Request, service_code: Annotated[str, Path(max_length=40)]):
    return services.definition(service_code, request_lang(request))


def _attributes(form, declared: dict[str, str | None]) -> dict[str, str]:
    """The ``attribute[…]`` fields sent: the declared ones and any other (refused later)."""
    given = {k: v for k, v in declared.items() if v is not None}
    for name in form:
        if name.startswith("attribute[") and name.endswith("]"):
            code = name[len("attribute[") : -1]
            if code not in ATTRIBUTES:
                value = form.get(name)
                given[code] = value if isinstance(value, str) else ""
    return given


def _photo(upload: UploadFile | None) -> bytes | None:
    if upload is None:
        return None
    data = upload.file.read(media.MAX_PHOTO_BYTES + 1)
    return data or None


@router.post("/requests.json", response_model=list[Created], status_code=201,
             summary="record a need (with an optional photo)",
             responses={200: {"model": list[Created],
                              "description": "the same need was recorded before"}})  # fmt: skip
async def post_request(
    request: Request,
    service_code: Annotated[str, Form(max_length=40)],
    lat: Annotated[str, Form(max_length=40)],
    long: Annotated[str, Form(max_length=40)],
    address_string: Text = None,
    description: Text = None,
    first_name: Short = None,
    last_name: Short = None,
    phone: Annotated[str | None, Form(max_length=40)] = None,
    coord_system: Annotated[str, Form(max_length=10, description="wgs84, gcj02 or bd09")] = "wgs84",
    api_key: Annotated[str | None, Form(max_length=100)] = None,
    source: Annotated[str | None, Form(alias="attribute[source]", max_length=40)] = None,
    dispute_type: Annotated[str | None, Form(alias="attribute[dispute_type]", max_length=40)] = None,
    under_correction: Annotated[str | None, Form(alias="attribute[under_correction]", max_length=10)] = None,
    reported_at: Annotated[str | None, Form(alias="attribute[reported_at]", max_length=40)] = None,
    media_file: Annotated[UploadFile | None, File(alias="media")] = None,
    idempotency_key: IdemKey = None,
):  # fmt: skip
    form = await request.form()
    declared = {"source": source, "dispute_type": dispute_type,
                "under_correction": under_correction, "reported_at": reported_at}  # fmt: skip
    data = RequestInput(
        service_code=service_code, lat=lat, long=long, description=description,
        address_string=address_string, first_name=first_name, last_name=last_name, phone=phone,
        coord_system=coord_system, attributes=_attributes(form, declared),
    )  # fmt: skip
    return await run_in_threadpool(_submit, request, data, api_key, media_file, idempotency_key)


def _submit(request: Request, data, api_key, media_file, idempotency_key):
    viewer = writer(request, api_key)
    done = intake.submit(
        request.app.state.engine, data, viewer=viewer, photo=_photo(media_file),
        idempotency_key=idempotency_key, lang=request_lang(request),
    )  # fmt: skip
    headers = {"Idempotent-Replayed": "true"} if done.replayed else None
    return JSONResponse(done.body, status_code=done.status_code, headers=headers)


@router.get("/requests.json", response_model=list[ServiceRequest], summary="needs, filtered",
            response_model_exclude_unset=True)  # fmt: skip
def get_requests(
    request: Request,
    service_request_id: Annotated[str | None, Query(max_length=600)] = None,
    service_code: Annotated[str | None, Query(max_length=40)] = None,
    start_date: Annotated[str | None, Query(max_length=40)] = None,
    end_date: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(max_length=10, description="open or closed")] = None,
    grid: Annotated[str | None, Query(max_length=32)] = None,
    area: Annotated[str | None, Query(max_length=32)] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    api_key: ApiKey = None,
):
    query = RequestQuery(service_request_id, service_code, start_date, end_date, status, grid,
                         area, page, page_size)  # fmt: skip
    who = caller(request, api_key)
    lang = request_lang(request)
    return _read(request, lambda s: list_requests(s, query, viewer=who.viewer, lang=lang))


NeedId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/requests/{service_request_id}.json", response_model=list[ServiceRequest],
            summary="one need", response_model_exclude_unset=True)  # fmt: skip
def get_one_request(request: Request, service_request_id: NeedId, api_key: ApiKey = None):
    who = caller(request, api_key)
    lang = request_lang(request)
    return [_read(request, lambda s: get_request(s, service_request_id, viewer=who.viewer,
                                                 lang=lang))]  # fmt: skip


@router.post("/requests/{service_request_id}/updates.json", response_model=list[Update],
             status_code=201, summary="a status update (FixMyStreet style)")  # fmt: skip
def post_update(
    request: Request,
    service_request_id: NeedId,
    status: Annotated[str, Form(max_length=40, description="a FixMyStreet status, or step:NAME")],
    description: Text = None,
    outcome: Annotated[str | None, Form(max_length=40)] = None,
    assignee: Annotated[str | None, Form(max_length=32, description="worker dispatched to")] = None,
    satisfaction: Annotated[str | None, Form(max_length=40)] = None,
    due: Annotated[str | None, Form(max_length=40, description="supervision deadline")] = None,
    api_key: Annotated[str | None, Form(max_length=100)] = None,
    idempotency_key: IdemKey = None,
):
    viewer = writer(request, api_key)
    data = updates.UpdateInput(status=status, description=description, outcome=outcome,
                               assignee=assignee, satisfaction=satisfaction, due=due)  # fmt: skip
    done = intake.submit_update(
        request.app.state.engine, service_request_id, data, viewer=viewer,
        idempotency_key=idempotency_key, lang=request_lang(request),
    )  # fmt: skip
    headers = {"Idempotent-Replayed": "true"} if done.replayed else None
    return JSONResponse(done.body, status_code=done.status_code, headers=headers)


@router.get("/servicerequestupdates.json", response_model=list[Update],
            summary="status updates (FixMyStreet style)")  # fmt: skip
def get_updates(
    request: Request,
    start_date: Annotated[str | None, Query(max_length=40)] = None,
    end_date: Annotated[str | None, Query(max_length=40)] = None,
    api_key: ApiKey = None,
):
    who = caller(request, api_key)
    lang = request_lang(request)
    return _read(request, lambda s: updates.list_updates(
        s, viewer=who.viewer, start_date=start_date, end_date=end_date, lang=lang))  # fmt: skip


@router.get("/media/{filename}", response_class=FileResponse, summary="a need's photo",
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}}})  # fmt: skip
def get_media(request: Request, filename: Annotated[str, Path(max_length=64)],
              api_key: ApiKey = None):  # fmt: skip
    who = caller(request, api_key)
    lang = request_lang(request)
    try:
        path = media.photo_path(config.media_dir(), filename)
    except media.MediaError:
        raise ApiError(404, t("o311.no_media", lang)) from None
    row = _read(request, lambda s: photo_for(s, filename, viewer=who.viewer, lang=lang))
    if not path.is_file():
        raise ApiError(404, t("o311.no_media", lang))
    return FileResponse(path, media_type=row.content_type, headers={
        "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})  # fmt: skip


@router.get(
    "/grids.json", response_model=list[Outline], summary="grid outlines of the caller's area"
)
def get_grids(request: Request, api_key: ApiKey = None):
    who = caller(request, api_key)
    lang = request_lang(request)
    if who.via == "public":
        return []
    return _read(request, lambda s: outlines.grid_outlines(s, viewer=who.viewer, lang=lang))
