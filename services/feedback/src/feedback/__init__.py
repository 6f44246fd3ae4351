"""OneWindow feedback service."""
