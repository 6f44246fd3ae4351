"""`python -m ticketing`: run the ticketing service (HTTP on port 8002 by default)."""

from __future__ import annotations

import uvicorn

from ticketing.main import create_app
from ticketing.settings import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port, log_config=None)


if __name__ == "__main__":
    main()
