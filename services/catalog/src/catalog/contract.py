"""The catalog's contract: what it consumes, emits and owns (checked by tests/test_service_contracts.py).

The catalog is where offices and services begin; it reads back only its own audit stream, the
audit log being that stream's projection.
"""

from __future__ import annotations

from contracts import catalog

# the events this service's router handles
CONSUMES = (catalog.AuditRecorded,)

# the events it publishes, through its outbox or its office log
EMITS = (
    catalog.AuditRecorded,
    catalog.OfficeAlertRecipientsSet,
    catalog.OfficeConfigured,
    catalog.ServicePublished,
    catalog.ServiceRetired,
    catalog.StaffAccessRevoked,
)

# the collections of its database (the kit's `_*` ones aside)
OWNS = ("audit", "office_settings", "offices", "services", "staff")
