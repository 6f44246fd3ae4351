"""How the service's Kafka clients authenticate: SASL/SCRAM-SHA-512, over TLS when asked.

One TLS context (the CA from ONEWINDOW_KAFKA_SSL_CAFILE, or the system's) goes to every client:
FastStream's broker and the aiokafka producers and consumers. aiokafka refuses SSL without one
("ssl_context is mandatory"), so without this module SASL_SSL could not start at all.
"""

from __future__ import annotations

import ssl
from typing import Any

from faststream.security import BaseSecurity, SASLScram512

from servicekit.settings import ServiceSettings


def ssl_context(settings: ServiceSettings) -> ssl.SSLContext | None:
    """The TLS context for the brokers, or None when TLS is off. Certificates and host names are
    verified; a private CA (the local secured Kafka's) comes from `kafka_ssl_cafile`."""
    if not settings.kafka_use_ssl:
        return None
    context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def aiokafka_security(settings: ServiceSettings) -> dict[str, Any]:
    """Keyword arguments for AIOKafkaProducer / AIOKafkaConsumer."""
    context = ssl_context(settings)
    if not settings.kafka_sasl_username:
        return {"security_protocol": "SSL", "ssl_context": context} if context else {}
    return {
        "security_protocol": "SASL_SSL" if context else "SASL_PLAINTEXT",
        "ssl_context": context,
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": settings.kafka_sasl_username,
        "sasl_plain_password": settings.kafka_sasl_password.get_secret_value(),
    }


def faststream_security(settings: ServiceSettings) -> BaseSecurity | None:
    """The `security` of FastStream's KafkaBroker (same principal, same TLS context)."""
    context = ssl_context(settings)
    if not settings.kafka_sasl_username:
        return BaseSecurity(ssl_context=context) if context else None
    return SASLScram512(
        username=settings.kafka_sasl_username,
        password=settings.kafka_sasl_password.get_secret_value(),
        ssl_context=context,
        use_ssl=context is not None,
    )
