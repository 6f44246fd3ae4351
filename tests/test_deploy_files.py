"""Deploy files parse and agree with the code: compose services, k8s manifests, secrets kept out."""

from __future__ import annotations

import copy
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ["catalog", "ticketing", "appointments", "feedback", "notifier"]
# Every deployment runs the notifier as two processes: its main consumer group, and the board's calls.
NOTIFIER_CONSUMERS = {"notifier": "messages", "notifier-board": "board"}
PROCESSES = {**{service: service for service in SERVICES}, "notifier-board": "notifier"}


def test_compose_has_infrastructure_every_service_and_the_front() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    names = set(compose["services"])
    assert {"kafka", "mongo", "web", "prometheus", "grafana", *SERVICES} <= names
    for service in SERVICES:
        spec = compose["services"][service]
        assert spec["build"]["args"]["SERVICE"] == service
        env = spec["environment"]
        assert env["ONEWINDOW_KAFKA"] == "kafka:9092"
        assert env[f"{service.upper()}_HTTP_PORT"] == 8000
    assert compose["services"]["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"


def test_compose_runs_the_notifier_as_two_processes_behind_nginx_and_prometheus() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name, consumers in NOTIFIER_CONSUMERS.items():
        assert compose[name]["build"] == compose["notifier"]["build"], name  # one image
        env = compose[name]["environment"]
        assert env["NOTIFIER_CONSUMERS"] == consumers
        assert env["NOTIFIER_PRIVATE_KEY"] and env["NOTIFIER_HTTP_PORT"] == 8000
        assert {k: v for k, v in env.items() if k != "NOTIFIER_CONSUMERS"} == {
            k: v for k, v in compose["notifier"]["environment"].items() if k != "NOTIFIER_CONSUMERS"
        }
    assert set(PROCESSES) <= set(compose["web"]["depends_on"])  # nginx resolves its upstreams at start
    prometheus = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    (job,) = prometheus["scrape_configs"]
    (names,) = [sd["names"] for sd in job["dns_sd_configs"]]
    assert set(names) == set(PROCESSES)


def test_services_sh_starts_the_notifiers_board_process_where_nginx_looks_for_it(tmp_path: Path) -> None:
    """`services.sh status` lists every instance (nothing runs under this test's ONEWINDOW_VAR);
    the board's upstream of the local nginx is the notifier-board instance, the notifier its backup."""
    env = {**os.environ, "ONEWINDOW_VAR": str(tmp_path)}
    status = subprocess.run(
        [str(ROOT / "deploy/local/services.sh"), "status"], env=env, capture_output=True, text=True
    )
    assert status.returncode == 3, status.stderr  # stopped
    ports = dict(re.findall(r"^(\S+) :(\d+) stopped$", status.stdout, re.M))
    assert set(PROCESSES) <= set(ports), status.stdout
    template = (ROOT / "deploy/nginx/local.conf.template").read_text()
    upstream = re.search(
        r"upstream notifier_board \{ server 127\.0\.0\.1:(\d+); server 127\.0\.0\.1:(\d+) backup;", template
    )
    assert upstream and upstream.groups() == (ports["notifier-board"], ports["notifier"])
    script = (ROOT / "deploy/local/services.sh").read_text()
    for name, consumers in NOTIFIER_CONSUMERS.items():
        assert f'{name}) echo "NOTIFIER_CONSUMERS={consumers}"' in script
    # the board process is the notifier package, signing in to Kafka as the notifier
    assert 'service="$(service_of "$name")"' in script and '$(kafka_principal "$service")' in script


def test_compose_seeds_the_demo_city_with_the_command_make_up_runs() -> None:
    """`docker compose up` starts with the demo catalog and staff, loaded exactly as `make up` does."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    seed = compose["services"]["seed"]
    services_sh = (ROOT / "deploy/local/services.sh").read_text()
    local = re.findall(r'"\$ROOT/\.venv/bin/python" (-m \S+) >>"\$LOG_DIR/seed\.log"', services_sh)
    assert local == ["-m catalog.seed"], "services.sh (make up) seeds with python -m catalog.seed"
    assert " ".join(seed["command"]) == "python " + local[0]
    assert seed["build"]["args"]["SERVICE"] == "catalog" and seed["restart"] == "no"
    assert {"topics", "mongo", "kafka"} <= set(seed["depends_on"])
    assert "ONEWINDOW_DEMO_PASSWORD_ADMIN" in seed["environment"]


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker client")
def test_compose_config_is_valid_where_the_plugin_exists() -> None:
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("docker compose plugin not installed")
    env = {
        "ONEWINDOW_JWT_SECRET": "x",
        "ONEWINDOW_NOTIFIER_PUBLIC_KEY": "x",
        "NOTIFIER_PRIVATE_KEY": "x",
        "ONEWINDOW_PSEUDONYM_KEY": "x",
        "PATH": "/usr/bin:/bin:/usr/local/bin",
    }
    result = subprocess.run(["docker", "compose", "config", "-q"], cwd=ROOT, env=env, capture_output=True)
    assert result.returncode == 0, result.stderr.decode()


K8S = ROOT / "deploy" / "k8s"


def _load_module(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


k8s_validate = _load_module("k8s_validate", K8S / "validate.py")
k8s_generate = _load_module("k8s_generate", K8S / "generate.py")


def _k8s_docs() -> list[dict[str, Any]]:
    return [doc for _, _, doc in k8s_validate.load_documents(k8s_validate.manifest_files(K8S))]


def _of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in _k8s_docs() if d["kind"] == kind}


@pytest.fixture(scope="module")
def k8s_schemas() -> Any:
    """Kubernetes and CRD schemas from the registries (.ci/run fetches them first; cached)."""
    custom = os.environ.get("ONEWINDOW_K8S_SCHEMAS")  # a directory prepared elsewhere
    if custom is None:
        result = subprocess.run(
            [str(K8S / "schemas.sh"), "install"], cwd=ROOT, capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, f"deploy/k8s/schemas.sh install failed: {result.stderr[-2000:]}"
    schemas_dir = Path(custom or ROOT / ".cache" / "k8s-schemas")
    return k8s_validate.Schemas(schemas_dir)


def test_k8s_manifests_validate_against_kubernetes_and_crd_schemas(k8s_schemas: Any) -> None:
    errors, checked = k8s_validate.validate_documents(
        k8s_validate.load_documents(k8s_validate.manifest_files(K8S)), k8s_schemas
    )
    assert errors == []
    kinds = {line.split("valid against ")[1].split(" ", 1)[0] for line in checked}
    assert kinds == {"Kubernetes", "CRD"}  # both kinds of schema were used
    assert len(checked) == len(_k8s_docs())
    validated = " ".join(checked)
    for kind in ("Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "MongoDBCommunity", "NetworkPolicy"):
        assert f" {kind}/" in validated


@pytest.mark.parametrize(
    ("kind", "name", "path", "bad_value", "complaint"),
    [
        (
            "Deployment",
            "ticketing",
            ["spec", "template", "spec", "containers", 0, "readinessProbe", "periodSecond"],
            5,
            "'periodSecond' was unexpected",
        ),
        ("Deployment", "catalog", ["spec", "replicas"], "two", "is not of type 'integer'"),
        ("HorizontalPodAutoscaler", "ticketing", ["spec", "maxReplica"], 12, "'maxReplica' was unexpected"),
        (
            "NetworkPolicy",
            "services-from-nginx-only",
            ["spec", "policyTypes"],
            "Ingress",
            "is not of type 'array'",
        ),
        ("KafkaTopic", "ticketing.ticket", ["spec", "partitions"], "12", "is not of type 'integer'"),
        ("KafkaNodePool", "dual-role", ["spec", "role"], ["broker"], "'role' was unexpected"),
        ("Kafka", "onewindow", ["spec", "kafka", "listeners", 0, "tls"], "yes", "is not of type 'boolean'"),
        (
            "MongoDBCommunity",
            "onewindow-mongo",
            ["spec", "type"],
            "Replicaset",
            "is not one of ['ReplicaSet']",
        ),
        (
            "ConfigMap",
            "onewindow-config",
            ["data", "ONEWINDOW_KAFKA_USE_SSL"],
            True,
            "is not of type 'string'",
        ),
    ],
)
def test_the_validator_rejects_a_broken_manifest(
    k8s_schemas: Any, kind: str, name: str, path: list[Any], bad_value: Any, complaint: str
) -> None:
    doc = copy.deepcopy(_of_kind(kind)[name])
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = bad_value
    errors, _ = k8s_validate.validate_documents([(Path("broken.yaml"), 0, doc)], k8s_schemas)
    assert errors and complaint in errors[0], errors


def test_kubeconform_agrees_on_the_same_schemas(k8s_schemas: Any, tmp_path: Path) -> None:
    binary = k8s_schemas.root / "bin" / "kubeconform"
    files = k8s_validate.manifest_files(K8S)
    result = k8s_validate.kubeconform(binary, files, k8s_schemas)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Valid: {len(_k8s_docs())}, Invalid: 0, Errors: 0, Skipped: 0" in result.stdout
    broken = copy.deepcopy(_of_kind("KafkaTopic")["ticketing.ticket"])
    broken["spec"]["partitions"] = "12"
    (tmp_path / "broken.yaml").write_text(yaml.safe_dump(broken))
    result = k8s_validate.kubeconform(binary, [tmp_path / "broken.yaml"], k8s_schemas)
    assert result.returncode != 0 and "/spec/partitions" in result.stdout, result.stdout


def test_a_kind_without_a_schema_is_an_error_not_a_skip(k8s_schemas: Any) -> None:
    doc = {"apiVersion": "example.city/v1", "kind": "Gadget", "metadata": {"name": "x"}}
    errors, checked = k8s_validate.validate_documents([(Path("x.yaml"), 0, doc)], k8s_schemas)
    assert checked == [] and "no schema" in errors[0]


def test_k8s_manifests_are_what_the_generator_writes() -> None:
    rendered = k8s_generate.render()
    for name, text in rendered.items():
        assert (K8S / name).read_text() == text, f"deploy/k8s/{name} is stale: run deploy/k8s/generate.py"
    assert sorted(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]) == sorted(
        p.name for p in k8s_validate.manifest_files(K8S)
    )


def test_every_service_has_probes_resources_budgets_and_secrets_from_secret_objects() -> None:
    deployments = _of_kind("Deployment")
    assert set(deployments) == {*PROCESSES, "web"}
    budgets = _of_kind("PodDisruptionBudget")
    services = _of_kind("Service")
    for name, service in PROCESSES.items():
        pod = deployments[name]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
        assert container["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
        assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"http": 8000}
        for kind in ("requests", "limits"):
            assert set(container["resources"][kind]) == {"cpu", "memory"}
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        env = {e["name"]: e for e in container["env"]}
        secrets = {
            "ONEWINDOW_KAFKA_SASL_PASSWORD",
            "ONEWINDOW_JWT_SECRET",
            "ONEWINDOW_PSEUDONYM_KEY",
            "ONEWINDOW_MONGO_URL",
        }
        for secret in secrets | ({"NOTIFIER_PRIVATE_KEY"} if service == "notifier" else set()):
            assert "value" not in env[secret] and env[secret]["valueFrom"]["secretKeyRef"]["name"], secret
        assert env["ONEWINDOW_KAFKA_SASL_USERNAME"]["value"] == service
        assert (
            env["ONEWINDOW_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == service
        )  # Strimzi's
        assert env.get("NOTIFIER_CONSUMERS", {}).get("value") == NOTIFIER_CONSUMERS.get(name), name
        assert (
            container["image"] == deployments[service]["spec"]["template"]["spec"]["containers"][0]["image"]
        )
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert budgets[name]["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert services[name]["spec"]["selector"].items() <= labels.items()
        assert services[name]["spec"]["ports"][0]["port"] == 8000  # the nginx config's upstreams
    assert not [d for d in _k8s_docs() if d["kind"] == "Secret"], "Secrets are created by ops, not committed"
    assert budgets["ticketing"]["spec"]["minAvailable"] == 2


def test_onewindow_pods_meet_the_restricted_pod_security_standard() -> None:
    for name, deployment in _of_kind("Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for container in pod["containers"] + pod.get("initContainers", []):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, (name, container["name"])
            assert context["capabilities"] == {"drop": ["ALL"]}, (name, container["name"])
        assert {next(iter(set(v) - {"name"})) for v in pod.get("volumes", [])} <= {"secret", "emptyDir"}


def test_ticketing_scales_on_cpu_up_to_the_partition_count() -> None:
    from contracts.topics import DEFAULT_PARTITIONS

    hpa = _of_kind("HorizontalPodAutoscaler")["ticketing"]["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "ticketing"}
    assert hpa["minReplicas"] >= 2
    assert hpa["maxReplicas"] == DEFAULT_PARTITIONS
    topics = _of_kind("KafkaTopic")
    assert {t["spec"]["partitions"] for t in topics.values()} == {hpa["maxReplicas"]}


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return selector.get("matchLabels", {}).items() <= labels.items()


def test_network_policies_let_only_nginx_reach_the_services_and_only_the_services_reach_the_stores() -> None:
    policies = list(_of_kind("NetworkPolicy").values())
    deny = [p for p in policies if p["spec"]["podSelector"] == {} and p["spec"].get("ingress") == []]
    assert deny, "no default-deny ingress policy"
    pods = {name: d["spec"]["template"]["metadata"]["labels"] for name, d in _of_kind("Deployment").items()}
    mongo_pods = {"app": "onewindow-mongo-svc"}
    processes = set(PROCESSES)

    def peers_of(target: dict[str, str]) -> list[dict[str, Any]]:
        return [
            peer
            for p in policies
            if "Ingress" in p["spec"]["policyTypes"] and _selects(p["spec"]["podSelector"], target)
            for rule in p["spec"].get("ingress", [])
            for peer in rule.get("from", [{"everyone": True}])
        ]

    def selected(peer: dict[str, Any]) -> set[str]:
        assert set(peer) == {"podSelector"}, f"a peer beyond this namespace's pods: {peer}"
        return {n for n, labels in pods.items() if _selects(peer["podSelector"], labels)}

    for name in PROCESSES:
        peers = peers_of(pods[name])
        assert peers and all(selected(peer) == {"web"} for peer in peers), (name, peers)
    mongo_peers = peers_of(mongo_pods)
    assert mongo_peers
    for peer in mongo_peers:
        reached_from = selected(peer)
        assert reached_from == processes or (not reached_from and _selects(peer["podSelector"], mongo_pods))
    # Kafka: Strimzi writes the brokers' policy from the listener's peers
    (listener,) = _of_kind("Kafka")["onewindow"]["spec"]["kafka"]["listeners"]
    for peer in listener["networkPolicyPeers"]:
        selected = {n for n, labels in pods.items() if _selects(peer["podSelector"], labels)}
        assert selected == processes
    # the SMS and e-mail gateways: both notifier processes (each runs the delivery jobs), no other pod
    (gateways,) = [p for p in policies if p["metadata"]["name"] == "notifier-egress-gateways"]
    assert {n for n, labels in pods.items() if _selects(gateways["spec"]["podSelector"], labels)} == set(
        NOTIFIER_CONSUMERS
    )


def test_kafka_topics_match_the_registry_with_three_replicas_and_two_in_sync() -> None:
    from contracts.topics import topic_configs

    topics = _of_kind("KafkaTopic")
    assert {t["spec"]["topicName"] for t in topics.values()} == {name for name, _ in topic_configs()}
    for name, config in topic_configs():
        spec = topics[name]["spec"]
        assert spec["replicas"] == 3
        assert spec["config"]["min.insync.replicas"] == 2
        assert spec["config"].get("cleanup.policy") == config.get("cleanup.policy")
    kafka = _of_kind("Kafka")["onewindow"]["spec"]["kafka"]
    assert kafka["config"]["min.insync.replicas"] == 2
    assert kafka["config"]["auto.create.topics.enable"] is False
    assert _of_kind("KafkaNodePool")["dual-role"]["spec"]["replicas"] == 3


KAFKA_ACL_OPERATIONS = {
    "Read",
    "Write",
    "Create",
    "Delete",
    "Alter",
    "Describe",
    "ClusterAction",
    "AlterConfigs",
    "DescribeConfigs",
    "IdempotentWrite",
    "All",
}


def test_kafka_users_carry_the_acls_of_the_security_script() -> None:
    writes, reads = k8s_generate.acl_tables()
    internal = k8s_generate.acl_table("INTERNAL")
    assert set(writes) == set(reads) == set(SERVICES)
    users = _of_kind("KafkaUser")
    producers = k8s_generate.acl_table("PRODUCERS")
    assert set(users) == set(SERVICES) | set(producers)
    # The city portal writes its one topic and nothing else: no read, no group, no cluster ACL.
    assert producers == {"portal": ["portal.application"]}
    assert users.pop("portal")["spec"]["authorization"]["acls"] == [
        {
            "resource": {"type": "topic", "name": "portal.application", "patternType": "literal"},
            "operations": ["Write"],
        }
    ]
    for name, user in users.items():
        spec = user["spec"]
        assert spec["authentication"] == {"type": "scram-sha-512"}
        assert spec["authorization"]["type"] == "simple"
        granted = {
            (acl["resource"]["type"], acl["resource"].get("name"), op)
            for acl in spec["authorization"]["acls"]
            for op in acl["operations"]
        }
        assert all(op in KAFKA_ACL_OPERATIONS for _, _, op in granted)
        # Exactly what acls.sh grants the same principal.
        expected = {("topic", t, op) for t in writes[name] for op in ("Write", "Describe")}
        expected |= {("topic", t, op) for t in reads[name] for op in ("Read", "Describe")}
        expected |= {("topic", f"{t}.dlt", op) for t in reads[name] for op in ("Write", "Describe")}
        expected |= {
            ("topic", t, op) for t in internal.get(name, []) for op in ("Read", "Describe", "Create")
        }
        expected |= {
            ("group", name, "Read"),
            ("group", name, "Describe"),
            ("cluster", None, "IdempotentWrite"),
        }
        assert granted == expected, name
        groups = [acl for acl in spec["authorization"]["acls"] if acl["resource"]["type"] == "group"]
        assert [g["resource"]["patternType"] for g in groups] == ["prefix"]  # ticketing-owners too


def test_mongodb_has_a_user_per_service_on_its_own_database() -> None:
    (mongo,) = _of_kind("MongoDBCommunity").values()
    assert mongo["spec"]["members"] == 3
    users = {u["name"]: u for u in mongo["spec"]["users"]}
    assert set(users) == set(SERVICES)
    deployments = _of_kind("Deployment")
    for name, service in PROCESSES.items():
        user = users[service]
        assert user["roles"] == [{"name": "readWrite", "db": f"onewindow_{service}"}]
        env = {e["name"]: e for e in deployments[name]["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert (
            env["ONEWINDOW_MONGO_URL"]["valueFrom"]["secretKeyRef"]["name"]
            == user["connectionStringSecretName"]
        )


def test_no_secret_values_are_committed() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assignment = re.compile(
        r"^(ONEWINDOW_JWT_SECRET|NOTIFIER_PRIVATE_KEY|ONEWINDOW_PSEUDONYM_KEY)=(\S+)", re.M
    )
    for name in tracked.split():
        path = ROOT / name
        if path.suffix in {".png", ".jpg", ".lock"} or not path.is_file():
            continue
        text = path.read_text(errors="ignore")
        assert not assignment.search(text), f"{name} assigns a secret"


def test_local_secrets_give_every_demo_account_its_own_password_and_keep_them(tmp_path: Path) -> None:
    from catalog.demo import demo_offices
    from catalog.seed import demo_password_variable, demo_staff

    env = {**os.environ, "ONEWINDOW_VAR": str(tmp_path)}
    script = str(ROOT / "deploy/local/secrets.sh")
    path = Path(subprocess.run([script], env=env, capture_output=True, text=True, check=True).stdout.strip())
    first = path.read_text()
    values = dict(line.split("=", 1) for line in first.splitlines())
    passwords = {name: values[demo_password_variable(name)] for name, _, _ in demo_staff(demo_offices())}
    assert len(set(passwords.values())) == len(passwords)  # the admin shares with nobody
    assert "ONEWINDOW_DEMO_PASSWORD" not in values
    assert path.stat().st_mode & 0o077 == 0
    subprocess.run([script], env=env, capture_output=True, check=True)
    assert path.read_text() == first


def _acl_table(script: str, name: str) -> dict[str, set[str]]:
    block = re.search(rf"declare -A {name}=\((.*?)\n\)", script, re.S)
    assert block, name
    return {m[0]: set(m[1].split()) for m in re.findall(r'\[(\w+)\]="([^"]*)"', block.group(1))}


def test_kafka_acls_let_each_service_write_its_topics_and_read_what_it_consumes() -> None:
    import json

    script = (ROOT / "deploy/kafka-security/acls.sh").read_text()
    writes, reads = _acl_table(script, "WRITES"), _acl_table(script, "READS")
    for service in SERVICES:
        doc = json.loads((ROOT / f"docs/asyncapi/{service}.json").read_text())
        address = {key: channel["address"] for key, channel in doc["channels"].items()}
        used: dict[str, set[str]] = {"send": set(), "receive": set()}
        for operation in doc["operations"].values():
            used[operation["action"]].add(address[operation["channel"]["$ref"].split("/")[-1]])
        assert writes[service] == used["send"], service
        assert reads[service] == used["receive"], service
    # Dead letters of what a service reads: it must be able to write them (Describe for metadata).
    assert 'writable+=(--topic "$PREFIX$topic.dlt")' in script
    assert "--resource-pattern-type prefixed --group" in script
    # ticketing's ownership group runs on its own topic (no events, so not in the AsyncAPI document).
    assert _acl_table(script, "INTERNAL") == {"ticketing": {"ticketing.commands"}}


def test_make_status_shows_the_consumer_lag_of_every_group_a_service_runs() -> None:
    metrics = "\n".join(
        [
            "# HELP onewindow_consumer_lag Records not yet committed by the consumer group",
            'onewindow_consumer_lag{group="p.notifier",partition="0",topic="p.ticketing.ticket"} 0.0',
            'onewindow_consumer_lag{group="p.notifier",partition="1",topic="p.feedback.feedback"} 2.0',
            'onewindow_consumer_lag{group="p.notifier-board",partition="0",topic="p.ticketing.ticket"} 3.0',
            'onewindow_consumer_lag{group="p.notifier-board",partition="1",topic="p.ticketing.ticket"} 0.0',
        ]
    )
    awk = ["awk", "-f", str(ROOT / "deploy/local/consumer-lag.awk")]
    shown = subprocess.run(awk, input=metrics, capture_output=True, text=True, check=True).stdout.strip()
    assert shown == "p.notifier 2 (p.feedback.feedback[1]=2), p.notifier-board 3 (p.ticketing.ticket[0]=3)"
    nothing = subprocess.run(awk, input="", capture_output=True, text=True, check=True).stdout.strip()
    assert nothing == "0"  # a service that consumes nothing
    assert 'awk -f "$ROOT/deploy/local/consumer-lag.awk"' in (ROOT / "deploy/local/services.sh").read_text()
