"""Deploy files parse and agree with the code: compose services, k8s manifests, secrets kept out."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ["catalog", "ticketing", "appointments", "feedback", "notifier"]


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


def test_k8s_manifests_cover_every_service_with_probes_and_an_hpa_on_ticketing() -> None:
    docs = [d for d in yaml.safe_load_all((ROOT / "deploy/k8s/onewindow.yaml").read_text()) if d]
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    assert set(deployments) == set(SERVICES)
    for deployment in deployments.values():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    hpa = [d for d in docs if d["kind"] == "HorizontalPodAutoscaler"]
    assert hpa and hpa[0]["spec"]["scaleTargetRef"]["name"] == "ticketing"


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
