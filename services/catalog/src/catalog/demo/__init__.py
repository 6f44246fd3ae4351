"""The demo catalog shipped with the project: the city of Kazan, its offices and services."""

from catalog.demo.offices import demo_offices
from catalog.demo.services import demo_services

__all__ = ["demo_offices", "demo_services"]
