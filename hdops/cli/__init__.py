"""The `hdops` command line. Each feature has its own module registering a typer
sub-app or commands on the root app in `main.py`; they all call the same services
the chat bots call."""
