"""Issue 11, points 5, 6 and 11 (these parts), each at the place the input enters.

5. Ids beyond 64 bits, years outside 2000-2100, output paths that are folders,
   devices or pipes, and files nested thousands of levels deep are refused in one
   line instead of failing deep inside (OverflowError, RecursionError, …).
6. Money and settings: ASCII digits only, at most 4 decimals, within NUMERIC(18, 4);
   a coverage target must be 0-24 hours; no adjustment lands in 9999-W52.
11. Full-width `＝` is neutralised in CSV cells; an export never replaces a device
   node or a pipe; a Markdown masked link `[text](url)` does not survive the
   neutralising of what people write.
"""

from __future__ import annotations

import os
import stat
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from bots.local.platform import LocalChat
from bots.runtime import bootstrap
from hdops.chat import ZWSP, defang_mentions
from hdops.clock import FakeClock
from hdops.config import Settings
from hdops.domain import shifts as shift_rules
from hdops.domain.inputs import MAX_ID, parse_id
from hdops.domain.money import parse_decimal
from hdops.domain.payouts import parse_amount
from hdops.domain.projects import load_project_spec
from hdops.domain.weeks import IsoWeek, parse_week
from hdops.errors import InvalidInput
from hdops.files import check_input_file, check_output_file
from hdops.services import export as export_service
from hdops.services import payouts as payout_service
from hdops.services.people import PersonChanges, add_person, update_person
from hdops.store.db import Store
from hdops.store.orm import Adjustment
from tests.helpers import T0, contractor, make_project, ops, researcher

# --------------------------------------------------------------------------- point 5


@pytest.mark.parametrize("text", ["99999999999999999999", str(MAX_ID + 1), "0", "-1", "١٢", "²"])
def test_ids_outside_64_bits_or_not_ascii_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_id(text)
    assert parse_id(str(MAX_ID)) == MAX_ID
    assert parse_id("#12") == 12


def test_a_huge_id_in_a_chat_command_is_one_clear_reply(store: Store) -> None:
    with store.unit_of_work() as session:
        ops(session, "olga")
        contractor(session, "alice")
    chat = bootstrap(Settings(), store, [LocalChat], FakeClock(T0)).port("console")
    assert isinstance(chat, LocalChat)
    for text in (
        "/hdops shift cancel 99999999999999999999",
        "/hdops payouts dispute 99999999999999999999 wrong",
        "/hdops payouts dispute ² wrong",
    ):
        user = "alice" if "dispute" in text else "olga"
        reply = chat.command(user, text)
        assert reply.message is not None, text
        said = reply.message.plain()
        assert "between 1 and" in said or "whole number" in said, (text, said)


@pytest.mark.parametrize("week", ["9999-W52", "0001-W01", "2101-W01", "1999-W52", "٢٠٢٦-W10"])
def test_weeks_outside_the_years_hdops_accepts_are_refused(week: str) -> None:
    with pytest.raises(InvalidInput):
        parse_week(week, T0, "UTC")
    with pytest.raises(InvalidInput):
        parse_week(week, T0.date())
    with pytest.raises(InvalidInput):
        IsoWeek.from_code(999952)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2026-02-30", "٢٠٢٦-٠٣-٠٢"])
def test_dates_outside_the_years_or_the_calendar_are_refused(day: str) -> None:
    with pytest.raises(InvalidInput):
        shift_rules.parse_date(day, date(2026, 3, 2))


def test_times_in_other_scripts_digits_are_refused() -> None:
    with pytest.raises(InvalidInput):
        shift_rules.parse_time_range("٠٩:٠٠-١٣:٠٠")


def test_output_paths_that_are_not_regular_files_are_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "plain").write_text("x")
    for bad in (tmp_path, tmp_path / "pipe", tmp_path / "no" / "x.csv", tmp_path / "plain" / "x"):
        with pytest.raises(InvalidInput) as refused:
            check_output_file(bad)
        assert "\n" not in refused.value.message
    assert check_output_file(tmp_path / "new.csv") == tmp_path / "new.csv"
    with pytest.raises(InvalidInput, match="pipe"):
        check_input_file(tmp_path / "pipe")


@pytest.mark.parametrize(
    "text",
    [
        "name: deep\ntask: " + "[" * 50_000 + "]" * 50_000,
        "name: deep\ntask: " + "{a: " * 40 + "1" + "}" * 40,
        "a: &a [*a]\n",
    ],
)
def test_deeply_nested_specs_are_one_line(tmp_path: Path, text: str) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    with pytest.raises(InvalidInput) as refused:
        load_project_spec(spec)
    assert refused.value.problems == [] or "deep" not in text


# --------------------------------------------------------------------------- point 6


@pytest.mark.parametrize(
    "text",
    ["NaN", "inf", "-Infinity", "1e309", "1e27", "1e3", "0.00005", "١٢.٥٠", "１２", "1_000",
     "100000000000000", " ", "12,50"],
)  # fmt: skip
def test_amounts_are_ascii_4_decimals_and_fit_the_store(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_decimal(text)
    with pytest.raises(InvalidInput):
        parse_amount(text)


def test_good_amounts_are_read_exactly() -> None:
    assert parse_decimal("12.50") == Decimal("12.50")
    assert parse_decimal("-0.0001") == Decimal("-0.0001")
    assert parse_decimal("99999999999999.9999") == Decimal("99999999999999.9999")


def test_hourly_rate_too_precise_or_in_other_digits_is_refused(store: Store) -> None:
    with store.unit_of_work() as session:
        contractor(session, "alice", hourly_rate="18.50")
    for rate in ("0.00005", "١٢.٥٠", "1e16", "10000000000000000"):
        with pytest.raises(InvalidInput), store.unit_of_work() as session:
            update_person(session, "alice", PersonChanges(hourly_rate=rate))
        with pytest.raises(InvalidInput), store.unit_of_work() as session:
            add_person(session, "zed", hourly_rate=rate)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HDOPS_COVERAGE_TARGET_HOURS", "-5"),
        ("HDOPS_COVERAGE_TARGET_HOURS", "0"),
        ("HDOPS_COVERAGE_TARGET_HOURS", "25"),
        ("HDOPS_COVERAGE_TARGET_HOURS", "١٢"),
        ("HDOPS_COVERAGE_TARGET_HOURS", "NaN"),
        ("HDOPS_MIN_HOURLY", "-1"),
        ("HDOPS_MIN_HOURLY", "1e309"),
    ],
)
def test_settings_out_of_range_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        Settings()


def test_no_adjustment_is_booked_into_9999_w52(store: Store) -> None:
    with store.unit_of_work() as session:
        contractor(session, "alice")
        ops(session, "olga")
    with pytest.raises(InvalidInput, match="2000 to 2100"), store.unit_of_work() as session:
        actor = payout_service.cli_actor(session, "olga")
        week = parse_week("9999-W52", T0, "UTC")
        payout_service.add_adjustment(session, actor, "alice", "5.00", "x", week, T0, Settings())
    with store.unit_of_work() as session:
        assert session.scalars(select(Adjustment)).all() == []


# --------------------------------------------------------------------------- point 11


@pytest.mark.parametrize(
    "value", ['＝HYPERLINK("http://x")', "＋1", "－1", "＠SUM(A1)", "  =1+1", "\u3000=1"]
)
def test_full_width_and_spaced_formula_triggers_are_neutralised(value: str) -> None:
    assert export_service.neutralize_csv_cell(value) == "'" + value


def test_an_export_never_replaces_a_pipe_or_a_device(store: Store, tmp_path: Path) -> None:
    with store.unit_of_work() as session:
        researcher(session, "rita")
        make_project(session)
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    targets = [pipe]
    if os.geteuid() == 0:  # a private copy of /dev/full, never the real one
        os.mknod(tmp_path / "full", 0o666 | stat.S_IFCHR, os.makedev(1, 7))
        targets.append(tmp_path / "full")
    for target in targets:
        with pytest.raises(InvalidInput, match="give the name of a file"):
            export_service.export_answers(store, "helpful-pairs", "csv", target)
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    if os.geteuid() == 0:
        assert stat.S_ISCHR((tmp_path / "full").stat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(t.name for t in targets)


@pytest.mark.parametrize(
    "text",
    ["see [the docs](https://evil.example/x)", "[https://good.example](https://evil.example)"],
)
def test_masked_links_are_defanged(text: str) -> None:
    safe = defang_mentions(text)
    assert "](" not in safe
    assert safe.replace(ZWSP, "") == text
