"""`hdops demo [--seed N] [--out DIR]` (SPEC §9)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    from hdops.cli.common import handle_errors

    @app.command("demo")
    @handle_errors
    def demo(
        seed: int = typer.Option(1, "--seed", help="Random seed: the same seed, the same day."),
        out: Path | None = typer.Option(
            None,
            "--out",
            help="Folder for the database, exports, transcript and report "
            "(default: a new hdops-demo-seedN folder here).",
            show_default=False,
        ),
        hours: float = typer.Option(
            8.0,
            "--hours",
            min=0.25,
            max=24.0,
            help="Length of the simulated working day; it ends earlier when all work is done.",
        ),
    ) -> None:
        """Run hdops on simulated contractors and researchers and print what it recorded.

        A fresh SQLite database in the output folder gets the helpful-pairs example,
        8 simulated contractors and 2 researchers, who work a simulated day through the
        real engine and an in-process chat platform."""
        from rich.console import Console

        from demo.simulation import run_demo

        console = Console(highlight=False)
        err = Console(stderr=True, highlight=False)
        with err.status("Simulating a working day…"):
            result = run_demo(seed, out, hours=hours)
        from demo.report import print_report

        print_report(result.figures, console)
        console.print()
        console.print(f"Written to {result.out_dir}:", markup=False)
        for path in result.files:
            console.print(f"  {path.name}", markup=False)
