"""The ``scribetree`` command."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import typer

app = typer.Typer(
    help="Scribe Tree: run the server and workers, manage institutions and people, verify the audit trail.",
    no_args_is_help=True,
    add_completion=False,
)
tenant_app = typer.Typer(help="Manage institutions (tenants).", no_args_is_help=True)
user_app = typer.Typer(help="Manage people.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
jobs_app = typer.Typer(help="The job queue.", no_args_is_help=True)
integrity_app = typer.Typer(help="Academic integrity: verify exported event logs.", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
app.add_typer(jobs_app, name="jobs")
app.add_typer(integrity_app, name="integrity")


def _run(fn: Callable[[], Awaitable[Any]]) -> Any:
    from scribetree.core.db import dispose_engines

    async def wrapper() -> Any:
        try:
            return await fn()
        finally:
            await dispose_engines()

    return asyncio.run(wrapper())


def _fail(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def migrate() -> str:
    """Bring the database schema to the newest migration; returns the revision."""
    from alembic import command
    from alembic.config import Config

    from scribetree.core.config import PROJECT_ROOT, settings

    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    cfg.attributes["database_url"] = settings.database_url
    command.upgrade(cfg, "head")
    from scribetree.ops.service import migration_head

    return migration_head() or "?"


def migrate_in_child() -> None:
    """Run ``migrate()`` in a child process with this environment, so that alembic and the migration scripts
    (about 8 MB of RSS) are never loaded into the serving process."""
    import subprocess

    code = subprocess.call([sys.executable, "-c", "from scribetree.cli import migrate; migrate()"])
    if code != 0:
        _fail(f"The migration did not complete (exit status {code}); its output is above.")


@app.command()
def init() -> None:
    """Create the data folder and migrate the database to the newest schema (safe to run again)."""
    from scribetree.core.config import settings

    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    rev = migrate()
    where = settings.database_url.split("@")[-1] if "@" in settings.database_url else settings.database_url
    typer.echo(f"Database ready at revision {rev} ({where}).")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    migrate_first: Annotated[bool, typer.Option("--migrate/--no-migrate", help="Run migrations first.")] = True,
    worker: Annotated[
        bool | None,
        typer.Option(
            "--worker/--no-worker",
            help="Run the job worker in this process (default: from SCRIBETREE_WORKER_IN_PROCESS).",
        ),
    ] = None,
) -> None:
    """Serve the web app and API (and, by default, the in-process job worker)."""
    import uvicorn

    from scribetree.core.config import settings

    options = prepare_server_process()
    if migrate_first:
        migrate_in_child()
    if worker is not None:
        settings.WORKER_IN_PROCESS = worker
    uvicorn.run("scribetree.app:create_app", factory=True, host=host, port=port, **options)


def prepare_server_process() -> dict[str, Any]:
    """Set up this process as ``serve`` runs it and return uvicorn's options, for ``serve`` and for diagnostic
    servers that must run the app the same way (bench/pool_probe.py). Call it before any thread starts."""
    from scribetree.core import gcpolicy, malloc
    from scribetree.core.config import settings

    malloc.configure()  # big blocks go back to the OS when freed (core/malloc.py)
    gcpolicy.enable()  # the start-up heap is frozen once the app has started (core/gcpolicy.py)
    return {
        "proxy_headers": True,
        "timeout_keep_alive": settings.HTTP_KEEP_ALIVE_SECONDS,
        "log_config": None,
        "access_log": False,
    }


@app.command("worker")
def worker_cmd() -> None:
    """Run a standalone job worker until SIGTERM/SIGINT (finishes running jobs, then exits)."""
    import scribetree.tasks  # noqa: F401  (registers every actor)
    from scribetree.core import gcpolicy, jobs
    from scribetree.core.logging import configure_logging

    configure_logging()  # as `serve` does: one JSON object per line on stderr
    gcpolicy.enable()
    gcpolicy.watch()

    async def run() -> None:
        gcpolicy.after_startup()  # everything is imported and the engines are made in this loop: freeze it
        await jobs.run_worker_forever()

    _run(run)


@app.command()
def demo() -> None:
    """Create (or complete) the demo institution and print its sign-ins. Never in production."""
    from scribetree.core.config import settings
    from scribetree.core.db import unit_of_work
    from scribetree.demo import DEMO_SLUG, seed_demo, seed_demo_partner

    if settings.is_production:
        _fail("The demo institution is never created in production.")

    async def go() -> Any:
        async with unit_of_work() as session:
            result = await seed_demo(session)
        await seed_demo_partner()  # its own units of work, after the history above is committed
        return result

    result = _run(go)
    password = settings.DEMO_PASSWORD.get_secret_value()
    typer.echo("")
    typer.secho("Demo institution: Maplewood University (demo)", bold=True)
    typer.echo(f"  {'created' if result.created_tenant else 'already there'}; {result.created_people} new people")
    typer.echo(
        f"  Sign in at {settings.BASE_URL}/t/{DEMO_SLUG}/signin   (platform staff: {settings.BASE_URL}/ops/signin)"
    )
    typer.echo(f"  Password for every demo account: {password}")
    for acc in result.accounts:
        typer.echo(f"    {acc['role']:<20} {acc['email']:<52} {acc['name']}")
    typer.echo("")


@tenant_app.command("create")
def tenant_create(
    slug: Annotated[str, typer.Option(help="Short address name, e.g. 'northfield' (a-z, 0-9, -).")],
    name: Annotated[str, typer.Option(help="The institution's full name.")],
    type_: Annotated[str, typer.Option("--type", help="k12 or higher_ed.")] = "higher_ed",
    region: Annotated[str, typer.Option(help="Home region for data residency, e.g. us, eu.")] = "us",
    admin_email: Annotated[str | None, typer.Option(help="Email an invitation to this first admin.")] = None,
    activate: Annotated[bool, typer.Option(help="Make it active at once (default: onboarding).")] = False,
) -> None:
    """Create an institution."""
    from pydantic import ValidationError

    from scribetree.core.db import unit_of_work
    from scribetree.core.errors import ScribetreeError
    from scribetree.tenancy.models import TenantStatus
    from scribetree.tenancy.schemas import TenantCreate
    from scribetree.tenancy.service import tenant_service

    try:
        data = TenantCreate(slug=slug, name=name, type=type_, region=region, admin_email=admin_email)
    except ValidationError as exc:
        _fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))

    async def go() -> Any:
        async with unit_of_work() as session:
            t = await tenant_service.create(session, None, data)
            if activate:
                t.status = TenantStatus.active
            return t.id, t.status

    try:
        tid, status = _run(go)
    except ScribetreeError as exc:
        _fail(exc.detail)
    typer.echo(f"Created institution {slug} ({tid}), status {status}.")
    if admin_email:
        typer.echo(f"An invitation was queued for {admin_email}.")


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="The person's email address (their sign-in).")],
    name: Annotated[str, typer.Option(help="Display name.")],
    tenant: Annotated[str | None, typer.Option(help="Institution slug to add them to.")] = None,
    role: Annotated[str, typer.Option(help="student, teaching_assistant, educator or institution_admin.")] = "student",
    platform_role: Annotated[str | None, typer.Option(help="operator or support (platform staff).")] = None,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input.")] = False,
) -> None:
    """Create a person with a password (asked for, never on the command line)."""
    from scribetree.core.db import unit_of_work
    from scribetree.core.errors import ScribetreeError
    from scribetree.identity.models import PlatformRole
    from scribetree.identity.service import identity
    from scribetree.tenancy.models import Role
    from scribetree.tenancy.service import member, tenant_service

    try:
        role_v = Role(role)
        platform_v = PlatformRole(platform_role) if platform_role else None
    except ValueError as exc:
        _fail(str(exc))
    if tenant is None and platform_v is None:
        _fail("Give --tenant (an institution slug) or --platform-role.")
    password = sys.stdin.readline().rstrip("\n") if password_stdin else getpass.getpass("Password: ")

    async def go() -> Any:
        async with unit_of_work() as session:
            user = await identity.create_user(
                session, email=email, display_name=name, password=password, platform_role=platform_v
            )
            if tenant:
                t = await tenant_service.resolve(session, slug=tenant)
                await member.add_member(session, t.id, user, role_v)
            return user.id

    try:
        uid = _run(go)
    except ScribetreeError as exc:
        _fail(exc.detail)
    typer.echo(f"Created {email} ({uid}).")


@audit_app.command("verify")
def audit_verify(
    tenant: Annotated[str | None, typer.Option(help="Only this institution's chain (slug).")] = None,
) -> None:
    """Recompute every audit chain; exit 1 and name the first altered or missing entry if one is broken."""
    from scribetree.compliance.service import audit_service
    from scribetree.core import audit
    from scribetree.core.db import unit_of_work
    from scribetree.core.errors import ScribetreeError
    from scribetree.tenancy.service import tenant_service

    async def go() -> Any:
        async with unit_of_work(write=False) as session:
            if tenant:
                t = await tenant_service.resolve(session, slug=tenant)
                r = await audit.verify_chain(session, audit.chain_for(t.id))
                return [r.__dict__]
            return [r.model_dump() for r in await audit_service.verify_all(session)]

    try:
        results = _run(go)
    except ScribetreeError as exc:
        _fail(exc.detail)
    broken = [r for r in results if not r["ok"]]
    for r in results:
        if r["ok"]:
            typer.echo(f"ok      chain {r['chain']}: {r['checked']} entries intact")
        else:
            typer.secho(
                f"BROKEN  chain {r['chain']}: {r['problem']} (entry id {r['first_bad_id'] or '-'}, "
                f"seq {r['first_bad_seq']}; {r['checked']} entries before it are intact)",
                fg=typer.colors.RED,
            )
    if not results:
        typer.echo("No audit entries yet.")
    if broken:
        raise typer.Exit(1)


@jobs_app.command("stats")
def jobs_stats() -> None:
    """Queue depth, dead jobs and workers."""
    import json

    from scribetree.core import jobs
    from scribetree.core.db import unit_of_work

    async def go() -> Any:
        async with unit_of_work(write=False) as session:
            return await jobs.queue_stats(session)

    typer.echo(json.dumps(_run(go), indent=2, default=str))


@jobs_app.command("run-pending")
def jobs_run_pending() -> None:
    """Run every due job once in this process, then exit (maintenance and scripts)."""
    import scribetree.tasks  # noqa: F401
    from scribetree.core import jobs

    n = _run(jobs.run_pending)
    typer.echo(f"Ran {n} job(s).")


@integrity_app.command("verify-export")
def integrity_verify_export(
    file: Annotated[str, typer.Argument(help="An event-log export (JSON Lines), or - for standard input.")],
    require_signature: Annotated[
        bool, typer.Option(help="Also fail unless this server's key made the end line's HMAC.")
    ] = False,
) -> None:
    """Recompute an export's hash chain and replay its ops; exit 1 naming the first bad line (docs/integrity.md)."""
    from scribetree.integrity.export import signing_key, verify_lines

    try:
        stream = sys.stdin if file == "-" else open(file, encoding="utf-8", newline="\n")  # noqa: SIM115
    except OSError as exc:
        _fail(f"Cannot read {file}: {exc.strerror}.")
    try:
        verdict = verify_lines(stream, signing_key())
    except UnicodeDecodeError:
        _fail("The file is not UTF-8 text, so it is not an event-log export.")
    finally:
        if stream is not sys.stdin:
            stream.close()
    if not verdict.ok:
        _fail(f"BROKEN  {verdict.message()}")
    typer.echo(verdict.message())
    if verdict.signature != "valid":
        typer.echo(
            "The chain is intact, but the HMAC was not made with this server's key: the file's integrity is shown, "
            "not its origin."
        )
        if require_signature:
            raise typer.Exit(1)


@app.command("mcp")
def mcp_cmd(
    token_file: Annotated[
        str | None, typer.Option("--token-file", help="A file holding the API token (else SCRIBETREE_MCP_TOKEN).")
    ] = None,
) -> None:
    """Serve the MCP interface over stdio, as the person whose API token is given (docs/mcp.md)."""
    from pathlib import Path

    from scribetree.core.config import settings

    if token_file:
        try:
            secret = Path(token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            _fail(f"Cannot read the token file {token_file}: {exc.strerror}.")
    else:
        secret = settings.MCP_TOKEN.get_secret_value().strip()
    if not secret:
        _fail(
            "No API token: create one on your account page in Scribe Tree, then set SCRIBETREE_MCP_TOKEN or pass "
            "--token-file."
        )
    from scribetree.mcp.runtime import use_stdio_token
    from scribetree.mcp.server import build_server

    use_stdio_token(secret)
    _run(build_server().run_stdio_async)


def main() -> None:
    try:
        app()
    except SystemExit as exc:
        # Configuration errors from core.config arrive here with their explanation.
        if isinstance(exc.code, str):
            typer.secho(exc.code, fg=typer.colors.RED, err=True)
            raise SystemExit(2) from None
        raise


if __name__ == "__main__":
    main()
