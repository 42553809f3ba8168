"""Shared fixtures.

The store under test is chosen by `HDOPS_TEST_DATABASE_URL`: unset → a fresh
SQLite file per test; a PostgreSQL URL → a private database for this pytest run
(created from that URL's server and dropped at the end, so parallel runs never
collide), migrated once and truncated between tests.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from hdops.store.db import Store, create_store_engine, normalize_url
from hdops.store.migrate import upgrade
from hdops.store.orm import Base

TEST_URL = os.environ.get("HDOPS_TEST_DATABASE_URL", "").strip()
ON_POSTGRES = TEST_URL.startswith(("postgresql", "postgres"))


def pytest_report_header(config: pytest.Config) -> str:
    if ON_POSTGRES:
        return "hdops store under test: PostgreSQL (tests that touch no store: SQLite run)"
    return "hdops store under test: SQLite"


@contextlib.contextmanager
def private_database(tmp: Path) -> Iterator[str]:
    """A new, migrated database of the store under test, dropped afterwards: on
    PostgreSQL one of its own on the server of HDOPS_TEST_DATABASE_URL (never
    touching existing data), on SQLite a file under `tmp`."""
    if not ON_POSTGRES:
        url = f"sqlite:///{tmp / f'private-{uuid.uuid4().hex[:6]}.db'}"
        engine = create_store_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    base = make_url(normalize_url(TEST_URL))
    name = f"hdops_t_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    engine = create_store_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def _pg_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with private_database(tmp_path_factory.mktemp("pg")) as url:
        yield url


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_store_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection to close checkpoints the WAL into the file
    return path


def _truncate_all(engine: Engine) -> None:
    """Empty the database between tests. TRUNCATE costs about 10 ms per table on
    PostgreSQL whether or not it holds rows, so only the tables a test wrote to are
    truncated (found in one probe query); every id sequence restarts at 1."""
    names = [t.name for t in Base.metadata.sorted_tables]
    probe = " UNION ALL ".join(
        f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")" for name in names
    )
    with engine.begin() as conn:
        used = [row[0] for row in conn.execute(text(probe))]
        # The ledger's TRUNCATE guards (migration 0008) refuse while approved payouts
        # exist; emptying the test database on purpose skips them (superuser only).
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        if used:
            tables = ", ".join(f'"{name}"' for name in used)
            conn.execute(text(f"TRUNCATE {tables} CASCADE"))
        conn.execute(
            text(
                "SELECT setval(s.oid, 1, false) FROM pg_class s "
                "WHERE s.relkind = 'S' AND s.relnamespace = 'public'::regnamespace"
            )
        )
        conn.execute(text("DROP TABLE IF EXISTS apscheduler_jobs"))


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty, migrated database for this test."""
    if ON_POSTGRES:
        url: str = request.getfixturevalue("_pg_url")
        engine = create_store_engine(url)
        _truncate_all(engine)
        engine.dispose()
        yield url
    else:
        template: Path = request.getfixturevalue("_sqlite_template")
        path = tmp_path / "hdops.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.from_url(db_url)
    try:
        yield s
    finally:
        s.dispose()


def uses_the_store(item: pytest.Item) -> bool:
    """A test of the store under test: it asks for a database (`db_url`, `store`), or
    says it reads `HDOPS_TEST_DATABASE_URL` another way (`@pytest.mark.store`)."""
    return "db_url" in getattr(item, "fixturenames", ()) or "store" in item.keywords


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On SQLite every test runs and PostgreSQL-only ones skip. On PostgreSQL only the
    tests that touch the store run: the rest (pure functions, the fakes, the demo on
    its own SQLite file) would do the same work twice, and CI runs the SQLite suite
    beside this one anyway. HDOPS_TEST_EVERYTHING=1 runs them all on PostgreSQL too."""
    if ON_POSTGRES:
        if os.environ.get("HDOPS_TEST_EVERYTHING") == "1":
            return
        storeless = [item for item in items if not uses_the_store(item)]
        if storeless:
            config.hook.pytest_deselected(items=storeless)
            items[:] = [item for item in items if uses_the_store(item)]
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set HDOPS_TEST_DATABASE_URL")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)
