"""Every page works under the Content-Security-Policy nginx sends (script-src 'self'): no inline code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[1] / "web"
PAGES = sorted(WEB.rglob("*.html"))
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(WEB)))
def test_pages_have_no_inline_scripts_or_handlers(page: Path) -> None:
    html = page.read_text()
    assert not INLINE_SCRIPT.search(html), "inline <script>: the CSP blocks it"
    assert not INLINE_HANDLER.search(html), "inline on...= handler: the CSP blocks it"
    assert "javascript:" not in html


def test_the_csp_allows_scripts_from_this_origin_only() -> None:
    conf = (WEB.parent / "deploy/nginx/compose.conf").read_text()
    policies = set(re.findall(r'Content-Security-Policy "([^"]+)"', conf))
    assert policies and all(
        "default-src 'self'" in p and "unsafe-inline" not in p.split("style-src")[0] for p in policies
    )
