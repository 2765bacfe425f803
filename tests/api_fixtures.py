"""What the API tests share: a community with grids, accounts with keys, an app on the
backend under test, and photos (with EXIF GPS, disguised, oversized)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from PIL import Image
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from grid_model import apikeys
from grid_model.accounts import hash_password
from grid_model.models import Account
from grid_model.scope import Viewer
from tests.factories import Community, make_community

PASSWORD = "correct horse 42"
#: (username, role, area): an administrator, an assistant and a community leader of the
#: community, an assistant of another community, and the lawyer of grid 1 (a worker: the
#: account named by the worker's code acts as that worker in the case loop)
ACCOUNTS = [
    ("admin1", "admin", None),
    ("assist1", "grid_assistant", "440703006106"),
    ("leader1", "community_leader", "440703006106"),
    ("other1", "grid_assistant", "440703006199"),
    ("L10601", "lawyer", "440703006106"),
]
WORKER = "L10601"


@dataclass
class World:
    engine: Engine
    community: Community
    keys: dict[str, str] = field(default_factory=dict)

    def inside(self, i: int = 0) -> tuple[float, float]:
        """A point inside grid ``i``, off its centre."""
        x, y = self.community.centre(self.community.grid_codes[i])
        return round(x + 0.0011, 6), round(y - 0.0007, 6)


def build_world(engine: Engine) -> World:
    """Grids, accounts and one key per account, committed."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        community = make_community(session, n_grids=4)
        cheap = hash_password(PASSWORD, n=2**4, r=1, p=1)  # tests do not need scrypt's cost
        for username, role, area in ACCOUNTS:
            session.add(Account(username=username, name=username, role=role, area_code=area,
                                password_hash=cheap, active=True))  # fmt: skip
        session.flush()
        keys = {
            username: apikeys.create_key(session, username, viewer=Viewer.local_admin())[0]
            for username, _, _ in ACCOUNTS
        }
    return World(engine, community, keys)


def form(world: World, **overrides) -> dict:
    lon, lat = world.inside(0)
    values = {
        "service_code": "mediation",
        "lat": str(lat),
        "long": str(lon),
        "description": "邻居漏水纠纷",
        "first_name": "三",
        "last_name": "张",
        "phone": "13912345678",
        "attribute[source]": "diary",
        "attribute[dispute_type]": "邻里纠纷",
        "attribute[reported_at]": "2025-03-03",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def jpeg_with_gps(size=(64, 48)) -> bytes:
    img = Image.new("RGB", size, (200, 10, 10))
    exif = Image.Exif()
    exif[0x010F] = "PhoneCam"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (22.0, 36.0, 1.5), 3: "E", 4: (113.0, 4.0, 0.0)})
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png_bytes(size=(20, 10)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 100, 0, 128)).save(out, "PNG")
    return out.getvalue()
