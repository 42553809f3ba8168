"""The demo's week of shifts: ops schedule it by chat, the scheduled jobs run it.

Before the working day an ops person schedules the week (Monday to Friday, each
contractor on four or five days) with `/hdops shift add` in the local chat. From
then on the real scheduled jobs (`schedules.jobs`) drive the day: the shift sync
plans them from the database into `SimJobs`, a scheduler on the simulation's own
event heap (so they run at simulated times, deterministically), and they act
through the same services as under `hdops run`: reminders 24 h and 15 min
before, the first task pushed at the start, the no-show check 10 minutes in.

Contractors now arrive for their shift: a few minutes early or late they check
in (`/hdops checkin`), and they check out when they leave. One of them, drawn
from the seed, never turns up: the ops channel is told. Someone whose break ran
past the end of their day never comes back to check out: their check-in closes
by itself after a stretch without activity, as in production (the sweep runs on
after everyone has left), and a break long enough for that means checking in
again on return, as the DM says. Someone still at work whose check-in closed
while they waited for a task (the project's last tasks went to those with fewer
answers) checks in again a few minutes after the DM. The report's shift section is read back from
the database and the outbox through `hdops.services.reports`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from apscheduler.util import ref_to_obj
from rich.console import RenderableType
from rich.text import Text

from bots.local.platform import LocalMessage
from demo.simulation import DAY_START, TICK_SECONDS, Contractor, Simulation
from demo.tables import report_table
from hdops.domain.reports import ShiftWeekFigures
from hdops.domain.weeks import IsoWeek
from hdops.render.shifts import hours as hours_text
from hdops.services import reports, scheduling
from hdops.services.people import add_person
from hdops.services.scheduling import PlannedJob, ScheduledJob
from schedules import jobs

if TYPE_CHECKING:
    from hdops.store.db import Store

OPS = "olga"
PLAN_AT = -3600  # 08:00 on Monday: ops schedule the week
SYNC_EVERY = 15 * 60
WEEKDAYS = 5
QUARTER = 15 * 60


class SimJobs:
    """`JobScheduler` on the simulation's event heap. Like APScheduler's job store it
    keeps one job per id (a put replaces), skips a job past its misfire grace, and
    runs jobs by textual reference."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.jobs: dict[str, tuple[int, PlannedJob]] = {}
        self._tokens = 0
        self.skipped: list[str] = []

    def _second(self, when: datetime) -> int:
        return int((when - DAY_START).total_seconds())

    def put(self, job: PlannedJob) -> None:
        self._tokens += 1
        token = self._tokens
        self.jobs[job.id] = (token, job)
        self.sim.at(max(self.sim.now, self._second(job.run_at)), partial(self._run, job.id, token))

    def remove(self, job_id: str) -> None:
        self.jobs.pop(job_id, None)

    def scheduled(self, prefix: str) -> dict[str, ScheduledJob]:
        return {
            job_id: ScheduledJob(job_id, job.run_at, dict(job.kwargs))
            for job_id, (_, job) in self.jobs.items()
            if job_id.startswith(prefix)
        }

    async def _run(self, job_id: str, token: int) -> None:
        held = self.jobs.get(job_id)
        if held is None or held[0] != token:
            return  # replaced or removed since
        del self.jobs[job_id]
        job = held[1]
        if job.overdue(self.sim.clock.now()):
            self.skipped.append(job_id)
            return
        ref_to_obj(job.func)(**job.kwargs)


def _quarter(second: int) -> int:
    return round(second / QUARTER) * QUARTER


class ShiftSimulation(Simulation):
    """The simulated day, with contractors working the shifts ops scheduled."""

    def __init__(self, store: Store, seed: int, truth: dict[str, str], **kw: object) -> None:
        super().__init__(store, seed, truth, **kw)  # type: ignore[arg-type]
        rng = random.Random(f"hdops-demo:{seed}:shifts")
        self.sim_jobs = SimJobs(self)
        self.no_show = rng.choice(sorted(self.contractors))
        # Shifts on quarter hours; people arrive a few minutes either side of the start.
        self.shift_times: dict[str, tuple[int, int]] = {}
        self.days_off: dict[str, int] = {}
        for name in sorted(self.contractors):
            agent = self.contractors[name]
            start = _quarter(agent.start)
            end = start + max(4 * 3600, _quarter(agent.end - agent.start))
            self.shift_times[name] = (start, end)
            self.days_off[name] = rng.choice([-1, -1, 1, 2, 3, 4])  # -1: works all five
            agent.start = max(PLAN_AT + 60, start + rng.randint(-4, 4) * 60)
            agent.end = min(self.end, end)
        self._unlisten: Callable[[], None] | None = None
        self.closed_on: set[str] = set()  # told their check-in closed by itself

    async def run(self) -> datetime:
        with self.store.unit_of_work() as session:
            add_person(
                session,
                OPS,
                identities=[f"console:{OPS}"],
                roles=["ops"],
                display_name="Olga Ops",
                tz="UTC",
            )
        jobs.install(
            self.store,
            self.core.settings,
            clock=self.clock,
            after_commit=self._mark_dirty,
            scheduler=self.sim_jobs,
        )
        self._unlisten = scheduling.add_change_listener(self._nudge)
        self.at(PLAN_AT, self._plan_week)
        self.at(PLAN_AT + SYNC_EVERY, self._sync)
        try:
            ended = await super().run()
            # The day's work is done: whoever is still checked in checks out.
            for name in sorted(self.contractors):
                if self.contractors[name].on and name not in self.closed_on:
                    self.chat.command(name, "/hdops checkout")
            await self.deliver(always=True)
            self._stamps.extend([self.now] * (len(self.chat.transcript) - len(self._stamps)))
            await self._sweep_after_hours()
            return ended
        finally:
            self._unlisten()
            jobs.uninstall()

    async def _sweep_after_hours(self) -> None:
        """hdops keeps running after everyone has gone: once the idle stretch has
        passed, the sweep closes whatever check-in nobody closed."""
        idle = int(self.core.settings.checkin_idle.total_seconds())
        self.now += idle + TICK_SECONDS
        self.clock.set(DAY_START + timedelta(seconds=self.now))
        self.core.sweep()
        await self.deliver(always=True)
        self._stamps.extend([self.now] * (len(self.chat.transcript) - len(self._stamps)))

    def _contractor_sees(self, agent: Contractor, msg: LocalMessage, kind: str) -> None:
        closed = msg.message.text.startswith("Your check-in from")  # its text, not its heading
        if kind == "new" and msg.thread_of is None and closed:
            self.closed_on.add(agent.name)
            if agent.on and self.now < agent.end:
                # Still at work, only waiting for a task (e.g. the last ones went to
                # those behind): they notice the DM and check in again.
                notice = round(agent.rng.uniform(60, 300))
                self.after(notice, partial(self._check_in_again, agent))
        super()._contractor_sees(agent, msg, kind)

    async def _check_in_again(self, agent: Contractor) -> None:
        if agent.on and self.now < agent.end and agent.name in self.closed_on:
            self.closed_on.discard(agent.name)
            self.chat.command(agent.name, "/hdops checkin")
            await self.deliver()
            self._wake(agent)

    async def _back_from_break(self, agent: Contractor) -> None:
        if self.now < agent.end and agent.name in self.closed_on:
            self.closed_on.discard(agent.name)  # the break was long: check in again
            self.chat.command(agent.name, "/hdops checkin")
        await super()._back_from_break(agent)

    def _nudge(self) -> None:
        """A shift changed: sync right after the current action (as `hdops run` does)."""
        self.after(0, self._sync_once)

    async def _sync_once(self) -> None:
        jobs.sync_shifts()

    async def _sync(self) -> None:
        jobs.sync_shifts()
        if not self.finished:
            self.after(SYNC_EVERY, self._sync)

    async def _plan_week(self) -> None:
        for name in sorted(self.contractors):
            start, end = self.shift_times[name]
            span = f"{_clock(start)}-{_clock(end)}"
            for day in range(WEEKDAYS):
                if day == self.days_off[name]:
                    continue
                date = (DAY_START + timedelta(days=day)).date().isoformat()
                self.chat.command(OPS, f"/hdops shift add @{name} {date} {span}")
        self.chat.command(OPS, "/hdops coverage")

    # ------------------------------------------------------------------ people

    async def _start(self, agent: Contractor) -> None:
        if agent.name == self.no_show:
            return  # never turns up
        agent.on = True
        self.chat.command(agent.name, "/hdops checkin")
        await self.deliver()
        self._wake(agent)

    async def _leave(self, agent: Contractor) -> None:
        was_on = agent.on
        await super()._leave(agent)
        if was_on:
            self.chat.command(agent.name, "/hdops checkout")


def _clock(second: int) -> str:
    when = DAY_START + timedelta(seconds=second)
    return f"{when:%H:%M}"


# --------------------------------------------------------------------------- report


@dataclass(frozen=True)
class ShiftFigures:
    """The week's figures from the product, plus two things only the simulation sees."""

    week: ShiftWeekFigures
    pushed_at_start: int  # shift-start DMs that came with the first task
    skipped_jobs: int  # jobs the simulated scheduler skipped past their grace


def collect_figures(sim: ShiftSimulation) -> ShiftFigures:
    with sim.store.unit_of_work() as session:
        week = reports.shift_week_figures(
            session, sim.core.settings, str(IsoWeek.of(DAY_START.date())), now=DAY_START
        )
    return ShiftFigures(
        week=week,
        pushed_at_start=sum(
            1
            for m in sim.chat.messages.values()
            if m.channel.startswith("dm-") and "first task is below" in m.text
        ),
        skipped_jobs=len(sim.sim_jobs.skipped),
    )


def renderables(f: ShiftFigures) -> list[RenderableType]:
    table = report_table()
    table.add_column("Day", no_wrap=True)
    table.add_column("Hours", justify="right")
    table.add_column("Shifts", justify="right")
    w = f.week
    for day in w.coverage.days:
        table.add_row(f"{day.day:%a %d %b}", hours_text(day.minutes), str(day.shifts))
    no_show = ", ".join(w.no_shows) if w.no_shows else "none"
    note = Text(
        f"{w.shifts} shifts scheduled by ops in chat. Today: {w.reminders_day_before} "
        f"day-before and {w.reminders_15} 15-minute reminders sent, {w.started} shifts "
        f"started by the scheduler ({f.pushed_at_start} with the first task pushed), "
        f"no-shows reported to ops: {no_show}; {w.check_ins} check-ins, "
        f"{hours_text(w.minutes_checked_in)} h checked in.",
        style="dim",
    )
    return [
        Text(f"\nShifts {w.week} (scheduled contractor-hours)", style="bold underline"),
        table,
        note,
    ]
