"""School lists in and out (import, export) and the registry's data-quality report."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from gis_service.api.deps import RegistryEditorDep, SessionDep, SettingsDep
from gis_service.api.problems import PROBLEM_JSON
from gis_service.db import repository
from gis_service.errors import InvalidInputError
from gis_service.ingest.schools_export import export_schools
from gis_service.ingest.schools_import import import_schools
from gis_service.registry.quality import quality_report
from gis_service.settings import STALE_AFTER_DAYS

router = APIRouter(tags=["import and quality"])

#: The largest school file an upload may be (bytes).
MAX_UPLOAD_BYTES = 20 * 1024 * 1024

_EXPORT_TYPES = {
    "csv": ("csv", "text/csv; charset=utf-8"),
    "geojson": ("geojson", "application/geo+json"),
    "gpkg": ("gpkg", "application/geopackage+sqlite3"),
}


class RowProblemModel(BaseModel):
    """One problem of a rejected row (``column`` empty: the row as a whole)."""

    row: int = Field(description="1-based data row (the CSV header is row 0)")
    column: str
    reason: str = Field(description="a machine-readable reason, such as missing_name")
    detail: str


class ImportReportModel(BaseModel):
    """What an import did, or on a dry run would do."""

    file: str
    rows_read: int
    accepted: int
    created: int
    updated: int
    unchanged: int
    rejected_rows: list[int]
    rejected: list[RowProblemModel]
    unknown_columns: list[str]
    warnings: list[str]
    written: bool
    dry_run: bool


class CodeCount(BaseModel):
    """Schools found by one check, as a count and their codes (sorted)."""

    count: int
    codes: list[str]


class FieldFilled(BaseModel):
    """How many schools have a value for one field, and their share (0 to 1)."""

    filled: int
    share: float


class QualityReportModel(BaseModel):
    """How live, clean and complete a district's school records are on one day."""

    district_code: str
    today: dt.date
    stale_after_days: int
    schools: int
    completeness: dict[str, FieldFilled] = Field(description="per field that may be unknown")
    stale: CodeCount
    outside_wards: CodeCount
    level_inferred: CodeCount
    default_class_size_cap: CodeCount


def _upload_name(filename: str | None) -> str:
    """Return a safe file name that keeps the upload's name and suffix."""
    name = re.sub(r"[^\w.\-]+", "_", Path(filename or "").name).lstrip(".")
    return name or "upload"


@router.post("/schools/import", response_model=ImportReportModel)
def import_school_file(
    *,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: RegistryEditorDep,
    file: UploadFile,
    dry_run: Annotated[bool, Query(description="Check the file only; write nothing.")] = False,
) -> ImportReportModel | JSONResponse:
    """Import a CSV, GeoJSON or GeoPackage school list (role ``registry_editor``).

    Every row is validated first; when any row is rejected nothing is written and the answer
    is a 422 problem with one error per problem and the full report.
    """
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        msg = f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB"
        raise InvalidInputError(msg)
    district = repository.get_district(session, settings.district_code)
    with tempfile.TemporaryDirectory(prefix="schoolgis-import-") as folder:
        path = Path(folder) / _upload_name(file.filename)
        path.write_bytes(data)
        report = import_schools(
            session,
            path,
            district_code=district.code,
            class_size_cap=settings.class_size_cap,
            actor=principal.name,
            dry_run=dry_run,
        )
    if report.written:
        session.commit()
    body = report.to_json()
    if not report.rejected:
        return ImportReportModel.model_validate(body)
    detail = f"{len(report.rejected_rows)} of {report.rows_read} rows rejected; nothing was written"
    problem = {
        "type": "about:blank",
        "title": "Invalid input",
        "status": 422,
        "detail": detail,
        "instance": request.url.path,
        "errors": [
            {"pointer": f"row {p.row}, column {p.column}", "detail": p.detail}
            for p in report.rejected
        ],
        "report": body,
    }
    return JSONResponse(problem, status_code=422, media_type=PROBLEM_JSON)


@router.get(
    "/schools/export",
    response_class=Response,
    responses={
        200: {
            "description": "The school list as a file (CSV, GeoJSON or GeoPackage)",
            "content": {
                media_type.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
                for _, media_type in _EXPORT_TYPES.values()
            },
        }
    },
)
def export_school_file(
    session: SessionDep,
    settings: SettingsDep,
    file_format: Annotated[
        Literal["csv", "geojson", "gpkg"], Query(alias="format", description="csv, geojson, gpkg")
    ] = "csv",
) -> Response:
    """Every school of the district as a file that imports back without a change."""
    district = repository.get_district(session, settings.district_code)
    suffix, media_type = _EXPORT_TYPES[file_format]
    name = f"schools-{district.code}.{suffix}"
    with tempfile.TemporaryDirectory(prefix="schoolgis-export-") as folder:
        path = Path(folder) / name
        export_schools(session, path, district_code=district.code)
        content = path.read_bytes()
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/quality")
def read_quality(
    session: SessionDep,
    settings: SettingsDep,
    stale_after_days: Annotated[
        int, Query(ge=0, le=36_500, description="days after which a verification is too old")
    ] = STALE_AFTER_DAYS,
) -> QualityReportModel:
    """How live, clean and complete the district's school records are."""
    district = repository.get_district(session, settings.district_code)
    report = quality_report(
        session,
        district_code=district.code,
        today=dt.date.today(),
        stale_after_days=stale_after_days,
    )
    return QualityReportModel.model_validate(report.to_json())
