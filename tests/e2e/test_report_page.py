"""`hdops report PROJECT --out report.html`: one self-contained page that opens in a
browser and reads well — checked by rendering it in headless Chromium and looking at
the screenshot, not only at the HTML.

Chromium is a test-only tool: `.ci/run` installs Debian's package and sets
HDOPS_REQUIRE_BROWSER=1, so there the test fails rather than skips without it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from hdops.cli.main import app
from hdops.store.db import Store
from tests.helpers import T0, add_items, contractor, make_project
from tests.payout_data import answer

pytestmark = pytest.mark.timeout(120)
HOSTILE = '<script>alert("x")</script>'


def _project_with_work(store: Store) -> None:
    with store.unit_of_work() as s:
        project = make_project(s, title="Helpfulness <b>comparisons</b>")
        items = add_items(s, project, 12)
        gold = add_items(s, project, 4, gold={"choice": "a"}, prefix="gold")
        people = [contractor(s, name) for name in ("alice", "bob", "carol")]
        people[2].display_name = HOSTILE
        for n, item in enumerate(items + gold):
            for k, person in enumerate(people[: 1 + n % 3]):
                answer(s, person, item, T0 + timedelta(minutes=n * 3 + k), seconds=30 + 7 * k)


def _write(db_url: str, out: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("HDOPS_DATABASE_URL", db_url)
    result = CliRunner().invoke(app, ["report", "helpful-pairs", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote the report of helpful-pairs" in result.stdout
    return out.read_text(encoding="utf-8")


def test_the_report_is_one_safe_self_contained_page(
    store: Store, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project_with_work(store)
    page = _write(db_url, tmp_path / "report.html", monkeypatch)
    assert page.startswith("<!doctype html>")
    assert HOSTILE not in page and "&lt;script&gt;" in page  # names are text, not markup
    assert "<b>comparisons</b>" not in page
    # nothing fetched: no scripts, no external sources or links
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page, re.IGNORECASE)
    assert page.count("<svg") == 2 and "accepted answers" in page  # work, gold with CIs
    assert "agreement (α)" in page and "Krippendorff's alpha (nominal)" in page
    assert "Reliability per contractor" in page and "(95 % CI)" in page
    for name in ("alice", "bob"):
        assert f"<td>{name}</td>" in page


def test_the_report_renders_in_a_browser(
    store: Store, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("HDOPS_REQUIRE_BROWSER"):
            pytest.fail("chromium is required here (HDOPS_REQUIRE_BROWSER) and not installed")
        pytest.skip("no chromium on PATH: install Debian's chromium to run this check")
    _project_with_work(store)
    page = tmp_path / "report.html"
    _write(db_url, page, monkeypatch)
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1100,1400",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=90,
    )
    with Image.open(shot) as image:
        assert image.size == (1100, 1400)
        pixels = image.convert("RGB")
        colors = pixels.getcolors(maxcolors=1_000_000) or []
        # a rendered page, not a blank or an error page: many colours, the chart's
        # blue bars among them, and mostly the light page background
        assert len(colors) > 50
        blue = sum(n for n, (r, g, b) in colors if b > 150 and r < 90 and 100 < g < 160)
        light = sum(n for n, (r, g, b) in colors if min(r, g, b) > 230)
        assert blue > 2_000, "the chart's bars are visible"
        assert light > 0.5 * 1100 * 1400
