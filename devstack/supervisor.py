"""`make run`: the whole stack on one machine, each process's lines prefixed by its name.

Starts PostgreSQL (embedded wheel, data kept in `.data/postgres`) unless POSTGRES_URL is set,
the Tansu broker on 127.0.0.1:9092 unless KAFKA_BOOTSTRAP_SERVERS is set, creates the four
databases, migrates them, starts an SMTP sink keeping every mail dispatch sends as an .eml file
under `.data/mail/` (decision 0090), and runs the four services under uvicorn. SIGINT / SIGTERM stop all
of it, services first. The end-to-end tests start the same stack on other ports.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx

from devstack.mailsink import MailSink
from devstack.restart import replay_for_fresh_broker
from devstack.servers import Broker, PostgresServer, port_is_free
from devstack.stack import ROOT, SERVICES, ServiceSpec, create_databases, migrate

COLOURS = {"postgres": 34, "broker": 35, "dispatch": 32, "onsite": 36, "quality": 33, "feedback": 31, "stack": 37}


def _say(name: str, line: str) -> None:
    colour = COLOURS.get(name.split("-")[0], 37)
    prefix = f"\033[{colour}m{name:<10}|\033[0m " if sys.stdout.isatty() else f"{name:<10}| "
    sys.stdout.write(prefix + line.rstrip("\n") + "\n")
    sys.stdout.flush()


def _pump(name: str, stream: Iterable[bytes]) -> None:
    for raw in stream:
        _say(name, raw.decode(errors="replace"))


def _pump_in_background(name: str, proc: subprocess.Popen) -> None:
    if proc.stdout is not None:
        threading.Thread(target=_pump, args=(name, proc.stdout), daemon=True).start()


@dataclass
class LocalStack:
    """PostgreSQL, broker and the four services as child processes."""

    data_dir: Path
    pg_port: int = 5432
    broker_port: int = 9092
    service_ports: dict[str, int] = field(default_factory=lambda: {s.name: s.port for s in SERVICES})
    postgres_url: str | None = None
    bootstrap_servers: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    # the dev SMTP sink (decision 0090): None picks a free port; NOTIFY_EMAIL_URL set outside skips it
    smtp_port: int | None = None
    mail_sink: MailSink | None = None
    quiet: bool = False
    postgres: PostgresServer | None = None
    broker: Broker | None = None
    services: dict[str, subprocess.Popen] = field(default_factory=dict)
    # events per service marked unsent for a fresh broker at the last start (decision 0088)
    replayed: dict[str, int] = field(default_factory=dict)

    def say(self, line: str) -> None:
        if not self.quiet:
            _say("stack", line)

    def _out(self) -> int:
        return subprocess.DEVNULL if self.quiet else subprocess.PIPE

    def start_infrastructure(self) -> None:
        started = time.monotonic()
        if self.postgres_url is None:
            self.postgres = PostgresServer(self.data_dir / "postgres", self.pg_port)
            if not port_is_free(self.pg_port):
                raise RuntimeError(f"port {self.pg_port} is taken: stop what uses it or set POSTGRES_URL")
            self.postgres.start(stdout=self._out())
            if not self.quiet:
                assert self.postgres.proc is not None  # started just above
                _pump_in_background("postgres", self.postgres.proc)
            self.postgres_url = self.postgres.url
        if self.bootstrap_servers is None:
            if not port_is_free(self.broker_port):
                raise RuntimeError(f"port {self.broker_port} is taken: stop it or set KAFKA_BOOTSTRAP_SERVERS")
            self.broker = Broker(self.broker_port)
            self.broker.start(stdout=self._out())
            if not self.quiet:
                assert self.broker.proc is not None  # started just above
                _pump_in_background("broker", self.broker.proc)
            self.bootstrap_servers = self.broker.bootstrap
        asyncio.run(create_databases(self.postgres_url, [s.name for s in SERVICES]))
        for spec in SERVICES:
            migrate(spec.name, self.database_url(spec.name))
        if self.broker is not None:
            self.replay_for_fresh_broker()
        self.start_mail_sink()
        self.say(f"PostgreSQL and broker ready, databases migrated in {time.monotonic() - started:.1f}s")

    def start_mail_sink(self) -> None:
        """A real SMTP server on loopback keeping each mail dispatch sends (`.data/mail/NNNNN.eml`), unless
        NOTIFY_EMAIL_URL points dispatch at another server."""
        if "NOTIFY_EMAIL_URL" in os.environ or "NOTIFY_EMAIL_URL" in self.extra_env:
            return
        sink = MailSink(directory=self.data_dir / "mail")
        if self.smtp_port is not None:
            sink.port = self.smtp_port
        self.mail_sink = sink.start()
        self.say(f"SMTP sink on 127.0.0.1:{self.mail_sink.port}: the mails sent are kept in "
                 f"{self.mail_sink.directory} (open an .eml file with any mail reader)")

    def replay_for_fresh_broker(self) -> None:
        """Decision 0088: the broker just started holds nothing, the databases keep their outboxes, so
        the events the previous broker may have lost are marked unsent and published again (in their
        order) once the services start; the consumers skip the ones they already applied."""
        assert self.postgres_url is not None
        self.replayed = asyncio.run(replay_for_fresh_broker(
            self.postgres_url, {s.name: self.database_url(s.name) for s in SERVICES}))
        if any(self.replayed.values()):
            self.say("fresh broker: events sent to the previous one are published again (consumers skip "
                     "what they applied): " + ", ".join(f"{n} {c}" for n, c in self.replayed.items()))

    def database_url(self, service: str) -> str:
        assert self.postgres_url is not None
        return f"{self.postgres_url.rstrip('/')}/{service}"

    def env(self) -> dict[str, str]:
        assert self.postgres_url and self.bootstrap_servers
        return {
            **os.environ,
            "POSTGRES_URL": self.postgres_url,
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap_servers,
            "PYTHONUNBUFFERED": "1",
            # outbound webhooks may go to a receiver on this machine (decision 0083); never in production
            "WEBHOOK_ALLOWED_HOSTS": os.environ.get("WEBHOOK_ALLOWED_HOSTS",
                                                    '["localhost", "127.0.0.1/32", "::1/128"]'),
            # notifications go to the SMTP sink by apprise (decision 0090)
            **({"NOTIFY_ADAPTER": "apprise", "NOTIFY_EMAIL_URL": self.mail_sink.url} if self.mail_sink else {}),
            # dispatch's one-request export and erasure of personal data asks the others (decision 0093)
            **{f"{name.upper()}_URL": f"http://127.0.0.1:{port}" for name, port in self.service_ports.items()
               if name != "dispatch"},
            **self.extra_env,
        }

    def start_service(self, spec: ServiceSpec, *, name: str | None = None, port: int | None = None,
                      extra_env: dict[str, str] | None = None) -> subprocess.Popen:
        """Start one service process (a second replica may use another name and port)."""
        name = name or spec.name
        port = port or self.service_ports[spec.name]
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", spec.app, "--factory", "--host", "127.0.0.1",
             "--port", str(port), "--no-access-log", "--timeout-graceful-shutdown", "10",
             # idle keep-alive longer than any client's: a server closing a connection just as
             # the client reuses it resets that request (seen in the fault runs at 5 s)
             "--timeout-keep-alive", "75"],
            cwd=ROOT, env={**self.env(), **(extra_env or {})}, stdout=self._out(), stderr=subprocess.STDOUT,
        )
        if not self.quiet:
            _pump_in_background(name, proc)
        self.services[name] = proc
        return proc

    def start_services(self, timeout: float = 60.0) -> None:
        for spec in SERVICES:
            self.start_service(spec)
        self.wait_healthy(timeout)

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        pending = dict(self.service_ports)
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"services not healthy within {timeout}s: {', '.join(pending)}")
            for name, port in list(pending.items()):
                proc = self.services.get(name)
                if proc is not None and proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}")
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                        del pending[name]
                except httpx.HTTPError:
                    pass
            time.sleep(0.1)

    def stop_service(self, name: str, sig: int = signal.SIGTERM, timeout: float = 20.0) -> None:
        proc = self.services.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def stop(self) -> None:
        for name in list(self.services):
            proc = self.services[name]
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name in list(self.services):
            self.stop_service(name)
        if self.mail_sink is not None:
            self.mail_sink.stop()
        if self.broker is not None:
            self.broker.stop()
        if self.postgres is not None:
            self.postgres.stop()


def main() -> int:
    stack = LocalStack(
        data_dir=Path(os.environ.get("FIELDSERVICE_DATA_DIR", ROOT / ".data")),
        pg_port=int(os.environ.get("DEV_POSTGRES_PORT", "5432")),
        broker_port=int(os.environ.get("DEV_BROKER_PORT", "9092")),
        postgres_url=os.environ.get("POSTGRES_URL"),
        bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
        smtp_port=int(os.environ.get("DEV_SMTP_PORT", "2525")),
    )
    stopping = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    code = 0
    try:
        stack.start_infrastructure()
        stack.start_services()
        stack.say("all four services are up: " + ", ".join(
            f"{n} http://127.0.0.1:{p}/docs" for n, p in stack.service_ports.items()))
        while not stopping.is_set():
            for name, proc in stack.services.items():
                if proc.poll() is not None:
                    stack.say(f"{name} exited with {proc.returncode}; stopping the stack")
                    code = 1
                    stopping.set()
            stopping.wait(0.5)
    except Exception as exc:
        stack.say(f"start-up failed: {exc}")
        code = 1
    finally:
        stack.say("stopping")
        stack.stop()
        stack.say("stopped")
    return code


if __name__ == "__main__":
    sys.exit(main())
