"""`hdops run --discord --shard I/N`: a worker's Gateway shard, or one clear error."""

from __future__ import annotations

import pytest

from bots.run import parse_shard
from hdops.errors import HdopsError


def test_a_shard_is_i_of_n() -> None:
    assert parse_shard(None, True) is None
    assert parse_shard("0/1", True) == (0, 1)
    assert parse_shard("2/3", True) == (2, 3)


@pytest.mark.parametrize("text", ["3/3", "-1/3", "1", "a/b", "1/0", "0/3/4", " 0/3", "0/99999"])
def test_a_bad_shard_is_refused(text: str) -> None:
    with pytest.raises(HdopsError, match="expected I/N"):
        parse_shard(text, True)


def test_a_shard_needs_discord() -> None:
    with pytest.raises(HdopsError, match="--discord"):
        parse_shard("0/2", False)
