"""`fieldservice`: the operator's command line (installed with the project)."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from typing import Annotated

import typer

from devstack.stack import SERVICES, create_databases, migrate
from shared.api.auth import Role, issue_dev_token
from shared.settings import ServiceSettings

app = typer.Typer(help="Operate the field-service platform.", no_args_is_help=True)


def _server_url() -> str:
    return os.environ.get("POSTGRES_URL", ServiceSettings().postgres_url)


@app.command()
def token(
    role: Annotated[Role, typer.Argument(help="Role the token carries")],
    sub: Annotated[str, typer.Argument(help="Subject: a user, engineer or client id")],
    hours: Annotated[int, typer.Option(help="Validity in hours")] = 12,
    unit: Annotated[str | None, typer.Option(help="Organisational unit claim")] = None,
    region: Annotated[str | None, typer.Option(help="Region claim")] = None,
) -> None:
    """Print a development bearer token (signed with the local key; refused in production)."""
    settings = ServiceSettings()
    if settings.environment == "production":
        raise typer.BadParameter("development tokens are not issued in production")
    claims = {k: v for k, v in {"unit": unit, "region": region}.items() if v}
    typer.echo(issue_dev_token(settings, subject=sub, roles=[role.value], ttl=timedelta(hours=hours), **claims))


@app.command("migrate")
def migrate_command(
    service: Annotated[str | None, typer.Argument(help="One service; all four when omitted")] = None,
) -> None:
    """Create the service databases if needed and run their migrations to head."""
    names = [service] if service else [s.name for s in SERVICES]
    server = _server_url()
    asyncio.run(create_databases(server, names))
    for name in names:
        migrate(name, f"{server.rstrip('/')}/{name}")
        typer.echo(f"{name}: migrated to head")


if __name__ == "__main__":
    app()
