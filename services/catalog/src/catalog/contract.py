"""What the catalog consumes, emits and owns, on one screen.

The catalog is where offices and services begin: it consumes nothing.

Checked against the router, the contracts registry and the stores by tests/test_service_contracts.py;
rendered into the README by `make docs`.
"""

from __future__ import annotations

from contracts.catalog import OfficeConfigured, ServicePublished, ServiceRetired

# the events this service's router handles
CONSUMES = ()

# the events it publishes, through its outbox or its office log
EMITS = (OfficeConfigured, ServicePublished, ServiceRetired)

# the collections of its database (the kit's `_*` ones aside)
OWNS = ("offices", "services", "staff")
