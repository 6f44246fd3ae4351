"""AsyncAPI 3 documents per service, from the contracts registry and the service's event router.

A service publishes what its `contract.py` declares in EMITS (checked against the registry) and
consumes what its router handles. Served at `/asyncapi.json`;
`python -m servicekit.asyncapi <service>... --out docs/asyncapi` writes them.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from contracts import REGISTRY, Envelope
from contracts.registry import TOPICS, json_schema

from servicekit.contract import build_app, consumed_by


def _message(event_type: str) -> dict[str, Any]:
    model = REGISTRY[event_type]
    envelope = Envelope.model_json_schema()
    envelope["properties"] = {
        **envelope["properties"],
        "data": {"$ref": f"#/components/schemas/{event_type}"},
    }
    return {
        "name": event_type,
        "title": event_type.split(".", 1)[1],
        "summary": (model.__doc__ or event_type).strip().splitlines()[0],
        "contentType": "application/json",
        "headers": {
            "type": "object",
            "properties": {k: {"type": "string"} for k in Envelope.model_fields if k != "data"},
        },
        "payload": envelope,
        "x-event-version": model.EVENT_VERSION,
    }


def emitted_by(service: str) -> list[str]:
    """The service's declared EMITS; a service without a contract module (a kit test's) is taken
    to publish its own module's events."""
    try:
        module = importlib.import_module(f"{service}.contract")
    except ModuleNotFoundError:
        return sorted(t for t in REGISTRY if t.startswith(f"{service}."))
    return sorted(model.EVENT_TYPE for model in module.EMITS)


def asyncapi_document(
    service: str, consumes: list[str], prefix: str = "", server: str = "127.0.0.1:9092"
) -> dict[str, Any]:
    publishes = emitted_by(service)
    used = sorted(set(publishes) | set(consumes))
    channels: dict[str, Any] = {}
    for event_type in used:
        topic = REGISTRY[event_type].TOPIC
        spec = TOPICS[topic]
        channel = channels.setdefault(
            topic.replace(".", "_"),
            {
                "address": prefix + topic,
                "description": f"keyed by {'office_id' if spec.key == 'office' else 'entity id'}"
                + (", compacted" if spec.compacted else ""),
                "messages": {},
            },
        )
        channel["messages"][event_type.split(".", 1)[1]] = {"$ref": f"#/components/messages/{event_type}"}
    operations: dict[str, Any] = {}
    for action, events in (("send", publishes), ("receive", sorted(consumes))):
        for event_type in events:
            topic = REGISTRY[event_type].TOPIC.replace(".", "_")
            name = event_type.split(".", 1)[1]
            operations[f"{action}{name}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{topic}"},
                "messages": [{"$ref": f"#/channels/{topic}/messages/{name}"}],
            }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": f"OneWindow {service}", "version": "1.0.0"},
        "servers": {"local": {"host": server, "protocol": "kafka"}},
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": {event_type: _message(event_type) for event_type in used},
            "schemas": {event_type: json_schema(REGISTRY[event_type]) for event_type in used},
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m servicekit.asyncapi")
    parser.add_argument("services", nargs="+")
    parser.add_argument("--out", default="docs/asyncapi")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for service in args.services:
        consumes = consumed_by(build_app(service))
        path = out / f"{service}.json"
        path.write_text(json.dumps(asyncapi_document(service, consumes), indent=2, sort_keys=True) + "\n")
        print("wrote", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
