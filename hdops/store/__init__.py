"""The only place that speaks SQL: models, engine set-up, migrations, repositories."""

from hdops.store.db import Store, create_store_engine

__all__ = ["Store", "create_store_engine"]
