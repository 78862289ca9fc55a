"""A throwaway PostgreSQL cluster from the local binaries, one per run.

initdb runs once per PostgreSQL version and its result is cached under the harness
directory; each run copies the cache (to tmpfs when there is room), starts `postgres`
directly on 127.0.0.1 with durability off, and stops it with SIGQUIT (immediate
shutdown: no checkpoint, whose writes nobody reads, since the data directory is deleted
next; 20 ms against 30 ms for a fast one), then SIGKILL. initdb and postgres refuse to
run as root, so as root they run as the `postgres` user.

No connection is trusted: each cluster gets a random superuser password, set (as a SCRAM
verifier, in single-user mode) before the server first listens, and kept in a 0600 file
beside its data (`secret_path`); both TCP on 127.0.0.1 and the Unix socket, in a
directory only the cluster's user can enter, ask for it.
"""

from __future__ import annotations

import base64
import contextlib
import glob
import hashlib
import hmac
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness import infra
from harness.exceptions import BackendUnavailableError
from harness.infra import ProcessRecord, log_tail, spawn, stop_group

SUPERUSER = "postgres"
TMPFS_MIN_FREE = 1 << 30
START_TIMEOUT = 30.0
SECRET_FILE = "secret"
SCRAM_ITERATIONS = 4096
HBA = (
    "# harness: every connection needs the cluster's password (its secret file)\n"
    "local all all scram-sha-256\n"
    "host all all 127.0.0.1/32 scram-sha-256\n"
)
INSTALL_HINT = (
    "set HARNESS_POSTGRES_URL=postgresql://USER:PASSWORD@HOST:PORT/postgres to use a server, "
    "or install the PostgreSQL server binaries (Debian/Ubuntu: apt-get install postgresql; "
    "or set [tool.harness.postgres] bin_dir) so harness can run a throwaway cluster"
)
_FAST_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "listen_addresses": "127.0.0.1",
    # shared memory segments as files in the data directory (on tmpfs like the rest), not
    # in /dev/shm: a cluster killed by SIGKILL skips its clean-up and would leave them there
    "dynamic_shared_memory_type": "mmap",
}


@dataclass(frozen=True)
class Binaries:
    """initdb and postgres of one installation."""

    bin_dir: Path
    version: str

    @property
    def initdb(self) -> Path:
        return self.bin_dir / "initdb"

    @property
    def postgres(self) -> Path:
        return self.bin_dir / "postgres"


def find_binaries(bin_dir: Path | None = None) -> Binaries:
    """initdb and postgres from `bin_dir`, PATH, or the newest /usr/lib/postgresql/*/bin."""
    if bin_dir is not None:
        candidates = [bin_dir]
    else:
        on_path = shutil.which("postgres")
        candidates = [Path(on_path).resolve().parent] if on_path else []
        candidates += sorted(
            (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")),
            key=lambda p: _major(p.parent.name),
            reverse=True,
        )
    for candidate in candidates:
        if os.access(candidate / "initdb", os.X_OK) and os.access(candidate / "postgres", os.X_OK):
            output = subprocess.run(
                [str(candidate / "postgres"), "--version"], capture_output=True, text=True
            ).stdout
            match = re.search(r"(\d+)(?:\.\d+)?", output)
            return Binaries(candidate, match.group(1) if match else "unknown")
    where = str(bin_dir) if bin_dir else "PATH or /usr/lib/postgresql/*/bin"
    raise BackendUnavailableError(
        f"PostgreSQL is not available: no initdb/postgres in {where}; {INSTALL_HINT}"
    )


def _major(name: str) -> int:
    return int(name) if name.isdigit() else -1


def _server_user() -> str | None:
    """The user the cluster runs as: `postgres` when we are root, else ourselves (None)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SUPERUSER)
    except KeyError:
        raise BackendUnavailableError(
            "running as root, harness starts PostgreSQL as the 'postgres' user, which does not "
            f"exist; create it (useradd --system postgres) or {INSTALL_HINT.split(', or ')[0]}"
        ) from None
    return SUPERUSER


def _give_to(path: Path, user: str | None) -> None:
    """chown -R `path` to `user` (nothing to do when we are that user)."""
    if user is None:
        return
    entry = pwd.getpwnam(user)
    os.lchown(path, entry.pw_uid, entry.pw_gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)


def _run_as(
    user: str | None, command: list[str], cwd: Path, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL binary to completion as `user` (None: ourselves), output captured."""
    return subprocess.run(
        command,
        input=stdin,
        capture_output=True,
        text=True,
        user=user,
        group=user,
        extra_groups=[] if user else None,
        cwd=cwd,
    )


def _reachable_by(path: Path, user: str | None) -> bool:
    """True when `user` can traverse every directory down to `path`."""
    if user is None:
        return True
    entry = pwd.getpwnam(user)
    for directory in [path, *path.parents]:
        info = directory.stat()
        if info.st_uid == entry.pw_uid:
            continue
        bit = 0o010 if info.st_gid == entry.pw_gid else 0o001
        if not info.st_mode & bit:
            return False
    return True


def cached_initdb(binaries: Binaries, cache_root: Path) -> Path:
    """A cluster made by initdb for this version, made once and kept under `cache_root`."""
    cache = cache_root / f"initdb-{binaries.version}"
    if (cache / "PG_VERSION").exists():
        return cache
    user = _server_user()
    cache_root.mkdir(parents=True, exist_ok=True)
    scratch = infra.tmpfs_directory_or_under("harness-initdb-", TMPFS_MIN_FREE, cache_root)
    try:
        _give_to(scratch, user)
        result = _run_as(
            user,
            [
                str(binaries.initdb),
                "-D",
                str(scratch / "data"),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
                "--locale=C",
            ],
            cwd=scratch,
        )
        if result.returncode != 0:
            raise BackendUnavailableError(
                f"initdb failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}"
            )
        staging = Path(tempfile.mkdtemp(prefix=".initdb-", dir=cache_root))
        shutil.copytree(scratch / "data", staging / "data", symlinks=True)
        with contextlib.suppress(OSError):  # another run cached it first: theirs will do
            os.rename(staging / "data", cache)
        shutil.rmtree(staging, ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return cache


@dataclass(frozen=True)
class Cluster:
    """A running throwaway cluster."""

    process: ProcessRecord
    data_root: Path
    port: int
    secret: str = field(repr=False)

    def admin_conninfo(self) -> str:
        return (
            f"host=127.0.0.1 port={self.port} user={SUPERUSER} password={self.secret} "
            "dbname=postgres"
        )


def _settings() -> list[str]:
    """`-c name=value` for each of the fast settings."""
    return [arg for name, value in _FAST_SETTINGS.items() for arg in ("-c", f"{name}={value}")]


def secret_path(data_root: Path) -> Path:
    """The 0600 file holding the superuser password of the cluster in `data_root`."""
    return data_root / SECRET_FILE


def read_secret(data_root: Path) -> str:
    """The superuser password of the cluster in `data_root`; one-line error when it is gone."""
    path = secret_path(data_root)
    try:
        if not data_root.is_absolute():  # no data directory recorded: never a file in cwd
            raise FileNotFoundError(2, "no data directory recorded")
        return path.read_text().strip()
    except OSError as exc:
        raise BackendUnavailableError(
            f"cannot read the throwaway cluster's password ({path}: {exc.strerror}); the "
            "cluster was stopped or its files removed: take the run down and bring it up again"
        ) from None


def scram_verifier(password: str) -> str:
    """What PostgreSQL stores for a SCRAM-SHA-256 password (RFC 7677), computed here so
    the password itself never reaches the server, its log, or a command line."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, SCRAM_ITERATIONS)
    stored_key = hashlib.sha256(hmac.digest(salted, b"Client Key", "sha256")).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    parts = [base64.b64encode(part).decode() for part in (salt, stored_key, server_key)]
    return f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{parts[0]}${parts[1]}:{parts[2]}"


def _lock_down(binaries: Binaries, data_root: Path, user: str | None) -> str:
    """Give the copied cluster password-only access and a fresh random password; return it.

    The password is set in single-user mode, so the server never listens without it.
    """
    (data_root / "data" / "pg_hba.conf").write_text(HBA)
    secret = secrets.token_urlsafe(24)
    statement = f"ALTER ROLE {SUPERUSER} PASSWORD '{scram_verifier(secret)}';\n"
    single = [str(binaries.postgres), "--single", "-D", str(data_root / "data"), *_settings()]
    result = _run_as(user, [*single, "postgres"], cwd=data_root, stdin=statement)
    if result.returncode != 0 or "ERROR:" in result.stderr:
        raise BackendUnavailableError(
            f"could not set the throwaway cluster's password (postgres --single, exit "
            f"{result.returncode}): {result.stderr.strip()[-2000:]}"
        )
    descriptor = os.open(secret_path(data_root), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secret)
    return secret


def start_cluster(
    binaries: Binaries,
    cache_root: Path,
    run_path: Path,
    log_path: Path,
    port: int,
    env: dict[str, str],
    on_spawned: Callable[[Cluster], None],
) -> Cluster:
    """Copy the cached initdb, lock it down, start `postgres` on `port`, wait until it
    accepts connections.

    `on_spawned` is called as soon as the process exists, so the caller can record it
    before anything else can fail.
    """
    template = cached_initdb(binaries, cache_root)
    user = _server_user()
    data_root = infra.tmpfs_directory_or_under(
        f"harness-{run_path.name}-", TMPFS_MIN_FREE, run_path
    )
    try:
        shutil.copytree(template, data_root / "data", symlinks=True)
        socket_dir = run_path / "postgres-socket"
        socket_dir.mkdir(exist_ok=True)
        if not _reachable_by(socket_dir, user) or len(str(socket_dir)) > 90:
            socket_dir = data_root / "socket"
            socket_dir.mkdir()
        _give_to(data_root, user)
        _give_to(socket_dir, user)
        os.chmod(data_root / "data", 0o700)
        os.chmod(socket_dir, 0o700)
        secret = _lock_down(binaries, data_root, user)
    except BaseException:  # nothing recorded it yet: nobody else would remove it
        shutil.rmtree(data_root, ignore_errors=True)
        raise
    command = [
        str(binaries.postgres),
        "-D",
        str(data_root / "data"),
        "-p",
        str(port),
        "-k",
        str(socket_dir),
        *_settings(),
    ]
    process = spawn(command, env=env, log_path=log_path, cwd=data_root, user=user)
    cluster = Cluster(ProcessRecord.of(process.pid), data_root, port, secret)
    on_spawned(cluster)
    import psycopg  # here, not at the top: a SQLite run never loads the driver

    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise BackendUnavailableError(
                f"PostgreSQL exited during start (exit {process.returncode}); "
                f"last lines of {log_path}:\n{log_tail(log_path)}"
            )
        try:
            psycopg.connect(cluster.admin_conninfo(), connect_timeout=1).close()
            return cluster
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise BackendUnavailableError(
                    f"PostgreSQL did not accept connections within {START_TIMEOUT:g} s; "
                    f"last lines of {log_path}:\n{log_tail(log_path)}"
                ) from None
            time.sleep(0.02)


def stop_cluster(process: ProcessRecord) -> None:
    """Immediate shutdown (SIGQUIT: no checkpoint, as the data directory goes next), then
    SIGKILL."""
    stop_group(process, grace=10.0, signals=(signal.SIGQUIT,))
