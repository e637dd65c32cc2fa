"""A throwaway PostgreSQL server for the pages and tests that ask for one.

One job: start a cluster in a temporary directory the first time a page asks, hand each page a
fresh database copied from a template seeded with `snippets/users_db.sql` (the same SQL as
SQLite's), and stop the cluster and remove its directory when the pytest process ends. The
pages' apps connect as `users_api`, which may only read the tables; `admin_url` gives the
superuser's URL, for what an app's role may not do.

Each pytest-xdist worker starts its own cluster, on a free port of 127.0.0.1, and only if one of
its pages needs it. Sharing one cluster between workers would need a lock file, an owner that
stops it last, and cleanup after a crashed worker; a cluster of its own costs a worker about a
second. `stop` runs at exit; a worker that is killed runs no exit handler, and its server, which
`pg_ctl` starts in a session of its own, outlives it: the next run's `stop_orphans` stops it.

PostgreSQL refuses to run as root, and CI runs as root (inside `unshare --map-root-user`, where
the effective uid is 0 too). No user account is needed: as root, the server's commands run in a
nested user namespace that maps root to uid 1000, where PostgreSQL sees an ordinary user who
owns the data directory; outside, the files stay root's.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import free_port
from tests.support.project import SEED_SQL

#: Debian's PostgreSQL 15 server binaries (the `postgresql-15` package); POSTGRES_BIN overrides.
BIN = Path(os.environ.get("POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
USER = "app"  # the cluster's superuser, for administration; trust auth, loopback only
#: The role the pages' apps connect as: a login that may read the tables and nothing more, like
#: an app's own role in production (a superuser could also take the reserved connections).
APP_USER = "users_api"
TEMPLATE = "seeded"
#: A small limit, so that a page can show what exceeding it does without opening 100 backends.
MAX_CONNECTIONS = 20
#: Settings for a cluster nobody keeps: speed over durability.
SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "max_connections": str(MAX_CONNECTIONS),
    "shared_buffers": "16MB",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
}


class NoServer(RuntimeError):
    """No PostgreSQL server can be started here; the message says why."""


def required() -> bool:
    """REQUIRE_POSTGRES set (CI sets it): pages that need the server fail instead of skipping."""
    return bool(os.environ.get("REQUIRE_POSTGRES"))


def server_command(program: str, *arguments: str) -> list[str]:
    """A server program's command line, as a user PostgreSQL agrees to run as: ourselves,
    unless we are root."""
    command = [str(BIN / program), *arguments]
    if os.geteuid() != 0:
        return command
    return ["unshare", "--map-user=1000", "--map-group=1000", *command]


def run(command: list[str]) -> str:
    """Run one of the server's commands; its output, or NoServer with what it said."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise NoServer(f"{' '.join(command)} failed: {done.stdout}{done.stderr}".strip())
    return done.stdout


@dataclass
class Cluster:
    """A running cluster: its data directory (holding its log and socket too) and its port."""

    directory: Path
    port: int

    def url(self, database: str, driver: str = "postgresql+asyncpg", user: str = APP_USER) -> str:
        return f"{driver}://{user}@127.0.0.1:{self.port}/{database}"

    def psql(self, *arguments: str, database: str = "postgres") -> str:
        """Run psql as the superuser (`-c SQL` or `-f FILE`); stop at the first error."""
        options = ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1"]
        target = ["-p", str(self.port), "-U", USER, "-d", database]
        return run([str(BIN / "psql"), *options, *target, *arguments])

    def pg_ctl(self, action: str, *options: str) -> None:
        run(server_command("pg_ctl", "-D", str(self.directory / "data"), *options, action))

    def stop(self) -> None:
        """Stop the server, if it runs, and remove the directory in any case."""
        try:
            with contextlib.suppress(NoServer):  # not running, or never started
                self.pg_ctl("stop", "-m", "immediate", "-w")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)


def start_cluster() -> Cluster:
    """initdb and start a cluster in a new temporary directory; seed the template database."""
    if not (BIN / "initdb").exists():
        raise NoServer(f"no {BIN / 'initdb'} (Debian: apt-get install postgresql-15)")
    if os.geteuid() == 0 and shutil.which("unshare") is None:
        raise NoServer("running as root, and no unshare to run PostgreSQL as another user")
    stop_orphans()
    directory = Path(tempfile.mkdtemp(prefix=PREFIX))
    (directory / "owner").write_text(str(os.getpid()), encoding="utf-8")
    try:
        data = directory / "data"
        trusted = ["-A", "trust", "-U", USER, "-E", "UTF8", "--locale=C", "--no-sync"]
        run(server_command("initdb", "-D", str(data), *trusted))
        settings = " ".join(f"-c {name}={value}" for name, value in SETTINGS.items())
        for attempt in itertools.count(1):
            cluster = Cluster(directory, free_port())
            try:
                options = f"-k {directory} -p {cluster.port} {settings}"
                cluster.pg_ctl("start", "-w", "-l", str(directory / "log"), "-o", options)
                break
            except NoServer:
                if attempt == 3:  # another process took the port each time: give up
                    raise
        cluster.psql("-c", f"CREATE DATABASE {TEMPLATE}")
        cluster.psql("-f", str(SEED_SQL), database=TEMPLATE)
        cluster.psql("-c", f"CREATE ROLE {APP_USER} LOGIN")
        grant = f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {APP_USER}"
        cluster.psql("-c", grant, database=TEMPLATE)  # copied with the template
        return cluster
    except BaseException as error:
        # A server started before the failure (or Ctrl-C) is stopped, not left running; what
        # its log said goes into the message before the directory goes.
        log = tail(directory / "log")
        Cluster(directory, 0).stop()
        if isinstance(error, NoServer) and log:
            raise NoServer(f"{error}\nthe server's log ended with:\n{log}") from error
        raise


def tail(path: Path, lines: int = 20) -> str:
    """The last lines of a file, or nothing if it cannot be read."""
    try:
        return "\n".join(path.read_text(encoding="utf-8").splitlines()[-lines:])
    except OSError:
        return ""


PREFIX = "docs-postgres-"


def stop_orphans() -> None:
    """Stop the clusters of test runs that were killed before they could stop their own (a
    killed process runs no exit handler), found by the owner each cluster's directory names."""
    for directory in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            owner = int((directory / "owner").read_text(encoding="utf-8"))
            os.kill(owner, 0)  # raises if no such process
        except ProcessLookupError:
            Cluster(directory, 0).stop()
        except (OSError, ValueError):  # not ours to judge: unreadable, or being written
            continue


_cluster: Cluster | None = None
_databases = itertools.count(1)


def cluster() -> Cluster:
    """This process's cluster, started on first use and stopped when the process ends."""
    global _cluster
    if _cluster is None:
        _cluster = start_cluster()
        atexit.register(stop)
    return _cluster


def fresh_database() -> str:
    """A new database copied from the seeded template (a file copy: milliseconds); its URL."""
    server = cluster()
    name = f"page_{next(_databases)}"
    server.psql("-c", f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    return server.url(name)


def admin_url(url: str) -> str:
    """The same database's URL, as the superuser: for what the app's role may not do."""
    return url.replace(f"://{APP_USER}@", f"://{USER}@", 1)


def stop() -> None:
    """Stop this process's cluster, if it started one, and remove its directory."""
    global _cluster
    if _cluster is not None:
        server, _cluster = _cluster, None
        server.stop()
