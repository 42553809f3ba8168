"""A response_url is used at most five times and not after its lifetime."""

from __future__ import annotations

from bots.slack.response_urls import LIFETIME, USES, ResponseUrls


class Clock:
    t = 0.0

    def __call__(self) -> float:
        return self.t


def test_five_uses_then_chat_update() -> None:
    urls = ResponseUrls(Clock())
    urls.remember("D1", "1.0", "https://hooks/x")
    assert [urls.take("D1", "1.0") for _ in range(USES)] == ["https://hooks/x"] * USES
    assert not urls.available("D1", "1.0")
    assert urls.take("D1", "1.0") is None


def test_not_after_its_lifetime_and_a_new_click_renews_it() -> None:
    clock = Clock()
    urls = ResponseUrls(clock)
    urls.remember("D1", "1.0", "https://hooks/old")
    clock.t = LIFETIME + 1
    assert urls.take("D1", "1.0") is None
    urls.remember("D1", "1.0", "https://hooks/new")
    assert urls.take("D1", "1.0") == "https://hooks/new"
    assert urls.take("D1", "2.0") is None  # another message: no URL
