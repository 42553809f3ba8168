"""The outbox delivery loop, being split into modules (the old module is `deliverer`)."""

from hdops.services.delivery.deliverer import Delivered, Deliverer

__all__ = ["Delivered", "Deliverer"]
