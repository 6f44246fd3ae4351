"""Each service's `contract.py` (CONSUMES, EMITS, OWNS) says what the service really does, and its
README shows the current contract and module map (`make docs` writes them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from servicekit import contract

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ["catalog", "ticketing", "appointments", "feedback", "notifier"]


@pytest.mark.parametrize("service", SERVICES)
def test_the_declared_contract_matches_the_router_the_registry_and_the_stores(service: str) -> None:
    found = contract.problems(service)
    assert found == [], f"update services/{service}/src/{service}/contract.py, then `make docs`: {found}"


@pytest.mark.parametrize("service", SERVICES)
def test_the_readme_shows_the_current_contract_and_module_map(service: str) -> None:
    readme = ROOT / "services" / service / "README.md"
    text = readme.read_text()
    assert contract.BEGIN in text, f"{readme} has no generated part: run `make docs`"
    assert contract.readme_with(text, contract.render(service)) == text, f"run `make docs`: {readme} is stale"


def test_a_wrong_declaration_is_reported() -> None:
    app = contract.build_app("notifier")
    declared = contract.load("notifier")
    assert contract.consumed_by(app) == declared.consumed_types
    assert "boards" in contract.collections_of(app)
    assert contract.readme_with("# x\n\nold\n", "new\n") == "# x\n\nold\n\nnew\n"


def test_the_architecture_page_shows_the_current_event_flow() -> None:
    page = ROOT / "docs" / "architecture.md"
    text = page.read_text()
    assert contract.readme_with(text, contract.flow(SERVICES)) == text, f"run `make docs`: {page} is stale"
