#!/usr/bin/env bash
# Creates var/secrets.env (mode 600, never committed): the staff-token key, the notifier's sealing key
# pair, the keyed-hash key and one password per demo staff account (ONEWINDOW_DEMO_PASSWORD_<USERNAME>,
# the admin's apart from the operators'). Run again, it adds only the lines that are missing (a
# secret once written is kept). Prints the file's path.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VAR="${ONEWINDOW_VAR:-$ROOT/var}"
FILE="$VAR/secrets.env"
mkdir -p "$VAR"
umask 077
touch "$FILE"
(cd "$ROOT" && SECRETS_FILE="$FILE" uv run --quiet python - <<'PY'
import os
import secrets
import sys

from catalog.demo import demo_offices
from catalog.seed import demo_password_variable, demo_staff
from servicekit.sealing import generate_keypair

path = os.environ["SECRETS_FILE"]
with open(path) as existing:
    present = {line.partition("=")[0].strip() for line in existing if "=" in line}
public, private = generate_keypair()
wanted = {
    "ONEWINDOW_JWT_SECRET": secrets.token_urlsafe(48),
    "ONEWINDOW_NOTIFIER_PUBLIC_KEY": public,
    "NOTIFIER_PRIVATE_KEY": private,
    "ONEWINDOW_PSEUDONYM_KEY": secrets.token_urlsafe(32),
}
if "ONEWINDOW_NOTIFIER_PUBLIC_KEY" in present or "NOTIFIER_PRIVATE_KEY" in present:
    # The key pair goes together: never pair a kept half with a fresh one.
    del wanted["ONEWINDOW_NOTIFIER_PUBLIC_KEY"], wanted["NOTIFIER_PRIVATE_KEY"]
for username, _, _ in demo_staff(demo_offices()):
    wanted[demo_password_variable(username)] = secrets.token_urlsafe(12)
added = [f"{name}={value}" for name, value in wanted.items() if name not in present]
if added:
    with open(path, "a") as out:
        out.write("\n".join(added) + "\n")
    print(f"secrets.sh: {len(added)} secrets added to {path} (demo staff passwords: grep DEMO_PASSWORD)",
          file=sys.stderr)
PY
)
chmod 600 "$FILE"
echo "$FILE"
