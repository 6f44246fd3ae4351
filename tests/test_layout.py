"""The project's shape holds: tests import their helpers as packages (no sys.path edits), tiers come
from the directory (no per-file tier markers), and every service has the same layer names."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ["catalog", "ticketing", "appointments", "feedback", "notifier"]


def python_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [ROOT / name for name in listed if (ROOT / name).exists()]


def test_nothing_edits_sys_path() -> None:
    edits = [
        str(path.relative_to(ROOT))
        for path in python_files()
        if re.search(r"^\s*sys\.path(\.insert|\.append|\[)", path.read_text(), re.M)
    ]
    assert edits == [], "import helpers as packages (testbed, relative imports), not via sys.path"


def test_tier_markers_come_from_the_directory() -> None:
    marked = [
        str(path.relative_to(ROOT))
        for path in python_files()
        if re.search(r"^pytestmark = .*pytest\.mark\.(integration|system|browser)\b", path.read_text(), re.M)
        and path.parent != ROOT / "tests"
    ]
    assert marked == [], "the root conftest.py marks tiers by directory; drop the file's pytestmark"


def test_every_service_has_the_same_layers() -> None:
    for service in SERVICES:
        package = ROOT / "services" / service / "src" / service
        for module in ("main", "settings", "contract", "domain", "store", "handlers", "api"):
            assert (package / f"{module}.py").exists() or (service == "catalog" and module == "handlers"), (
                f"{service}/{module}.py"
            )
        assert (package / "usecases.py").exists() or (package / "usecases").is_dir(), service
        assert "class Settings(" in (package / "settings.py").read_text(), service
