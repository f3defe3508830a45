"""Real services for delivery integration tests: an SMTP sink, a private Redis and Celery workers.

Everything here runs on 127.0.0.1 and free ports, logs into the test's tmp_path
and is stopped by whoever started it; nothing touches the machine's shared Redis
except through the queue name the test chooses.
"""

import email
import email.policy
import os
import runpy
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from aiosmtpd.controller import Controller
from kombu import pools

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))
# Environment a worker must not inherit from the test process: it gets its own broker, mail and database.
FOREIGN_ENV_PREFIXES = ("CELERY_", "EMAIL_", "REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DOORSTEP_")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(condition: Callable[[], Any], *, timeout: float, what: str, diagnose: Callable[[], str] = str) -> Any:
    """Poll `condition` until it returns something truthy; fail with `what` and a diagnosis after `timeout` s."""
    deadline = time.monotonic() + timeout
    interval = 0.02
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{diagnose()}")
        time.sleep(interval)
        interval = min(interval * 1.5, 0.25)


# SMTP ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedMail:
    recipients: tuple[str, ...]
    message_id: str
    subject: str


class _CollectingHandler:
    def __init__(self, sink: "SmtpSink"):
        self.sink = sink

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        mail = ReceivedMail(
            recipients=tuple(address.lower() for address in envelope.rcpt_tos),
            message_id=str(parsed.get("Message-ID", "")),
            subject=str(parsed.get("Subject", "")),
        )
        with self.sink.lock:
            self.sink._mails.append(mail)
        return "250 Message accepted for delivery"


class SmtpSink:
    """A real SMTP server on 127.0.0.1 that keeps every message it accepts."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._mails: list[ReceivedMail] = []
        self.port = free_port()
        self.controller = Controller(_CollectingHandler(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> "SmtpSink":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def mails(self) -> list[ReceivedMail]:
        with self.lock:
            return list(self._mails)

    def count(self) -> int:
        with self.lock:
            return len(self._mails)

    def per_recipient(self) -> Counter:
        return Counter(recipient for mail in self.mails for recipient in mail.recipients)


# Redis -----------------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of this test alone, on its own port, without persistence; it can stop and start again."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        assert self.process is None, "already running"
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        wait_until(
            lambda: self.process.poll() is not None or port_answers(self.port),
            timeout=15,
            what=f"redis-server on port {self.port}",
        )
        assert self.process.poll() is None, f"redis-server exited:\n{self.log_path.read_text()[-2000:]}"

    def freeze(self) -> None:
        """SIGSTOP: the port still accepts connections, but nothing answers (a hung or overloaded server)."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is None:
            return
        self.thaw()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None
        wait_until(lambda: not port_answers(self.port), timeout=10, what=f"port {self.port} to close")


# The Celery app of the test process --------------------------------------------------


def production_settings(redis_url: str) -> dict[str, Any]:
    """Every setting config/settings.py produces when REDIS_URL is set (cache, broker, timeouts)."""
    saved = {name: os.environ.get(name) for name in ("REDIS_URL", "DEBUG")}
    os.environ["REDIS_URL"] = redis_url
    os.environ["DEBUG"] = "1"  # only so the file needs no SECRET_KEY; no Redis setting depends on it
    try:
        return runpy.run_path(str(ROOT / "config" / "settings.py"))
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def production_celery_settings(redis_url: str) -> dict[str, Any]:
    """The Celery settings config/settings.py produces when REDIS_URL is set, as app.conf keys.

    Evaluated from the real settings file, so the test publishes with exactly the
    broker options (timeouts, no retries) production uses, not a copy of them.
    """
    return {
        name.removeprefix("CELERY_").lower(): value
        for name, value in production_settings(redis_url).items()
        if name.startswith("CELERY_")
    }


def _reset_connections(app) -> None:
    # kombu keeps connection and producer pools per broker URL for the whole
    # process; drop them so the next publish connects with the new settings.
    pools.reset()
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@contextmanager
def publishing_to(redis_url: str, *, queue: str | None = None) -> Iterator[None]:
    """Make this process's Celery app publish to `redis_url` as production would; restore it afterwards.

    The app read the test settings at import time (SQLite broker, tasks run
    eagerly), so on_commit hand-overs and the relay would never reach a worker.
    """
    from config.celery import app

    changes = production_celery_settings(redis_url)
    if queue is not None:
        changes["task_default_queue"] = queue
    saved = {key: app.conf.get(key) for key in changes}
    _reset_connections(app)
    app.conf.update(changes)
    try:
        yield
    finally:
        _reset_connections(app)
        app.conf.update(saved)


def forget_queue(redis_url: str, queue: str) -> None:
    """Remove a test's queue and kombu's bindings for it from a shared Redis."""
    import redis

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=3)
    try:
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    finally:
        client.close()


# Database --------------------------------------------------------------------------


def database_url_for_subprocess() -> str:
    """A DATABASE_URL that points another process at the test database of this one."""
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(settings["NAME"])
        assert name and ":memory:" not in name and "mode=memory" not in name, (
            f"the worker cannot share an in-memory SQLite database ({name!r})"
        )
        return f"sqlite:///{Path(name).resolve()}"
    if connection.vendor == "postgresql":
        credentials = quote(settings.get("USER") or "", safe="")
        if settings.get("PASSWORD"):
            credentials += ":" + quote(settings["PASSWORD"], safe="")
        host = settings.get("HOST") or "localhost"
        port = f":{settings['PORT']}" if settings.get("PORT") else ""
        at = "@" if credentials else ""
        return f"postgres://{credentials}{at}{host}{port}/{quote(settings['NAME'], safe='')}"
    raise NotImplementedError(f"no DATABASE_URL for the {connection.vendor} backend")


# Celery workers --------------------------------------------------------------------


@dataclass
class Worker:
    """`celery -A config worker` in its own process group, as `make run` starts it."""

    name: str
    redis_url: str
    smtp_port: int
    var_dir: Path
    pool: str = "solo"
    concurrency: int = 1
    queue: str | None = None
    process: subprocess.Popen | None = field(default=None, init=False)

    @property
    def log_path(self) -> Path:
        return self.var_dir / f"{self.name}.log"

    def environment(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith(FOREIGN_ENV_PREFIXES)}
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings",
                "DEBUG": "1",
                "DATABASE_URL": database_url_for_subprocess(),
                "REDIS_URL": self.redis_url,
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": str(self.smtp_port),
                "DOORSTEP_VAR_DIR": str(self.var_dir),
            }
        )
        return env

    def start(self) -> "Worker":
        assert self.process is None, "already started"
        command = [
            CELERY,
            "-A",
            "config",
            "worker",
            f"--pool={self.pool}",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"{self.name}-{os.getpid()}@%h",
        ]
        if self.pool != "solo":
            command.append(f"--concurrency={self.concurrency}")
        if self.queue:
            command += ["-Q", self.queue]
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: a kill reaches the pool's children too
            )
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return f"--- {self.log_path.name} ---\n" + self.log_path.read_text()[-chars:]
        except FileNotFoundError:
            return f"--- {self.log_path.name}: no log ---"

    def _signal_group(self, signum: int) -> bool:
        try:
            os.killpg(self.process.pid, signum)
            return True
        except ProcessLookupError:
            return False

    def group_alive(self) -> bool:
        """Whether any process of the worker's group still runs (zombies waiting to be reaped do not count)."""
        proc = Path("/proc")
        if not proc.is_dir():
            return self._signal_group(0)
        for stat in proc.glob("[0-9]*/stat"):
            try:
                state, _parent, group = stat.read_text().rsplit(")", 1)[1].split()[:3]
            except (OSError, ValueError):
                continue
            if int(group) == self.process.pid and state != "Z":
                return True
        return False

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once, like the OOM killer or a pulled plug."""
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=10)
        # Pool children are reparented when the parent dies; wait until none of them runs.
        wait_until(lambda: not self.group_alive(), timeout=10, what=f"the processes of {self.name} to die")

    def stop(self, timeout: float = 10) -> None:
        """Warm shutdown (finish the task at hand), then SIGKILL whatever is left.

        A prefork child that has finished its last task can linger for up to 30 s
        in billiard's `_ensure_messages_consumed` during a warm shutdown; tests
        stop workers only once the work is done, so they do not wait for that.
        """
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        if self.group_alive():
            self.kill()
