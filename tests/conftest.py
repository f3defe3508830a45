import json
import os
import shutil
import socket
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # live_server + sync Playwright

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "password_only: force_login leaves the session without a second factor (tests of the code step)"
    )


def need_service(available: bool, reason: str) -> None:
    """Skip with a visible reason; with REQUIRE_SERVICES=1 (CI) a missing service fails instead."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def port_open(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
    need_service(port_open(url, 6379), f"no Redis server answers at {url}")
    return url


@pytest.fixture(scope="session")
def browser_type_launch_args():
    need_service(CHROMIUM is not None, "Debian's Chromium is not installed (apt-get install -y chromium)")
    return {"executable_path": CHROMIUM, "args": CHROMIUM_FLAGS, "headless": True}


@pytest.fixture
def office_user(db):
    from tests.factories import OfficeUserFactory

    return OfficeUserFactory()


@pytest.fixture
def admin_client_office(client, office_user):
    client.force_login(office_user)
    return client


@pytest.fixture(autouse=True)
def _second_factor_on_force_login(request, monkeypatch):
    """`client.force_login(office_user)` gives a session past the code step (tests.accounts.signin), so that tests
    of the office's pages need no authenticator app. Tests of the code step itself mark themselves
    `@pytest.mark.password_only` and get a session as the password alone leaves it."""
    if request.node.get_closest_marker("password_only") is not None:
        return
    from django.test.client import ClientMixin

    from tests.accounts.signin import verify_session

    force_login = ClientMixin.force_login

    def force_login_verified(self, user, backend=None):
        force_login(self, user, backend)
        verify_session(self, user)

    monkeypatch.setattr(ClientMixin, "force_login", force_login_verified)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache; every test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _default_language_afterwards():
    """A request in another language leaves it active in the thread; the next test expects the default."""
    yield
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _no_public_holidays(request, monkeypatch):
    """Most tests book "the day after tomorrow" at whatever date the suite runs: on 23 December that is
    Christmas Day, which is never offered. Public holidays are tested where a test asks for them
    (`@pytest.mark.public_holidays`); the firm's own closures always apply."""
    if request.node.get_closest_marker("public_holidays") is None:
        monkeypatch.setattr("appointments.closed_days._public_holidays", lambda *args, **kwargs: {})


# Page checkers from npm (`npm ci`): the W3C Nu HTML checker and axe-core ---------------

ROOT = Path(__file__).resolve().parent.parent
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
JAVA = shutil.which("java")


@pytest.fixture
def vnu_jar() -> Path:
    need_service(JAVA is not None, "no Java runtime for the Nu HTML checker (apt-get install -y default-jre-headless)")
    need_service(VNU_JAR.exists(), f"{VNU_JAR.relative_to(ROOT)} is missing (npm ci)")
    return VNU_JAR


def inject_axe(page, axe_script: Path) -> None:
    """axe-core into the page as a script of the page's own origin: an inline <script> (what
    add_script_tag(path=...) writes) is refused by the Content-Security-Policy, which stays on in tests."""
    url = page.evaluate("location.origin") + "/__tests__/axe.min.js"
    page.route(url, lambda route: route.fulfill(path=str(axe_script), content_type="application/javascript"))
    page.add_script_tag(url=url)


@pytest.fixture
def axe_script() -> Path:
    need_service(AXE_JS.exists(), f"{AXE_JS.relative_to(ROOT)} is missing (npm ci)")
    return AXE_JS


def run_vnu(jar: Path, *args: str) -> list[dict]:
    """The Nu checker's messages for the files in `args`; one JVM for all of them (each start costs ~3 s)."""
    result = subprocess.run(
        [JAVA, "-jar", str(jar), "--format", "json", "--stdout", "--exit-zero-always", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["messages"]


def describe_vnu(message: dict) -> str:
    where = f"line {message.get('lastLine', '?')}"
    extract = (message.get("extract") or "").replace("\n", " ")
    return f"{message.get('type')}/{message.get('subType', '')}: {message['message']} ({where}: {extract!r})"


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of the test's own, to stop or freeze (SIGSTOP) without touching the shared one."""
    from tests.notifications.worker_harness import PrivateRedis

    need_service(
        shutil.which("redis-server") is not None, "redis-server is not installed (apt-get install redis-server)"
    )
    redis = PrivateRedis(tmp_path / "redis.log")
    redis.start()
    yield redis
    redis.stop()
