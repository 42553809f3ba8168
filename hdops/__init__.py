"""hdops: human-data operations for AI research teams, run through chat.

The package is the platform-neutral core. It never imports the chat adapters
(`bots`), the scheduler (`schedules`) or any chat library; an import-linter
contract in pyproject.toml enforces that direction.
"""

__version__ = "0.1.0"
