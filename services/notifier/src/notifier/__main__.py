"""`python -m notifier`: run the notifier service (HTTP on port 8005 by default)."""

from __future__ import annotations

import uvicorn

from notifier.main import create_app
from notifier.settings import Settings


def main() -> None:
    settings = Settings()
    # Board streams never end on their own: give them a few seconds, then shut down.
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
