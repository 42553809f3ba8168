"""Every verb an action id can carry has exactly one handler in the registry
(`hdops.interactions`), buttons and forms apart; nothing else is routed."""

from __future__ import annotations

import pytest

from hdops import actions, interactions
from hdops.errors import InvalidInput


def _declared() -> tuple[set[str], set[str]]:
    names = [n for n in dir(actions) if n.isupper() and n not in ("MAX_LEN", "PREFIX")]
    values = {getattr(actions, n) for n in names if isinstance(getattr(actions, n), str)}
    forms = {v for v in values if v.startswith("f_")}
    return values - forms, forms


def test_each_declared_verb_has_its_handler_and_no_more() -> None:
    buttons, forms = interactions.verbs()
    declared_buttons, declared_forms = _declared()
    assert buttons == declared_buttons
    assert forms == declared_forms


def test_a_verb_cannot_be_registered_twice() -> None:
    interactions.verbs()  # load the features
    with pytest.raises(ValueError, match="registered twice"):
        interactions.button(actions.ANSWER)(lambda ctx: ctx)  # type: ignore[arg-type,return-value]


@pytest.mark.parametrize(
    ("run", "message"),
    [
        (interactions.run_button, interactions.UNKNOWN_BUTTON),
        (interactions.run_form, interactions.UNKNOWN_FORM),
    ],
)
def test_an_unknown_verb_is_refused_in_one_line(run: object, message: str) -> None:
    ctx = interactions.Context(
        session=None,  # type: ignore[arg-type]
        person=None,  # type: ignore[arg-type]
        act=actions.Action("nope", 1),
        now=None,  # type: ignore[arg-type]
        settings=None,  # type: ignore[arg-type]
        key="k",
    )
    with pytest.raises(InvalidInput, match="not recognised"):
        run(ctx)  # type: ignore[operator]
    assert "old version" in message


def test_the_registries_are_full_as_soon_as_they_are_imported() -> None:
    """A registry filled lazily on first use raced between the worker threads that
    run the core: one saw it half filled and answered "Unknown command `next`"
    (seen in the Slack latency benchmark). In a fresh interpreter, both are
    complete right after import, before any function of theirs runs."""
    import subprocess
    import sys

    code = (
        "import hdops.commands as c, hdops.interactions as i\n"
        "assert ('next',) in c._REGISTRY and ('payouts', 'approve') in c._REGISTRY\n"
        "assert 'ans' in i._BUTTONS and 'f_text' in i._FORMS\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
