"""OneWindow ticketing service."""
