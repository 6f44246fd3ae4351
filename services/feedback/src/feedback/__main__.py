"""`python -m feedback`: run the feedback service."""

from __future__ import annotations

import uvicorn

from feedback.main import create_app
from feedback.settings import Settings


def main() -> None:
    settings = Settings()
    uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port, log_config=None)


if __name__ == "__main__":
    main()
