"""The Open311 API through an HTTP client on both backends: every route, keys and redaction,
idempotency, photos, limits and the GeoReport error form."""

from __future__ import annotations

import io
import uuid

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.app import create_app
from grid_model.models import Need, NeedMedia
from tests.api_fixtures import WORKER, build_world, form, jpeg_with_gps, png_bytes

pytestmark = pytest.mark.db
BASE = "/open311/v2"


@pytest.fixture()
def world(committed_engine, tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDLAW_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("GRIDLAW_TODAY", "2025-03-10")
    return build_world(committed_engine)


@pytest.fixture()
def client(world):
    with TestClient(create_app(world.engine), raise_server_exceptions=False) as c:
        yield c


def _h(world, user, **extra):
    return {"X-API-Key": world.keys[user], **extra}


def _post(client, world, user="assist1", files=None, headers=None, **overrides):
    return client.post(f"{BASE}/requests.json", data=form(world, **overrides), files=files,
                       headers={**_h(world, user), **(headers or {})})  # fmt: skip


def _count(engine, model=Need) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(model))


def _errors(response) -> list[dict]:
    body = response.json()
    assert isinstance(body, list) and body, body
    for item in body:
        assert set(item) == {"code", "description"}
        assert item["code"] == response.status_code
        assert "Traceback" not in item["description"]
    return body


# --- services ---------------------------------------------------------------------------------


def test_services_in_both_languages(client):
    zh = client.get(f"{BASE}/services.json").json()
    en = client.get(f"{BASE}/services.json", headers={"Accept-Language": "en-GB,en"}).json()
    assert [s["service_code"] for s in zh] == [s["service_code"] for s in en]
    mediation = {s["service_code"]: s for s in zh}["mediation"]
    assert mediation["service_name"] == "人民调解" and mediation["type"] == "realtime"
    assert {s["service_code"]: s for s in en}["mediation"]["service_name"] == "People's mediation"


def test_service_definition_and_unknown_service(client):
    body = client.get(f"{BASE}/services/mediation.json").json()
    attrs = {a["code"]: a for a in body["attributes"]}
    assert attrs["source"]["required"] is True
    assert "邻里纠纷" in [v["key"] for v in attrs["dispute_type"]["values"]]
    assert "dispute_type" not in {
        a["code"] for a in client.get(f"{BASE}/services/consultation.json").json()["attributes"]
    }
    missing = client.get(f"{BASE}/services/<script>.json", headers={"Accept-Language": "en"})
    assert missing.status_code == 404
    assert "no service" in _errors(missing)[0]["description"]


# --- requests in -------------------------------------------------------------------------------


def test_post_request_then_read_it_with_the_key(client, world):
    r = _post(client, world)
    assert r.status_code == 201, r.text
    [created] = r.json()
    assert created["grid"] == world.community.grid_codes[0]
    assert created["location_quality"] == "inside"
    got = client.get(f"{BASE}/requests/{created['service_request_id']}.json",
                     headers=_h(world, "assist1")).json()  # fmt: skip
    [need] = got
    assert need["resident_name"] == "张三" and need["resident_phone"] == "13912345678"
    lon, lat = world.inside(0)
    assert (need["long"], need["lat"]) == pytest.approx((lon, lat))
    assert need["status"] == "open" and need["service_code"] == "mediation"
    assert need["dispute_type"] == "邻里纠纷"


def test_gcj02_coordinates_are_converted(client, world):
    from geodata.crs import wgs84_to_gcj02

    lon, lat = world.inside(1)
    glon, glat = wgs84_to_gcj02(lon, lat)
    r = _post(client, world, lat=str(glat), long=str(glon), coord_system="gcj02",
              description="gcj")  # fmt: skip
    assert r.status_code == 201, r.text
    assert r.json()[0]["grid"] == world.community.grid_codes[1]


@pytest.mark.parametrize(
    ("overrides", "field", "zh", "en"),
    [
        ({"lat": "north"}, "lat", "纬度", "latitude"),
        ({"service_code": "pothole"}, "service_code", "以下之一", "one of"),
        ({"coord_system": "mars"}, "coord_system", "以下之一", "one of"),
        ({"attribute[source]": None}, "attribute[source]", "必填", "required"),
        ({"attribute[colour]": "red"}, "attribute[colour]", "以下之一", "one of"),
        ({"attribute[dispute_type]": "外星纠纷"}, "dispute_type", "以下之一", "one of"),
    ],
)
def test_bad_fields_are_named_in_both_languages(client, world, overrides, field, zh, en):
    for lang, word in (("zh-CN", zh), ("en-US", en)):
        r = _post(client, world, headers={"Accept-Language": lang}, **overrides)
        assert r.status_code == 400, r.text
        text = " ".join(e["description"] for e in _errors(r))
        assert field in text and word in text, text
    assert _count(world.engine) == 0


def test_missing_form_field_is_named(client, world):
    r = client.post(f"{BASE}/requests.json", data={"service_code": "consultation"},
                    headers={**_h(world, "assist1"), "Accept-Language": "en"})  # fmt: skip
    assert r.status_code == 400
    text = " ".join(e["description"] for e in _errors(r))
    assert "'lat'" in text and "'long'" in text and "required" in text


# --- keys and redaction -----------------------------------------------------------------------


def test_no_key_reads_public_without_personal_data_at_grid_level(client, world):
    need_id = _post(client, world).json()[0]["service_request_id"]
    [public] = client.get(f"{BASE}/requests/{need_id}.json").json()
    assert "resident_name" not in public and "resident_phone" not in public
    assert public["description"] is None  # free text may name people
    assert "13912345678" not in client.get(f"{BASE}/requests.json").text
    centre = world.community.centre(world.community.grid_codes[0])
    assert (public["long"], public["lat"]) == pytest.approx(centre, abs=1e-6)
    assert (public["long"], public["lat"]) != pytest.approx(world.inside(0), abs=1e-5)


def test_no_key_may_not_write(client, world):
    r = client.post(f"{BASE}/requests.json", data=form(world))
    assert r.status_code == 403 and _errors(r)
    assert _count(world.engine) == 0


def test_wrong_key_is_refused_not_read_as_public(client, world):
    for key in ("glk_" + "x" * 43, "nonsense", world.keys["assist1"][:-1] + "?"):
        r = client.get(f"{BASE}/requests.json", headers={"X-API-Key": key})
        assert r.status_code == 403, key
        _errors(r)
    assert client.get(f"{BASE}/requests.json", params={"api_key": "bad"}).status_code == 403
    r = client.post(f"{BASE}/requests.json", data={**form(world), "api_key": "glk_bad"})
    assert r.status_code == 403 and _count(world.engine) == 0


def test_key_in_the_spec_parameter_works(client, world):
    r = client.post(f"{BASE}/requests.json", data={**form(world), "api_key": world.keys["assist1"]})
    assert r.status_code == 201, r.text
    got = client.get(f"{BASE}/requests.json", params={"api_key": world.keys["assist1"]}).json()
    assert got[0]["resident_name"] == "张三"


def test_low_role_sees_no_personal_data(client, world):
    need_id = _post(client, world).json()[0]["service_request_id"]
    _post(client, world, description="矫正对象", **{"attribute[under_correction]": "1"})
    headers = _h(world, "leader1")
    [seen] = client.get(f"{BASE}/requests/{need_id}.json", headers=headers).json()
    assert "resident_name" not in seen
    listed = client.get(f"{BASE}/requests.json", headers=headers).json()
    assert [n["service_request_id"] for n in listed] == [need_id]  # correction case hidden
    assert "张三" not in client.get(f"{BASE}/requests.json", headers=headers).text


def test_other_area_case_is_404_as_if_absent(client, world):
    need_id = _post(client, world).json()[0]["service_request_id"]
    other = _h(world, "other1", **{"Accept-Language": "en"})
    absent = client.get(f"{BASE}/requests/999999.json", headers=other)
    hidden = client.get(f"{BASE}/requests/{need_id}.json", headers=other)
    assert hidden.status_code == absent.status_code == 404
    assert _errors(hidden)[0]["description"].replace(need_id, "N") == _errors(absent)[0][
        "description"
    ].replace("999999", "N")
    assert client.get(f"{BASE}/requests.json", headers=other).json() == []
    assert client.get(f"{BASE}/requests.json", headers=other,
                      params={"area": "440703006106"}).json() == []  # fmt: skip
    up = client.post(f"{BASE}/requests/{need_id}/updates.json", data={"status": "in_progress"},
                     headers=other)  # fmt: skip
    assert up.status_code == 404


def test_disabled_account_key_stops_working(client, world):
    from grid_model.models import Account

    with Session(world.engine) as s, s.begin():
        s.scalar(select(Account).where(Account.username == "assist1")).active = False
    assert client.get(f"{BASE}/requests.json", headers=_h(world, "assist1")).status_code == 403


# --- lists ------------------------------------------------------------------------------------


def test_list_filters_and_pages(client, world):
    ids = []
    for i, code in enumerate(["consultation", "mediation", "legal_aid"]):
        lon, lat = world.inside(i)
        r = _post(client, world, service_code=code, lat=str(lat), long=str(lon),
                  description=f"d{i}", **{"attribute[reported_at]": f"2025-03-0{i + 1}",
                                          "attribute[dispute_type]": "邻里纠纷" if code == "mediation" else None})  # fmt: skip
        assert r.status_code == 201, r.text
        ids.append(r.json()[0]["service_request_id"])
    h = _h(world, "admin1")

    def got(**params):
        r = client.get(f"{BASE}/requests.json", params=params, headers=h)
        assert r.status_code == 200, r.text
        return [n["service_request_id"] for n in r.json()]

    assert got() == ids[::-1]
    assert got(service_code="mediation") == [ids[1]]
    assert got(start_date="2025-03-02", end_date="2025-03-02T23:00:00+08:00") == [ids[1]]
    assert got(grid=world.community.grid_codes[2]) == [ids[2]]
    assert got(area="440703006106", page_size=2) == ids[:0:-1]
    assert got(page_size=2, page=2) == [ids[0]]
    assert got(service_request_id=f"{ids[0]},{ids[2]},99999") == [ids[0], ids[2]]
    assert got(status="closed") == []
    assert len(got(status="open")) == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": "0"}, "page"),
        ({"page_size": "500"}, "page_size"),
        ({"page": "x"}, "page"),
        ({"status": "done"}, "status"),
        ({"start_date": "yesterday"}, "start_date"),
        ({"grid": "'; drop"}, "grid"),
        ({"service_request_id": "1,a"}, "service_request_id"),
    ],
)
def test_bad_list_parameters_are_named(client, params, field):
    r = client.get(f"{BASE}/requests.json", params=params, headers={"Accept-Language": "en"})
    assert r.status_code == 400, r.text
    assert f"'{field}'" in _errors(r)[0]["description"]


# --- updates ----------------------------------------------------------------------------------


def test_updates_take_the_steps_of_the_case_loop(client, world):
    need_id = _post(client, world).json()[0]["service_request_id"]
    url = f"{BASE}/requests/{need_id}/updates.json"
    assistant, worker = _h(world, "assist1"), _h(world, WORKER)
    for who, data, step in [
        (assistant, {"status": "action_scheduled", "assignee": WORKER}, "dispatch"),
        (worker, {"status": "investigating"}, "accept"),
        (worker, {"status": "in_progress", "description": "约谈双方"}, "start"),
        (worker, {"status": "on_hold", "description": "等待物业材料"}, "hold"),
        (worker, {"status": "in_progress"}, "resume"),
        (worker, {"status": "fixed"}, "handle"),
        (assistant, {"status": "closed"}, "verify"),
    ]:
        r = client.post(url, data=data, headers=who)
        assert r.status_code == 201, (step, r.text)
        assert r.json()[0]["external_status_code"] == step
        assert r.json()[0]["status"] == data["status"]
    [need] = client.get(f"{BASE}/requests/{need_id}.json", headers=assistant).json()
    assert need["status"] == "closed" and need["status_notes"] == "fixed"
    listed = client.get(f"{BASE}/servicerequestupdates.json", headers=assistant).json()
    assert [u["external_status_code"] for u in listed] == [
        "dispatch",
        "accept",
        "start",
        "hold",
        "resume",
        "handle",
        "verify",
    ]
    assert [u["description"] for u in listed][2:4] == ["约谈双方", "等待物业材料"]
    public = client.get(f"{BASE}/servicerequestupdates.json").json()
    assert len(public) == 7 and all(u["description"] is None for u in public)
    assert (
        client.get(f"{BASE}/servicerequestupdates.json", headers=_h(world, "other1")).json() == []
    )
    en = {**assistant, "Accept-Language": "en"}
    again = client.post(url, data={"status": "in_progress"}, headers=en)
    assert again.status_code == 400 and "closed" in _errors(again)[0]["description"]
    bad = client.post(url, data={"status": "teleported"}, headers=en)
    assert bad.status_code == 400 and "'status'" in _errors(bad)[0]["description"]


def test_only_the_assignee_takes_the_workers_steps(client, world):
    need_id = _post(client, world).json()[0]["service_request_id"]
    url = f"{BASE}/requests/{need_id}/updates.json"
    assert client.post(url, data={"status": "step:dispatch", "assignee": WORKER},
                       headers=_h(world, "assist1")).status_code == 201  # fmt: skip
    for user in ("assist1", "leader1"):
        r = client.post(url, data={"status": "investigating"}, headers=_h(world, user))
        assert r.status_code == 403 and _errors(r)
    missing = client.post(url, data={"status": "internal_referral"},
                          headers=_h(world, WORKER, **{"Accept-Language": "en"}))  # fmt: skip
    assert missing.status_code == 400 and "reason" in _errors(missing)[0]["description"]


def test_a_recorded_case_closes_on_the_spot(client, world):
    need_id = _post(client, world).json()[0]["service_request_id"]
    url = f"{BASE}/requests/{need_id}/updates.json"
    h = _h(world, "assist1", **{"Accept-Language": "en"})
    r = client.post(url, data={"status": "closed"}, headers=h)
    assert r.status_code == 400 and "'outcome'" in _errors(r)[0]["description"]
    r = client.post(url, data={"status": "closed", "outcome": "mediated"}, headers=h)
    assert r.status_code == 201 and r.json()[0]["external_status_code"] == "close"
    [need] = client.get(f"{BASE}/requests/{need_id}.json", headers=h).json()
    assert need["status"] == "closed" and need["status_notes"] == "fixed"


def test_low_role_may_not_update(client, world):
    need_id = _post(client, world).json()[0]["service_request_id"]
    r = client.post(f"{BASE}/requests/{need_id}/updates.json", data={"status": "fixed"},
                    headers=_h(world, "leader1"))  # fmt: skip
    assert r.status_code == 403 and _errors(r)


# --- idempotency ------------------------------------------------------------------------------


def test_retry_with_the_same_idempotency_key_creates_one_case(client, world):
    key = str(uuid.uuid4())
    first = _post(client, world, headers={"Idempotency-Key": key})
    again = _post(client, world, headers={"Idempotency-Key": key})
    assert first.status_code == 201 and again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert _count(world.engine) == 1


def test_same_idempotency_key_with_another_body_is_refused(client, world):
    key = str(uuid.uuid4())
    assert _post(client, world, headers={"Idempotency-Key": key}).status_code == 201
    r = _post(client, world, description="another", headers={"Idempotency-Key": key})
    assert r.status_code == 409 and _errors(r)
    assert _count(world.engine) == 1
    bad = _post(client, world, headers={"Idempotency-Key": "with space"})
    assert bad.status_code == 400 and "Idempotency-Key" in _errors(bad)[0]["description"]


def test_update_retry_with_idempotency_key_applies_once(client, world):
    need_id = _post(client, world).json()[0]["service_request_id"]
    url = f"{BASE}/requests/{need_id}/updates.json"
    h = _h(world, "assist1", **{"Idempotency-Key": "u-1"})
    data = {"status": "action_scheduled", "assignee": WORKER}
    first = client.post(url, data=data, headers=h)
    again = client.post(url, data=data, headers=h)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()


# --- photos -----------------------------------------------------------------------------------


def test_photo_stored_without_exif_and_served_only_to_who_may_see(client, world, tmp_path):
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)  # GPS there before
    r = _post(client, world, files={"media": ("IMG_0001.jpg", original, "image/jpeg")})
    assert r.status_code == 201, r.text
    need_id = r.json()[0]["service_request_id"]
    stored = list((tmp_path / "media").iterdir())
    assert len(stored) == 1 and stored[0].name != "IMG_0001.jpg"
    kept = Image.open(stored[0])
    assert not kept.getexif() and "exif" not in kept.info
    [need] = client.get(f"{BASE}/requests/{need_id}.json", headers=_h(world, "assist1")).json()
    url = need["media_url"]
    assert url.endswith(stored[0].name)
    got = client.get(url, headers=_h(world, "assist1"))
    assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
    assert not Image.open(io.BytesIO(got.content)).getexif()
    assert client.get(url).status_code == 404
    assert client.get(url, headers=_h(world, "leader1")).status_code == 404
    assert client.get(url, headers=_h(world, "other1")).status_code == 404
    [public] = client.get(f"{BASE}/requests/{need_id}.json").json()
    assert public["media_url"] is None
    assert (
        client.get(f"{BASE}/media/..%2F..%2Fetc%2Fpasswd", headers=_h(world, "admin1")).status_code
        == 404
    )


def test_png_photo_accepted(client, world):
    r = _post(client, world, files={"media": ("x.png", png_bytes(), "image/png")})
    assert r.status_code == 201, r.text
    assert _count(world.engine, NeedMedia) == 1


def test_disguised_file_is_refused(client, world, tmp_path):
    fake = b"<?php system($_GET['c']); ?>" + b"\0" * 100
    r = _post(client, world, files={"media": ("photo.jpg", fake, "image/jpeg")},
              headers={"Accept-Language": "en"})  # fmt: skip
    assert r.status_code == 415 and "media" in _errors(r)[0]["description"]
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    assert _post(client, world, files={"media": ("a.png", svg, "image/png")}).status_code == 415
    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, "GIF")
    assert (
        _post(client, world, files={"media": ("a.jpg", gif.getvalue(), "image/jpeg")}).status_code
        == 415
    )
    assert _count(world.engine) == 0
    assert not (tmp_path / "media").exists() or not list((tmp_path / "media").iterdir())


def test_oversized_photo_and_request_refused(client, world, tmp_path):
    big = jpeg_with_gps() + b"\0" * (10 * 1024 * 1024)
    r = _post(client, world, files={"media": ("big.jpg", big, "image/jpeg")})
    assert r.status_code == 413 and _errors(r)
    huge = b"\0" * (11 * 1024 * 1024)
    r = _post(client, world, files={"media": ("huge.jpg", huge, "image/jpeg")})
    assert r.status_code == 413 and _errors(r)
    assert _count(world.engine) == 0


def test_decompression_bomb_refused(client, world):
    bomb = io.BytesIO()
    Image.new("1", (12000, 12000)).save(bomb, "PNG")  # 144 Mpx in a few kB
    assert len(bomb.getvalue()) < 100_000
    r = _post(client, world, files={"media": ("b.png", bomb.getvalue(), "image/png")},
              headers={"Accept-Language": "en"})  # fmt: skip
    assert r.status_code == 400 and "pixels" in _errors(r)[0]["description"]
    assert _count(world.engine) == 0


def test_photo_of_a_retried_request_is_not_stored_twice(client, world, tmp_path):
    files = {"media": ("a.jpg", jpeg_with_gps(), "image/jpeg")}
    h = {"Idempotency-Key": "photo-1"}
    assert _post(client, world, files=files, headers=h).status_code == 201
    assert _post(client, world, files=files, headers=h).status_code == 201
    assert len(list((tmp_path / "media").iterdir())) == 1
    assert _count(world.engine, NeedMedia) == 1


# --- limits and errors ------------------------------------------------------------------------


def test_writes_rate_limited_per_key(world, monkeypatch):
    monkeypatch.setenv("GRIDLAW_API_WRITES_PER_MINUTE", "2")
    with TestClient(create_app(world.engine)) as client:
        codes = [_post(client, world, description=f"n{i}").status_code for i in range(3)]
        assert codes == [201, 201, 429]
        r = _post(client, world, description="n9", headers={"Accept-Language": "en"})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert "too many" in _errors(r)[0]["description"]
        assert _post(client, world, user="admin1", description="n4").status_code == 201


def test_unknown_route_and_method_in_georeport_form(client):
    assert client.get(f"{BASE}/nothing.json").status_code == 404
    r = client.delete(f"{BASE}/services.json")
    assert r.status_code == 405 and _errors(r)


def test_unexpected_error_gives_no_traceback(world):
    app = create_app(world.engine)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals /etc/shadow")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/boom", headers={"Accept-Language": "en"})
    assert r.status_code == 500
    text = r.text
    assert "secret" not in text and "Traceback" not in text and "internal error" in text


# --- docs and the intake page -----------------------------------------------------------------


def test_docs_from_local_files(client):
    html = client.get("/docs").text
    assert "/static-docs/swagger-ui-bundle.js" in html and "cdn" not in html.lower()
    assert client.get("/static-docs/swagger-ui-bundle.js").status_code == 200
    redoc = client.get("/redoc").text
    assert "/static-docs/redoc.standalone.js" in redoc and "cdn." not in redoc.lower()
    for page in (html, redoc):
        assert "http://" not in page and "https://" not in page  # nothing from the internet
    assert '"validatorUrl": null' in html
    spec = client.get("/openapi.json").json()
    assert f"{BASE}/requests.json" in spec["paths"]


def test_intake_sign_in_session_and_header(client, world):
    page = client.get("/intake")
    assert page.status_code == 200 and "采集" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    bad = client.post("/intake/session", data={"username": "assist1", "password": "wrong"})
    assert bad.status_code == 403 and _errors(bad)
    ok = client.post(
        "/intake/session", data={"username": "assist1", "password": "correct horse 42"}
    )
    assert ok.status_code == 200 and ok.json()["role"] == "grid_assistant"
    assert "samesite=strict" in ok.headers["set-cookie"].lower()
    assert client.get("/intake/session").json()["username"] == "assist1"
    no_header = client.post(f"{BASE}/requests.json", data=form(world))
    assert no_header.status_code == 403
    r = client.post(f"{BASE}/requests.json", data=form(world), headers={"X-GridLaw-Intake": "1"})
    assert r.status_code == 201, r.text
    grids = client.get(f"{BASE}/grids.json").json()
    assert [g["code"] for g in grids] == world.community.grid_codes
    client.delete("/intake/session")
    assert client.get("/intake/session").status_code == 403


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"description": "漏水\x00纠纷"}, "description"),
        ({"first_name": "三\x00"}, "resident_name"),
        ({"phone": "139\x0012345678"}, "resident_phone"),
        ({"lat": "nan"}, "lat"),
        ({"long": "1e309"}, "lon"),
        ({"description": "长" * 5000}, "description"),
        ({"attribute[reported_at]": "2025-02-30"}, "reported_at"),
        ({"attribute[under_correction]": "maybe"}, "under_correction"),
    ],
)
def test_hostile_values_are_refused_by_field_never_a_5xx(client, world, overrides, field):
    r = _post(client, world, headers={"Accept-Language": "en"}, **overrides)
    assert r.status_code == 400, r.text
    assert field in " ".join(e["description"] for e in _errors(r))
    assert _count(world.engine) == 0


def test_hostile_text_is_returned_as_data(client, world):
    payload = '<img src=x onerror=alert(1)>=HYPERLINK("http://x")'
    r = _post(client, world, description=payload)
    assert r.status_code == 201, r.text
    need_id = r.json()[0]["service_request_id"]
    [need] = client.get(f"{BASE}/requests/{need_id}.json", headers=_h(world, "leader1")).json()
    assert need["description"] == payload
    assert client.get(f"{BASE}/requests.json").headers["content-type"] == "application/json"
    key = client.get(
        f"{BASE}/requests.json", headers={"X-API-Key": ("glk_" + "é" * 200).encode("latin-1")}
    )
    assert key.status_code == 403
    idem = _post(client, world, headers={"Idempotency-Key": "x" * 101})
    assert idem.status_code == 400 and "Idempotency-Key" in _errors(idem)[0]["description"]


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        ("", "zh"),
        ("en", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("zh;q=0.2, en-US;q=0.9", "en"),
        ("fr, en-GB;q=0.5", "en"),
        ("en;q=0", "zh"),
        ("en;q=abc", "zh"),
    ],
)
def test_accept_language(client, header, lang):
    r = client.get(f"{BASE}/services/none.json", headers={"Accept-Language": header})
    text = _errors(r)[0]["description"]
    assert ("no service" in text) == (lang == "en")
