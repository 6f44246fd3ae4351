"""The whole system as separate processes: five services (ticketing twice) on real Kafka + store.

Used by the system and fault tests and by the city-day benchmark; driven only over HTTP and the
event stream. Each System gets its own topic prefix and databases, so runs never see each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka.admin import AIOKafkaAdminClient
from contracts.samples import sample_office
from contracts.topics import create_topics
from pymongo import AsyncMongoClient
from servicekit.auth import issue_token
from servicekit.sealing import generate_keypair

from testbed import ROOT, free_port, two_services
from testbed.kafka_cluster import KafkaCluster
from testbed.secured_kafka import SecuredKafka

SERVICES = ("catalog", "ticketing", "appointments", "feedback", "notifier")


@dataclass
class Instance:
    service: str
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    env: dict[str, str] = field(default_factory=dict)  # this instance's own settings

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class System:
    kafka: str = field(default_factory=lambda: os.environ.get("ONEWINDOW_KAFKA", "127.0.0.1:9092"))
    mongo_url: str = field(
        default_factory=lambda: os.environ.get("ONEWINDOW_MONGO_URL", "mongodb://127.0.0.1:27017")
    )
    ticketing_replicas: int = 2
    # As deployed: the notifier's messages and the hall's calls in two processes (NOTIFIER_CONSUMERS);
    # `board_url()` is the one whose screens get a call as soon as it is written.
    notifier_board_process: bool = True
    partitions: int = 3
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    extra_env: dict[str, str] = field(default_factory=dict)
    instances: list[Instance] = field(default_factory=list)
    # A Kafka of this System's own (started by the caller): broker faults are injected there only.
    cluster: KafkaCluster | None = None
    # A secured broker (SASL_SSL + ACLs): each service signs in as its own principal. Its topics are
    # the unprefixed ones `infra.sh up --secure` created and the ACLs name; they go with the broker.
    secured: SecuredKafka | None = None

    def __post_init__(self) -> None:
        if self.cluster is not None:
            self.kafka = self.cluster.bootstrap
        self.prefix = f"sys{self.run_id}."
        if self.secured is not None:
            self.kafka = self.secured.bootstrap
            self.prefix = ""
        self.public_key, self.private_key = generate_keypair()
        self.jwt_secret = uuid.uuid4().hex * 2
        self.log_dir = ROOT / "var" / "log" / f"system-{self.run_id}"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for service in SERVICES:
            for replica in range(self.ticketing_replicas if service == "ticketing" else 1):
                port = free_port()
                self.instances.append(Instance(service, port, self.log_dir / f"{service}-{replica}.log"))
        if self.notifier_board_process:
            [notifier] = self.of("notifier")
            notifier.env["NOTIFIER_CONSUMERS"] = "messages"
            board = Instance("notifier", free_port(), self.log_dir / "notifier-board.log")
            board.env["NOTIFIER_CONSUMERS"] = "board"
            self.instances.append(board)

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
            # Poison reaches the dead letters in well under a second (3 retries from 50 ms).
            "ONEWINDOW_HANDLER_BACKOFF": "0.05",
            "NOTIFIER_PRIVATE_KEY": self.private_key,
            "NOTIFIER_CHANNEL": "log",
            "NOTIFIER_LOG_PATH": str(self.log_dir / "notifications.log"),
            "NOTIFIER_QUIET_HOURS": "",
            "NOTIFIER_NIGHT_HOURS": "",
            # Check-in opens 15 min before a slot: make a checked-in appointment due at once.
            "TICKETING_APPOINTMENT_EARLY_MINUTES": "20",
            f"{upper}_HTTP_PORT": str(port),
            f"{upper}_MONGO_DB": self.database(service),
            **(self.secured.env(service) if self.secured is not None else {}),
            **self.extra_env,
        }
        return env

    def of(self, service: str) -> list[Instance]:
        return [i for i in self.instances if i.service == service]

    def url(self, service: str, replica: int = 0) -> str:
        return self.of(service)[replica].url

    def board_url(self) -> str:
        """The notifier process the hall's screens watch (the board's, when it runs apart)."""
        return self.of("notifier")[-1].url

    def token(self, role: str, office_id: str | None, subject: str = "system-test") -> str:
        return issue_token(self.jwt_secret, subject=subject, role=role, office_id=office_id)  # type: ignore[arg-type]

    async def create_topics(self) -> None:
        if self.secured is None:  # the secured broker's topics come from `infra.sh up --secure`
            await create_topics(self.kafka, self.partitions, self.prefix)

    def start_instance(self, instance: Instance) -> None:
        log = instance.log.open("ab")
        instance.process = subprocess.Popen(
            [sys.executable, "-m", instance.service],
            env={**self.env(instance.service, instance.port), **instance.env},
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
            sys.executable,
            "-m",
            "catalog.seed",
            env=self.env("catalog", self.of("catalog")[0].port),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
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
            self._wait_stopped(instance, sig)

    @staticmethod
    def _wait_stopped(instance: Instance, sig: int) -> None:
        """A process still running after the 30 s a Kubernetes stop grants is killed, and fails the
        caller with the end of its log (the runtime names its slow stop step there)."""
        assert instance.process is not None
        try:
            instance.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            instance.process.kill()
            instance.process.wait()
            raise RuntimeError(
                f"{instance.service} on port {instance.port} did not stop within 30 s of signal {sig}: "
                f"{instance.log.read_text(errors='replace')[-3000:]}"
            ) from None

    async def restart(self, instance: Instance) -> None:
        self.kill(instance)
        self.start_instance(instance)
        await self.wait_ready(instance)

    def stop(self) -> None:
        """SIGTERM to every instance at once, then wait for each: all are stopped even when one
        overran (which then fails the caller)."""
        running = [i for i in self.instances if i.process is not None and i.process.poll() is None]
        for instance in running:
            assert instance.process is not None
            instance.process.send_signal(signal.SIGTERM)
        overran: list[str] = []
        for instance in running:
            try:
                self._wait_stopped(instance, signal.SIGTERM)
            except RuntimeError as error:
                overran.append(str(error))
        if overran:
            raise RuntimeError("\n\n".join(overran))

    async def destroy(self) -> None:
        """Delete this System's topics and databases (ONEWINDOW_KEEP_SYSTEM=1 keeps them to look at).

        The shared broker recovers every partition after a kill -9: each topic left behind slows that."""
        if os.environ.get("ONEWINDOW_KEEP_SYSTEM"):
            return
        if self.secured is None:  # a secured broker's (unprefixed) topics go with the broker
            admin = AIOKafkaAdminClient(bootstrap_servers=self.kafka)
            await admin.start()
            try:
                mine = [topic for topic in await admin.list_topics() if topic.startswith(self.prefix)]
                if mine:
                    await admin.delete_topics(mine)
            finally:
                await admin.close()
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            self.mongo_url, serverSelectionTimeoutMS=5000
        )
        try:
            for service in SERVICES:
                await client.drop_database(self.database(service))
        finally:
            await client.close()

    async def kill_broker(self) -> None:
        """kill -9 the broker of this System's own cluster (never the shared one other runs use)."""
        if self.cluster is None:
            raise RuntimeError("System(cluster=KafkaCluster(brokers=1)) is needed to kill a broker")
        for node in range(1, self.cluster.brokers + 1):
            await self.cluster.kill(node)

    async def restart_broker(self) -> None:
        """`deploy/local/infra.sh up` on the cluster: restarts what is down, waits until it answers."""
        if self.cluster is None:
            raise RuntimeError("System(cluster=KafkaCluster(brokers=1)) is needed to restart a broker")
        await self.cluster.restart()

    def reconcile_args(self) -> list[str]:
        """Arguments of `ops/reconcile.py` that point it at this System."""
        return [
            "--kafka",
            self.kafka,
            "--mongo-url",
            self.mongo_url,
            "--prefix",
            self.prefix,
            "--db-template",
            f"sys{self.run_id}_{{service}}",
        ]

    async def reconcile(self, *extra: str) -> tuple[int, dict[str, Any]]:
        """Run the reconciliation command (as an operator would) and parse its JSON report."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(ROOT / "ops" / "reconcile.py"),
            *self.reconcile_args(),
            *extra,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        output, errors = await process.communicate()
        if process.returncode not in (0, 1):
            raise RuntimeError(f"reconcile crashed ({process.returncode}): {errors.decode()[-3000:]}")
        return int(process.returncode or 0), json.loads(output)

    async def settle(self, *extra: str, timeout: float = 120) -> dict[str, Any]:
        """Reconcile until clean; the last report (with its discrepancies) when the deadline passes."""
        deadline = time.monotonic() + timeout
        while True:
            code, report = await self.reconcile(*extra)
            if code == 0 or time.monotonic() > deadline:
                return report
            await asyncio.sleep(2)


# ------------------------------------------------------------------ an office open around the clock


@dataclass(frozen=True)
class Office:
    """A test office open 00:00-24:00 (tests run at any hour): a service in zone z1, another in z3."""

    office_id: str
    service_id: str
    other_service_id: str

    def operator(self, window_no: int) -> str:
        return f"operator-{self.office_id}-{window_no}"


class Api:
    """The System's HTTP APIs as staff and citizens use them (tokens minted with the System's key)."""

    def __init__(self, system: System, client: httpx.AsyncClient) -> None:
        self.system = system
        self.client = client
        self._replica = 0
        self.issued: list[str] = []  # every ticket id the API acknowledged (201), in order

    def _headers(
        self, role: str | None, office_id: str | None, subject: str = "system-test"
    ) -> dict[str, str]:
        if role is None:
            return {}
        return {"Authorization": f"Bearer {self.system.token(role, office_id, subject)}"}

    def ticketing(self) -> str:
        """Round robin over the ticketing replicas that are alive (as a load balancer would)."""
        alive = [i for i in self.system.of("ticketing") if i.process is None or i.process.poll() is None]
        self._replica += 1
        return alive[self._replica % len(alive)].url

    async def call(
        self,
        method: str,
        url: str,
        *,
        role: str | None = None,
        office_id: str | None = None,
        subject: str = "system-test",
        **kwargs: Any,
    ) -> httpx.Response:
        headers = self._headers(role, office_id, subject)
        return await self.client.request(method, url, headers=headers, timeout=15, **kwargs)

    # -- catalog

    async def create_office(self, office_id: str | None = None) -> Office:
        office_id = office_id or f"sys-{uuid.uuid4().hex[:6]}"
        office = Office(office_id, f"{office_id}-cert", f"{office_id}-benefit")
        catalog = self.system.url("catalog")
        spec = sample_office(office_id, all_day=True).model_dump(
            mode="json", exclude={"office_id", "version", "retired"}
        )
        made = await self.call(
            "POST", f"{catalog}/admin/offices", role="admin", json={"office_id": office_id, **spec}
        )
        assert made.status_code == 201, made.text
        services = two_services(office_id, office.service_id, office.other_service_id)
        for service in services:
            body = service.model_dump(mode="json", exclude={"service_id", "version"})
            made = await self.call(
                "POST",
                f"{catalog}/admin/services",
                role="admin",
                json={"service_id": service.service_id, **body},
            )
            assert made.status_code == 201, made.text
        await self._wait_known(office)
        return office

    async def _wait_known(self, office: Office, timeout: float = 60) -> None:
        """Ticketing, appointments and the notifier learn an office from catalog events."""
        deadline = time.monotonic() + timeout
        slots = (
            f"{self.system.url('appointments')}/offices/{office.office_id}/services/{office.service_id}/slots"
        )
        while True:
            known = (
                await self._ticketing_knows(office)
                and (
                    await self.call("GET", f"{self.system.url('notifier')}/boards/{office.office_id}")
                ).status_code
                == 200
                and (await self.call("GET", slots, params={"days": 1})).status_code == 200
            )
            if known:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the services did not learn office {office.office_id} in {timeout}s")
            await asyncio.sleep(0.3)

    async def _ticketing_knows(self, office: Office) -> bool:
        # Window 12 (zone z4) opened for both services proves the office and the services arrived.
        window = {
            "office_id": office.office_id,
            "window_no": 12,
            "service_ids": [office.service_id, office.other_service_id],
        }
        for instance in self.system.of("ticketing"):
            opened = await self.call(
                "POST",
                f"{instance.url}/windows/open",
                role="operator",
                office_id=office.office_id,
                subject=office.operator(12),
                json=window,
            )
            if opened.status_code != 200:
                return False
            await self.call(
                "POST",
                f"{instance.url}/windows/{office.office_id}/12/close",
                role="operator",
                office_id=office.office_id,
                subject=office.operator(12),
            )
        return True

    # -- ticketing

    async def issue(self, office: Office, service_id: str | None = None, **extra: Any) -> dict[str, Any]:
        response = await self.call(
            "POST",
            f"{self.ticketing()}/tickets",
            role="kiosk",
            office_id=office.office_id,
            json={"office_id": office.office_id, "service_id": service_id or office.service_id, **extra},
        )
        assert response.status_code == 201, response.text
        self.issued.append(response.json()["ticket_id"])
        return dict(response.json())

    # -- appointments

    async def book_next_slot(self, office: Office, name: str, phone: str) -> dict[str, Any]:
        """Books the next slot still to come (check-in opens before it in the 24/7 office)."""
        appointments = self.system.url("appointments")
        listed = await self.call(
            "GET",
            f"{appointments}/offices/{office.office_id}/services/{office.service_id}/slots",
            params={"days": 2},
        )
        assert listed.status_code == 200, listed.text
        now = datetime.now(UTC)
        slot = next(s for s in listed.json()["slots"] if datetime.fromisoformat(s["slot_start"]) > now)
        booked = await self.call(
            "POST",
            f"{appointments}/appointments",
            json={
                "office_id": office.office_id,
                "service_id": office.service_id,
                "slot_start": slot["slot_start"],
                "name": name,
                "phone": phone,
            },
        )
        assert booked.status_code == 201, booked.text
        return dict(booked.json())

    async def window(self, office: Office, window_no: int, action: str, **body: Any) -> httpx.Response:
        """An operator's action at the window it works at (open, call-next, start, complete, ...)."""
        if action == "open":
            url = f"{self.ticketing()}/windows/open"
            body = {"office_id": office.office_id, "window_no": window_no, **body}
        else:
            url = f"{self.ticketing()}/windows/{office.office_id}/{window_no}/{action}"
        return await self.call(
            "POST",
            url,
            role="operator",
            office_id=office.office_id,
            subject=office.operator(window_no),
            json=body or None,
        )

    async def serve_next(self, office: Office, window_no: int, outcome: str = "served") -> dict[str, Any]:
        called = await self.window(office, window_no, "call-next")
        assert called.status_code == 200, called.text
        started = await self.window(office, window_no, "start")
        assert started.status_code == 200, started.text
        done = await self.window(office, window_no, "complete", outcome=outcome)
        assert done.status_code == 200, done.text
        return dict(called.json())

    async def supervisor_get(self, office: Office, service: str, path: str, **params: Any) -> httpx.Response:
        return await self.call(
            "GET",
            f"{self.system.url(service)}{path}",
            role="supervisor",
            office_id=office.office_id,
            params=params,
        )
