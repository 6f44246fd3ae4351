"""OneWindow's test bed, importable by tests/ and bench/ alike (a workspace package, no sys.path edits):

- `harness`: the whole system as processes (five services, ticketing twice) on real Kafka + store;
- `chaos`: traffic and reconciliation around a fault;
- `kafka_cluster`: a private three-broker KRaft cluster;
- `secured_kafka`: a private secured broker (SASL_SSL + ACLs) and each principal's settings;
- `browser`: the running system behind nginx for the browser tests, with a test SMS gateway;
- `simday`: the simulated office day (routing as ticketing does it) for the what-if and city-day runs.
"""

import importlib.util
import socket
import sys
from pathlib import Path
from types import ModuleType

from contracts.catalog import ServicePublished
from contracts.samples import sample_service

ROOT = Path(__file__).resolve().parents[4]  # the repository (the package is installed editable)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ops_command(name: str) -> ModuleType:
    """`ops/<name>.py` (a script, not a package) as a module, for the tests of the ops commands."""
    spec = importlib.util.spec_from_file_location(f"ops_{name}", ROOT / "ops" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def two_services(office_id: str, service_id: str, other_service_id: str) -> list[ServicePublished]:
    """The two services of a test office: one with an online alternative in zone z1 (letter А),
    one without in zone z3 (letter Б)."""
    return [
        sample_service(service_id, letter="А", office_id=office_id, zone_id="z1"),
        sample_service(other_service_id, letter="Б", office_id=office_id, zone_id="z3", online=False),
    ]
