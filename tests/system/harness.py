"""The whole system as separate processes: five services (ticketing twice) on real Kafka + store.

Used by the system and fault tests and by the city-day benchmark; driven only over HTTP and the
event stream. Each System gets its own topic prefix and databases, so runs never see each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from contracts.topics import create_topics
from servicekit.auth import issue_token
from servicekit.sealing import generate_keypair

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("catalog", "ticketing", "appointments", "feedback", "notifier")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Instance:
    service: str
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class System:
    kafka: str = field(default_factory=lambda: os.environ.get("ONEWINDOW_KAFKA", "127.0.0.1:9092"))
    mongo_url: str = field(default_factory=lambda: os.environ.get("ONEWINDOW_MONGO_URL", "mongodb://127.0.0.1:27017"))
    ticketing_replicas: int = 2
    partitions: int = 3
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    extra_env: dict[str, str] = field(default_factory=dict)
    instances: list[Instance] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.prefix = f"sys{self.run_id}."
        self.public_key, self.private_key = generate_keypair()
        self.jwt_secret = uuid.uuid4().hex * 2
        self.log_dir = ROOT / "var" / "log" / f"system-{self.run_id}"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for service in SERVICES:
            for replica in range(self.ticketing_replicas if service == "ticketing" else 1):
                port = free_port()
                self.instances.append(Instance(service, port, self.log_dir / f"{service}-{replica}.log"))

    def database(self, service: str) -> str:
        return f"sys{self.run_id}_{service}"

    def env(self, service: str, port: int) -> dict[str, str]:
        upper = service.upper()
        env = {
            **os.environ,
            "ONEWINDOW_KAFKA": self.kafka,
            "ONEWINDOW_MONGO_URL": self.mongo_url,
            "ONEWINDOW_TOPIC_PREFIX": self.prefix,
            "ONEWINDOW_JWT_SECRET": self.jwt_secret,
            "ONEWINDOW_NOTIFIER_PUBLIC_KEY": self.public_key,
            "ONEWINDOW_PSEUDONYM_KEY": "system-test-pseudonyms",
            "ONEWINDOW_DEMO_PASSWORD": "system-test-password",
            "ONEWINDOW_OUTBOX_SWEEP_SECONDS": "0.5",
            "NOTIFIER_PRIVATE_KEY": self.private_key,
            "NOTIFIER_CHANNEL": "log",
            f"{upper}_HTTP_PORT": str(port),
            f"{upper}_MONGO_DB": self.database(service),
            **self.extra_env,
        }
        return env

    def of(self, service: str) -> list[Instance]:
        return [i for i in self.instances if i.service == service]

    def url(self, service: str, replica: int = 0) -> str:
        return self.of(service)[replica].url

    def token(self, role: str, office_id: str | None, subject: str = "system-test") -> str:
        return issue_token(self.jwt_secret, subject=subject, role=role, office_id=office_id)  # type: ignore[arg-type]

    async def create_topics(self) -> None:
        await create_topics(self.kafka, self.partitions, self.prefix)

    def start_instance(self, instance: Instance) -> None:
        log = instance.log.open("ab")
        instance.process = subprocess.Popen(
            [sys.executable, "-m", instance.service],
            env=self.env(instance.service, instance.port),
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )

    async def wait_ready(self, instance: Instance, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while True:
                if instance.process is not None and instance.process.poll() is not None:
                    raise RuntimeError(f"{instance.service} exited: {instance.log.read_text()[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{instance.url}/health/ready")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{instance.service} not ready: {instance.log.read_text()[-2000:]}")
                await asyncio.sleep(0.2)

    async def seed_catalog(self) -> None:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "catalog.seed", env=self.env("catalog", self.of("catalog")[0].port), cwd=ROOT,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"catalog.seed failed: {output.decode()[-2000:]}")

    async def start(self) -> None:
        await self.create_topics()
        for instance in self.instances:
            self.start_instance(instance)
        await asyncio.gather(*(self.wait_ready(i) for i in self.instances))

    def kill(self, instance: Instance, sig: int = signal.SIGKILL) -> None:
        if instance.process is not None and instance.process.poll() is None:
            instance.process.send_signal(sig)
            instance.process.wait(timeout=30)

    async def restart(self, instance: Instance) -> None:
        self.kill(instance)
        self.start_instance(instance)
        await self.wait_ready(instance)

    def stop(self) -> None:
        for instance in self.instances:
            self.kill(instance, signal.SIGTERM)
