"""``hms-server``: the commands hospital IT uses to install, run and check the server.

Every command that touches the database takes ``--database-url`` (or ``HMS_DATABASE_URL``):
the owner's URL. Admin commands run as the owner; ``run`` serves as the runtime role.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from hms_server.adapters import embedded
from hms_server.adapters.auth_methods import trust_findings
from hms_server.adapters.db import ensure_runtime_role, make_engine
from hms_server.adapters.migrations import current_revision, head_revision, upgrade_to_head
from hms_server.adapters.uow import Actor
from hms_server.config import Settings
from hms_server.domain.errors import DomainError

if TYPE_CHECKING:
    from hms_server.bootstrap import Runtime

database_url_option = click.option(
    "--database-url",
    envvar="HMS_DATABASE_URL",
    default="",
    show_envvar=True,
    help="PostgreSQL URL of the database owner (e.g. printed by 'hms-server db up DIR').",
)


def _settings(database_url: str) -> Settings:
    return Settings(database_url=database_url)


def _owner_runtime(database_url: str) -> Runtime:
    """The application core as the database owner (admin commands), wired like the server."""
    from hms_server.bootstrap import build_runtime

    return build_runtime(_settings(database_url), as_owner=True, pool_size=2)


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


class _FriendlyGroup(click.Group):
    """Turns database and configuration failures into one clear line, not a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError

        try:
            return super().invoke(ctx)
        except DomainError as exc:
            _fail(exc.detail)
        except ProgrammingError as exc:
            hint = (
                " Is the database migrated? Run 'hms-server migrate'."
                if "does not exist" in str(exc.orig)
                else ""
            )
            _fail(f"database error: {str(exc.orig).splitlines()[0]}.{hint}")
        except OperationalError as exc:
            _fail(f"cannot reach the database: {str(exc.orig).splitlines()[0]}")
        except SQLAlchemyError as exc:
            _fail(f"database error: {type(exc).__name__}")
        return None


@click.group(cls=_FriendlyGroup)
def main() -> None:
    """HMS application server administration."""
    logging.basicConfig(
        level=os.environ.get("HMS_LOG_LEVEL", "WARNING"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


# --- embedded database -------------------------------------------------------------------


@main.group()
def db() -> None:
    """Embedded PostgreSQL for demos and small installs."""


@db.command("up")
@click.argument("data_dir", type=click.Path(path_type=Path))
@click.option("--database", default=embedded.DEFAULT_DATABASE, show_default=True)
@click.option(
    "--tcp-port",
    type=click.IntRange(1024, 65535),
    default=None,
    help="Also listen on 127.0.0.1 at this port (Unix socket only otherwise).",
)
def db_up(data_dir: Path, database: str, tcp_port: int | None) -> None:
    """Start (initialising on first use) an embedded PostgreSQL in DATA_DIR; print its URL.

    Every connection needs the generated superuser password (scram-sha-256), kept in a
    0600 password file in DATA_DIR that the URL names; no password is printed."""
    try:
        click.echo(embedded.start(data_dir, database, tcp_port=tcp_port))
    except embedded.EmbeddedDatabaseError as exc:
        _fail(str(exc), 2)


@db.command("down")
@click.argument("data_dir", type=click.Path(path_type=Path))
def db_down(data_dir: Path) -> None:
    """Stop the embedded PostgreSQL in DATA_DIR."""
    click.echo("stopped" if embedded.stop(data_dir) else "not running")


# --- schema and checks -------------------------------------------------------------------


def migrate_database(database_url: str) -> str:
    """Migrations, then the reference data (versioned: unchanged files are skipped), then the
    runtime role's grants."""
    from hms_server.adapters.reference_data import load_reference_data

    engine = make_engine(database_url, pool_size=1)
    try:
        upgrade_to_head(engine)
        load_reference_data(engine)
        return ensure_runtime_role(engine)
    finally:
        engine.dispose()


@main.command()
@database_url_option
def migrate(database_url: str) -> None:
    """Apply all migrations (as the owner), load changed reference data, (re)grant the
    runtime role."""
    try:
        role = migrate_database(database_url)
    except DomainError as exc:
        _fail(exc.detail)
    click.echo(
        f"database at revision {head_revision()}; reference data current; "
        f"runtime role '{role}' ready"
    )


@main.group("reference-data")
def reference_data() -> None:
    """Formulary, interaction table and laboratory catalogue (resources/reference-data)."""


@reference_data.command("load")
@database_url_option
def reference_data_load(database_url: str) -> None:
    """Load each reference dataset whose file changed since it was last loaded (re-running
    with unchanged files does nothing). 'hms-server migrate' runs this too."""
    from hms_server.adapters.reference_data import load_reference_data

    engine = make_engine(database_url, pool_size=1)
    try:
        report = load_reference_data(engine)
    finally:
        engine.dispose()
    for dataset, outcome in report.items():
        click.echo(f"{dataset}: {outcome}")


def _check_runtime_login(database_url: str) -> list[str]:
    """The server runs as the runtime role: prove that role can actually sign in."""
    from sqlalchemy import text

    from hms_server.adapters.db import runtime_url

    url = runtime_url(database_url, os.environ.get("HMS_RUNTIME_DATABASE_URL", ""))
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1 FROM users LIMIT 1"))
    except Exception as exc:
        first = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        hint = (
            " PostgreSQL's 'peer' authentication on the Unix socket cannot sign in a role "
            "with no matching OS user: use a TCP URL (host=localhost) with password "
            "authentication (scram-sha-256), or set HMS_RUNTIME_DATABASE_URL."
            if "peer" in first.lower() or "ident" in first.lower()
            else ""
        )
        return [f"the runtime role '{url.username}' cannot sign in: {first}.{hint}"]
    finally:
        engine.dispose()
    click.echo(f"runtime role '{url.username}' can sign in")
    return []


@main.command()
@database_url_option
def check(database_url: str) -> None:
    """Check configuration, database reachability and that migrations are current."""
    problems = []
    try:
        engine = make_engine(database_url, pool_size=1)
        current, head = current_revision(engine), head_revision()
        engine.dispose()
        click.echo(f"database reachable; revision {current} (head {head})")
        if current != head:
            problems.append("migrations are not current: run 'hms-server migrate'")
        else:
            problems.extend(_check_runtime_login(database_url))
        trusting = trust_findings(database_url)
        if trusting:
            click.echo(
                "warning: the database lets users and processes connect without a "
                f"password ({'; '.join(trusting)}); use scram-sha-256 "
                "(see docs/security.md)",
                err=True,
            )
    except DomainError as exc:
        problems.append(exc.detail)
    except Exception as exc:
        problems.append(f"database unreachable: {type(exc).__name__}: {exc}")
    if problems:
        for p in problems:
            click.echo(f"problem: {p}", err=True)
        sys.exit(1)
    click.echo("ok")


# --- users -------------------------------------------------------------------------------


@main.command("create-user")
@click.argument("username")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    help="admin, receptionist, doctor, nurse, pharmacist, billing_clerk, "
    "hr_officer, manager (repeat for several)",
)
@click.option("--full-name", default=None)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@database_url_option
def create_user(
    username: str,
    roles: tuple[str, ...],
    full_name: str | None,
    password_stdin: bool,
    database_url: str,
) -> None:
    """Create a staff account. For roles needing MFA, prints the otpauth:// URI once."""
    from pydantic import ValidationError

    from hms_contract.users import UserCreate
    from hms_server.services.users import create_user as create

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        body = UserCreate(
            username=username, full_name=full_name or username, roles=list(roles), password=password
        )
    except ValidationError as exc:
        _fail("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()), 2)
    runtime = _owner_runtime(database_url)
    try:
        created = create(
            runtime.uow(Actor.system("cli")),
            runtime.settings,
            username=body.username,
            full_name=body.full_name,
            roles=body.roles,
            password=body.password,
        )
    except DomainError as exc:
        _fail(exc.detail, 2)
    finally:
        runtime.close()
    click.echo(
        f"created user '{created.user.username}' (id {created.user.id}) "
        f"with roles {', '.join(created.user.roles)}"
    )
    if created.totp_provisioning_uri:
        click.echo(
            "This role requires a one-time code at sign-in. Add this to an "
            "authenticator app now (it is shown only once):"
        )
        click.echo(created.totp_provisioning_uri)


@main.command("disable-user")
@click.argument("username")
@database_url_option
def disable_user(username: str, database_url: str) -> None:
    """Disable an account and end all its sessions."""
    from hms_server.services.users import disable_user_by_name

    runtime = _owner_runtime(database_url)
    try:
        disable_user_by_name(runtime.uow(Actor.system("cli")), username)
    except DomainError as exc:
        _fail(exc.detail, 2)
    finally:
        runtime.close()
    click.echo(f"disabled '{username}'; all sessions ended")


@main.command("seed-demo")
@click.option("--patients", default=200, show_default=True, type=click.IntRange(0, 2_000_000))
@database_url_option
def seed_demo(patients: int, database_url: str) -> None:
    """Create a small demo hospital (one user per role, patients, schedules)."""
    from hms_server.seed.demo import DEMO_PASSWORD, DEMO_USERS
    from hms_server.seed.demo import seed_demo as seed

    runtime = _owner_runtime(database_url)
    try:
        seed(runtime, patients=patients)
    except DomainError as exc:
        _fail(exc.detail)
    finally:
        runtime.close()
    click.echo(f"demo data ready. Sign-ins (password for all: {DEMO_PASSWORD}):")
    for username, full_name, roles in DEMO_USERS:
        click.echo(f"  {username:<11} {', '.join(roles):<14} {full_name}")


@main.command("hl7-listen")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=2575, show_default=True, type=click.IntRange(0, 65535))
@database_url_option
def hl7_listen(host: str, port: int, database_url: str) -> None:
    """Receive bedside-monitor results (HL7 v2 ORU^R01 over MLLP) into patients' vitals."""
    from hms_server.bootstrap import build_runtime, hl7_listener

    runtime = build_runtime(_settings(database_url), pool_size=4)
    listener = hl7_listener(runtime, host, port)
    try:
        listener.bind()
    except OSError as exc:
        runtime.close()
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}", 2)
    bound_host, bound_port = listener.address
    click.echo(f"hl7 listener on {bound_host}:{bound_port} (MLLP, ORU^R01); Ctrl+C stops", err=True)
    try:
        listener.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        listener.stop()
        runtime.close()


@main.command("capture-bed-days")
@database_url_option
def capture_bed_days_command(database_url: str) -> None:
    """Record the bed-days of every occupied midnight not yet charged (idempotent)."""
    from hms_server.services.bed_days import capture_bed_days

    runtime = _owner_runtime(database_url)
    try:
        added = capture_bed_days(runtime.uow(Actor.system("cli")))
    finally:
        runtime.close()
    click.echo(f"{added} bed-day(s) recorded")


@main.group()
def audit() -> None:
    """Audit trail tools."""


@audit.command("verify")
@click.option(
    "--checkpoints",
    "checkpoint_paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Folder or file of signed checkpoints (the servers' audit-checkpoints "
    "folders, or saved journal output); repeat for several.",
)
@database_url_option
def audit_verify(checkpoint_paths: tuple[Path, ...], database_url: str) -> None:
    """Verify the keyed audit chain; with --checkpoints also detect truncation and rewrites.

    Non-zero exit names the first entry that fails, or the checkpoint the log contradicts.
    """
    from hms_server.adapters.audit_checkpoints import read_checkpoints
    from hms_server.adapters.audit_key import load_audit_key
    from hms_server.services.audit import verify

    settings = _settings(database_url)
    key = load_audit_key(settings)
    parsed = list(read_checkpoints(checkpoint_paths, key))
    bad = [p for p in parsed if p.problem]
    checkpoints = [p.checkpoint for p in parsed if p.checkpoint is not None]
    runtime = _owner_runtime(database_url)
    try:
        report = verify(runtime.uow(), key, checkpoints)
    finally:
        runtime.close()
    for problem in bad:
        click.echo(f"checkpoint {problem.source}: {problem.problem}", err=True)
    if report.first_break:
        click.echo(
            f"audit chain BROKEN at entry {report.first_break.entry_id}: "
            f"{report.first_break.reason} ({report.entries_checked} entries verified "
            "before it)",
            err=True,
        )
        sys.exit(1)
    for problem_text in report.checkpoint_problems:
        click.echo(f"audit log {problem_text}", err=True)
    if report.checkpoint_problems or bad:
        sys.exit(1)
    notes = []
    if checkpoint_paths:
        notes.append(f"{report.checkpoints_checked} checkpoints agree")
        if report.checkpoints_ignored:
            notes.append(f"{report.checkpoints_ignored} checkpoints of other databases ignored")
    if report.unsealed:
        notes.append(f"{report.unsealed} newer entries not sealed yet")
    click.echo(
        f"audit chain intact: {report.entries_checked} entries verified"
        + (f" ({'; '.join(notes)})" if notes else "")
    )


@audit.command("seal")
@click.option(
    "--offline", is_flag=True, help="No server is running: seal every committed entry now."
)
@database_url_option
def audit_seal(offline: bool, database_url: str) -> None:
    """Seal pending audit entries now (servers do this continuously by themselves)."""
    from hms_server.adapters.audit_key import load_audit_key
    from hms_server.services.audit import seal_now

    key = load_audit_key(_settings(database_url))
    engine = make_engine(database_url, pool_size=1)
    try:
        sealed = seal_now(engine, key, offline=offline)
    finally:
        engine.dispose()
    click.echo(f"sealed {sealed} audit entries")


@audit.command("keygen")
def audit_keygen() -> None:
    """Print a new random audit key (put it in HMS_AUDIT_KEY on every server)."""
    from hms_server.adapters.audit_key import new_key_text

    click.echo(new_key_text())


# --- backups -----------------------------------------------------------------------------


@main.command()
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@database_url_option
def backup(target: Path, database_url: str) -> None:
    """Write a full backup (pg_dump custom format) to TARGET."""
    from hms_server.adapters.backup import BackupError, backup_database

    try:
        size = backup_database(database_url, target)
    except (BackupError, DomainError) as exc:
        _fail(str(exc))
    click.echo(f"backup written to {target} ({size} bytes)")


@main.command()
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@database_url_option
def restore(source: Path, database_url: str) -> None:
    """Restore SOURCE into an empty database and create its runtime role."""
    from hms_server.adapters.backup import BackupError, restore_database

    try:
        role = restore_database(database_url, source)
    except (BackupError, DomainError) as exc:
        _fail(str(exc))
    click.echo(f"restored {source}; runtime role '{role}' ready")


# --- TLS and serving ---------------------------------------------------------------------


@main.group()
def tls() -> None:
    """Certificates for HTTPS on the hospital LAN."""


@tls.command("init")
@click.argument("directory", type=click.Path(path_type=Path))
@click.option(
    "--name",
    "names",
    multiple=True,
    help="Host name or IP address the server is reached by (repeat).",
)
def tls_init(directory: Path, names: tuple[str, ...]) -> None:
    """Create a LAN CA (once) and a server certificate for the given names."""
    from hms_server.tls import init_tls

    paths = init_tls(directory, list(names) or ["localhost", "127.0.0.1"])
    click.echo(f"CA certificate (install on workstations, pass as --ca-file): {paths['ca']}")
    click.echo(f"server certificate: {paths['cert']}\nserver key: {paths['key']}")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--insecure-http",
    is_flag=True,
    help="Allow plain HTTP on a non-loopback address (not for production).",
)
@click.option(
    "--forwarded-allow-ips",
    envvar="HMS_FORWARDED_ALLOW_IPS",
    default="127.0.0.1",
    show_default=True,
    show_envvar=True,
    help="Reverse proxies (comma-separated addresses) whose X-Forwarded-For is "
    "believed: sign-in throttling and the audit trail then see the desktop's "
    "address, not the proxy's.",
)
@database_url_option
def run(
    host: str,
    port: int,
    tls_cert: str | None,
    tls_key: str | None,
    workers: int,
    insecure_http: bool,
    forwarded_allow_ips: str,
    database_url: str,
) -> None:
    """Serve the API (HTTPS when given a certificate) as the least-privileged runtime role."""
    import uvicorn

    if bool(tls_cert) != bool(tls_key):
        _fail("--tls-cert and --tls-key go together", 2)
    if not tls_cert and not _is_loopback(host) and not insecure_http:
        _fail(
            f"refusing plain HTTP on {host}: patient data must be encrypted on the network. "
            "Give --tls-cert/--tls-key (see 'hms-server tls init'), or --insecure-http.",
            2,
        )
    os.environ["HMS_DATABASE_URL"] = database_url
    if len(os.environ.get("HMS_JWT_SECRET", "")) < 32:
        # One secret for all workers of this start; sessions survive restarts because
        # refresh tokens live in the database, only 15-minute access tokens are re-issued.
        os.environ["HMS_JWT_SECRET"] = secrets.token_urlsafe(48)
    try:
        from hms_server.bootstrap import create_app

        # Fail fast on configuration errors before binding the port; workers build their own.
        create_app(Settings()).state.engine.dispose()
    except DomainError as exc:
        _fail(exc.detail)
    for problem in _check_runtime_login(database_url):
        if "authentication" in problem.lower():
            _fail(problem)  # it would never work: say so now, not on every request
        click.echo(
            f"warning: {problem} (serving anyway; requests get 503 until it is back)", err=True
        )
    scheme = "https" if tls_cert else "http"
    click.echo(f"hms-server listening on {scheme}://{host}:{port} (API docs at /docs)")
    uvicorn.run(
        "hms_server.asgi:create",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        ssl_certfile=tls_cert,
        ssl_keyfile=tls_key,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level=os.environ.get("HMS_LOG_LEVEL", "warning").lower(),
        timeout_graceful_shutdown=5,
        # Workers import the whole app (and index reference data) before they answer
        # the supervisor; on a busy 2-core server that takes longer than uvicorn's 5 s.
        timeout_worker_healthcheck=60,
    )


@main.command()
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Embedded database folder (default: per-user data folder).",
)
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535))
@click.option("--patients", default=200, show_default=True, type=click.IntRange(0, 100_000))
@click.option("--no-desktop", is_flag=True, help="Only run the server.")
def demo(data_dir: Path | None, port: int, patients: int, no_desktop: bool) -> None:
    """Embedded database + demo data + server + desktop, in one command (make demo)."""
    from hms_server.demo import run_demo

    run_demo(
        data_dir or embedded.default_data_dir(),
        port=port,
        patients=patients,
        with_desktop=not no_desktop,
    )


if __name__ == "__main__":
    main()
