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


@app.command()
def revision(
    service: Annotated[str, typer.Argument(help="Service whose migrations get the new revision")],
    message: Annotated[str, typer.Option("-m", "--message", help="What the revision changes")],
) -> None:
    """Autogenerate a migration: a throw-away PostgreSQL at head, compared with the models."""
    import shutil
    import tempfile
    from pathlib import Path

    from alembic import command

    from devstack.servers import PostgresServer, free_port
    from devstack.stack import BY_NAME
    from shared.migrations import alembic_config

    spec = BY_NAME[service]
    tmp = Path(tempfile.mkdtemp(prefix="fieldservice-revision-"))
    server = PostgresServer(tmp / "data", free_port())
    server.start(stdout=open(tmp / "log", "wb"))  # noqa: SIM115
    try:
        asyncio.run(create_databases(server.url, [service]))
        url = f"{server.url}/{service}"
        migrate(service, url)
        existing = sorted(p.name for p in (spec.migrations_dir / "versions").glob("[0-9]*.py"))
        rev_id = f"{len(existing) + 1:04d}"
        command.revision(alembic_config(spec.migrations_dir, url), message=message, autogenerate=True,
                         rev_id=rev_id)
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@app.command()
def asyncapi(
    check: Annotated[bool, typer.Option("--check", help="Fail if docs/asyncapi.yaml is out of date")] = False,
) -> None:
    """Generate the AsyncAPI 3 event catalogue (docs/asyncapi.yaml) from the event models."""
    from devstack.asyncapi import DOCUMENT, render

    text = render()
    if check:
        current = DOCUMENT.read_text() if DOCUMENT.exists() else ""
        if current != text:
            typer.echo("docs/asyncapi.yaml is out of date: run `make asyncapi` and commit it", err=True)
            raise typer.Exit(1)
        typer.echo("docs/asyncapi.yaml matches the event models")
        return
    DOCUMENT.write_text(text)
    typer.echo(f"wrote {DOCUMENT}")


@app.command(name="event-compat")
def event_compat() -> None:
    """Fail if an event schema changed incompatibly with the last committed AsyncAPI (a breaking change is a new
    version of the event)."""
    from devstack.asyncapi import render
    from devstack.event_compat import check

    commit, found = check(render())
    if commit is None:
        typer.echo("no committed AsyncAPI differs from the event models: nothing to compare")
        return
    if found:
        typer.echo(f"event schemas incompatible with docs/asyncapi.yaml of {commit[:10]}:", err=True)
        for line in found:
            typer.echo(f"  {line}", err=True)
        raise typer.Exit(1)
    typer.echo(f"event schemas compatible with docs/asyncapi.yaml of {commit[:10]}")


@app.command(name="migrations-check")
def migrations_check() -> None:
    """Fail if a service's models and its migrations differ (Alembic's comparison on a fresh database; starts
    its own PostgreSQL unless POSTGRES_URL is set)."""
    from devstack.drift import drift

    found = drift(os.environ.get("POSTGRES_URL"))
    for service, differences in found.items():
        for line in differences:
            typer.echo(f"{service}: {line}", err=True)
    if any(found.values()):
        typer.echo("models and migrations differ: write a migration (alembic revision --autogenerate)", err=True)
        raise typer.Exit(1)
    typer.echo("models match the migrations: " + ", ".join(found))


dlq_app = typer.Typer(help="Dead-lettered messages: list, inspect, re-drive.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")


def _bootstrap() -> str:
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS", ServiceSettings().kafka_bootstrap_servers)


def _database_url(service: str) -> str:
    return os.environ.get(f"{service.upper()}_DATABASE_URL", f"{_server_url().rstrip('/')}/{service}")


@app.command()
def outbox(
    service: Annotated[str | None, typer.Argument(help="One service; all four when omitted")] = None,
) -> None:
    """Show each service's outbox backlog: unsent events and the age of the oldest one."""
    from devstack.ops import backlog

    names = [service] if service else [s.name for s in SERVICES]
    typer.echo(f"{'service':<10} {'unsent':>8} {'oldest unsent':>14} {'sent':>10}")
    for name in names:
        b = asyncio.run(backlog(name, _database_url(name)))
        typer.echo(f"{b.service:<10} {b.unsent:>8} {b.oldest_age_s:>13.1f}s {b.sent:>10}")


@app.command()
def republish(
    service: Annotated[str, typer.Argument(help="Service whose outbox holds the events")],
    case_id: Annotated[str, typer.Argument(help="Service case id")],
) -> None:
    """Publish a case's events again (consumers ignore the ones they already applied)."""
    from devstack.ops import republish_case

    count = asyncio.run(republish_case(_database_url(service), case_id))
    typer.echo(f"{count} events of case {case_id} queued for publication again")


@dlq_app.command("list")
def dlq_list(service: Annotated[str, typer.Argument(help="Service whose dead-letter topic to read")]) -> None:
    """List `<service>.dlq`: position, origin and error of every dead letter."""
    from devstack.ops import dead_letters

    letters = asyncio.run(dead_letters(_bootstrap(), service))
    for d in letters:
        typer.echo(f"{d.partition}:{d.offset}  from {d.origin_topic}:{d.origin_partition}@{d.origin_offset}  "
                   f"key={d.key}  {(d.error or '')[:120]}")
    typer.echo(f"{len(letters)} dead letters in {service}.dlq")


@dlq_app.command("inspect")
def dlq_inspect(
    service: Annotated[str, typer.Argument()], partition: Annotated[int, typer.Argument()],
    offset: Annotated[int, typer.Argument()],
) -> None:
    """Show one dead letter whole: headers and value."""
    from devstack.ops import dead_letters

    for d in asyncio.run(dead_letters(_bootstrap(), service)):
        if (d.partition, d.offset) == (partition, offset):
            for key, value in d.headers:
                typer.echo(f"{key}: {value.decode(errors='replace')}")
            typer.echo("")
            typer.echo(d.value.decode(errors="replace"))
            return
    raise typer.BadParameter(f"no dead letter at {partition}:{offset}")


@dlq_app.command("redrive")
def dlq_redrive(
    service: Annotated[str, typer.Argument()], partition: Annotated[int, typer.Argument()],
    offsets: Annotated[list[int], typer.Argument(help="One or more offsets in that partition")],
) -> None:
    """Send dead letters back to their origin topic for another try."""
    from devstack.ops import redrive

    with typer.progressbar(offsets, label="re-driving") as progress:
        for offset in progress:
            asyncio.run(redrive(_bootstrap(), service, partition, offset))
    typer.echo(f"re-drove {len(offsets)} messages")


@app.command("load-demo")
def load_demo(
    cases: Annotated[int, typer.Option(help="How many cases to drive through the running stack")] = 10,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each expected effect")] = 60,
) -> None:
    """Load demo data: drive cases through all four services of a running stack."""
    from devstack.client import StackClient
    from devstack.demo import run_slice
    from devstack.stack import ports_from_env

    client = StackClient(ports_from_env())
    try:
        with typer.progressbar(range(cases), label="cases") as progress:
            for _ in progress:
                run_slice(client, timeout=timeout, say=lambda _line: None)
    finally:
        client.close()
    typer.echo(f"{cases} cases driven through the stack")


@app.command("config-reference")
def config_reference(
    check: Annotated[bool, typer.Option("--check", help="Fail if docs/operations.md is out of date")] = False,
) -> None:
    """Generate the configuration reference in docs/operations.md from the settings classes."""
    from devstack import config_reference as reference

    try:
        if check:
            if not reference.is_current():
                typer.echo("docs/operations.md's configuration reference is out of date: "
                           "run `make config-reference` and commit it", err=True)
                raise typer.Exit(1)
            typer.echo("docs/operations.md's configuration reference matches the settings classes")
            return
        reference.write()
    except ValueError as exc:  # an undescribed setting, or the document lost its markers
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"wrote the configuration reference in {reference.DOCUMENT}")


@app.command()
def messages(
    check: Annotated[bool, typer.Option("--check", help="Fail if the catalogue lacks a key of the code or keeps "
                                                        "one the code no longer has")] = False,
) -> None:
    """Bring the Chinese message catalogue (shared/locale/zh/LC_MESSAGES/messages.po) up to date with the
    code's messages, enumerations and validation errors (decision 0094); new keys need a translation."""
    from devstack import messages as catalogue

    updated, added, dropped = catalogue.update()
    if check:
        if added or dropped:
            for context, key in added:
                typer.echo(f"not in the catalogue: {context or ''} {key!r}", err=True)
            for context, key in dropped:
                typer.echo(f"no longer in the code: {context or ''} {key!r}", err=True)
            typer.echo("run `make messages`, translate and commit the catalogue", err=True)
            raise typer.Exit(1)
        typer.echo("the message catalogue matches the code")
        return
    path = catalogue.write(updated)
    untranslated = sum(1 for m in updated if m.id and not m.string)
    typer.echo(f"wrote {path}: {len(added)} added, {len(dropped)} dropped, {untranslated} without a translation")


if __name__ == "__main__":
    app()
