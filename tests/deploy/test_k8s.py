"""The Kubernetes manifests in k8s/: valid for the API server, and shaped to ride a spike."""

from __future__ import annotations

import ipaddress
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

K8S = Path(__file__).resolve().parents[2] / "k8s"
# kubectl here is client 1.32; validate against the same API.
KUBERNETES_VERSION = "1.32.0"
# What k8s/README.md sizes the fleet against.
POSTGRES_MAX_CONNECTIONS = 200
POSTGRES_HEADROOM = 20

MANIFESTS = sorted(path for path in K8S.glob("*.yaml") if path.name != "kustomization.yaml")


def kubernetes_validate(path: Path) -> None:
    """Fail unless every document in ``path`` passes strict validation, with no warning."""
    validator = Path(sys.executable).parent / "kubernetes-validate"
    result = subprocess.run(
        [str(validator), "--strict", "-k", KUBERNETES_VERSION, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # An unknown kind or apiVersion is only a warning ("Couldn't find schema"): a typo there must fail too.
    assert "WARN" not in output, output


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    """The output of `kubectl kustomize k8s/`, written to a file."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl is not installed: it is needed to render k8s/ with kustomize")
    result = subprocess.run([kubectl, "kustomize", str(K8S)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    path = tmp_path_factory.mktemp("k8s") / "rendered.yaml"
    path.write_text(result.stdout)
    return path


@pytest.fixture(scope="module")
def objects(rendered) -> dict[tuple[str, str], dict]:
    """Every rendered object, by (kind, name)."""
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in yaml.safe_load_all(rendered.read_text()) if doc}


def pod_specs(objects) -> dict[str, dict]:
    """The pod spec of every Deployment and Job, by name."""
    templated = {"Deployment", "Job"}
    return {name: obj["spec"]["template"]["spec"] for (kind, name), obj in objects.items() if kind in templated}


def hpa_for(objects, deployment: str) -> dict:
    hpas = [
        o
        for (kind, _), o in objects.items()
        if kind == "HorizontalPodAutoscaler"
        and o["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment}
    ]
    assert len(hpas) == 1, f"expected one HPA for Deployment {deployment}"
    return hpas[0]


def container(objects, deployment: str) -> dict:
    (only,) = objects[("Deployment", deployment)]["spec"]["template"]["spec"]["containers"]
    return only


def option(command: list[str], flag: str) -> int:
    return int(command[command.index(flag) + 1])


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda path: path.name)
def test_each_manifest_passes_strict_validation(manifest):
    kubernetes_validate(manifest)


def test_kustomize_output_passes_strict_validation(rendered, objects):
    kubernetes_validate(rendered)
    namespaces = {obj["metadata"].get("namespace") for (kind, _), obj in objects.items() if kind != "Namespace"}
    assert namespaces == {"stampede"}
    assert all(obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "stampede" for obj in objects.values())


@pytest.mark.parametrize("deployment", ["web", "checkout", "worker"])
def test_web_checkout_and_worker_autoscale_on_cpu_and_memory(objects, deployment):
    hpa = hpa_for(objects, deployment)
    resources = {m["resource"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "Resource"}
    assert resources == {"cpu", "memory"}
    # The HPA owns the count: a `replicas` in the Deployment would reset it on every apply.
    assert "replicas" not in objects[("Deployment", deployment)]["spec"]


def test_web_scales_up_at_once_and_down_slowly(objects):
    spec = hpa_for(objects, "web")["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 16)
    assert spec["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == 0
    assert max(p["periodSeconds"] for p in spec["behavior"]["scaleUp"]["policies"]) <= 15
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] >= 300


def test_every_container_has_cpu_and_memory_requests_and_limits(objects):
    for name, spec in pod_specs(objects).items():
        for each in spec.get("initContainers", []) + spec["containers"]:
            for kind in ("requests", "limits"):
                assert set(each["resources"][kind]) >= {"cpu", "memory"}, f"{name}/{each['name']} lacks {kind}"


def test_every_pod_runs_as_non_root_on_a_read_only_filesystem(objects):
    for name, spec in pod_specs(objects).items():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] == 10001, name
        for each in spec["containers"]:
            assert each["securityContext"]["readOnlyRootFilesystem"] is True, name
            assert "/tmp" in {mount["mountPath"] for mount in each["volumeMounts"]}, name


def test_web_is_live_on_healthz_and_ready_on_readyz(objects):
    web = container(objects, "web")
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert web["readinessProbe"]["periodSeconds"] <= 5


def test_web_outlives_the_endpoint_drain_and_gunicorns_graceful_shutdown(objects):
    config = objects[("ConfigMap", "stampede-config")]["data"]
    graceful_timeout = int(config["GUNICORN_GRACEFUL_TIMEOUT"])
    assert graceful_timeout >= 30
    pre_stop = container(objects, "web")["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    grace = objects[("Deployment", "web")]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > int(pre_stop[1]) + graceful_timeout


def test_web_rolls_out_without_losing_capacity_and_spreads_over_hosts(objects):
    spec = objects[("Deployment", "web")]["spec"]
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    keys = {c["topologyKey"] for c in spec["template"]["spec"]["topologySpreadConstraints"]}
    assert "kubernetes.io/hostname" in keys


@pytest.mark.parametrize("pool", ["web", "checkout"])
def test_a_disruption_budget_protects_the_web_and_checkout_pods(objects, pool):
    labels = objects[("Deployment", pool)]["spec"]["template"]["metadata"]["labels"]
    budgets = [
        o
        for (kind, _), o in objects.items()
        if kind == "PodDisruptionBudget" and o["spec"]["selector"]["matchLabels"].items() <= labels.items()
    ]
    assert len(budgets) == 1, f"no PodDisruptionBudget selects only the {pool} pods"


def test_there_is_exactly_one_beat_and_it_is_never_doubled_during_a_rollout(objects):
    spec = objects[("Deployment", "beat")]["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"]["type"] == "Recreate"
    assert ("HorizontalPodAutoscaler", "beat") not in objects


def test_worker_waits_for_running_tasks_before_it_is_killed(objects):
    spec = objects[("Deployment", "worker")]["spec"]["template"]["spec"]
    assert spec["terminationGracePeriodSeconds"] > 120  # CELERY_TASK_TIME_LIMIT


def test_example_secret_holds_only_placeholders(objects):
    secret = objects[("Secret", "stampede-secrets")]
    assert "data" not in secret, "base64 `data` hides what is in it; use stringData placeholders"
    values = secret["stringData"]
    assert set(values) >= {"SECRET_KEY", "DATABASE_URL", "METRICS_TOKEN", "EMAIL_URL"}
    assert all("change-me" in value for value in values.values()), values
    # Production settings refuse this key, so the example can never serve real traffic.
    assert values["SECRET_KEY"].startswith("insecure-") or len(values["SECRET_KEY"]) < 50


def test_postgres_connections_at_full_scale_fit_under_max_connections(objects):
    config = objects[("ConfigMap", "stampede-config")]["data"]
    per_web_pod = int(config["GUNICORN_WORKERS"]) * int(config["GUNICORN_THREADS"])
    web_pods = sum(hpa_for(objects, pool)["spec"]["maxReplicas"] for pool in ("web", "checkout"))
    surge_pods = -(-web_pods * 25 // 100)  # maxSurge 25%, rounded up as Kubernetes does
    for pool in ("web", "checkout"):
        assert objects[("Deployment", pool)]["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == "25%"
    worker_processes = hpa_for(objects, "worker")["spec"]["maxReplicas"] * option(
        container(objects, "worker")["command"], "--concurrency"
    )
    beat_and_migrate = 2
    total = (web_pods + surge_pods) * per_web_pod + worker_processes + beat_and_migrate
    assert total <= POSTGRES_MAX_CONNECTIONS - POSTGRES_HEADROOM, f"{total} connections at full scale"


def test_buying_goes_to_the_checkout_pods_and_browsing_to_the_web_pods(objects):
    routes = {
        path["path"]: path["backend"]["service"]["name"]
        for (kind, _), ingress in objects.items()
        if kind == "Ingress"
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }

    assert routes == {
        "/": "web",
        "/cart/": "checkout",
        "/checkout/": "checkout",
        "/orders/": "checkout",
        "/admin/": "checkout",
        "/admin/login/": "checkout",
    }
    assert objects[("Service", "checkout")]["spec"]["selector"]["app.kubernetes.io/component"] == "checkout"


def test_the_ingress_can_stamp_when_it_received_each_request_as_nginx_does(objects):
    headers = objects[("ConfigMap", "ingress-request-start")]["data"]
    ingress_doc = (K8S / "ingress.yaml").read_text()

    assert headers == {"X-Request-Start": "t=${msec}"}
    assert 'proxy-set-headers: "stampede/ingress-request-start"' in ingress_doc


def ingress_for(objects, path: str) -> dict:
    (ingress,) = [
        ingress
        for (kind, _), ingress in objects.items()
        if kind == "Ingress"
        for rule in ingress["spec"]["rules"]
        for entry in rule["http"]["paths"]
        if entry["path"] == path
    ]
    return ingress["metadata"].get("annotations", {})


@pytest.mark.parametrize(
    ("path", "limit"),
    [
        ("/cart/", ("limit-rps", "5")),
        ("/checkout/", ("limit-rps", "2")),
        ("/admin/login/", ("limit-rpm", "10")),
    ],
)
def test_the_ingress_limits_each_client_as_nginx_does(objects, path, limit):
    name, value = limit

    assert ingress_for(objects, path)[f"nginx.ingress.kubernetes.io/{name}"] == value


@pytest.mark.parametrize("path", ["/admin/", "/admin/login/"])
def test_the_admin_answers_only_private_networks(objects, path):
    allowed = ingress_for(objects, path)["nginx.ingress.kubernetes.io/whitelist-source-range"].split(",")

    assert allowed and all(ipaddress.ip_network(network).is_private for network in allowed)


def test_browsing_and_order_pages_are_neither_limited_nor_restricted(objects):
    for path in ("/", "/orders/"):
        assert not [name for name in ingress_for(objects, path) if "limit" in name or "whitelist" in name], path


def test_every_redis_address_has_a_password_and_the_room_shares_none_with_the_page_cache(objects):
    config, secret = (
        objects[("ConfigMap", "stampede-config")]["data"],
        objects[("Secret", "stampede-secrets")]["stringData"],
    )
    urls = {name: secret[name] for name in ("REDIS_URL", "WAITINGROOM_REDIS_URL", "CELERY_BROKER_URL")}

    assert not {"REDIS_URL", "WAITINGROOM_REDIS_URL", "CELERY_BROKER_URL"} & set(config)
    assert all(url.startswith("rediss://:change-me@") for url in urls.values()), urls
    host = {name: url.split("@")[1].split(":")[0] for name, url in urls.items()}
    assert host["WAITINGROOM_REDIS_URL"] == host["CELERY_BROKER_URL"] != host["REDIS_URL"]
