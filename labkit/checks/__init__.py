"""Student-facing checks for the visible tests in every lab's graded cells.

A failing check raises `CheckFailure` (an AssertionError, so nbgrader scores the cell as
failed) whose message says what was checked, what was expected, what was got, and a hint.
A passing check prints one tick line, so Validate shows progress and not silence.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .messages import message

__all__ = [
    "CheckFailure",
    "check",
    "check_equal",
    "check_close",
    "check_type",
    "check_len",
    "check_records",
    "check_raises",
    "check_call",
]


class CheckFailure(AssertionError):
    """A check that failed; ``str()`` is the full, readable explanation."""


def _fail(what: str, detail: str, hint: str | None) -> CheckFailure:
    text = message("fail", what=what, detail=detail)
    if hint:
        text += "\n" + message("hint", hint=hint)
    return CheckFailure(text)


def _ok(what: str, quiet: bool) -> None:
    if not quiet:
        print(message("pass", what=what))


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def check(condition: bool, what: str, hint: str | None = None, *, quiet: bool = False) -> None:
    """Fail unless ``condition`` holds."""
    if not condition:
        raise _fail(what, message("not_true"), hint)
    _ok(what, quiet)


def check_equal(got: Any, expected: Any, what: str, hint: str | None = None,
                *, quiet: bool = False) -> None:
    """Fail unless ``got == expected``."""
    if got != expected:
        raise _fail(what, message("expected", expected=_show(expected), got=_show(got)), hint)
    _ok(what, quiet)


def check_close(got: Any, expected: float, what: str, hint: str | None = None, *,
                rel: float = 1e-6, abs_tol: float = 0.0, quiet: bool = False) -> None:
    """Fail unless ``got`` is a number within ``rel`` (relative) or ``abs_tol`` of ``expected``."""
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        raise _fail(what, message("type", expected="number",
                                  got=type(got).__name__), hint)
    if not math.isclose(got, expected, rel_tol=rel, abs_tol=abs_tol):
        tolerance = f"{rel:g} relative" if rel else f"{abs_tol:g}"
        raise _fail(what, message("close", expected=_show(expected), tolerance=tolerance,
                                  got=_show(got)), hint)
    _ok(what, quiet)


def check_type(got: Any, expected: type | tuple[type, ...], what: str,
               hint: str | None = None, *, quiet: bool = False) -> None:
    """Fail unless ``got`` is an instance of ``expected``."""
    if not isinstance(got, expected):
        names = (expected.__name__ if isinstance(expected, type)
                 else " or ".join(t.__name__ for t in expected))
        raise _fail(what, message("type", expected=names, got=type(got).__name__), hint)
    _ok(what, quiet)


def check_len(got: Sequence, expected: int, what: str, hint: str | None = None,
              *, quiet: bool = False) -> None:
    """Fail unless ``got`` has ``expected`` items."""
    check_type(got, (list, tuple), what, hint, quiet=True)
    if len(got) != expected:
        raise _fail(what, message("length", expected=expected, got=len(got)), hint)
    _ok(what, quiet)


def check_records(got: Sequence[Mapping], expected: Sequence[Mapping], what: str,
                  hint: str | None = None, *, keys: Iterable[str] | None = None,
                  rel: float = 1e-9, quiet: bool = False) -> None:
    """Compare lists of dicts key by key (floats with ``rel``), naming the first difference."""
    check_len(got, len(expected), what, hint, quiet=True)
    for index, (g, e) in enumerate(zip(got, expected, strict=True)):
        check_type(g, Mapping, f"{what}, item {index}", hint, quiet=True)
        for key in keys or e.keys():
            if key not in g:
                raise _fail(what, message("missing_key", index=index, key=key,
                                          keys=", ".join(map(str, g)) or "none"), hint)
            gv, ev = g[key], e[key]
            same = (math.isclose(gv, ev, rel_tol=rel)
                    if isinstance(ev, float) and isinstance(gv, (int, float))
                    and not isinstance(gv, bool) else gv == ev)
            if not same:
                raise _fail(f"{what}, item {index}['{key}']",
                            message("expected", expected=_show(ev), got=_show(gv)), hint)
    _ok(what, quiet)


def check_call(func: Callable[..., Any], *args: Any, what: str | None = None,
               hint: str | None = None, **kwargs: Any) -> Any:
    """Call the student's ``func(*args, **kwargs)`` and return its result.

    An unanswered exercise (``NotImplementedError``) or any exception becomes a readable
    `CheckFailure` instead of a bare traceback.
    """
    what = what or f"{getattr(func, '__name__', 'the function')}(...) runs"
    try:
        return func(*args, **kwargs)
    except NotImplementedError:
        raise _fail(what, message("not_implemented"), hint) from None
    except Exception as exc:  # noqa: BLE001 - the student's bug, shown readably
        raise _fail(what, message("raised", got=f"{type(exc).__name__}: {exc}"), hint) from exc


def check_raises(func: Callable[[], Any], expected: type[BaseException], what: str,
                 hint: str | None = None, *, quiet: bool = False) -> None:
    """Fail unless calling ``func()`` raises ``expected``."""
    try:
        func()
    except expected:
        _ok(what, quiet)
        return
    except NotImplementedError:
        raise _fail(what, message("not_implemented"), hint) from None
    except Exception as exc:  # noqa: BLE001 - any other exception is the student's bug
        got = message("raised_other", got=f"{type(exc).__name__}: {exc}")
        raise _fail(what, message("raises", expected=expected.__name__, got=got), hint) from None
    raise _fail(what, message("raises", expected=expected.__name__,
                              got=message("raised_nothing")), hint)
