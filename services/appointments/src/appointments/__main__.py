"""`python -m appointments`: run the appointments service (HTTP on port 8003 by default)."""

from __future__ import annotations

import uvicorn

from appointments.main import create_app
from appointments.settings import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port, log_config=None)


if __name__ == "__main__":
    main()
