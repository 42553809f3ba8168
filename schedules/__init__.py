"""Scheduled work (APScheduler 3.x jobs referenced as `schedules.jobs:name`)."""
