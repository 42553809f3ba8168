"""The raw baseline of benchmarks/slack_latency.py: a click → next task done by hand.

A separate process, started by the benchmark in place of `hdops run --slack`, on a
copy of the same database. It connects to Slack's Socket Mode with a plain
websocket, acks every envelope at once, and for each answer button (`hd:ans:…`)
runs, in one transaction with raw SQL on the raw driver (sqlite3 / psycopg):

    find the contractor's open assignment; insert the answer (the same columns and
    values hdops stores); close the assignment; count the answer on the item; pick
    the next open item the contractor has not seen (hdops's indexed query; on
    PostgreSQL with FOR UPDATE SKIP LOCKED), claim a slot on it and insert the new
    assignment

then posts the next task with one `chat.postMessage` (a fixed Block Kit payload the
benchmark rendered once with hdops's own renderer, so the bytes on the wire match)
and shows the answer in the clicked message through the interaction's
`response_url` (replace_original, also fixed). `/hdops next` (the benchmark's
warm-up) does the dispatch half only. What it leaves out is listed in
slack_latency.py's docstring.

    SLACK_BOT_TOKEN=… SLACK_APP_TOKEN=… python benchmarks/raw_slack_baseline.py \
        --db sqlite:///x.db --api http://127.0.0.1:PORT/api/ --payloads payloads.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

NEXT_ITEM = (
    "SELECT id FROM items WHERE project_id = {p} AND is_gold = false AND open_slots > 0"
    " AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.item_id = items.id"
    " AND a.person_id = {p}) ORDER BY open_slots, id LIMIT 3"
)


class Db:
    """One connection per worker thread; every transaction is one call."""

    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite")
        self.url = url
        self.local = threading.local()
        p = "?" if self.sqlite else "%s"
        next_item = NEXT_ITEM.format(p=p)
        if not self.sqlite:
            next_item = next_item.replace("LIMIT 3", "LIMIT 1 FOR UPDATE SKIP LOCKED")
        self.sql = {
            "open": "SELECT id, item_id, offered_at, instruction_version_id FROM assignments"
            f" WHERE person_id = {p} AND status = 'offered' LIMIT 1",
            "answer": "INSERT INTO answers (assignment_id, item_id, project_id, person_id,"
            " answer, rationale, instruction_version_id, seconds_spent, answered_at,"
            " idempotency_key, gold_correct, status, pay_rate, currency) VALUES"
            f" ({p}, {p}, {p}, {p}, {p}, NULL, {p}, {p}, {p}, {p}, NULL, 'accepted', {p}, {p})",
            "close": f"UPDATE assignments SET status = 'answered', closed_at = {p} WHERE id = {p}",
            "count": f"UPDATE items SET answer_count = answer_count + 1 WHERE id = {p}",
            "next": next_item,
            "claim": f"UPDATE items SET open_slots = open_slots - 1 WHERE id = {p}"
            " AND open_slots > 0",
            "offer": "INSERT INTO assignments (item_id, project_id, person_id, status,"
            " offered_at, leased_until, instruction_version_id, paused_seconds)"
            f" VALUES ({p}, {p}, {p}, 'offered', {p}, {p}, {p}, 0)",
        }
        self.begin = "BEGIN IMMEDIATE" if self.sqlite else "BEGIN"
        conn = self._conn()
        self.people = dict(
            conn.execute(
                "SELECT external_id, person_id FROM identities WHERE platform = 'slack'"
            ).fetchall()
        )
        row = conn.execute(
            "SELECT p.id, p.pay_per_task, p.currency, p.lease_minutes, v.id"
            " FROM projects p JOIN instruction_versions v ON v.project_id = p.id"
            " ORDER BY p.id, v.version DESC LIMIT 1"
        ).fetchone()
        self.project, self.pay_rate, self.currency, lease, self.version = row
        self.lease = timedelta(minutes=lease)

    def _conn(self) -> Any:
        conn = getattr(self.local, "conn", None)
        if conn is not None:
            return conn
        if self.sqlite:
            conn = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None)
            for pragma in ("foreign_keys=ON", "busy_timeout=30000", "synchronous=NORMAL"):
                conn.execute(f"PRAGMA {pragma}")
        else:
            import psycopg

            conn = psycopg.connect(self.url.replace("postgresql+psycopg", "postgresql"))
            conn.autocommit = True
        self.local.conn = conn
        return conn

    def _ts(self, now: datetime) -> Any:
        """hdops's UTCDateTime: naive UTC text on SQLite, timestamptz on PostgreSQL."""
        return now.replace(tzinfo=None).isoformat(" ", "microseconds") if self.sqlite else now

    def answer(self, user: str, choice: str, key: str) -> bool:
        """Store the answer and offer the next task; False if there was nothing to answer."""
        conn, sql, now = self._conn(), self.sql, datetime.now(UTC)
        person = self.people[user]
        conn.execute(self.begin)
        try:
            row = conn.execute(sql["open"], (person,)).fetchone()
            if row is None:
                conn.execute("ROLLBACK")
                return False
            assignment, item, offered_at, version = row
            if isinstance(offered_at, str):
                offered_at = datetime.fromisoformat(offered_at).replace(tzinfo=UTC)
            seconds = max(0, int((now - offered_at).total_seconds()))
            conn.execute(
                sql["answer"],
                (
                    assignment,
                    item,
                    self.project,
                    person,
                    json.dumps({"choice": choice}),
                    version,
                    seconds,
                    self._ts(now),
                    key,
                    self.pay_rate,
                    self.currency,
                ),
            )
            conn.execute(sql["close"], (self._ts(now), assignment))
            conn.execute(sql["count"], (item,))
            self._offer(conn, person, now)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return True

    def next_task(self, user: str) -> bool:
        """`/hdops next`: offer a task unless one is open."""
        conn, now = self._conn(), datetime.now(UTC)
        person = self.people[user]
        conn.execute(self.begin)
        try:
            if conn.execute(self.sql["open"], (person,)).fetchone() is None:
                self._offer(conn, person, now)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return True

    def _offer(self, conn: Any, person: int, now: datetime) -> None:
        sql = self.sql
        for (item,) in conn.execute(sql["next"], (self.project, person)).fetchall():
            if conn.execute(sql["claim"], (item,)).rowcount:
                conn.execute(
                    sql["offer"],
                    (
                        item,
                        self.project,
                        person,
                        self._ts(now),
                        self._ts(now + self.lease),
                        self.version,
                    ),
                )
                return
        raise RuntimeError(f"no open item for person {person}")


class Baseline:
    def __init__(self, db: Db, api: str, bot_token: str, payloads: dict[str, Any]) -> None:
        self.db = db
        self.api = api
        self.bot_auth = {"Authorization": f"Bearer {bot_token}"}
        self.task = payloads["task"]
        self.recorded = payloads["recorded"]
        # SQLite has one writer; on PostgreSQL a few transactions run at once, as in hdops.
        self.pool = ThreadPoolExecutor(1 if db.sqlite else 4)
        self.http: aiohttp.ClientSession | None = None
        self.running: set[asyncio.Task[None]] = set()

    async def serve(self, app_token: str) -> None:
        async with aiohttp.ClientSession() as http:
            self.http = http
            headers = {"Authorization": f"Bearer {app_token}"}
            async with http.post(self.api + "apps.connections.open", headers=headers) as resp:
                url = (await resp.json())["url"]
            async with http.ws_connect(url) as ws:
                async for message in ws:
                    if message.type != aiohttp.WSMsgType.TEXT:
                        break
                    envelope = json.loads(message.data)
                    if "envelope_id" not in envelope:
                        continue  # hello, disconnect
                    await ws.send_str(json.dumps({"envelope_id": envelope["envelope_id"]}))
                    task = asyncio.create_task(self.handle(envelope))
                    self.running.add(task)
                    task.add_done_callback(self.running.discard)

    async def handle(self, envelope: dict[str, Any]) -> None:
        payload = envelope["payload"]
        loop = asyncio.get_running_loop()
        if envelope["type"] == "slash_commands" and payload.get("text") == "next":
            await loop.run_in_executor(self.pool, self.db.next_task, payload["user_id"])
            await self.post(payload["channel_id"])
            return
        if envelope["type"] != "interactive" or payload.get("type") != "block_actions":
            return
        action = payload["actions"][0]
        action_id = action["action_id"]
        if not action_id.startswith("hd:ans:"):
            return
        user = payload["user"]["id"]
        key = f"slack:act:{user}:{action['action_ts']}:{action_id}"
        choice = action_id.rsplit(":", 1)[1]
        if await loop.run_in_executor(self.pool, self.db.answer, user, choice, key):
            await self.post(payload["channel"]["id"])
            assert self.http is not None
            body = {"replace_original": True, **self.recorded}
            async with self.http.post(payload["response_url"], json=body) as resp:
                await resp.read()

    async def post(self, channel: str) -> None:
        assert self.http is not None
        async with self.http.post(
            self.api + "chat.postMessage",
            json={"channel": channel, **self.task},
            headers=self.bot_auth,
        ) as resp:
            await resp.read()


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True, help="SQLAlchemy-style URL (sqlite:/// or postgresql)")
    ap.add_argument("--api", required=True, help="Slack Web API base URL, ending in /")
    ap.add_argument("--payloads", required=True, help="JSON file: {task, recorded} payloads")
    args = ap.parse_args()
    with open(args.payloads) as handle:
        payloads = json.load(handle)
    baseline = Baseline(Db(args.db), args.api, os.environ["SLACK_BOT_TOKEN"], payloads)
    serving = asyncio.create_task(baseline.serve(os.environ["SLACK_APP_TOKEN"]))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, serving.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await serving


if __name__ == "__main__":
    asyncio.run(main())
