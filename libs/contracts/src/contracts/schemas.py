"""Export the JSON Schemas of every event into libs/contracts/schemas (committed).

python -m contracts.schemas export
"""

from __future__ import annotations

import sys
from pathlib import Path

from contracts.registry import schemas_as_json

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas"


def export(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in schemas_as_json().items():
        path = directory / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            written.append(path)
    return written


if __name__ == "__main__":
    for path in export():
        print("wrote", path)
    sys.exit(0)
