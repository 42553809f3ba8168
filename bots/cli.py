"""The `hdops` console script: the core CLI plus the commands that need adapters.

`hdops.cli` may not import `bots` (the core never depends on its adapters), so
the composition root lives here: it takes the core's typer app and adds
`hdops chat`, `hdops demo` and `hdops run`, each implemented in its own module.
"""

from __future__ import annotations

from bots import run
from bots.local import terminal
from demo import command as demo_command
from hdops.cli.main import app

terminal.register(app)
demo_command.register(app)
run.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
