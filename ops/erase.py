"""Erase one citizen's contact data on request (152-FZ art. 21 / GDPR art. 17), in every service
that holds it: appointments (bookings' sealed name and contact, per-contact limits) and the notifier
(sealed contacts, messages waiting to be sent, delivery records and daily counts). What is kept where
and for how long: docs/privacy.md.

    set -a; . var/secrets.env; set +a
    uv run python ops/erase.py --phone "+7 917 123-45-67"
    uv run python ops/erase.py --email anna@example.org [--url appointments=http://host/api/appointments]

It signs a short-lived city-wide admin token with ONEWINDOW_JWT_SECRET and calls each service's
`POST /admin/erasure` on the internal listener (default http://127.0.0.1:8081/api/<service>). Prints
one JSON report (what each service erased) and exits 1 when a service did not confirm.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import timedelta
from typing import Any

import httpx
from servicekit.auth import issue_token
from servicekit.privacy import ERASURE_PATH

# Services that keep citizens' contacts (ticketing passes them on sealed and keeps none it can read).
HOLDERS = ("appointments", "notifier")
INTERNAL = "http://127.0.0.1:8081/api/{service}"


def erase(
    contact: dict[str, str], urls: dict[str, str], secret: str, transport: httpx.BaseTransport | None = None
) -> dict[str, Any]:
    token = issue_token(
        secret, subject="ops/erase.py", role="admin", office_id=None, ttl=timedelta(minutes=5)
    )
    report: dict[str, Any] = {}
    with httpx.Client(timeout=60, transport=transport) as client:
        for service in HOLDERS:
            try:
                answer = client.post(
                    urls[service] + ERASURE_PATH, json=contact, headers={"Authorization": f"Bearer {token}"}
                )
                report[service] = (
                    {"erased": answer.json()}
                    if answer.status_code == 200
                    else {"error": answer.status_code, "reason": answer.text[:300]}
                )
            except httpx.HTTPError as error:
                report[service] = {"error": type(error).__name__, "reason": str(error)[:300]}
    return report


def main(argv: list[str] | None = None, transport: httpx.BaseTransport | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ops/erase.py", description=__doc__.split("\n\n")[0])
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--phone")
    who.add_argument("--email")
    parser.add_argument("--url", action="append", default=[], help="service=base URL (repeatable)")
    args = parser.parse_args(argv)
    secret = os.environ.get("ONEWINDOW_JWT_SECRET", "")
    if not secret:
        parser.error("ONEWINDOW_JWT_SECRET is not set (set -a; . var/secrets.env; set +a)")
    urls = {service: INTERNAL.format(service=service) for service in HOLDERS}
    urls.update(dict(item.split("=", 1) for item in args.url))
    contact = {"phone": args.phone} if args.phone else {"email": args.email}
    report = erase(contact, urls, secret, transport)
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0 if all("erased" in outcome for outcome in report.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
