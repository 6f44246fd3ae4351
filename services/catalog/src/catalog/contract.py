"""The catalog's contract: what it consumes, emits and owns (checked by tests/test_service_contracts.py).

The catalog is where offices and services begin: it consumes nothing.
"""

from __future__ import annotations

from contracts import catalog

# the events this service's router handles
CONSUMES = ()

# the events it publishes, through its outbox or its office log
EMITS = (
    catalog.AuditRecorded,
    catalog.OfficeAlertRecipientsSet,
    catalog.OfficeConfigured,
    catalog.ServicePublished,
    catalog.ServiceRetired,
)

# the collections of its database (the kit's `_*` ones aside)
OWNS = ("audit", "office_settings", "offices", "services", "staff")
