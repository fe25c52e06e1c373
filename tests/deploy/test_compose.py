"""The docker compose stack and its images, checked without a Docker engine.

The compose file is validated against the compose spec, then read as YAML for the invariants
that keep the stack scalable (`--scale web=N`) and safe to stop; the Dockerfile is read as text;
the nginx template is rendered the way the nginx image renders it and, where nginx is
installed, checked with `nginx -t`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from resilience.waitingroom.cookies import TICKET_COOKIE

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
NGINX_TEMPLATE = ROOT / "deploy/nginx/stampede.conf.template"
ONE_SHOT = {"migrate"}

COMPOSE = yaml.safe_load(COMPOSE_FILE.read_text())
SERVICES = COMPOSE["services"]
TEMPLATE = NGINX_TEMPLATE.read_text()


def _dockerfile_stages() -> dict[str, list[tuple[str, str]]]:
    """Return each stage's instructions as (INSTRUCTION, arguments), continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    stages: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        instruction, _, arguments = line.strip().partition(" ")
        if instruction.upper() == "FROM":
            current = stages.setdefault(arguments.split()[-1], [])
        current.append((instruction.upper(), arguments.strip()))
    return stages


STAGES = _dockerfile_stages()
# The Dockerfile's ARGs before its first FROM, with their defaults: the base images.
BUILD_ARGS = dict(re.findall(r"^ARG (\w+)=(\S+)$", (ROOT / "Dockerfile").read_text(), re.M))


def _seconds(duration: str) -> float:
    """Parse a compose duration such as "30s", "1m30s" or "2h"."""
    units = {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, f"not a duration: {duration!r}"
    return sum(float(number) * units[unit] for number, unit in parts)


def _default(value: str) -> str:
    """Resolve compose interpolation with a default, "${NAME:-5}" -> "5"."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(value))


def _render(template: str, environment: dict[str, str]) -> str:
    """Substitute ${STAMPEDE_*} the way the nginx image's envsubst does with our filter."""
    return re.sub(r"\$\{(STAMPEDE_\w+)\}", lambda match: environment[match.group(1)], template)


def test_compose_file_follows_the_compose_spec() -> None:
    check_jsonschema = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [check_jsonschema, "--builtin-schema", "vendor.compose-spec", COMPOSE_FILE],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_web_and_checkout_publish_no_host_port_so_they_can_scale() -> None:
    for pool in ("web", "checkout"):
        assert "ports" not in SERVICES[pool]
        assert "8000" in [str(port) for port in SERVICES[pool]["expose"]]


def test_every_long_running_service_has_a_healthcheck() -> None:
    for name, service in SERVICES.items():
        if name in ONE_SHOT:
            assert service["restart"] == "no"
            continue
        healthcheck = service.get("healthcheck", {})
        assert healthcheck.get("test") and not healthcheck.get("disable"), name


def test_web_is_ready_on_readyz_and_the_image_is_alive_on_healthz() -> None:
    assert "/readyz" in " ".join(SERVICES["web"]["healthcheck"]["test"])
    healthchecks = [args for instruction, args in STAGES["web"] if instruction == "HEALTHCHECK"]
    assert len(healthchecks) == 1 and "/healthz" in healthchecks[0] and "urllib" in healthchecks[0]


def test_every_dependency_waits_for_a_condition() -> None:
    for name, service in SERVICES.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: list form starts without waiting"
        for dependency, options in depends_on.items():
            assert dependency in SERVICES, f"{name} depends on unknown {dependency}"
            assert options.get("condition"), f"{name} -> {dependency} has no condition"


def test_web_starts_only_after_migrations_succeeded() -> None:
    for name in ("web", "checkout", "worker", "beat"):
        assert SERVICES[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_web_stop_grace_period_outlasts_gunicorns_graceful_timeout() -> None:
    web = SERVICES["web"]
    assert _seconds(web["stop_grace_period"]) > float(web["environment"]["GUNICORN_GRACEFUL_TIMEOUT"])


def test_worker_stop_grace_period_outlasts_the_longest_task() -> None:
    assert _seconds(SERVICES["worker"]["stop_grace_period"]) > settings.CELERY_TASK_TIME_LIMIT


def test_ten_replicas_and_the_worker_fit_in_postgres_max_connections() -> None:
    max_connections = int(re.search(r"max_connections=(\d+)", SERVICES["db"]["command"]).group(1))
    web = SERVICES["web"]["environment"]
    per_replica = int(_default(web["GUNICORN_WORKERS"])) * int(web["GUNICORN_THREADS"])
    worker = int(re.search(r"--concurrency (\d+)", SERVICES["worker"]["command"]).group(1)) + 1
    reserved = 3 + 5  # superuser_reserved_connections, then beat, migrate and admin shells
    assert 10 * per_replica + worker + reserved < max_connections


def test_nginx_upstreams_follow_the_web_and_checkout_services_through_dns() -> None:
    environment = SERVICES["nginx"]["environment"]
    assert re.fullmatch(r"server web:8000 resolve max_conns=\d+;", environment["STAMPEDE_UPSTREAM_SERVERS"])
    assert re.fullmatch(r"server checkout:8000 resolve;", environment["STAMPEDE_CHECKOUT_SERVERS"])
    assert re.match(r"resolver 127\.0\.0\.11\b", environment["STAMPEDE_RESOLVER"])
    for upstream, servers in (
        ("stampede_web", "STAMPEDE_UPSTREAM_SERVERS"),
        ("stampede_checkout", "STAMPEDE_CHECKOUT_SERVERS"),
    ):
        block = re.search(rf"^upstream {upstream} \{{\n(.*?)^\}}", TEMPLATE, re.DOTALL | re.MULTILINE)
        assert block and f"${{{servers}}}" in block.group(1), upstream


def test_a_browsing_replica_is_sent_no_more_requests_than_it_has_threads() -> None:
    web = SERVICES["web"]["environment"]
    threads = int(_default(web["GUNICORN_WORKERS"])) * int(web["GUNICORN_THREADS"])
    max_conns = re.search(r"max_conns=(\d+)", SERVICES["nginx"]["environment"]["STAMPEDE_UPSTREAM_SERVERS"])
    assert int(max_conns.group(1)) == threads


def test_cart_checkout_orders_and_the_admin_go_to_the_checkout_pool() -> None:
    rendered = _render(TEMPLATE, {key: str(value) for key, value in SERVICES["nginx"]["environment"].items()})
    locations = {name.strip(): body for name, body in re.findall(r"location\s+([^{]+?)\s*\{([^{}]*)\}", rendered)}
    for location in ("= /checkout/", "/cart/", "/orders/", "/admin/", "= /admin/login/"):
        assert "proxy_pass http://stampede_checkout;" in locations[location], location
    assert "proxy_pass http://stampede_web;" in locations["/"]
    assert SERVICES["checkout"]["cpu_shares"] > SERVICES["web"]["cpu_shares"]


def test_nginx_knows_a_visitor_in_line_by_the_rooms_own_ticket_cookie() -> None:
    template = NGINX_TEMPLATE.read_text()
    in_line = re.search(r"map \$http_cookie \$stampede_in_line \{(.*?)\}", template, re.S).group(1)

    assert f"{TICKET_COOKIE}=" in in_line
    assert "proxy_cache_bypass $stampede_has_session $stampede_in_line;" in template


def test_nginx_image_is_the_current_stable_line_which_resolves_upstream_servers() -> None:
    (from_line,) = [args for instruction, args in STAGES["nginx"] if instruction == "FROM"]
    # The base is a build argument (a mirror or Debian stand-in may replace it): its default is the official image.
    from_line = re.sub(r"\$\{(\w+)\}", lambda name: BUILD_ARGS[name.group(1)], from_line)
    version = re.match(r"nginx:(\d+)\.(\d+)(?:\.(\d+))?", from_line)
    assert version, from_line
    assert tuple(int(part or 0) for part in version.groups()) >= (1, 30, 0)


def test_nginx_environment_sets_every_variable_the_template_uses() -> None:
    environment = SERVICES["nginx"]["environment"]
    used = set(re.findall(r"\$\{(STAMPEDE_\w+)\}", TEMPLATE))
    assert used and used <= set(environment), used - set(environment)
    assert all(re.search(environment["NGINX_ENVSUBST_FILTER"], name) for name in used)


def test_everything_compose_and_the_dockerfile_build_from_exists() -> None:
    paths = []
    for service in SERVICES.values():
        if "build" in service:
            paths += [service["build"]["context"], service["build"].get("dockerfile", "Dockerfile")]
        for volume in service.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
            paths += [source] if source.startswith(".") else []
    for stage in STAGES.values():
        paths += [
            source
            for instruction, args in stage
            if instruction == "COPY" and "--from=" not in args
            for source in args.split()[:-1]
            if not source.startswith("--")
        ]
    missing = [path for path in paths if not (ROOT / path).exists()]
    assert not missing, f"missing in the repo: {missing}"
    assert all(_default(service.get("env_file", ".env")) == ".env" for service in SERVICES.values())
    assert (ROOT / ".env.example").exists()


def test_compose_file_holds_no_secret_values() -> None:
    secret_name = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$")
    for name, service in SERVICES.items():
        for key, value in (service.get("environment") or {}).items():
            value = str(value)
            if secret_name.search(key):
                assert re.fullmatch(r"\$\{\w+(:?[?-][^}]*)?\}", value), f"{name}.{key} is written inline"
            for password in re.findall(r"://[^:/@]+:([^@]+)@", value):
                assert re.fullmatch(r"\$\{\w+(:?[?-][^}]*)?\}", password), f"{name}.{key} has a password"
    for secret in COMPOSE.get("secrets", {}).values():
        assert set(secret) <= {"environment", "file"}, "secrets must come from .env or a file"


def test_web_image_runs_as_a_non_root_user() -> None:
    users = [args for instruction, args in STAGES["web"] if instruction == "USER"]
    assert users and users[-1].split(":")[0] not in {"root", "0"}


def test_build_time_secret_key_is_never_baked_into_the_image() -> None:
    for stage in STAGES.values():
        for instruction, args in stage:
            if instruction in {"ENV", "ARG", "LABEL"}:
                assert "SECRET_KEY" not in args, f"{instruction} {args}"
    collectstatic = [args for instruction, args in STAGES["build"] if "collectstatic" in args]
    assert collectstatic and "SECRET_KEY=" in collectstatic[0]
    assert "DJANGO_SETTINGS_MODULE=config.settings.production" in collectstatic[0]


def test_build_context_leaves_out_the_env_file_and_local_state() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".env", ".git", ".venv", "db.sqlite3"} <= ignored


def test_compose_nginx_config_passes_nginx_t(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if nginx is None:
        pytest.fail("nginx is not installed: `make system-packages` installs it")
    # Compose's ${NAME:-default} as compose fills it in with NAME unset.
    environment = {
        key: re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(value)) for key, value in SERVICES["nginx"]["environment"].items()
    }
    rendered = _render(TEMPLATE, environment)
    assert not re.search(r"\$\{\w+\}", rendered)
    # Debian's nginx (1.22) predates `resolve` on upstream servers (1.27.3), so nginx -t gets a
    # fixed address; the compose form is checked by the invariants above. The resolver stays:
    # the template sets it at http level, which 1.22 understands. Paths nginx would create or
    # open move into tmp_path so the check touches nothing outside it.
    rendered = re.sub(r"server (web|checkout):8000 resolve", "server 127.0.0.1:8000", rendered)
    rendered = rendered.replace(environment["STAMPEDE_CACHE_DIR"], str(tmp_path / "cache"))
    rendered = rendered.replace(
        environment["STAMPEDE_PAGE_CACHE_KEYS"], str(ROOT / "deploy/nginx/page-cache-keys.conf")
    )
    rendered = rendered.replace(environment["STAMPEDE_ERROR_PAGES"], str(ROOT / "deploy/nginx/errors"))
    (tmp_path / "stampede.conf").write_text(rendered)
    temp_paths = "\n".join(
        f"    {kind}_temp_path {tmp_path / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n    access_log off;\n{temp_paths}\n    include {tmp_path / 'stampede.conf'};\n}}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-q", "-e", "stderr", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


def test_the_room_and_the_broker_live_in_a_redis_that_never_evicts_apart_from_the_page_cache():
    app = COMPOSE["x-app-environment"]
    cache, state = (" ".join(SERVICES[name]["command"]) for name in ("redis", "redis-state"))

    assert "@redis:6379/" in app["REDIS_URL"]
    assert "@redis-state:6379/" in app["WAITINGROOM_REDIS_URL"] and "@redis-state:6379/" in app["CELERY_BROKER_URL"]
    assert "--maxmemory-policy allkeys-lru" in cache
    assert "--maxmemory-policy noeviction" in state and "--appendonly yes" in state


def test_both_redis_servers_require_the_password_from_env():
    for name in ("redis", "redis-state"):
        assert '--requirepass "$$REDIS_PASSWORD"' in " ".join(SERVICES[name]["command"]), name
        assert SERVICES[name]["environment"]["REDIS_PASSWORD"] == "${REDIS_PASSWORD:?set REDIS_PASSWORD in .env}"
    for url in ("REDIS_URL", "WAITINGROOM_REDIS_URL", "CELERY_BROKER_URL"):
        assert COMPOSE["x-app-environment"][url].startswith("redis://:${REDIS_PASSWORD:?"), url
