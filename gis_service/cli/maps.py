"""``schoolgis map``: the public web map as one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gis_service.cli.context import CliState, open_session
from gis_service.errors import InvalidInputError

app = typer.Typer(help="The public web map.", no_args_is_help=True)


@app.command("export")
def export(
    ctx: typer.Context,
    output: Annotated[Path, typer.Argument(help="The HTML file to write.")],
    api_url: Annotated[
        str | None,
        typer.Option(
            "--api-url",
            help="Address of the running service that answers the eligibility lookup "
            "(without it the page names the zone school but gives no road distances).",
        ),
    ] = None,
) -> None:
    """Write the public map as one HTML file to put on the district's website."""
    from gis_service.networks import NetworkCache
    from gis_service.web_map import MapBackgrounds, public_map_data, tile_layer
    from maps.pages import render_map

    if api_url is not None and not api_url.startswith(("http://", "https://")):
        msg = f"--api-url must start with http:// or https://, got {api_url!r}"
        raise InvalidInputError(msg)
    settings = ctx.ensure_object(CliState).settings()
    with open_session(settings) as session:
        data = public_map_data(
            session, NetworkCache(settings), MapBackgrounds(), district_code=settings.district_code
        )
    html = render_map(
        data,
        assets_mode="inline",
        api_base=None if api_url is None else api_url.rstrip("/"),
        tile_layer=tile_layer(settings),
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(html, encoding="utf-8")
    size_kb = len(html.encode("utf-8")) / 1024
    typer.echo(f"wrote {output} ({size_kb:.0f} KiB, {len(data.schools)} schools)")
