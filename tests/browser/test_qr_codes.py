"""The kiosk's own QR encoder draws codes a real decoder reads back (zbarimg, Debian zbar-tools,
installed by .ci/run)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext
from testbed.browser import System

TEXTS = [
    "https://uslugi.tatarstan.ru/",
    "http://127.0.0.1:8080/t/I7Ihy77CPf183gz1QanjU3V-f5q_IfD2irH4E97WHoU?lang=tt",
    "Талон А017 — окно 3",
    "x" * 200,  # version 10, several blocks
]


@pytest.mark.parametrize("text", TEXTS, ids=["online-url", "ticket-link", "cyrillic", "long"])
def test_every_qr_code_the_pages_draw_decodes_to_its_text(
    desktop: BrowserContext, system: System, text: str, tmp_path: Path
) -> None:
    assert shutil.which("zbarimg"), "zbarimg (Debian zbar-tools) is needed: .ci/run installs it"
    page = desktop.new_page()
    page.goto("/")
    page.evaluate(
        """async (text) => {
          const { qrSvg } = await import("/assets/qr.js");
          const svg = qrSvg(text, "test");
          svg.style.width = "400px";
          svg.id = "code";
          document.body.replaceChildren(svg);
        }""",
        text,
    )
    image = tmp_path / "code.png"
    page.locator("#code").screenshot(path=str(image))
    decoded = subprocess.run(["zbarimg", "-q", "--raw", str(image)], capture_output=True, text=True)
    assert decoded.stdout.rstrip("\n") == text
