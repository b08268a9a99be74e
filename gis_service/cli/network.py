"""``schoolgis network build`` and ``schoolgis distances``: road networks and distance files."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from gis_service.cli.context import CliState, open_session
from gis_service.errors import InvalidInputError

if TYPE_CHECKING:
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from routing import RoadNetwork

app = typer.Typer(help="Road networks: build a district's routing graph.", no_args_is_help=True)

#: What each load step shows on the progress bar.
_STEP_TEXT = {
    "hash": "hashing the extract",
    "load": "reading the cached network",
    "read": "reading OSM XML",
    "speeds": "speeds and access by mode",
    "simplify": "simplifying the graph",
    "arrays": "building arrays",
    "project": "projecting to metres",
    "save": "saving the cache",
}


@app.command("build")
def build(
    ctx: typer.Context,
    district: Annotated[
        str | None, typer.Option(help="District code (default: the only district).")
    ] = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Build again even if a cached network exists.")
    ] = False,
) -> None:
    """Build (or check) the routing network of a district from its registered OSM extract."""
    import routing
    from gis_service.networks import NetworkCache
    from routing.cache import LOAD_STEPS

    settings = ctx.ensure_object(CliState).settings()
    networks = NetworkCache(settings)
    started = time.perf_counter()
    with open_session(settings) as session, _progress_bar() as bar:
        task = bar.add_task(_STEP_TEXT["hash"], total=len(LOAD_STEPS))

        def advance(step: str) -> None:
            bar.update(task, description=_STEP_TEXT.get(step, step), advance=1)

        district_net = networks.for_district(session, district, rebuild=rebuild, progress=advance)
        bar.update(task, description="done", completed=len(LOAD_STEPS))
    network = district_net.network
    typer.echo(
        f"district {district_net.district.code}: {network.n_nodes:,} nodes, {network.n_edges:,} "
        f"edges, {network.crs.to_string()}, from {district_net.extract.file_name} "
        f"in {time.perf_counter() - started:.1f} s"
    )
    for mode in network.modes:
        report = routing.component_report(network, mode)
        arcs = network.mode_graph_arrays(mode)
        typer.echo(
            f"  {mode.name}: {arcs.arc_edge.size:,} arcs, {report.n_components} components "
            f"(largest {report.largest_share:.1%} of nodes), "
            f"{report.ferry_edges.size} ferry edges"
        )
    typer.echo(f"cache: {networks.cache_dir(district_net.district.code)}")


def _progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        transient=True,
    )


def _read_origins(path: Path, *, id_column: str, lat_column: str, lon_column: str) -> gpd.GeoSeries:
    """Return the origins as EPSG:4326 points indexed by their id (as text)."""
    import geopandas as gpd
    import pandas as pd

    from gis_service.crs import WGS84, to_wgs84
    from gis_service.ingest.files import read_vector

    if path.suffix.lower() == ".csv":
        try:
            frame = pd.read_csv(path, dtype={id_column: str})
        except (OSError, pd.errors.ParserError, UnicodeDecodeError) as error:
            msg = f"{path}: not a readable CSV file ({error})"
            raise InvalidInputError(msg) from None
        missing = [c for c in (lat_column, lon_column) if c not in frame.columns]
        if missing:
            msg = f"{path}: column(s) {', '.join(missing)} missing (see --lat-column/--lon-column)"
            raise InvalidInputError(msg)
        lat = pd.to_numeric(frame[lat_column], errors="coerce")
        lon = pd.to_numeric(frame[lon_column], errors="coerce")
        points = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=WGS84)
    else:
        frame = read_vector(path)
        points = to_wgs84(frame.geometry).representative_point()
    ids = frame[id_column].astype(str) if id_column in frame.columns else frame.index.astype(str)
    points.index = pd.Index(ids, name="origin_id")
    return points


def distances(  # noqa: PLR0917 - typer reads the options from the signature
    ctx: typer.Context,
    origins: Annotated[
        Path, typer.Argument(help="Origins: CSV with lat/lon columns, or GeoJSON/GPKG points.")
    ],
    output: Annotated[Path, typer.Argument(help="Distance matrix to write: .csv or .parquet.")],
    mode: Annotated[str, typer.Option(help="walk or motorbike.")] = "walk",
    cutoff_m: Annotated[
        float | None, typer.Option(help="Keep pairs up to this many metres (length_m).")
    ] = None,
    cutoff_s: Annotated[
        float | None, typer.Option(help="Keep pairs up to this many seconds (travel_time_s).")
    ] = None,
    k: Annotated[int | None, typer.Option(help="Only the k nearest schools per origin.")] = None,
    weight: Annotated[str, typer.Option(help="length_m (shortest) or travel_time_s.")] = "length_m",
    district: Annotated[str | None, typer.Option(help="District code.")] = None,
    level: Annotated[str | None, typer.Option(help="Only schools of this level.")] = None,
    id_column: Annotated[str, typer.Option(help="Column with the origin ids.")] = "id",
    lat_column: Annotated[str, typer.Option(help="Latitude column of a CSV.")] = "lat",
    lon_column: Annotated[str, typer.Option(help="Longitude column of a CSV.")] = "lon",
) -> None:
    """Write the network distances from every origin to the district's open schools.

    One row per reachable (origin, school) pair with distance_m and duration_s; an origin
    that reaches no school gets one row without a school and its reason in ``status``.
    """
    import numpy as np

    from gis_service.core_errors import routing_errors
    from gis_service.db import repository
    from gis_service.networks import NetworkCache
    from gis_service.registry.validation import LEVELS, choice_code

    if output.suffix.lower() not in {".csv", ".parquet"}:
        msg = f"{output}: the output must end in .csv or .parquet"
        raise InvalidInputError(msg)
    if (cutoff_s is not None and weight != "travel_time_s") or (
        cutoff_m is not None and weight != "length_m"
    ):
        msg = "--cutoff-m goes with --weight length_m, --cutoff-s with --weight travel_time_s"
        raise InvalidInputError(msg)
    cutoff = cutoff_m if weight == "length_m" else cutoff_s
    settings = ctx.ensure_object(CliState).settings()
    points = _read_origins(
        origins, id_column=id_column, lat_column=lat_column, lon_column=lon_column
    )
    started = time.perf_counter()
    with open_session(settings) as session:
        district_net = NetworkCache(settings).for_district(session, district)
        where = repository.SchoolFilter(
            district_code=district_net.district.code,
            status="open",
            level=choice_code(level, LEVELS, field="level"),
        )
        schools = [r.data for r in repository.list_schools(session, where)[0]]
    x, y = district_net.network.lonlat_to_xy(points.x.to_numpy(), points.y.to_numpy())
    with routing_errors():
        table = _distance_table(
            district_net.network,
            np.column_stack([x, y]),
            district_net.schools_xy(schools),
            mode=mode,
            weight=weight,
            cutoff=cutoff,
            k=k,
        )
    table.insert(0, "origin_id", points.index.to_numpy()[table.pop("origin").to_numpy()])
    codes = np.array([s.code for s in schools] + [None], dtype=object)
    table.insert(1, "school_code", codes[table.pop("school").to_numpy()])
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.suffix.lower() == ".csv":
        table.to_csv(output, index=False)
    else:
        table.to_parquet(output, index=False)
    ok = table["status"] == "ok"
    reached = table.loc[ok, "origin_id"].nunique()
    typer.echo(
        f"{len(points):,} origins x {len(schools)} schools ({mode}): {int(ok.sum()):,} pairs, "
        f"{reached:,} origins reach a school; written to {output} "
        f"in {time.perf_counter() - started:.1f} s"
    )


def _distance_table(
    network: RoadNetwork,
    origins: np.ndarray,
    schools: np.ndarray,
    *,
    mode: str,
    weight: str,
    cutoff: float | None,
    k: int | None,
) -> pd.DataFrame:
    """Return rows ``origin, school, rank, distance_m, duration_s, status`` (indexes)."""
    import numpy as np
    import pandas as pd

    import routing

    n_schools = schools.shape[0]
    if k is not None:
        nearest = routing.nearest_destinations(
            network, mode, origins=origins, destinations=schools, k=k, weight=weight, cutoff=cutoff
        )
        origin, rank = np.nonzero(nearest.destination >= 0)
        pairs = pd.DataFrame(
            {
                "origin": origin,
                "school": nearest.destination[origin, rank],
                "rank": rank + 1,
                "distance_m": nearest.length_m[origin, rank],
                "duration_s": nearest.travel_time_s[origin, rank],
            }
        )
        status = nearest.origin_status
    else:
        matrix = routing.cost_matrix(
            network, mode, origins=origins, destinations=schools, weight=weight, cutoff=cutoff
        )
        pairs = matrix.to_frame().rename(
            columns={
                "destination": "school",
                "length_m": "distance_m",
                "travel_time_s": "duration_s",
            }
        )
        value = pairs["distance_m"] if weight == "length_m" else pairs["duration_s"]
        pairs = pairs.assign(_value=value).sort_values(["origin", "_value", "school"])
        pairs["rank"] = pairs.groupby("origin").cumcount() + 1
        pairs = pairs.drop(columns="_value")
        status = matrix.origin_status
    pairs["status"] = "ok"
    lost = np.flatnonzero(status != 0)
    unreachable = pd.DataFrame(
        {
            "origin": lost,
            "school": n_schools,
            "rank": 0,
            "distance_m": np.nan,
            "duration_s": np.nan,
            "status": [routing.ORIGIN_STATUS[int(s)] for s in status[lost]],
        }
    )
    table = pd.concat([pairs, unreachable], ignore_index=True)
    table = table.sort_values(["origin", "rank"], kind="stable").reset_index(drop=True)
    return table[["origin", "school", "rank", "distance_m", "duration_s", "status"]]
