"""The secured local Kafka of `deploy/local/infra.sh up --secure` as tests and the harness use it:
each service signs in as its own SCRAM principal over TLS; the admin principal (a super user) reads
any topic for a test's checks. Passwords come from the broker's own `kafka-secure/credentials.env`."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts.topics import admin_security

from testbed import ROOT, free_port

INFRA = ROOT / "deploy/local/infra.sh"


@dataclass(frozen=True)
class SecuredKafka:
    bootstrap: str
    folder: Path  # $ONEWINDOW_VAR/kafka-secure: credentials.env, ca.pem

    def password(self, principal: str) -> str:
        lines = (self.folder / "credentials.env").read_text().splitlines()
        passwords = dict(line.split("=", 1) for line in lines if "=" in line)
        return passwords[f"ONEWINDOW_KAFKA_PASSWORD_{principal.upper()}"]

    def env(self, principal: str) -> dict[str, str]:
        """The ONEWINDOW_KAFKA_* settings a service (or `contracts.topics`) signs in with."""
        return {
            "ONEWINDOW_KAFKA": self.bootstrap,
            "ONEWINDOW_KAFKA_SASL_USERNAME": principal,
            "ONEWINDOW_KAFKA_SASL_PASSWORD": self.password(principal),
            "ONEWINDOW_KAFKA_USE_SSL": "true",
            "ONEWINDOW_KAFKA_SSL_CAFILE": str(self.folder / "ca.pem"),
        }

    def client(self, principal: str = "admin") -> dict[str, Any]:
        """aiokafka client settings of a principal (the admin by default)."""
        return admin_security(
            principal, self.password(principal), use_ssl=True, cafile=str(self.folder / "ca.pem")
        )


@contextmanager
def secured_kafka(var: Path) -> Iterator[SecuredKafka]:
    """A secured broker of the caller's own, on free ports with its data under `var` (the shared
    broker is not touched): `infra.sh up --secure --kafka-only`, and `down` afterwards."""
    port = free_port()
    env = {
        **os.environ,
        "ONEWINDOW_VAR": str(var),
        "ONEWINDOW_KAFKA_PORT": str(port),
        "ONEWINDOW_KAFKA_CONTROLLER_PORT": str(free_port()),
        "ONEWINDOW_READY_TIMEOUT": "180",
    }
    for name in ("ONEWINDOW_KAFKA", "ONEWINDOW_TOPIC_PREFIX"):
        env.pop(name, None)
    subprocess.run([str(INFRA), "up", "--secure", "--kafka-only"], env=env, check=True, timeout=900)
    try:
        yield SecuredKafka(f"127.0.0.1:{port}", var / "kafka-secure")
    finally:
        subprocess.run([str(INFRA), "down", "--kafka-only"], env=env, check=False, timeout=120)
