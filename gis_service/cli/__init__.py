"""The ``schoolgis`` command: one entry point for every job of the service.

The sub-command modules are imported and registered here, so the help of every group and
command is written once, beside the command. Typer reads the signature of every command
whenever the command line starts, so these modules stay cheap to import: they import the
store, the service and the cores (numba, osmnx, pandas, shapely) only inside the functions
that use them, and their signatures use only cheap types. A lazy group, importing a module
only when its group is invoked, would have to repeat each group's short help here and would
not make ``schoolgis GROUP --help`` any lighter, since that still reads every command of
the group.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from gis_service.cli import (
    admission,
    db,
    district,
    forecast,
    keys,
    maps,
    network,
    scenario,
    schools,
    zones,
)
from gis_service.cli.context import CliState, open_session
from gis_service.errors import ServiceError

#: Processes of ``schoolgis serve``: one per CPU core (each has its own interpreter lock).
DEFAULT_WORKERS = os.cpu_count() or 1

app = typer.Typer(
    name="schoolgis",
    help="GIS enrolment and school-planning service (Vietnamese districts).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db.app, name="db")
app.add_typer(district.app, name="district")
app.add_typer(keys.app, name="keys")
app.add_typer(schools.app, name="schools")
app.add_typer(network.app, name="network")
app.add_typer(forecast.app, name="forecast")
app.add_typer(zones.app, name="zones")
app.add_typer(maps.app, name="map")
app.add_typer(admission.rounds_app, name="rounds")
app.add_typer(admission.applications_app, name="applications")
app.add_typer(admission.placement_app, name="placement")
app.add_typer(scenario.scenario_app, name="scenario")
app.add_typer(scenario.sites_app, name="sites")
app.command("distances")(network.distances)


@app.callback()
def _root(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", envvar="SCHOOLGIS_DATA_DIR", help="Folder of the embedded store."
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url", envvar="DATABASE_URL", help="PostGIS URL (default: SpatiaLite)."
        ),
    ] = None,
) -> None:
    overrides: dict[str, object] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if database_url is not None:
        overrides["database_url"] = database_url
    ctx.obj = CliState(overrides=overrides)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            help="Processes serving requests (default: one per CPU core). Rate-limit counts "
            "are shared between them only in Redis (SCHOOLGIS_RATE_LIMIT_STORAGE).",
            min=1,
            max=64,
        ),
    ] = DEFAULT_WORKERS,
) -> None:
    """Run the HTTP service (the bundled district is loaded into an empty store).

    The first start also computes and publishes the bundled district's admission zones,
    so the map and the eligibility lookup answer at once.
    """
    import uvicorn

    from gis_service.app import create_app
    from gis_service.networks import NetworkCache
    from gis_service.startup import fail_interrupted_runs, open_engine, publish_bundled_zones

    settings = ctx.ensure_object(CliState).settings()
    typer.echo(f"store: {settings.store_url.split('@')[-1]}", err=True)
    # the newest schema, and the bundled district in an empty store
    with open_session(settings) as session:
        published = (
            publish_bundled_zones(session, NetworkCache(settings))
            if settings.load_bundled_district
            else None
        )
    if published is not None:
        typer.echo(f"published the first zone version {published.name!r}", err=True)
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
        return
    # the store is prepared once here, not by each process as it starts
    engine = open_engine(settings, pool_size=1)
    fail_interrupted_runs(engine)
    engine.dispose()
    if settings.rate_limits_in_memory:
        typer.echo(
            f"rate limits are counted by each of the {workers} processes apart; "
            "set SCHOOLGIS_RATE_LIMIT_STORAGE=redis://... to share them",
            err=True,
        )
    os.environ |= {
        "SCHOOLGIS_DATA_DIR": str(settings.data_dir),
        "SCHOOLGIS_DATABASE_URL": settings.store_url,
        "SCHOOLGIS_PREPARE_STORE_AT_START": "false",
    }
    uvicorn.run(
        "gis_service.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
    )


def _one_line(error: BaseException) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"invalid setting {where}: {first['msg']}"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: the process's arguments).

    Returns
    -------
    int
        The exit code: 0 on success, 1 for an error (one line on stderr), 2 for a usage
        error. The ``schoolgis`` script exits with it.
    """
    args = list(sys.argv[1:] if argv is None else argv) or ["--help"]
    try:
        code = app(args, prog_name="schoolgis", standalone_mode=False)
    except typer.TyperException as error:
        formatter = getattr(error, "format_message", None)
        message = (formatter() if callable(formatter) else str(error)).rstrip(".")
        sys.stderr.write(f"schoolgis: usage error: {message} (see schoolgis --help)\n")
        return 2
    except typer.Abort:
        sys.stderr.write("schoolgis: aborted\n")
        return 1
    except (ServiceError, ValidationError, OSError) as error:
        sys.stderr.write(f"schoolgis: error: {_one_line(error)}\n")
        return 1
    except SQLAlchemyError as error:
        sys.stderr.write(f"schoolgis: store error: {_one_line(error.__cause__ or error)}\n")
        return 1
    return code if isinstance(code, int) else 0
