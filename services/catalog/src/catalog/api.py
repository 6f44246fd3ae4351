"""HTTP routes of the catalog: public reading, search and checklists; admin writes; staff sign-in."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from contracts.samples import sample_office, sample_service
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from servicekit.auth import Principal, Role, require, require_office
from servicekit.clients import client_address
from servicekit.idempotency import IdempotencyKeyHeader, Keys, request_digest
from servicekit.runtime import from_app_state
from servicekit.store import AlreadyExists, NotFound

from catalog import domain, search, staff
from catalog.printable import render_checklist
from catalog.store import OfficeRecord, ServiceRecord
from catalog.usecases import Catalog
from catalog.views import (
    Checklist,
    HistoryEntry,
    Lang,
    OfficeDetail,
    OfficeSummary,
    SearchHit,
    ServiceDetail,
    ServiceSummary,
    checklist_entries,
    office_detail,
    office_summary,
    service_detail,
    service_summary,
)

ERRORS: dict[type[Exception], int] = {
    domain.InvalidField: 422,
    domain.StaleVersion: 409,
    domain.LetterTaken: 409,
    domain.AlreadyRetired: 409,
    domain.StillInUse: 409,
    AlreadyExists: 409,
    staff.UsernameTaken: 409,
    staff.UnknownStaff: 404,
    staff.SelfLockout: 409,
    staff.SignInFailed: 401,
    staff.TooManyAttempts: 429,
}


CatalogDep = Annotated[Catalog, Depends(from_app_state("catalog", Catalog))]
Admin = Annotated[Principal, require("admin")]
Supervisor = Annotated[Principal, require("supervisor")]


def _city_admin(principal: Principal) -> Principal:
    """Changes that reach beyond one office (new offices, city-wide services, republishing) need an
    admin of the whole city; an admin bound to an office acts only on that office."""
    if principal.office_id is not None:
        raise HTTPException(
            403, detail=f"this needs a city-wide admin; your token is for office {principal.office_id}"
        )
    return principal


LangQuery = Annotated[Lang, Query(description="Language of the texts", examples=["ru"])]

_OFFICE_EXAMPLE = sample_office().model_dump(mode="json", exclude={"office_id", "version", "retired"})
_SERVICE_EXAMPLE = {
    **sample_service().model_dump(mode="json", exclude={"service_id", "version"}),
    "letter": "С",
    "code": "MUN-HOUSEHOLD",
}


# ---------------------------------------------------------------- request bodies


class OfficeCreate(domain.OfficeSpec):
    office_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$", examples=["kzn-vakhitov"])
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"office_id": "kzn-vakhitov", **_OFFICE_EXAMPLE}]}
    )


class OfficeUpdate(domain.OfficeSpec):
    version: int = Field(ge=1, description="The version you edited; a newer one in the catalog -> 409")
    model_config = ConfigDict(json_schema_extra={"examples": [{"version": 1, **_OFFICE_EXAMPLE}]})


class ServiceCreate(domain.ServiceSpec):
    service_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$", examples=["household-certificate"])
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"service_id": "household-certificate", **_SERVICE_EXAMPLE}]}
    )


class ServiceUpdate(domain.ServiceSpec):
    version: int = Field(ge=1, description="The version you edited; a newer one in the catalog -> 409")
    model_config = ConfigDict(json_schema_extra={"examples": [{"version": 1, **_SERVICE_EXAMPLE}]})


class Retire(BaseModel):
    version: int = Field(ge=1, examples=[2], description="The version you are retiring")
    reason: str | None = Field(default=None, max_length=500, examples=["Передано в МФЦ"])
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"version": 2, "reason": "Передано в другой офис"}]}
    )


class TokenRequest(BaseModel):
    username: str = Field(min_length=1, max_length=64, examples=["operator-kirov-1"])
    password: str = Field(min_length=1, max_length=200, examples=["correct horse battery staple"])
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"username": "operator-kzn-kirov-moskov-1", "password": "a long passphrase"}]
        }
    )


class TokenResponse(BaseModel):
    access_token: str = Field(examples=["eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9..."])
    token_type: str = Field(default="bearer", examples=["bearer"])
    role: Role = Field(examples=["operator"])
    office_id: str | None = Field(examples=["kzn-kirov-moskov"])
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...",
                    "token_type": "bearer",
                    "role": "operator",
                    "office_id": "kzn-kirov-moskov",
                }
            ]
        }
    )


class StaffCreate(BaseModel):
    username: str = Field(pattern=r"^[A-Za-z0-9_.-]{3,64}$", examples=["operator-kirov-5"])
    password: str = Field(
        min_length=staff.MIN_PASSWORD_LENGTH,
        max_length=200,
        examples=["a long passphrase"],
        description="At least 12 characters, not containing the username",
    )
    role: Role = Field(examples=["operator"])
    office_id: str | None = Field(
        default=None, examples=["kzn-kirov-moskov"], description="None: city-wide admin"
    )
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "username": "operator-kzn-kirov-moskov-13",
                    "password": "a long passphrase",
                    "role": "operator",
                    "office_id": "kzn-kirov-moskov",
                }
            ]
        },
    )

    @model_validator(mode="after")
    def _strong_enough(self) -> StaffCreate:
        problem = staff.password_problem(self.password, self.username)
        if problem:
            raise ValueError(problem)
        return self


class StaffCreated(BaseModel):
    username: str = Field(examples=["operator-kirov-5"])
    role: Role = Field(examples=["operator"])
    office_id: str | None = Field(examples=["kzn-kirov-moskov"])
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "username": "operator-kzn-kirov-moskov-13",
                    "role": "operator",
                    "office_id": "kzn-kirov-moskov",
                }
            ]
        }
    )


class Republished(BaseModel):
    events: int = Field(examples=[67], description="State events sent again")
    model_config = ConfigDict(json_schema_extra={"examples": [{"events": 67}]})


class StaffMember(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "username": "operator-kzn-kirov-moskov-3",
                    "role": "operator",
                    "office_id": "kzn-kirov-moskov",
                    "disabled": False,
                    "created_at": "2025-03-01T07:00:00Z",
                    "operator_ref": "3f9a0c1d2e4b5a6c",
                }
            ]
        }
    )
    username: str = Field(examples=["operator-kzn-kirov-moskov-3"])
    role: Role = Field(examples=["operator"])
    office_id: str | None = Field(examples=["kzn-kirov-moskov"])
    disabled: bool = Field(examples=[False])
    created_at: datetime | None = None
    operator_ref: str = Field(
        examples=["3f9a0c1d2e4b5a6c"], description="The pseudonym this account's work carries in events"
    )


class PasswordReset(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"username": "operator-kzn-kirov-moskov-3", "password": "q7Rk2vLx9TnWb4Pe"}]
        }
    )
    username: str = Field(examples=["operator-kzn-kirov-moskov-3"])
    password: str = Field(description="Shown once: hand it to the person, who signs in with it")


class AuditEntry(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "audit_id": "au-5b0c2f3e9d7a4e21",
                    "at": "2025-03-10T08:15:00Z",
                    "office_id": "kzn-kirov-moskov",
                    "actor": "admin-kzn-kirov-moskov",
                    "actor_role": "admin",
                    "action": "staff.disabled",
                    "target_kind": "staff",
                    "target_id": "operator-kzn-kirov-moskov-3",
                    "before": {"disabled": False},
                    "after": {"disabled": True},
                }
            ]
        }
    )
    audit_id: str
    at: datetime
    office_id: str | None
    actor: str = Field(examples=["admin-kzn-kirov-moskov"])
    actor_role: str = Field(examples=["admin"])
    action: str = Field(examples=["staff.disabled"])
    target_kind: str = Field(examples=["staff"])
    target_id: str = Field(examples=["operator-kzn-kirov-moskov-3"])
    before: dict[str, Any] = Field(examples=[{"disabled": False}])
    after: dict[str, Any] = Field(examples=[{"disabled": True}])


# ---------------------------------------------------------------- public

public = APIRouter(tags=["public"])


@public.get("/offices", summary="List the offices of the city", response_model=list[OfficeSummary])
async def list_offices(
    catalog: CatalogDep,
    lang: LangQuery = "ru",
    include_retired: Annotated[bool, Query(description="Also offices that no longer serve")] = False,
) -> list[OfficeSummary]:
    return [
        office_summary(record.office, lang)
        for record in await catalog.store.all_offices()
        if include_retired or not record.office.retired
    ]


@public.get("/offices/{office_id}", summary="An office: hours, zones and whether it is open now")
async def get_office(office_id: str, catalog: CatalogDep, lang: LangQuery = "ru") -> OfficeDetail:
    record = await catalog.store.office(office_id)
    if record is None:
        raise NotFound(f"no office {office_id}")
    return office_detail(record.office, lang)


@public.get(
    "/offices/{office_id}/services",
    summary="Services offered in an office, optionally of one category",
    response_model=list[ServiceSummary],
)
async def list_office_services(
    office_id: str,
    catalog: CatalogDep,
    category: Annotated[domain.Category | None, Query(examples=["municipal"])] = None,
    lang: LangQuery = "ru",
) -> list[ServiceSummary]:
    if await catalog.store.office(office_id) is None:
        raise NotFound(f"no office {office_id}")
    services = await catalog.store.active_services_in(office_id)
    return [
        service_summary(service, service.version, lang, office_id)
        for service in services
        if category is None or service.category == category
    ]


@public.get(
    "/services/search",
    summary="Find services by words in Russian, Tatar or English; typos are tolerated",
    response_model=list[SearchHit],
)
async def search_services(
    catalog: CatalogDep,
    q: Annotated[str, Query(min_length=1, max_length=200, examples=["справка о составе семьи"])],
    office_id: Annotated[str | None, Query(examples=["kzn-kirov-moskov"])] = None,
    lang: LangQuery = "ru",
    limit: Annotated[int, Query(ge=1, le=50, examples=[10])] = 10,
) -> list[SearchHit]:
    if office_id is None:
        services = await catalog.store.active_services()
    else:
        services = await catalog.store.active_services_in(office_id)
    return [
        SearchHit(
            **service_summary(hit.service, hit.service.version, lang, office_id).model_dump(),
            score=hit.score,
            offered_in=[offering.office_id for offering in hit.service.offerings],
        )
        for hit in search.search(q, services, limit=limit)
    ]


async def _service(catalog: Catalog, service_id: str) -> ServiceRecord:
    record = await catalog.store.service(service_id)
    if record is None:
        raise NotFound(f"no service {service_id}")
    return record


@public.get("/services/{service_id}", summary="A service with its checklist (retired ones too, marked)")
async def get_service(service_id: str, catalog: CatalogDep, lang: LangQuery = "ru") -> ServiceDetail:
    record = await _service(catalog, service_id)
    return service_detail(record.service, record.version, record.retired, lang)


@public.get("/services/{service_id}/checklist", summary="The documents to bring for a service")
async def get_checklist(service_id: str, catalog: CatalogDep, lang: LangQuery = "ru") -> Checklist:
    record = await _service(catalog, service_id)
    return Checklist(
        service_id=service_id,
        version=record.version,
        lang=lang,
        title=record.service.title.get(lang),
        items=checklist_entries(record.service, lang),
    )


@public.get(
    "/services/{service_id}/checklist.html",
    summary="A printable checklist page",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {"example": '<!DOCTYPE html><html lang="ru">...</html>'}}}},
)
async def get_checklist_page(service_id: str, catalog: CatalogDep, lang: LangQuery = "ru") -> HTMLResponse:
    record = await _service(catalog, service_id)
    return HTMLResponse(render_checklist(record.service, lang))


@public.get(
    "/services/{service_id}/history",
    summary="Every version of a service, oldest first",
    response_model=list[HistoryEntry],
)
async def get_service_history(service_id: str, catalog: CatalogDep) -> list[HistoryEntry]:
    record = await _service(catalog, service_id)
    return [HistoryEntry.model_validate(entry) for entry in record.doc.get("history", [])]


@public.get(
    "/offices/{office_id}/staff",
    summary="An office's staff with the pseudonym their work carries (supervisors and admins of the office)",
    response_model=list[StaffMember],
)
async def office_staff(office_id: str, catalog: CatalogDep, who: Supervisor) -> list[StaffMember]:
    require_office(who, office_id)
    return [StaffMember.model_validate(row) for row in await catalog.staff_list(office_id)]


# ---------------------------------------------------------------- staff sign-in

auth = APIRouter(tags=["auth"])


@auth.post("/auth/token", summary="Staff sign-in: a token carrying role and office")
async def sign_in(body: TokenRequest, request: Request, catalog: CatalogDep) -> TokenResponse:
    client = client_address(request, catalog.settings.trusted_proxies)
    signed_in = await catalog.sign_in(body.username, body.password, client=client)
    return TokenResponse(
        access_token=signed_in.access_token, role=signed_in.role, office_id=signed_in.office_id
    )


# ---------------------------------------------------------------- admin

admin = APIRouter(prefix="/admin", tags=["admin"])


def _office_out(record: OfficeRecord) -> OfficeDetail:
    return office_detail(record.office, "ru")


def _service_out(record: ServiceRecord) -> ServiceDetail:
    return service_detail(record.service, record.version, record.retired, "ru")


def _spec(body: BaseModel, kind: type[Any], *drop: str) -> Any:
    return kind.model_validate(body.model_dump(exclude=set(drop)))


@admin.post("/offices", summary="Create an office", status_code=201)
async def create_office(body: OfficeCreate, catalog: CatalogDep, who: Admin) -> OfficeDetail:
    _city_admin(who)
    spec = _spec(body, domain.OfficeSpec, "office_id")
    return _office_out(await catalog.create_office(body.office_id, spec, by=who.subject))


@admin.put("/offices/{office_id}", summary="Change an office (send the version you edited)")
async def update_office(office_id: str, body: OfficeUpdate, catalog: CatalogDep, who: Admin) -> OfficeDetail:
    require_office(who, office_id)
    spec = _spec(body, domain.OfficeSpec, "version")
    return _office_out(
        await catalog.update_office(office_id, spec, version=body.version, by=who.subject, actor=who)
    )


@admin.post("/offices/{office_id}/retire", summary="Retire an office that offers no active service")
async def retire_office(office_id: str, body: Retire, catalog: CatalogDep, who: Admin) -> OfficeDetail:
    require_office(who, office_id)
    return _office_out(await catalog.retire_office(office_id, version=body.version, by=who.subject))


@admin.post("/services", summary="Publish a new service", status_code=201)
async def create_service(body: ServiceCreate, catalog: CatalogDep, who: Admin) -> ServiceDetail:
    _city_admin(who)
    spec = _spec(body, domain.ServiceSpec, "service_id")
    return _service_out(await catalog.create_service(body.service_id, spec, by=who.subject))


@admin.put("/services/{service_id}", summary="Change a service (send the version you edited)")
async def update_service(
    service_id: str, body: ServiceUpdate, catalog: CatalogDep, who: Admin
) -> ServiceDetail:
    _city_admin(who)
    spec = _spec(body, domain.ServiceSpec, "version")
    return _service_out(await catalog.update_service(service_id, spec, version=body.version, by=who.subject))


@admin.post("/services/{service_id}/retire", summary="Retire a service (its history is kept)")
async def retire_service(service_id: str, body: Retire, catalog: CatalogDep, who: Admin) -> ServiceDetail:
    _city_admin(who)
    record = await catalog.retire_service(
        service_id, version=body.version, reason=body.reason, by=who.subject
    )
    return _service_out(record)


@admin.post("/staff", summary="Create a staff account", status_code=201)
async def create_staff(
    body: StaffCreate,
    catalog: CatalogDep,
    who: Admin,
    keys: Keys,
    idempotency_key: IdempotencyKeyHeader = None,
) -> StaffCreated:
    if who.office_id is not None:
        # An office's admin staffs its own office, and never creates admins (no way up to the city).
        if body.role == "admin" or body.office_id != who.office_id:
            raise HTTPException(
                403,
                detail=f"an admin of office {who.office_id} creates only kiosk, operator and "
                "supervisor accounts of that office",
            )
    created = StaffCreated(username=body.username, role=body.role, office_id=body.office_id)
    retry = (
        idempotency_key is not None
        and (
            await keys.claim("staff", idempotency_key, request_digest(who.subject, body.model_dump_json()))
        ).seen_before
    )
    try:
        await catalog.add_staff(
            body.username, body.password, body.role, body.office_id, by=who.subject, actor=who
        )
    except staff.UsernameTaken:
        if not retry:
            raise
        account = await catalog.staff_member(body.username)  # the first attempt created it
        if (account.get("role"), account.get("office_id")) != (body.role, body.office_id):
            raise
    return created


def _office_scope(who: Principal, office_id: str | None) -> str | None:
    """The office an admin may look at: their own (an office admin), or the one asked (city admin)."""
    if who.office_id is not None:
        if office_id not in (None, who.office_id):
            raise HTTPException(403, detail=f"your token is for office {who.office_id}, not {office_id}")
        return who.office_id
    return office_id


async def _staff_in_reach(catalog: Catalog, who: Principal, username: str) -> None:
    account = await catalog.staff_member(username)
    if who.office_id is not None and account.get("office_id") != who.office_id:
        raise HTTPException(403, detail=f"{username} is not staff of office {who.office_id}")


async def _member(catalog: Catalog, username: str) -> StaffMember:
    account = await catalog.staff_member(username)
    rows = await catalog.staff_list(account.get("office_id"))
    return StaffMember.model_validate(next(row for row in rows if row["username"] == username))


OfficeQuery = Annotated[str | None, Query(max_length=64, examples=["kzn-kirov-moskov"])]


@admin.get(
    "/staff", summary="Staff accounts (an office admin sees their office)", response_model=list[StaffMember]
)
async def list_staff(catalog: CatalogDep, who: Admin, office_id: OfficeQuery = None) -> list[StaffMember]:
    return [
        StaffMember.model_validate(row) for row in await catalog.staff_list(_office_scope(who, office_id))
    ]


@admin.post(
    "/staff/{username}/disable",
    summary="Disable an account: it can no longer sign in",
    response_model=StaffMember,
)
async def disable_staff(username: str, catalog: CatalogDep, who: Admin) -> StaffMember:
    await _staff_in_reach(catalog, who, username)
    await catalog.set_disabled(username, True, actor=who)
    return await _member(catalog, username)


@admin.post("/staff/{username}/enable", summary="Enable a disabled account again", response_model=StaffMember)
async def enable_staff(username: str, catalog: CatalogDep, who: Admin) -> StaffMember:
    await _staff_in_reach(catalog, who, username)
    await catalog.set_disabled(username, False, actor=who)
    return await _member(catalog, username)


@admin.post(
    "/staff/{username}/reset-password",
    summary="Give an account a new random password",
    response_model=PasswordReset,
)
async def reset_staff_password(username: str, catalog: CatalogDep, who: Admin) -> PasswordReset:
    await _staff_in_reach(catalog, who, username)
    return PasswordReset(username=username, password=await catalog.reset_password(username, actor=who))


class StaffRole(BaseModel):
    role: Role = Field(examples=["supervisor"])
    office_id: str | None = Field(
        default=None, examples=["kzn-kirov-moskov"], description="None: city-wide admin"
    )
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"role": "supervisor", "office_id": "kzn-kirov-moskov"}]},
    )


@admin.put(
    "/staff/{username}/role",
    summary="Give an account another role or office: the tokens it holds stop working",
    response_model=StaffMember,
)
async def change_staff_role(username: str, body: StaffRole, catalog: CatalogDep, who: Admin) -> StaffMember:
    await _staff_in_reach(catalog, who, username)
    if who.office_id is not None and (body.role == "admin" or body.office_id != who.office_id):
        raise HTTPException(
            403,
            detail=f"an admin of office {who.office_id} gives only kiosk, operator and supervisor "
            "roles of that office",
        )
    await catalog.change_role(username, body.role, body.office_id, actor=who)
    return await _member(catalog, username)


# An e-mail address as far as a form can tell (whether it is read is the office's business).
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]


class AlertRecipients(BaseModel):
    recipients: list[Email] = Field(
        max_length=20,
        examples=[["head.kirov@kzn.example"]],
        description="E-mail addresses for SLA and rating alerts",
    )
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"recipients": ["head.kirov@kzn.example"]}]}
    )


@admin.get(
    "/offices/{office_id}/alert-recipients",
    summary="Who gets the office's SLA and low-rating alerts",
    response_model=AlertRecipients,
)
async def get_alert_recipients(office_id: str, catalog: CatalogDep, who: Admin) -> AlertRecipients:
    _office_scope(who, office_id)
    return AlertRecipients(recipients=await catalog.alert_recipients(office_id))


@admin.put(
    "/offices/{office_id}/alert-recipients",
    summary="Set who gets the office's SLA and low-rating alerts (the notifier learns them sealed)",
    response_model=AlertRecipients,
)
async def set_alert_recipients(
    office_id: str, body: AlertRecipients, catalog: CatalogDep, who: Admin
) -> AlertRecipients:
    _office_scope(who, office_id)
    saved = await catalog.set_alert_recipients(office_id, [str(a) for a in body.recipients], actor=who)
    return AlertRecipients(recipients=saved)


@admin.get(
    "/audit",
    summary="The audit log, newest first: who changed what, when, before and after",
    response_model=list[AuditEntry],
)
async def read_audit(
    catalog: CatalogDep,
    who: Admin,
    office_id: OfficeQuery = None,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64, examples=["staff.disabled"])] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query(alias="from", examples=["2025-03-01T00:00:00Z"])] = None,
    until: Annotated[datetime | None, Query(alias="to", examples=["2025-04-01T00:00:00Z"])] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AuditEntry]:
    entries = await catalog.audit_log(
        office_id=_office_scope(who, office_id),
        actor=actor,
        action=action,
        target_id=target_id,
        since=since,
        until=until,
        limit=limit,
    )
    return [AuditEntry.model_validate(entry) for entry in entries]


@admin.post("/republish", summary="Send the whole catalog's state events again (for a new consumer)")
async def republish(request: Request, catalog: CatalogDep, who: Admin) -> Republished:
    _city_admin(who)
    return Republished(events=await catalog.republish(request.app.state.runtime.publish))


ROUTERS = [public, auth, admin]
