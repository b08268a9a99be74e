"""Export of a placement run's results: one CSV row per application, for the office.

The file holds personal data (names, dates of birth, contacts): it is created readable by
its owner only, and every export is written to the audit log. Cells of text people typed
(``child_name``, ``contact``, ``ward_code``, ``school_code``, ``school_name``) are made safe
for spreadsheets with :func:`gis_service.text.spreadsheet_safe`.
"""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy.orm import Session

from gis_service.db import audit_repository, placement_runs_repository
from gis_service.db.audit_repository import AuditContext
from gis_service.errors import ConflictError
from gis_service.text import spreadsheet_safe

#: Columns of an exported run, in order.
EXPORT_COLUMNS = (
    "application_id",
    "child_name",
    "date_of_birth",
    "ward_code",
    "contact",
    "school_code",
    "school_name",
    "choice_rank",
    "guaranteed",
    "distance_m",
)


def export_results(
    session: Session, round_id: int, run_id: int, path: Path, *, audit: AuditContext
) -> int:
    """Write a run's results, one row per application, to a CSV file (audited).

    The file holds personal data: it is created readable by its owner only. The caller
    commits the audit entry.

    Returns
    -------
    int
        The number of applications written.

    Raises
    ------
    NotFoundError
        If the round has no such run.
    ConflictError
        If the run has no results (running or failed).
    """
    run = placement_runs_repository.get_run(session, round_id, run_id)
    if run.status not in {"done", "published"}:
        msg = f"placement run {run_id} is {run.status}: it has no results to export"
        raise ConflictError(msg)
    rows = placement_runs_repository.run_results(session, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(EXPORT_COLUMNS)
        for application, result in rows:
            writer.writerow(
                [
                    application.application_id,
                    spreadsheet_safe(application.child_name),
                    application.date_of_birth.isoformat(),
                    spreadsheet_safe(application.ward_code),
                    spreadsheet_safe(application.contact),
                    spreadsheet_safe(result.school_code or ""),
                    spreadsheet_safe(result.explanation.get("school_name") or ""),
                    "" if result.choice_rank is None else result.choice_rank,
                    "yes" if result.guaranteed else "no",
                    "" if result.distance_m is None else f"{result.distance_m:.1f}",
                ]
            )
    audit_repository.append_audit(
        session,
        audit,
        action="placement.export",
        object_type="placement_run",
        object_id=str(run_id),
        round_id=round_id,
        detail={"applications": len(rows), "file": path.name},
    )
    return len(rows)


__all__ = ["EXPORT_COLUMNS", "export_results"]
