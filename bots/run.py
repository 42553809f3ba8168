"""`hdops run`: the bots, the outbox delivery loop and the scheduler in one process.

The scheduler (`schedules.scheduler.SchedulerService`) runs on the same event
loop. With PostgreSQL several `hdops run` processes may share the store: each
runs bots and delivery, and exactly one of them (the advisory-lock leader) runs
the scheduled jobs; on SQLite the single-writer lock below already makes this
process the only one.

Order of start-up checks, each failing with one line: the tokens each chosen
platform needs, the schema is current (`hdops db upgrade` otherwise), and on
SQLite the single-writer lock (a second `hdops run` on the same file refuses to
start and names the lock).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import typer

from bots.runtime import Runtime, bootstrap
from hdops.cli.common import handle_errors, open_store, settings
from hdops.config import Settings
from hdops.core import Core
from hdops.errors import HdopsError
from hdops.store.lock import acquire_writer_lock

log = logging.getLogger("hdops.run")

SWEEP_SECONDS = 30.0
# Slack requires HTTPS, so HTTP mode sits behind a TLS-terminating proxy; on the
# same machine it needs only loopback, and nothing else can reach the plain port.
DEFAULT_HTTP_HOST = "127.0.0.1"


def parse_shard(text: str | None, discord: bool) -> tuple[int, int] | None:
    """`--shard I/N`: this worker is Discord Gateway shard I of N (0 <= I < N)."""
    if text is None:
        return None
    if not discord:
        raise HdopsError("--shard is the Discord Gateway shard: hdops run --discord --shard I/N")
    shard_id, _, count = text.partition("/")
    if not (shard_id.isdigit() and count.isdigit() and int(shard_id) < int(count) <= 1024):
        raise HdopsError(
            f"--shard {text!r}: expected I/N with 0 <= I < N, e.g. --shard 0/3 (shards 0, 1 and 2)"
        )
    return int(shard_id), int(count)


def required_tokens(cfg: Settings, slack: bool, discord: bool, http_port: int | None) -> None:
    missing = []
    if slack:
        if cfg.slack_bot_token is None:
            missing.append("SLACK_BOT_TOKEN")
        if http_port is None and cfg.slack_app_token is None:
            missing.append("SLACK_APP_TOKEN (Socket Mode; or use --http PORT)")
        if http_port is not None and cfg.slack_signing_secret is None:
            missing.append("SLACK_SIGNING_SECRET (HTTP mode)")
    if discord and cfg.discord_bot_token is None:
        missing.append("DISCORD_BOT_TOKEN")
    if missing:
        raise HdopsError("missing configuration: set " + ", ".join(missing))


async def _sweeper(core: Core) -> None:
    while True:
        try:
            await asyncio.to_thread(core.sweep)
        except Exception:
            log.exception("periodic sweep failed")
        await asyncio.sleep(SWEEP_SECONDS)


async def serve(runtime: Runtime) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # non-Unix
            loop.add_signal_handler(sig, stop.set)
    jobs = [
        asyncio.create_task(runtime.deliverer.run_forever()),
        asyncio.create_task(
            runtime.scheduler.run() if runtime.scheduler is not None else _sweeper(runtime.core)
        ),
    ]
    jobs += [asyncio.create_task(start()) for start in runtime.tasks]
    stopping = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([stopping, *jobs], return_when=asyncio.FIRST_COMPLETED)
    for job in [stopping, *jobs]:
        job.cancel()
    await asyncio.gather(stopping, *jobs, return_exceptions=True)
    ended = [job for job in jobs if job in done]
    if ended:
        # Every job runs until stopped: one that ended (a port it could not bind, a
        # platform it could not reach) would otherwise leave a process that looks up
        # but does not serve.
        exc = ended[0].exception() if not ended[0].cancelled() else None
        raise HdopsError(f"hdops run stopped: {exc or 'a job ended'}")


@handle_errors
def run(
    slack: bool = typer.Option(False, "--slack", help="Run the Slack bot."),
    discord: bool = typer.Option(False, "--discord", help="Run the Discord bot."),
    http: int | None = typer.Option(
        None,
        "--http",
        min=1,
        max=65535,
        help="Slack HTTP mode on this port (POST /slack/events, GET /healthz, GET /metrics).",
    ),
    host: str | None = typer.Option(
        None,
        "--host",
        help=f"Address HTTP mode listens on (default {DEFAULT_HTTP_HOST}: behind an HTTPS"
        " proxy on this machine; 0.0.0.0 for every interface, e.g. in a container).",
    ),
    shard: str | None = typer.Option(
        None,
        "--shard",
        metavar="I/N",
        help="Discord Gateway shard I of N, one per worker (README, Scaling out).",
    ),
) -> None:
    """Run the chosen bots, the outbox delivery and the scheduler in one process."""
    if not slack and not discord:
        raise HdopsError("choose at least one platform: hdops run --slack and/or --discord")
    if http is not None and not slack:
        raise HdopsError("--http is Slack's HTTP mode: hdops run --slack --http PORT")
    if host is not None and (http is None or not slack):
        raise HdopsError("--host is for Slack's HTTP mode: hdops run --slack --http PORT --host H")
    gateway_shard = parse_shard(shard, discord)
    cfg = settings()
    required_tokens(cfg, slack, discord, http)
    store = open_store()
    lock = acquire_writer_lock(cfg.database_url)
    try:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        # "Running job …" every 30 s is noise; skipped ("was missed by") and failed
        # jobs are warnings and errors, and stay.
        logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
        runtime = bootstrap(cfg, store, scheduler=True, with_metrics=True)
        # Imported here, plainly: `hdops` starts without loading slack_bolt or
        # discord.py for every other command.
        if slack:
            from bots.slack import app as slack_app

            slack_app.attach(runtime, http_port=http, http_host=host or DEFAULT_HTTP_HOST)
        if discord:
            from bots.discord import client as discord_client

            discord_client.attach(runtime, gateway_shard)
        asyncio.run(serve(runtime))
    finally:
        lock.release()
        store.dispose()


def register(app: typer.Typer) -> None:
    app.command("run")(run)
