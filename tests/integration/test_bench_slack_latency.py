"""The Slack latency benchmark still runs end to end (`--quick`): `hdops run --slack`
and the raw baseline as processes against the fake Slack, on the database kind under
test. Only that it ran, served clicks and printed its figures: no timing is asserted
(the machine is shared)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ON_POSTGRES, TEST_URL

pytestmark = pytest.mark.store  # benchmarks the store under test (TEST_URL)

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "slack_latency.py"


@pytest.mark.timeout(150)
def test_slack_latency_benchmark_quick() -> None:
    cmd = [sys.executable, str(BENCH), "--quick", "--db", "postgres" if ON_POSTGRES else "sqlite"]
    if ON_POSTGRES:
        cmd += ["--pg-url", TEST_URL]
    # Its own process group, so that a hang takes the bot processes down with it.
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        out, _ = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail("the benchmark ran over 120 s:\n" + out.decode(errors="replace"))
    text = out.decode(errors="replace")
    assert proc.returncode == 0, text
    summary = text.split("\nsummary", 1)[1]
    for load in ("steady", "burst"):
        for system in ("hdops", "baseline"):
            found = re.search(
                rf"{load}\s+{system}\s+clicks\s+(\d+)\s+p50\s+([\d.]+)\s+p99\s+([\d.]+)"
                rf"\s+max\s+([\d.]+) ms\s+CPU\s+([\d.]+) ms/click",
                summary,
            )
            assert found is not None, f"no {load} {system} figures:\n{text}"
            assert int(found.group(1)) > 0, text
        assert re.search(rf"{load}\s+hdops/baseline\s+p50\s+[\d.]+x\s+p99\s+[\d.]+x", summary)
    assert "target" in summary and "served/s" in text and "429s" in text
