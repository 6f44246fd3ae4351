"""Root pytest configuration: the shared fixtures of servicekit (real Kafka + store per test)."""

pytest_plugins = ["servicekit.testing"]
