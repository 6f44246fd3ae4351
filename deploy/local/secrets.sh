#!/usr/bin/env bash
# Creates var/secrets.env once (mode 600, never committed): the staff-token key, the notifier's
# sealing key pair, keyed-hash key and the demo staff password. Prints the file's path.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VAR="${ONEWINDOW_VAR:-$ROOT/var}"
FILE="$VAR/secrets.env"
mkdir -p "$VAR"
if [ ! -s "$FILE" ]; then
  umask 077
  (cd "$ROOT" && uv run --quiet python - <<'PY'
import secrets
from servicekit.sealing import generate_keypair
public, private = generate_keypair()
print(f"ONEWINDOW_JWT_SECRET={secrets.token_urlsafe(48)}")
print(f"ONEWINDOW_NOTIFIER_PUBLIC_KEY={public}")
print(f"NOTIFIER_PRIVATE_KEY={private}")
print(f"ONEWINDOW_PSEUDONYM_KEY={secrets.token_urlsafe(32)}")
print(f"ONEWINDOW_DEMO_PASSWORD={secrets.token_urlsafe(9)}")
PY
  ) > "$FILE.tmp"
  mv "$FILE.tmp" "$FILE"
  echo "secrets.sh: created $FILE (demo staff password: $(grep ONEWINDOW_DEMO_PASSWORD "$FILE" | cut -d= -f2))" >&2
fi
echo "$FILE"
