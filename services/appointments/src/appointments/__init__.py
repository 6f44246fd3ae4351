"""OneWindow appointments service."""
