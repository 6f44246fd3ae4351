"""The web front as rendered by deploy/local/web.sh, run by the real nginx: only public API paths are
reachable on the public port, the internal listener reaches the rest, and access logs hold no token.

The services need not run: a public path answers (a page, or the JSON 503 of a service that is down),
a path that is not public gets nginx's own 404 before any service is asked.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
NGINX = "/usr/sbin/nginx"
NOT_PUBLIC = {"reason": "no such public path"}

pytestmark = pytest.mark.skipif(
    not Path(NGINX).exists() or shutil.which("curl") is None, reason="nginx is not installed"
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Front:
    public: str
    internal: str
    var: Path

    def access_log(self) -> str:
        return (self.var / "log/nginx-access.log").read_text()

    def error_log(self) -> str:
        path = self.var / "log/nginx-error.log"
        return path.read_text() if path.exists() else ""


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    var = tmp_path_factory.mktemp("web-var")
    public, internal = _free_port(), _free_port()
    env = {
        **os.environ,
        "ONEWINDOW_VAR": str(var),
        "ONEWINDOW_WEB_PORT": str(public),
        "ONEWINDOW_WEB_INTERNAL_PORT": str(internal),
    }
    web = str(ROOT / "deploy/local/web.sh")
    # nginx keeps the output it inherits open: no pipes, or run() would wait for it to exit.
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run([web, "up"], env=env, check=True, timeout=60, **quiet)  # type: ignore[call-overload]
    try:
        yield Front(f"http://127.0.0.1:{public}", f"http://127.0.0.1:{internal}", var)
    finally:
        subprocess.run([web, "down"], env=env, check=False, timeout=60, **quiet)  # type: ignore[call-overload]


INTERNAL_PATHS = [
    "/api/catalog/metrics",
    "/api/ticketing/metrics",
    "/api/catalog/health/ready",
    "/api/notifier/health/live",
    "/api/notifier-board/metrics",
    "/api/appointments/asyncapi.json",
    "/api/feedback/docs",
    "/api/feedback/redoc",
    "/api/ticketing/openapi.json",
    "/api/catalog/admin/staff",
    "/api/catalog/admin/offices",
    "/api/catalog/internal/anything",
    "/api/catalog/offices/../admin/staff",
    "/api/catalog/offices/%2e%2e/admin/staff",
    "/api/catalog/unknown/stream",
    "/api/ticketing/admin/stream",
    "/admin/",
    "/admin/admin.js",
]

PUBLIC_PATHS = [
    "/api/catalog/offices",
    "/api/catalog/offices/kzn-kirov-moskov/services",
    "/api/catalog/services/search?q=x",
    "/api/catalog/services/s1/checklist.html",
    "/api/catalog/auth/token",
    "/api/ticketing/tickets",
    "/api/ticketing/offices/kzn/queue",
    "/api/ticketing/windows/kzn/1/call-next",
    "/api/ticketing/reception/outcomes",
    "/api/appointments/offices/kzn/services/s1/slots",
    "/api/appointments/appointments",
    "/api/appointments/checkin",
    "/api/feedback/offices/kzn/kpis",
    "/api/feedback/alerts/a1/resolve",
    "/api/feedback/city/digital-share?from=2025-03-03&to=2025-03-09",
    "/api/notifier/boards/kzn",
    "/api/notifier/boards/kzn/stream",
    "/api/notifier/offices/kzn/sla",
    "/api/notifier/offices/kzn/sla/stream",
    "/api/notifier/offices/kzn/nearby?service_id=s1",
    "/api/notifier/checklists/send",
    "/api/catalog/alive",
]


def _blocked(response: httpx.Response) -> bool:
    return (
        response.status_code == 404
        and response.headers.get("content-type", "").startswith("application/json")
        and response.json() == NOT_PUBLIC
    )


@pytest.mark.parametrize("path", INTERNAL_PATHS)
def test_internal_paths_are_not_reachable_on_the_public_port(front: Front, path: str) -> None:
    # curl keeps the path as written (httpx would resolve the dot segments itself).
    result = subprocess.run(
        ["curl", "-s", "--path-as-is", "-o", "-", "-w", "\n%{http_code}", f"{front.public}{path}"],
        capture_output=True,
        text=True,
        check=True,
    )
    body, _, status = result.stdout.rpartition("\n")
    assert status == "404" and '"no such public path"' in body, f"{path}: {status} {body[:120]}"


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_public_paths_reach_their_service(front: Front, path: str) -> None:
    response = httpx.get(f"{front.public}{path}", timeout=10)
    assert not _blocked(response), path


def test_the_internal_listener_reaches_metrics_and_admin(front: Front) -> None:
    paths = ["/api/catalog/metrics", "/api/catalog/admin/staff", "/api/notifier/health/ready", "/admin/"]
    for path in [*paths, "/api/notifier-board/health/ready"]:
        assert not _blocked(httpx.get(f"{front.internal}{path}", timeout=10)), path


def test_security_headers_on_every_public_answer(front: Front) -> None:
    for path in ("/", "/api/notifier/boards/kzn/stream", "/api/catalog/metrics", "/api/catalog/offices"):
        headers = httpx.get(f"{front.public}{path}", timeout=10).headers
        assert headers.get("referrer-policy") == "no-referrer", path
        assert "frame-ancestors 'none'" in headers.get("content-security-policy", ""), path


def test_citizen_tokens_never_reach_the_logs(front: Front) -> None:
    tokens = [secrets.token_urlsafe(32) for _ in range(8)]
    paths = [
        f"/t/{tokens[0]}",
        f"/feedback/{tokens[1]}?lang=en",
        f"/a/{tokens[2]}",
        f"/api/ticketing/tickets/by-token/{tokens[3]}",
        f"/api/appointments/appointments/by-token/{tokens[4]}/cancel",
        f"/api/feedback/feedback/{tokens[5]}",
        f"/r/{tokens[6]}?lang=tt",
        f"/api/feedback/feedback/by-ticket/{tokens[7]}",
    ]
    for path in paths:
        httpx.get(f"{front.public}{path}", timeout=10)
    access_log = front.access_log()
    logs = access_log + front.error_log()
    for token in tokens:
        assert token not in logs
    assert "GET /api/ticketing/tickets/by-token/*** " in access_log
    assert "GET /feedback/***?lang=en " in access_log
    assert "GET /api/feedback/feedback/by-ticket/*** " in access_log


def test_the_compose_config_as_a_whole_is_valid_nginx(tmp_path: Path) -> None:
    """docker-compose mounts compose.conf into nginx's http block: check it there (names resolved
    by compose are pointed at loopback, log files at the test's folder)."""
    conf = (ROOT / "deploy/nginx/compose.conf").read_text()
    conf = re.sub(r"server ([\w-]+):8000", "server 127.0.0.1:8000", conf)
    conf = conf.replace("/var/log/nginx/", f"{tmp_path}/").replace(
        "/usr/share/onewindow/web", str(ROOT / "web")
    )
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n include /etc/nginx/mime.types;\n{conf}\n}}\n"
    )
    checked = subprocess.run(
        [NGINX, "-t", "-q", "-p", str(tmp_path), "-e", f"{tmp_path}/error.log", "-c", str(main)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


def _upstreams(access_log: str) -> list[tuple[str, list[str]]]:
    """(path, the addresses nginx tried in order) of each logged request, from the log's last field."""
    logged = []
    for line in access_log.splitlines():
        request = re.search(r'"[A-Z]+ (\S+) [^"]*" .*"(?:[^"]*)" (.*)$', line)
        if request:
            logged.append((request[1], re.split(r"\s*,\s*|\s+:\s+", request[2].strip())))
    return logged


def test_the_board_goes_to_the_notifiers_board_process_the_main_one_standing_in(front: Front) -> None:
    """Snapshot and stream go to notifier-board (8015) first, the main notifier (8005) as backup when
    8015 refuses (e.g. a run with one notifier process); the notifier's other paths to 8005 only."""
    board_paths = ["/api/notifier/boards/kzn", "/api/notifier/boards/kzn/stream"]
    other_paths = ["/api/notifier/offices/kzn/sla", "/api/notifier/alive"]
    for path in board_paths + other_paths:
        httpx.get(f"{front.public}{path}", timeout=10)
    httpx.get(f"{front.internal}/api/notifier-board/health/ready", timeout=10)  # that process alone
    logged = _upstreams(front.access_log())
    alone = [tried for path, tried in logged if path == "/api/notifier-board/health/ready"]
    assert alone and all(tried in (["127.0.0.1:8015"], ["notifier_board_process"]) for tried in alone), alone
    # While every peer of an upstream counts as failed (10 s after a refusal), nginx logs its name.
    board = [tried for path, tried in logged if path.startswith("/api/notifier/boards/")]
    assert board, logged
    assert all(set(tried) <= {"127.0.0.1:8015", "127.0.0.1:8005", "notifier_board"} for tried in board), board
    # nginx is fresh: the module's first board request met no failed peer, so it asked 8015 first,
    # and 8005 only if 8015 refused.
    assert board[0][:1] == ["127.0.0.1:8015"] and board[0][1:] in ([], ["127.0.0.1:8005"]), board[0]
    others = [tried for path, tried in logged if path in other_paths]
    assert len(others) >= 2 and all(set(tried) <= {"127.0.0.1:8005", "notifier"} for tried in others), others


def test_compose_and_local_runs_have_the_same_upstreams() -> None:
    compose = (ROOT / "deploy/nginx/compose.conf").read_text()
    local = (ROOT / "deploy/nginx/local.conf.template").read_text()
    names = set(re.findall(r"^\s*upstream (\w+) +\{", compose, re.M))
    assert names and names == set(re.findall(r"^\s*upstream (\w+) +\{", local, re.M))
    # The notifier's board process, the main process standing in (services.sh: 8015 and 8005).
    board = r"upstream notifier_board \{{ server {}; server {} backup; \}}"
    assert re.search(board.format("notifier-board:8000", "notifier:8000"), compose)
    assert re.search(board.format(r"127\.0\.0\.1:8015", r"127\.0\.0\.1:8005"), local)


def test_anonymous_writes_are_limited_per_client_for_all_replicas_at_once(front: Front) -> None:
    with httpx.Client(timeout=10) as client:
        answers = [client.post(f"{front.public}/api/ticketing/tickets", json={}) for _ in range(75)]
        reads = [client.get(f"{front.public}/api/catalog/offices") for _ in range(5)]
    limited = [a for a in answers if a.status_code == 429]
    assert limited, [a.status_code for a in answers]
    assert limited[0].json()["retry_after_seconds"] == 60 and limited[0].headers["retry-after"] == "60"
    assert answers[0].status_code != 429  # a burst gets through first
    assert all(r.status_code != 429 for r in reads)  # reading is not limited


def test_oversized_bodies_are_refused_at_the_proxy_with_a_reason(front: Front) -> None:
    big = {"office_id": "x" * 70_000}
    for base in (front.public, front.internal):
        answer = httpx.post(f"{base}/api/appointments/appointments", json=big, timeout=10)
        assert answer.status_code == 413, (base, answer.text[:200])
        assert "larger than" in answer.json()["reason"]
