"""Kafka over SASL_SSL: every client gets the TLS context (aiokafka refuses SSL without one)."""

from __future__ import annotations

import ssl

import certifi
import pytest
from faststream.kafka.security import parse_security
from prometheus_client import CollectorRegistry
from servicekit.kafka import EventProducer, create_broker
from servicekit.kafka_security import aiokafka_security, faststream_security
from servicekit.settings import ServiceSettings


def secured(**changes: object) -> ServiceSettings:
    return ServiceSettings.model_validate(
        {
            "ONEWINDOW_KAFKA": "kafka.example:9094",
            "ONEWINDOW_KAFKA_SASL_USERNAME": "ticketing",
            "ONEWINDOW_KAFKA_SASL_PASSWORD": "scram-secret",
            "ONEWINDOW_KAFKA_USE_SSL": True,
            "ONEWINDOW_KAFKA_SSL_CAFILE": certifi.where(),
            **changes,
        }
    )


async def test_the_outbox_producer_starts_on_sasl_ssl_with_the_configured_ca() -> None:
    producer = EventProducer(secured())._new()  # raised "ssl_context is mandatory" before
    context = producer.client._ssl_context
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.get_ca_certs()  # the CA file was loaded
    assert producer.client._security_protocol == "SASL_SSL"
    assert producer.client._sasl_mechanism == "SCRAM-SHA-512"


def test_the_faststream_broker_and_the_consumers_get_the_same_kind_of_context() -> None:
    settings = secured()
    broker_kwargs = parse_security(faststream_security(settings))
    consumer_kwargs = aiokafka_security(settings)
    for kwargs in (broker_kwargs, consumer_kwargs):
        assert kwargs["security_protocol"] == "SASL_SSL"
        assert isinstance(kwargs["ssl_context"], ssl.SSLContext)
        assert kwargs["sasl_plain_username"] == "ticketing"
    create_broker(settings, CollectorRegistry())


def test_plaintext_stays_plaintext_and_a_missing_ca_file_is_an_error_at_start() -> None:
    assert aiokafka_security(ServiceSettings()) == {}
    assert faststream_security(ServiceSettings()) is None
    plain_sasl = aiokafka_security(secured(ONEWINDOW_KAFKA_USE_SSL=False))
    assert plain_sasl["security_protocol"] == "SASL_PLAINTEXT"
    with pytest.raises(FileNotFoundError):
        aiokafka_security(secured(ONEWINDOW_KAFKA_SSL_CAFILE="/nowhere/ca.pem"))
