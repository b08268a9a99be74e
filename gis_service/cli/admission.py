"""``schoolgis rounds``, ``applications`` and ``placement``: the first-grade admission run.

The command line acts on the store directly, as an administrator: every command that
writes or reads personal data is written to the audit log under ``--by`` (role
``admin``, request ``CLI`` with the command line).
"""

from __future__ import annotations

import csv
import datetime as dt
import socket
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError

from gis_service.cli.context import CliState, first_problem, open_session
from gis_service.errors import InvalidInputError
from gis_service.text import spreadsheet_safe

if TYPE_CHECKING:
    from gis_service.admission.application_rows import ApplicationsRejectedError
    from gis_service.admission.rounds import RoundIn
    from gis_service.db.audit_repository import AuditContext

rounds_app = typer.Typer(help="Admission rounds: open, list, close.", no_args_is_help=True)
applications_app = typer.Typer(
    help="Applications of a round: import, check a priority claim.", no_args_is_help=True
)
placement_app = typer.Typer(
    help="Placement of a round: run, publish, export.", no_args_is_help=True
)

ActorOption = Annotated[str, typer.Option("--by", help="Who acts (recorded in the audit log).")]
RoundArgument = Annotated[int, typer.Argument(help="The round's id.")]
RunArgument = Annotated[int, typer.Argument(help="The placement run's id.")]
#: Problems of a rejected file shown on the one error line.
_SHOWN_PROBLEMS = 3
#: The option of ``rounds create`` that sets each field of a round.
_OPTION_OF = {
    "name": "--name",
    "year": "--year",
    "applications_close_at": "--close-at",
    "results_at": "--results-at",
    "max_choices": "--max-choices",
    "rules": "--rules",
    "priority_categories": "--categories",
    "zone_version": "--zone-version",
    "seats": "--seats",
    "default_first_grade_classes": "--default-classes",
}


def _audit(ctx: typer.Context, actor: str) -> AuditContext:
    """Return the audit context of the running command (its path and parameters)."""
    from gis_service.db.audit_repository import AuditContext

    arguments = (f"{name}={value}" for name, value in ctx.params.items())
    return AuditContext(
        actor=actor,
        role="admin",
        request_id=uuid.uuid4().hex,
        request_method="CLI",
        request_path=" ".join([ctx.command_path, *arguments])[:500],
        client_address=socket.gethostname(),
    )


def _moment(value: str, *, option: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        msg = f"{option} must be an ISO date or date and time (2027-07-31T17:00), got {value!r}"
        raise InvalidInputError(msg) from None
    if len(value) == 10:
        moment = moment.replace(hour=23, minute=59, second=59)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _words(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _round_request(fields: dict[str, object]) -> RoundIn:
    """Return the round the options describe, or say which option is wrong and why."""
    from gis_service.admission.rounds import RoundIn

    try:
        return RoundIn.model_validate(fields)
    except ValidationError as error:
        pointer, problem = first_problem(error)
        field = pointer.split("/")[1]
        msg = f"{_OPTION_OF.get(field, field)}: {problem}"
        raise InvalidInputError(msg) from None


def _seats(values: list[str]) -> dict[str, int]:
    seats = {}
    for value in values:
        code, _, count = value.partition("=")
        if not code or not count.strip().isdigit():
            msg = f"--seats takes CODE=SEATS, got {value!r}"
            raise InvalidInputError(msg)
        seats[code.strip()] = int(count)
    return seats


@rounds_app.command("create")
def create_round(  # noqa: PLR0917 - typer reads the options from the signature
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="The round's name.")],
    year: Annotated[int, typer.Option(help="The intake year (September).")],
    close_at: Annotated[
        str, typer.Option("--close-at", help="Last moment for applications (ISO; UTC).")
    ],
    results_at: Annotated[
        str | None, typer.Option("--results-at", help="When results are announced (ISO).")
    ] = None,
    max_choices: Annotated[int, typer.Option(help="Choices allowed.")] = 3,
    rules: Annotated[
        str | None,
        typer.Option(
            help="Priority groups, highest first, comma separated "
            "(default: all four, in_zone first)."
        ),
    ] = None,
    categories: Annotated[
        str, typer.Option(help="Priority categories of the round, comma separated.")
    ] = "",
    zone_version: Annotated[
        str | None, typer.Option(help="Zone version id or name (default: the published one).")
    ] = None,
    default_classes: Annotated[
        int | None,
        typer.Option("--default-classes", help="Classes assumed where the registry has none."),
    ] = None,
    seats: Annotated[
        list[str] | None, typer.Option(help="CODE=SEATS, overriding the registry (repeatable).")
    ] = None,
    by: ActorOption = "cli",
) -> None:
    """Open an admission round."""
    from gis_service.admission.rounds import open_round

    settings = ctx.ensure_object(CliState).settings()
    fields: dict[str, object] = {
        "name": name,
        "year": year,
        "applications_close_at": _moment(close_at, option="--close-at"),
        "results_at": None if results_at is None else _moment(results_at, option="--results-at"),
        "max_choices": max_choices,
        "priority_categories": _words(categories),
        "zone_version": zone_version,
        "seats": _seats(seats or []),
        "default_first_grade_classes": default_classes,
    }
    if rules is not None:
        fields["rules"] = _words(rules)
    request = _round_request(fields)
    with open_session(settings) as session:
        record = open_round(
            session, request, district_code=settings.district_code, audit=_audit(ctx, by)
        )
        session.commit()
    typer.echo(
        f"round {record.id} {record.name!r} ({record.year}): open until "
        f"{record.applications_close_at:%Y-%m-%d %H:%M} UTC, rules {', '.join(record.rules)}"
    )


@rounds_app.command("list")
def list_rounds(ctx: typer.Context) -> None:
    """List the district's rounds, newest year first."""
    from gis_service.db import repository, rounds_repository

    settings = ctx.ensure_object(CliState).settings()
    with open_session(settings) as session:
        district = repository.get_district(session, settings.district_code)
        rounds = rounds_repository.list_rounds(session, district.code)
    for r in rounds:
        published = "-" if r.published_run_id is None else str(r.published_run_id)
        typer.echo(f"{r.id}\t{r.year}\t{r.name}\t{r.status}\t{r.applications}\t{published}")


@rounds_app.command("close")
def close_round(ctx: typer.Context, round_id: RoundArgument, by: ActorOption = "cli") -> None:
    """Close a round to new applications."""
    from gis_service.db import audit_repository, rounds_repository

    settings = ctx.ensure_object(CliState).settings()
    with open_session(settings) as session:
        record = rounds_repository.close_round(session, round_id)
        audit_repository.append_audit(
            session,
            _audit(ctx, by),
            action="round.close",
            object_type="admission_round",
            object_id=str(round_id),
            round_id=round_id,
        )
        session.commit()
    typer.echo(f"round {record.id} {record.name!r} is closed ({record.applications} applications)")


def _one_line(error: ApplicationsRejectedError) -> str:
    shown = "; ".join(f"{p.pointer}: {p.detail}" for p in error.rejections[:_SHOWN_PROBLEMS])
    more = len(error.rejections) - _SHOWN_PROBLEMS
    return f"{error.detail}: {shown}" + (f" (and {more} more)" if more > 0 else "")


@applications_app.command("import")
def import_applications(
    ctx: typer.Context,
    round_id: RoundArgument,
    file: Annotated[Path, typer.Argument(help="CSV file of applications.")],
    secrets_path: Annotated[
        Path | None,
        typer.Option(
            "--secrets", help="Where to write the ids and secrets (default: FILE.secrets.csv)."
        ),
    ] = None,
    by: ActorOption = "cli",
) -> None:
    """Import a CSV file of applications, all or nothing; write their ids and secrets."""
    from gis_service.admission.application_rows import (
        ApplicationsRejectedError,
        read_application_csv,
    )
    from gis_service.admission.applications import submit_applications as submit

    settings = ctx.ensure_object(CliState).settings()
    if not file.is_file():
        msg = f"{file}: no such file"
        raise InvalidInputError(msg)
    target = secrets_path or file.with_name(f"{file.stem}.secrets.csv")
    if target.exists():
        msg = f"{target} exists: the secrets file is never overwritten (choose --secrets)"
        raise InvalidInputError(msg)
    with open_session(settings) as session:
        try:
            parsed = read_application_csv(file.read_bytes())
            issued = submit(
                session, round_id, parsed.rows, audit=_audit(ctx, by), priority_verified=True
            )
        except ApplicationsRejectedError as error:
            session.rollback()
            raise InvalidInputError(_one_line(error)) from None
        # the secrets exist only in this file: write it before committing, drop it on failure
        target.parent.mkdir(parents=True, exist_ok=True)
        target.touch(mode=0o600, exist_ok=False)
        try:
            with target.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["application_id", "secret", "child_name"])
                writer.writerows(
                    [a.application_id, a.secret, spreadsheet_safe(a.child_name)] for a in issued
                )
            session.commit()
        except Exception:
            target.unlink(missing_ok=True)
            raise
    ignored = (
        f"; ignored columns: {', '.join(parsed.ignored_columns)}" if parsed.ignored_columns else ""
    )
    typer.echo(
        f"imported {len(issued)} applications into round {round_id}; secrets in {target}{ignored}"
    )


@applications_app.command("priority")
def check_priority(
    ctx: typer.Context,
    application_id: Annotated[str, typer.Argument(help="The application's id.")],
    verified: Annotated[
        bool,
        typer.Option(
            "--verified/--rejected", help="Whether the documents prove the priority category."
        ),
    ],
    by: ActorOption = "cli",
) -> None:
    """Record whether an application's claimed priority category is proven (audited)."""
    from gis_service.admission.evidence import PRIORITY_STATUS_TEXT, check_priority_claim

    settings = ctx.ensure_object(CliState).settings()
    with open_session(settings) as session:
        checked = check_priority_claim(
            session, application_id, verified=verified, audit=_audit(ctx, by)
        )
        session.commit()
    status = PRIORITY_STATUS_TEXT[checked.priority_status or "claimed"]
    typer.echo(f"{checked.application_id} {checked.priority_category}: {status}")


@placement_app.command("run")
def run(
    ctx: typer.Context,
    round_id: RoundArgument,
    seed: Annotated[
        int | None, typer.Option(min=0, help="Lottery seed (default: drawn and recorded).")
    ] = None,
    method: Annotated[
        str, typer.Option(help="deferred_acceptance, or boston (for comparison only).")
    ] = "deferred_acceptance",
    by: ActorOption = "cli",
) -> None:
    """Place a round's applications and save the run."""
    from gis_service.admission.runs import run_placement
    from gis_service.networks import NetworkCache

    settings = ctx.ensure_object(CliState).settings()
    with open_session(settings) as session:
        finished = run_placement(
            session,
            NetworkCache(settings),
            round_id=round_id,
            method=method,
            seed=seed,
            audit=_audit(ctx, by),
        )
    stats = finished.statistics or {}
    typer.echo(
        f"placement run {finished.id} of round {round_id} ({finished.method}, seed "
        f"{finished.seed}): {stats.get('seated_children')} of {stats.get('children')} children "
        f"seated, {stats.get('first_choice_share', 0.0) or 0.0:.1%} at their first choice, "
        f"{stats.get('guaranteed_children')} by the guarantee; digest {finished.digest}"
    )


@placement_app.command("publish")
def publish(
    ctx: typer.Context, round_id: RoundArgument, run_id: RunArgument, by: ActorOption = "cli"
) -> None:
    """Publish a run: the round closes and the run is frozen."""
    from gis_service.admission.runs import publish_placement

    settings = ctx.ensure_object(CliState).settings()
    with open_session(settings) as session:
        record = publish_placement(session, round_id, run_id, audit=_audit(ctx, by))
        session.commit()
    typer.echo(f"published placement run {record.id} of round {round_id} (digest {record.digest})")


@placement_app.command("export")
def export(
    ctx: typer.Context,
    round_id: RoundArgument,
    run_id: RunArgument,
    file: Annotated[Path, typer.Argument(help="CSV file to write (personal data).")],
    by: ActorOption = "cli",
) -> None:
    """Export a run's results, one row per application, to CSV."""
    from gis_service.admission.export import export_results

    settings = ctx.ensure_object(CliState).settings()
    with open_session(settings) as session:
        count = export_results(session, round_id, run_id, file, audit=_audit(ctx, by))
        session.commit()
    typer.echo(f"wrote {count} results of placement run {run_id} to {file}")
