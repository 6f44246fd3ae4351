"""Replication and partition defaults of contracts.topics (no broker needed)."""

from __future__ import annotations

import pytest
from contracts import topics


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ONEWINDOW_REPLICATION", "ONEWINDOW_MIN_INSYNC", "ONEWINDOW_PARTITIONS"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(("brokers", "expected"), [(1, (1, 1)), (2, (2, 1)), (3, (3, 2)), (5, (3, 2))])
def test_replication_follows_the_cluster_size(brokers: int, expected: tuple[int, int]) -> None:
    assert topics.replication_for(brokers) == expected


def test_environment_and_arguments_override_the_cluster_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEWINDOW_REPLICATION", "2")
    assert topics.replication_for(3) == (2, 1)
    monkeypatch.setenv("ONEWINDOW_MIN_INSYNC", "2")
    assert topics.replication_for(3) == (2, 2)
    assert topics.replication_for(5, replication=5, min_insync=3) == (5, 3)


def test_impossible_replication_is_refused() -> None:
    with pytest.raises(ValueError, match="needs 3 brokers"):
        topics.replication_for(1, replication=3)
    with pytest.raises(ValueError, match=r"min\.insync\.replicas 4"):
        topics.replication_for(3, min_insync=4)


def test_cli_defaults_to_twelve_partitions(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    async def fake_create(
        bootstrap: str, partitions: int, prefix: str, replication, min_insync, security=None
    ):  # type: ignore[no-untyped-def]
        seen.update(partitions=partitions, replication=replication)
        return []

    monkeypatch.setattr(topics, "create_topics", fake_create)
    assert topics.main(["create", "--bootstrap", "127.0.0.1:1"]) == 0
    assert seen == {"partitions": 12, "replication": None}
    monkeypatch.setenv("ONEWINDOW_PARTITIONS", "24")
    assert topics.main(["create", "--bootstrap", "127.0.0.1:1", "--replication", "3"]) == 0
    assert seen == {"partitions": 24, "replication": 3}


def test_the_topic_tool_signs_in_to_a_secured_cluster_like_the_services(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ssl

    import certifi
    from contracts.topics import _environment_security

    monkeypatch.setenv("ONEWINDOW_KAFKA_SASL_USERNAME", "admin")
    monkeypatch.setenv("ONEWINDOW_KAFKA_SASL_PASSWORD", "scram-secret")
    monkeypatch.setenv("ONEWINDOW_KAFKA_USE_SSL", "true")
    monkeypatch.setenv("ONEWINDOW_KAFKA_SSL_CAFILE", certifi.where())
    security = _environment_security()
    assert security["security_protocol"] == "SASL_SSL" and security["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (security["sasl_plain_username"], security["sasl_plain_password"]) == ("admin", "scram-secret")
    assert isinstance(security["ssl_context"], ssl.SSLContext) and security["ssl_context"].get_ca_certs()
    monkeypatch.delenv("ONEWINDOW_KAFKA_SASL_USERNAME")
    monkeypatch.delenv("ONEWINDOW_KAFKA_USE_SSL")
    assert _environment_security() == {}
