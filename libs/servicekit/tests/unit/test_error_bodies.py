"""The error body every service writes ({reason, error, fields}) is the one its OpenAPI documents,
for the 422 and every other 4xx of every operation: clients and the fuzz test can rely on it."""

from __future__ import annotations

import httpx
import jsonschema
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from servicekit.runtime import ERROR_SCHEMA, document_errors, install_error_handlers


class Thing(BaseModel):
    size: int


def service() -> FastAPI:
    app = FastAPI()

    @app.post("/things")
    async def create(body: Thing) -> Thing:
        if body.size > 10:
            raise HTTPException(409, detail="too big for this shelf")
        return body

    install_error_handlers(app, {})
    document_errors(app)
    return app


async def test_every_operation_documents_the_error_body_its_refusals_carry() -> None:
    app = service()
    document = app.openapi()
    responses = document["paths"]["/things"]["post"]["responses"]
    error = {"$ref": "#/components/schemas/Error"}
    assert responses["422"]["content"]["application/json"]["schema"] == error
    assert responses["4XX"]["content"]["application/json"]["schema"] == error
    assert "HTTPValidationError" not in document["components"]["schemas"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        invalid = await http.post("/things", json={"size": "many"})
        refused = await http.post("/things", json={"size": 11})
    assert (invalid.status_code, refused.status_code) == (422, 409)
    for answer in (invalid, refused):
        jsonschema.validate(answer.json(), ERROR_SCHEMA)
    assert invalid.json()["fields"][0]["field"] == "size"
