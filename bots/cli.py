"""The `hdops` console script: the core CLI plus the commands that need adapters.

`hdops.cli` may not import `bots` (the core never depends on its adapters), so
the composition root lives here: it takes the core's typer app and adds
`hdops chat`, `hdops demo` and `hdops run`, each implemented in its own module.
"""

from __future__ import annotations

import importlib

from hdops.cli.main import app

_ADAPTER_COMMANDS = ("bots.local.terminal", "bots.demo.command", "bots.run")


def _register() -> None:
    for module_name in _ADAPTER_COMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name or (exc.name and module_name.startswith(exc.name)):
                continue  # not built yet
            raise
        module.register(app)


_register()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
