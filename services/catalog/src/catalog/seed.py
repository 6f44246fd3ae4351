"""`python -m catalog.seed`: load the demo catalog and demo staff; safe to run again (skips what exists).

Every demo account has its own password, from ONEWINDOW_DEMO_PASSWORD_<USERNAME> (upper case, other
characters as "_"; deploy/local/secrets.sh writes one line per account into var/secrets.env). An
account without one takes ONEWINDOW_DEMO_PASSWORD when that is set, except the admin, who never
shares a password with the operators; otherwise one is generated and printed once (it is stored
only as a scrypt hash).
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

from contracts.catalog import OfficeConfigured
from servicekit.auth import Role
from servicekit.runtime import ServiceRuntime

from catalog import staff
from catalog.demo import demo_offices, demo_services
from catalog.domain import OfficeSpec, ServiceSpec
from catalog.settings import Settings
from catalog.store import CatalogStore
from catalog.usecases import Catalog

SEED = "seed"


@dataclass
class SeedReport:
    offices_created: list[str] = field(default_factory=list)
    services_created: list[str] = field(default_factory=list)
    staff_created: list[str] = field(default_factory=list)
    generated_passwords: dict[str, str] = field(default_factory=dict)


def demo_password_variable(username: str) -> str:
    """The environment variable holding a demo account's password."""
    return "ONEWINDOW_DEMO_PASSWORD_" + re.sub(r"[^A-Z0-9]", "_", username.upper())


def demo_staff(offices: list[OfficeConfigured]) -> list[tuple[str, Role, str | None]]:
    """(username, role, office): a city admin; per office a supervisor, a kiosk, a reception desk and an
    operator per window."""
    accounts: list[tuple[str, Role, str | None]] = [("admin", "admin", None)]
    for office in offices:
        accounts.append((f"supervisor-{office.office_id}", "supervisor", office.office_id))
        accounts.append((f"kiosk-{office.office_id}", "kiosk", office.office_id))
        accounts.append((f"reception-{office.office_id}", "reception", office.office_id))
        windows = sorted(window for zone in office.zones for window in zone.windows)
        accounts += [(f"operator-{office.office_id}-{n}", "operator", office.office_id) for n in windows]
    return accounts


async def seed(
    catalog: Catalog, demo_password: str | None, passwords: Mapping[str, str] | None = None
) -> SeedReport:
    """`passwords`: per username; `demo_password`: for the other accounts but the admin."""
    report = SeedReport()
    offices = demo_offices()
    for office in offices:
        if await catalog.store.office(office.office_id) is None:
            spec = OfficeSpec.model_validate(office.model_dump(exclude={"office_id", "version", "retired"}))
            await catalog.create_office(office.office_id, spec, by=SEED)
            report.offices_created.append(office.office_id)
    for service in demo_services():
        if await catalog.store.service(service.service_id) is None:
            service_spec = ServiceSpec.model_validate(service.model_dump(exclude={"service_id", "version"}))
            await catalog.create_service(service.service_id, service_spec, by=SEED)
            report.services_created.append(service.service_id)
    missing = [
        account for account in demo_staff(offices) if await catalog.store.staff_account(account[0]) is None
    ]
    for username, role, office_id in missing:
        password = (passwords or {}).get(username) or (demo_password if role != "admin" else None)
        if not password:
            password = report.generated_passwords[username] = staff.new_password()
        await catalog.add_staff(username, password, role, office_id, by=SEED)
        report.staff_created.append(username)
    return report


def passwords_from_environment(environ: Mapping[str, str]) -> dict[str, str]:
    accounts = demo_staff(demo_offices())
    return {
        username: environ[demo_password_variable(username)]
        for username, _, _ in accounts
        if environ.get(demo_password_variable(username))
    }


async def run(settings: Settings) -> SeedReport:
    runtime = ServiceRuntime(settings)
    store = CatalogStore(runtime.db)
    runtime.add_aggregates(store.offices, store.services)
    runtime.on_start.append(store.ensure_indexes)
    await runtime.start()
    try:
        report = await seed(
            Catalog(store, settings),
            os.environ.get("ONEWINDOW_DEMO_PASSWORD") or None,
            passwords_from_environment(os.environ),
        )
        # Publish now rather than waiting for the sweeper: the relay flushes its queue on stop.
        assert runtime.relay is not None
        await runtime.relay.sweep(min_age_seconds=0)
    finally:
        await runtime.stop()
    return report


def main() -> int:
    report = asyncio.run(run(Settings()))
    print(
        f"catalog seed: {len(report.offices_created)} offices, {len(report.services_created)} services, "
        f"{len(report.staff_created)} staff accounts created (existing ones left as they were)"
    )
    for username, password in report.generated_passwords.items():
        print(
            f"demo password of {username} (shown once; set {demo_password_variable(username)} to choose it): "
            f"{password}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
