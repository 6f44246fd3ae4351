"""OneWindow's test bed, importable by tests/ and bench/ alike (a workspace package, no sys.path edits):

- `harness`: the whole system as processes (five services, ticketing twice) on real Kafka + store;
- `chaos`: traffic and reconciliation around a fault;
- `kafka_cluster`: a private three-broker KRaft cluster;
- `browser`: the running system behind nginx for the browser tests, with a test SMS gateway;
- `simday`: the simulated office day (routing as ticketing does it) for the what-if and city-day runs.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]  # the repository (the package is installed editable)
