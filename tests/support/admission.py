"""Helpers of the admission tests: rounds, homes and applications in Quận 3."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gis_service.crs import to_wgs84
from gis_service.db import audit_repository
from gis_service.db.audit_repository import AuditRecord
from gis_service.settings import Settings
from gis_service.startup import open_engine
from tests.support.http import auth
from tests.support.zones import Computed

#: The intake year of the test rounds: next September's, so deadlines lie ahead.
YEAR = dt.date.today().year + 1
BORN = dt.date(YEAR - 6, 3, 14)
#: The seven open primary schools of the bundled district, by code.
SCHOOLS = (
    "79770006",
    "79770008",
    "79770009",
    "79770010",
    "79770011",
    "79770018",
    "79770020",
)


def round_body(**changes: Any) -> dict[str, Any]:
    """A round open for a month, without zones, seats from the assumed 8 classes."""
    body: dict[str, Any] = {
        "name": f"Tuyển sinh lớp 1 năm {YEAR}",
        "year": YEAR,
        "applications_close_at": (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat(),
        "max_choices": 3,
        "rules": ["sibling", "priority_category", "everyone"],
        "priority_categories": ["con_liet_si", "ho_ngheo"],
        "default_first_grade_classes": 8,
    }
    body.update(changes)
    return body


def create_round(client: TestClient, token: str, **changes: Any) -> dict[str, Any]:
    response = client.post("/api/v1/rounds", json=round_body(**changes), headers=auth(token))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def homes(computed: Computed, count: int, *, seed: int = 7) -> list[tuple[float, float]]:
    """``count`` distinct homes (lon, lat) at demand points of the district."""
    points = to_wgs84(computed.geography.points.geometry)
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(points), size=count, replace=False)
    return [(float(points.iloc[i].x), float(points.iloc[i].y)) for i in picked]


def application(
    home: tuple[float, float], *, name: str = "Nguyễn Minh Anh", **changes: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "child_name": name,
        "date_of_birth": BORN.isoformat(),
        "lon": home[0],
        "lat": home[1],
        "contact": "0903 123 456",
        "choices": list(SCHOOLS[:2]),
    }
    body.update(changes)
    return body


@dataclass(frozen=True)
class Submitted:
    application_id: str
    secret: str


def submit(
    client: TestClient, round_id: int, token: str, bodies: list[dict[str, Any]]
) -> list[Submitted]:
    response = client.post(
        f"/api/v1/rounds/{round_id}/applications", json=bodies, headers=auth(token)
    )
    assert response.status_code == 201, response.text
    return [Submitted(a["application_id"], a["secret"]) for a in response.json()["applications"]]


def names() -> Iterator[str]:
    """Distinct Vietnamese children's names."""
    family = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng")
    middle = ("Minh", "Ngọc", "Thanh", "Gia", "Bảo", "Khánh", "Anh", "Hoài", "Đức", "Thảo")
    given = (
        "An", "Bình", "Châu", "Dũng", "Hà", "Huy", "Khoa", "Linh", "My", "Nam", "Phúc",
        "Quân", "Tâm", "Thư", "Trang", "Tú", "Vy", "Yến", "Hân", "Khôi", "Long",
    )  # fmt: skip
    for g in given:
        for m in middle:
            for f in family:
                yield f"{f} {m} {g}"


def audit_entries(settings: Settings, **where: Any) -> list[AuditRecord]:
    """The audit log of the store of ``settings``, filtered as ``audit_entries`` does."""
    engine = open_engine(settings)
    try:
        with Session(engine) as session:
            return audit_repository.audit_entries(session, **where)
    finally:
        engine.dispose()
