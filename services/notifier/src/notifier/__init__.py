"""OneWindow notifier service."""
