"""OneWindow catalog service."""
