"""Tokens never show: not in the settings' printed form, not in a configuration
error, not in the answer a person gets when something fails (the run-process tests
check the logs of real `hdops run` processes: tests/e2e/test_run_process.py)."""

from __future__ import annotations

import pytest

from hdops.config import Settings

TOKENS = {
    "SLACK_BOT_TOKEN": "xoxb-111-secret-bot",
    "SLACK_APP_TOKEN": "xapp-1-secret-app",
    "SLACK_SIGNING_SECRET": "secret-signing-0123",
    "DISCORD_BOT_TOKEN": "MTA.secret.discord",
}


def test_settings_never_print_their_tokens() -> None:
    settings = Settings(**TOKENS)  # type: ignore[arg-type]
    shown = " ".join([repr(settings), str(settings), settings.model_dump_json()])
    for token in TOKENS.values():
        assert token not in shown


def test_a_bad_setting_beside_a_token_names_the_setting_not_the_token() -> None:
    with pytest.raises(ValueError) as refused:
        Settings(**TOKENS, HDOPS_OPS_TZ="Mars/Olympus")  # type: ignore[arg-type]
    message = str(refused.value)
    assert "Mars/Olympus" in message
    for token in TOKENS.values():
        assert token not in message
