"""Shared kit of every OneWindow service (no domain code)."""
