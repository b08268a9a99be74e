"""``schoolgis keys``: API keys (bearer tokens) with a role."""

from __future__ import annotations

from typing import Annotated

import typer

from gis_service.cli.context import CliState, open_session
from gis_service.errors import InvalidInputError
from gis_service.text import no_control_characters
from gis_service.vocabulary import ROLES

app = typer.Typer(help="API keys: create and revoke.", no_args_is_help=True)


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="Who or what holds the key.")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")],
) -> None:
    """Create an API key and print its token once (only its hash is stored)."""
    from gis_service.db import repository

    if role not in ROLES:
        msg = f"unknown role {role!r}; choose one of {', '.join(ROLES)}"
        raise InvalidInputError(msg)
    try:
        no_control_characters(name)
    except ValueError as error:
        msg = f"--name {error}"
        raise InvalidInputError(msg) from None
    settings = ctx.ensure_object(CliState).settings()
    with open_session(settings) as session:
        token = repository.create_api_key(session, name=name, role=role)
        session.commit()
    typer.echo(token)


@app.command()
def revoke(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The key's name.")]
) -> None:
    """Revoke an API key."""
    from gis_service.db import repository

    settings = ctx.ensure_object(CliState).settings()
    with open_session(settings) as session:
        repository.revoke_api_key(session, name)
        session.commit()
    typer.echo(f"revoked {name}")
