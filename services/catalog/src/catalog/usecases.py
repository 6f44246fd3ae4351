"""What the catalog does: load -> decide (domain) -> write state + events; shared by API, seed, republish."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts import Envelope, EventData
from contracts.catalog import (
    AuditRecorded,
    OfficeAlertRecipientsSet,
    OfficeConfigured,
    ServicePublished,
    ServiceRetired,
    StaffAccessRevoked,
)
from servicekit.auth import Principal, Role, issue_token, subject_ref
from servicekit.events import Emitter
from servicekit.logging import get_logger
from servicekit.sealing import Sealer, operator_ref
from servicekit.store import AlreadyExists, Document

from catalog import domain, staff
from catalog.domain import OfficeSpec, ServiceSpec
from catalog.settings import Settings
from catalog.store import CatalogStore, OfficeRecord, ServiceRecord

log = get_logger("catalog")


@dataclass(frozen=True)
class SignedIn:
    access_token: str
    role: Role
    office_id: str | None


class Catalog:
    def __init__(self, store: CatalogStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.emitter = Emitter(settings.service_name)
        self.limiter = staff.SignInLimiter(
            settings.signin_max_failures,
            settings.signin_window_seconds,
            max_client_failures=settings.signin_max_client_failures,
        )

    def _event(self, data: EventData, *, office_id: str, aggregate_id: str, version: int) -> Envelope:
        return self.emitter.event(
            data, office_id=office_id, aggregate_id=aggregate_id, aggregate_version=version
        )

    # ------------------------------------------------------------ offices

    async def create_office(self, office_id: str, spec: OfficeSpec, *, by: str) -> OfficeRecord:
        if await self.store.office(office_id) is not None:
            raise AlreadyExists(f"office {office_id} exists: update it with its version")
        office = domain.configure_office(office_id, spec, current=None, expected_version=None)
        record = await self.store.create_office(self._office_event(office), by=by)
        log.info("office created", office_id=office_id, version=1, by=by)
        return record

    def _office_event(self, office: OfficeConfigured) -> Envelope:
        return self._event(
            office, office_id=office.office_id, aggregate_id=office.office_id, version=office.version
        )

    async def update_office(
        self, office_id: str, spec: OfficeSpec, *, version: int, by: str, actor: Principal | None = None
    ) -> OfficeRecord:
        async def decide(current: OfficeRecord) -> Envelope:
            office = domain.configure_office(
                office_id,
                spec,
                current=current.office,
                expected_version=version,
                services_here=await self.store.active_services_in(office_id),
            )
            return self._office_event(office)

        def audited(current: OfficeRecord, event: Envelope) -> list[Envelope]:
            # The audit entry travels in the same write as the new configuration (its outbox).
            if actor is None:
                return []
            before, after = current.office.model_dump(mode="json"), event.data
            changed = sorted(key for key in after if key != "version" and after[key] != before.get(key))
            return [
                self.audit_event(
                    actor,
                    "office.settings_changed",
                    "office",
                    office_id,
                    office_id,
                    {key: before.get(key) for key in changed},
                    {key: after[key] for key in changed},
                )
            ]

        record = await self.store.change_office(office_id, decide, by=by, also=audited)
        log.info("office updated", office_id=office_id, version=record.version, by=by)
        return record

    async def retire_office(self, office_id: str, *, version: int, by: str) -> OfficeRecord:
        async def decide(current: OfficeRecord) -> Envelope:
            services_here = await self.store.active_services_in(office_id)
            office = domain.retire_office(
                current.office, expected_version=version, services_here=services_here
            )
            return self._office_event(office)

        record = await self.store.change_office(office_id, decide, by=by)
        log.info("office retired", office_id=office_id, version=record.version, by=by)
        return record

    # ------------------------------------------------------------ services

    def _service_event(self, data: ServicePublished | ServiceRetired) -> Envelope:
        # Services are city-wide: the envelope carries the city; the topic is keyed by service id.
        return self._event(
            data, office_id=self.settings.city_id, aggregate_id=data.service_id, version=data.version
        )

    async def _decide_published(
        self, service_id: str, spec: ServiceSpec, current: ServiceRecord | None, version: int | None
    ) -> Envelope:
        # Only what the rules look at: the offices named, the services printing the same letter.
        offices = {
            record.office.office_id: record.office
            for offering in spec.offerings
            if (record := await self.store.office(offering.office_id)) is not None
        }
        published = domain.publish_service(
            service_id,
            spec,
            current=current.service if current else None,
            retired=current.retired if current else False,
            expected_version=version,
            offices=offices,
            active_services=await self.store.active_services_with_letter(spec.letter),
        )
        return self._service_event(published)

    async def create_service(self, service_id: str, spec: ServiceSpec, *, by: str) -> ServiceRecord:
        if await self.store.service(service_id) is not None:
            raise AlreadyExists(f"service {service_id} exists: update it with its version")
        event = await self._decide_published(service_id, spec, None, None)
        record = await self.store.create_service(event, by=by)
        log.info("service created", service_id=service_id, version=1, by=by)
        return record

    async def update_service(
        self, service_id: str, spec: ServiceSpec, *, version: int, by: str
    ) -> ServiceRecord:
        async def decide(current: ServiceRecord) -> Envelope:
            return await self._decide_published(service_id, spec, current, version)

        record = await self.store.change_service(service_id, decide, by=by)
        log.info("service updated", service_id=service_id, version=record.version, by=by)
        return record

    async def retire_service(
        self, service_id: str, *, version: int, reason: str | None, by: str
    ) -> ServiceRecord:
        async def decide(current: ServiceRecord) -> Envelope:
            retired = domain.retire_service(
                current.service, retired=current.retired, expected_version=version, reason=reason
            )
            return self._service_event(retired)

        record = await self.store.change_service(service_id, decide, by=by)
        log.info("service retired", service_id=service_id, version=record.version, by=by)
        return record

    # ------------------------------------------------------------ republish

    async def republish(self, publish: Callable[[Envelope], Awaitable[None]]) -> int:
        """Send every office's and service's current state events again, unchanged (same event_id,
        same aggregate_version), so a consumer that starts from nothing can rebuild the catalog."""
        sent = 0
        for office in await self.store.all_offices():
            await publish(office.event)
            sent += 1
        for service in await self.store.all_services():
            for event in service.state_events():
                await publish(event)
                sent += 1
        log.info("catalog republished", events=sent)
        return sent

    # ------------------------------------------------------------ staff

    async def add_staff(
        self,
        username: str,
        password: str,
        role: Role,
        office_id: str | None,
        *,
        by: str,
        actor: Principal | None = None,
    ) -> None:
        """A new account; with an `actor` (a person, not the seed) the change is audited."""
        if role in staff.ROLES_WITH_OFFICE and not office_id:
            raise domain.InvalidField("office_id", f"a {role} account belongs to one office")
        if office_id is not None and await self.store.office(office_id) is None:
            raise domain.InvalidField("office_id", f"unknown office {office_id}")
        hashed = await asyncio.to_thread(staff.hash_password, password)
        account = {"_id": username, "role": role, "office_id": office_id, **hashed.as_document()}
        after = {"role": role, "office_id": office_id, "disabled": False}
        events = (
            [self.audit_event(actor, "staff.created", "staff", username, office_id, {}, after)]
            if actor is not None
            else []
        )
        if not await self.store.add_staff(account, events):
            raise staff.UsernameTaken(f"username {username} is taken")
        log.info("staff account created", username=username, role=role, office_id=office_id, by=by)

    async def sign_in(self, username: str, password: str, *, client: str) -> SignedIn:
        self.limiter.check(username, client)
        account = await self.store.staff_account(username)
        if account:
            salt, digest = account["salt"], account["password_hash"]
            scheme = account.get("hash_scheme", "scrypt-16384-8-1")
        else:
            dummy = await asyncio.to_thread(staff.dummy_hash)
            salt, digest, scheme = dummy.salt, dummy.digest, staff.SCHEME
        matches = await asyncio.to_thread(staff.password_matches, password, salt, digest, scheme)
        # A disabled account fails like a wrong password: no hint to whoever tries it.
        if account is None or not matches or account.get("disabled"):
            self.limiter.failed(username, client)
            log.warning("sign-in failed", username=username, client=client)
            raise staff.SignInFailed()
        self.limiter.succeeded(username, client)
        token = issue_token(
            self.settings.jwt_secret.get_secret_value(),
            subject=username,
            role=account["role"],
            office_id=account["office_id"],
        )
        return SignedIn(token, account["role"], account["office_id"])

    # ------------------------------------------------------------ staff administration

    def operator_ref(self, username: str) -> str:
        return operator_ref(
            username,
            self.settings.operator_ref_key.get_secret_value(),
            self.settings.jwt_secret.get_secret_value(),
        )

    async def staff_list(self, office_id: str | None) -> list[dict[str, Any]]:
        return [
            {
                "username": doc["_id"],
                "role": doc["role"],
                "office_id": doc.get("office_id"),
                "disabled": bool(doc.get("disabled")),
                "created_at": doc.get("created_at"),
                "operator_ref": self.operator_ref(doc["_id"]),
            }
            for doc in await self.store.staff_of(office_id)
        ]

    async def staff_member(self, username: str) -> dict[str, Any]:
        account = await self.store.staff_account(username)
        if account is None:
            raise staff.UnknownStaff(f"no staff account {username}")
        return account

    def _revoked(self, username: str, reason: str) -> tuple[datetime, Envelope]:
        """Every token of `username` issued until now stops working (StaffAccessRevoked)."""
        at = self.emitter.clock.now()
        ref = subject_ref(self.settings.jwt_secret.get_secret_value(), username)
        data = StaffAccessRevoked(subject_ref=ref, revoked_at=at, reason=reason)
        event = self.emitter.event(
            data, office_id=self.settings.city_id, aggregate_id=ref, aggregate_version=1, occurred_at=at
        )
        return at, event

    async def _change_staff(
        self,
        username: str,
        actor: Principal,
        action: str,
        change: Callable[[Document], tuple[dict[str, Any], dict[str, Any], dict[str, Any]] | None],
        revoke: str | None,
    ) -> Document:
        """One write of the account: the changed fields, its StaffAccessRevoked (`revoke`: the
        reason) and its AuditRecorded, the events in the account's outbox. `change(account)` gives
        (fields, before, after), or None when there is nothing to change."""
        await self.staff_member(username)

        def decide(account: Document) -> tuple[Document, list[Envelope]]:
            changed = change(account)
            if changed is None:
                return {}, []
            fields, before, after = changed
            events = []
            if revoke is not None:
                fields["revoked_at"], revoked = self._revoked(username, revoke)
                events.append(revoked)
            office_id = fields.get("office_id", account.get("office_id"))
            events.append(self.audit_event(actor, action, "staff", username, office_id, before, after))
            return fields, events

        account = await self.store.change_staff(username, decide)
        log.info("staff account changed", username=username, action=action, by=actor.subject)
        return account

    async def set_disabled(self, username: str, disabled: bool, *, actor: Principal) -> None:
        if username == actor.subject and disabled:
            raise staff.SelfLockout("you cannot disable your own account")

        def change(account: Document) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]] | None:
            before = bool(account.get("disabled"))
            if before == disabled:
                return None
            return {"disabled": disabled}, {"disabled": before}, {"disabled": disabled}

        action = "staff.disabled" if disabled else "staff.enabled"
        await self._change_staff(username, actor, action, change, "disabled" if disabled else None)

    async def reset_password(self, username: str, *, actor: Principal) -> str:
        """A new random password for the account (shown once to the admin, never stored in clear);
        the tokens the account holds stop working."""
        password = staff.new_password()
        hashed = await asyncio.to_thread(staff.hash_password, password)

        def change(_: Document) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
            fields = {**hashed.as_document(), "password_changed_at": self.emitter.clock.now()}
            return fields, {}, {"password": "reset"}

        await self._change_staff(username, actor, "staff.password_reset", change, "password_reset")
        return password

    async def change_role(
        self, username: str, role: Role, office_id: str | None, *, actor: Principal
    ) -> None:
        """Another role or office for the account; the tokens it holds (with the old role) stop working."""
        if role in staff.ROLES_WITH_OFFICE and not office_id:
            raise domain.InvalidField("office_id", f"a {role} account belongs to one office")
        if office_id is not None and await self.store.office(office_id) is None:
            raise domain.InvalidField("office_id", f"unknown office {office_id}")
        if username == actor.subject:
            raise staff.SelfLockout("you cannot change your own role")

        def change(account: Document) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]] | None:
            before = {"role": account["role"], "office_id": account.get("office_id")}
            after = {"role": role, "office_id": office_id}
            return None if before == after else (dict(after), before, after)

        await self._change_staff(username, actor, "staff.role_changed", change, "role_changed")

    async def revoked_at(self, subject: str, ref: str) -> datetime | None:
        """servicekit.auth.Revocations from the accounts themselves (the catalog's own tokens)."""
        account = await self.store.staff_account(subject)
        return account.get("revoked_at") if account else None

    # ------------------------------------------------------------ the audit log

    def audit_event(
        self,
        actor: Principal,
        action: str,
        target_kind: str,
        target_id: str,
        office_id: str | None,
        before: Mapping[str, Any],
        after: Mapping[str, Any],
    ) -> Envelope:
        """One audit entry as its AuditRecorded: written in the outbox of the change it records, and
        projected into the audit log from the catalog.audit topic (project_audit)."""
        audit_id = f"au-{uuid.uuid4().hex}"
        data = AuditRecorded(
            audit_id=audit_id,
            actor=actor.subject,
            actor_role=actor.role,
            action=action,
            target_kind=target_kind,
            target_id=target_id,
            before=dict(before),
            after=dict(after),
        )
        return self.emitter.event(
            data,
            office_id=office_id or self.settings.city_id,
            aggregate_id=audit_id,
            aggregate_version=1,
            occurred_at=self.emitter.clock.now(),
        )

    async def project_audit(self, events: list[tuple[Envelope, AuditRecorded]]) -> None:
        """The audit log's entries from the catalog.audit stream (idempotent by audit_id)."""
        city = self.settings.city_id
        await self.store.project_audit(
            [
                {
                    "_id": data.audit_id,
                    "at": envelope.occurred_at,
                    "office_id": None if envelope.office_id == city else envelope.office_id,
                    **data.model_dump(exclude={"audit_id"}),
                }
                for envelope, data in events
            ]
        )

    async def audit_log(
        self,
        *,
        office_id: str | None,
        actor: str | None,
        action: str | None,
        target_id: str | None,
        since: datetime | None,
        until: datetime | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        query: dict[str, Any] = {}
        for key, value in (
            ("office_id", office_id),
            ("actor", actor),
            ("action", action),
            ("target_id", target_id),
        ):
            if value is not None:
                query[key] = value
        if since is not None or until is not None:
            query["at"] = {
                **({"$gte": since} if since is not None else {}),
                **({"$lt": until} if until is not None else {}),
            }
        entries = await self.store.audit_entries(query, limit)
        return [{"audit_id": entry.pop("_id"), **entry} for entry in entries]

    # ------------------------------------------------------------ office settings: alert recipients

    async def alert_recipients(self, office_id: str) -> list[str]:
        settings = await self.store.office_settings_of(office_id)
        return list(settings["alert_recipients"]) if settings else []

    async def set_alert_recipients(
        self, office_id: str, recipients: list[str], *, actor: Principal
    ) -> list[str]:
        """Who gets the office's SLA and low-rating e-mails; the notifier learns them sealed."""
        if await self.store.office(office_id) is None:
            raise domain.InvalidField("office_id", f"unknown office {office_id}")
        if not self.settings.notifier_public_key:
            raise domain.InvalidField("recipients", "the notifier's public key is not configured here")
        wanted = list(dict.fromkeys(address.strip().lower() for address in recipients))
        sealer = Sealer(self.settings.notifier_public_key)
        sealed = [sealer.seal(a) for a in wanted]

        def events(current: Document | None) -> list[Envelope]:
            before = list(current["alert_recipients"]) if current else []
            told = self._event(
                OfficeAlertRecipientsSet(office_id=office_id, recipients_sealed=sealed),
                office_id=office_id,
                aggregate_id=f"{office_id}.alert-recipients",
                version=int(current["rev"]) + 1 if current else 1,
            )
            audited = self.audit_event(
                actor,
                "office.alert_recipients_set",
                "office",
                office_id,
                office_id,
                {"alert_recipients": [_masked(a) for a in before]},
                {"alert_recipients": [_masked(a) for a in wanted]},
            )
            return [told, audited]

        await self.store.save_alert_recipients(office_id, wanted, events)
        return wanted


def _masked(address: str) -> str:
    """An e-mail as the audit log shows it: enough to tell addresses apart, not to write to them."""
    name, _, domain_part = address.partition("@")
    return f"{name[:1]}***@{domain_part}"
