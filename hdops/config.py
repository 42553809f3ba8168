"""Runtime settings (SPEC §9), read from the environment with pydantic-settings.

Tokens are `SecretStr`: their repr is masked, so logging a `Settings` object or
an error that includes it never leaks a token.
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hdops.domain.money import parse_decimal
from hdops.errors import InvalidInput

DEFAULT_DATABASE_URL = "sqlite:///hdops.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    database_url: str = Field(
        DEFAULT_DATABASE_URL, validation_alias=AliasChoices("HDOPS_DATABASE_URL")
    )
    ops_tz: str = Field("UTC", validation_alias=AliasChoices("HDOPS_OPS_TZ"))
    min_hourly: Decimal | None = Field(None, validation_alias=AliasChoices("HDOPS_MIN_HOURLY"))
    coverage_target_hours: Decimal = Field(
        Decimal("8"), validation_alias=AliasChoices("HDOPS_COVERAGE_TARGET_HOURS")
    )

    # A message that still cannot be delivered (rate limits, outages, a platform not
    # running) after this many hours is marked failed and ops are told.
    outbox_max_age_hours: float = Field(
        24.0, gt=0, validation_alias=AliasChoices("HDOPS_OUTBOX_MAX_AGE_HOURS")
    )

    # A check-in with no activity (command, button, form, thread reply) for this
    # many minutes closes by itself at the last activity; the person is told and
    # may correct it (`/hdops checkin fix`).
    checkin_idle_minutes: int = Field(
        30, gt=0, le=24 * 60, validation_alias=AliasChoices("HDOPS_CHECKIN_IDLE_MINUTES")
    )

    # Housekeeping (one daily job): handled platform event ids are kept this many
    # days — far longer than any platform redelivers (Slack retries within the hour,
    # a Discord RESUME replays one session) — and sent outbox messages this many days
    # for audit. Messages that carry a dedupe key, failed and pending ones stay.
    event_retention_days: int = Field(
        7, ge=1, le=3650, validation_alias=AliasChoices("HDOPS_EVENT_RETENTION_DAYS")
    )
    outbox_retention_days: int = Field(
        90, ge=1, le=3650, validation_alias=AliasChoices("HDOPS_OUTBOX_RETENTION_DAYS")
    )

    slack_bot_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_BOT_TOKEN")
    )
    slack_app_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_APP_TOKEN")
    )
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET")
    )
    slack_api_url: str = Field(
        "https://slack.com/api/", validation_alias=AliasChoices("HDOPS_SLACK_API_URL")
    )
    slack_ops_channel: str | None = Field(
        None, validation_alias=AliasChoices("HDOPS_SLACK_OPS_CHANNEL")
    )
    discord_bot_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("DISCORD_BOT_TOKEN")
    )
    discord_api_url: str = Field(
        "https://discord.com/api/v10", validation_alias=AliasChoices("HDOPS_DISCORD_API_URL")
    )
    discord_ops_channel: str | None = Field(
        None, validation_alias=AliasChoices("HDOPS_DISCORD_OPS_CHANNEL")
    )
    # Guilds (servers) where `/hdops` is registered, comma-separated ids.
    discord_guilds: str = Field("", validation_alias=AliasChoices("HDOPS_DISCORD_GUILDS"))

    @field_validator("discord_guilds")
    @classmethod
    def _guild_ids(cls, value: str) -> str:
        ids = [g.strip() for g in value.split(",") if g.strip()]
        if any(not re.fullmatch(r"[0-9]{1,20}", g) for g in ids):
            raise ValueError("comma-separated Discord guild ids (digits)")
        return ",".join(ids)

    @property
    def discord_guild_ids(self) -> list[str]:
        return [g for g in self.discord_guilds.split(",") if g]

    @field_validator("ops_tz")
    @classmethod
    def _known_tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("min_hourly", "coverage_target_hours", mode="before")
    @classmethod
    def _ascii_decimal(cls, value: object) -> object:
        """Read like any amount typed into hdops (`parse_decimal`): ASCII digits,
        at most 4 decimals, no exponent, NaN or infinity."""
        if isinstance(value, str) and value.strip():
            try:
                return parse_decimal(value, "the value")
            except InvalidInput as exc:
                raise ValueError(exc.message) from None
        return value

    @field_validator("min_hourly")
    @classmethod
    def _floor(cls, value: Decimal | None) -> Decimal | None:
        if value is not None and value < 0:
            raise ValueError("must be zero or more")
        return value

    @field_validator("coverage_target_hours")
    @classmethod
    def _target(cls, value: Decimal) -> Decimal:
        if not 0 < value <= 24:
            raise ValueError("must be more than 0 and at most 24 (hours a day)")
        return value

    @property
    def outbox_max_age(self) -> timedelta:
        return timedelta(hours=self.outbox_max_age_hours)

    @property
    def checkin_idle(self) -> timedelta:
        return timedelta(minutes=self.checkin_idle_minutes)

    @property
    def ops_zone(self) -> ZoneInfo:
        return ZoneInfo(self.ops_tz)


def load_settings() -> Settings:
    return Settings()
