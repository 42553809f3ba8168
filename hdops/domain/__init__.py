"""Pure domain rules: pydantic models and functions with no I/O."""
