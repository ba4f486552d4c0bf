"""Student-facing checks for the visible tests in every lab's graded cells.

A failing check raises `CheckFailure` (an AssertionError, so nbgrader scores the cell as
failed) whose message says what was checked, what was expected, what was got, and a hint.
A passing check prints one tick line, so Validate shows progress and not silence.

Student code runs only through these checks (`check_call`, `check_raises`, or the
`check_runs` block), so a raise in a student's function reads as a check that failed, with
its hint, and never as a bare traceback. In a notebook a `CheckFailure` renders as its message
alone (IPython's ``_render_traceback_``), in the cell, in Validate and in nbgrader's feedback;
one raised inside a ``### BEGIN HIDDEN TESTS`` block is labelled as a hidden test's.
"""

from __future__ import annotations

import hashlib
import linecache
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import TracebackType
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
    "check_runs",
    "check_label",
    "label_digest",
    "Raised",
    "HIDDEN_BEGIN",
    "HIDDEN_END",
]

# nbgrader's delimiters (grader/nbgrader_config.py), as they appear in a test cell's source.
HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"


def _is_cell(filename: str) -> bool:
    """Whether code was compiled from a notebook cell (ipykernel's temporary cell files)."""
    return "ipykernel_" in filename or filename.startswith("<ipython-input")


def _in_hidden_block(tb: TracebackType | None) -> bool:
    """Whether the test cell's own line in ``tb`` stands inside a hidden-tests block.

    That is the outermost cell frame: a helper that the cell defines above the block and
    calls from inside it fails in the block, whichever line of the helper raised.
    """
    where = None
    while tb is not None and where is None:
        if _is_cell(tb.tb_frame.f_code.co_filename):
            where = (tb.tb_frame.f_code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    if where is None:
        return False
    hidden = False
    for line in linecache.getlines(where[0])[:where[1]]:
        if HIDDEN_BEGIN in line:
            hidden = True
        elif HIDDEN_END in line:
            hidden = False
    return hidden


class CheckFailure(AssertionError):
    """A check that failed; ``str()`` is the full, readable explanation."""

    def _render_traceback_(self) -> list[str]:
        """IPython shows these lines instead of a stack: the student reads the check alone."""
        lines = str(self).splitlines()
        if _in_hidden_block(self.__traceback__):
            lines.insert(0, message("hidden"))
        return lines


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
    with check_runs(what, hint):
        return func(*args, **kwargs)


def label_digest(label: str, salt: str) -> str:
    """A short digest of a normalised label: what a visible check compares a label with.

    Authors compute it once (``label_digest("GPU", "ex3:gemm")``) and write the digest in the
    test cell, so the cell's source does not show the answer a student should work out.
    """
    text = f"{salt}:{str(label).strip().lower()}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def check_label(got: Any, digest: str, salt: str, what: str, hint: str | None = None, *,
                choices: Iterable[str] | None = None, quiet: bool = False) -> None:
    """Fail unless the label ``got`` is the one whose `label_digest` is ``digest``.

    The failure says what came back and, with ``choices``, whether it is one of them, but
    never which label was expected: the hint names the rule instead (the exercise contract).
    """
    if not isinstance(got, str):
        raise _fail(what, message("type", expected="str", got=type(got).__name__), hint)
    if choices is not None and got.strip().lower() not in {c.lower() for c in choices}:
        raise _fail(what, message("not_a_choice", got=_show(got),
                                  choices=", ".join(map(repr, choices))), hint)
    if label_digest(got, salt) != digest:
        raise _fail(what, message("wrong_label", got=_show(got)), hint)
    _ok(what, quiet)


def _student_line(exc: BaseException) -> str:
    """' (your f, line 3: `int(x)`)' for the innermost frame of notebook code, else ''."""
    tb, found = exc.__traceback__, ""
    while tb is not None:
        code = tb.tb_frame.f_code
        if _is_cell(code.co_filename):
            text = linecache.getline(code.co_filename, tb.tb_lineno).strip()
            found = message("where", function=code.co_name, line=tb.tb_lineno, text=text)
        tb = tb.tb_next
    return found


@contextmanager
def check_runs(what: str, hint: str | None = None) -> Iterator[None]:
    """A block that runs student code: any raise in it becomes a readable `CheckFailure`.

    ``with check_runs("parse_gpu_csv on an H100 line", hint=...): got = parse_gpu_csv(t)``.
    A `CheckFailure` raised inside (a check that failed) passes through unchanged.
    """
    try:
        yield
    except CheckFailure:
        raise
    except NotImplementedError:
        raise _fail(what, message("not_implemented"), hint) from None
    except Exception as exc:  # noqa: BLE001 - the student's bug, shown readably
        got = f"{type(exc).__name__}: {exc}{_student_line(exc)}"
        raise _fail(what, message("raised", got=got), hint) from None


class Raised:
    """What `check_raises` caught: ``str()`` is its message, ``.exception`` the exception.

    It shows nothing when it ends a cell, so a passing check leaves only its tick line.
    """

    def __init__(self, exception: BaseException) -> None:
        self.exception = exception

    def __str__(self) -> str:
        return str(self.exception)

    def _ipython_display_(self) -> None:
        pass


def check_raises(func: Callable[..., Any], expected: type[BaseException], what: str,
                 hint: str | None = None, *, args: Sequence[Any] = (),
                 kwargs: Mapping[str, Any] | None = None, quiet: bool = False) -> Raised:
    """Fail unless ``func(*args, **kwargs)`` raises ``expected``; return what was raised.

    ``err = check_raises(admit, ValueError, "too big", hint, args=(gpu, tenants))``, then
    check the message with ``check(name in str(err), ...)``.
    """
    try:
        func(*args, **(kwargs or {}))
    except expected as exc:
        _ok(what, quiet)
        return Raised(exc)
    except NotImplementedError:
        raise _fail(what, message("not_implemented"), hint) from None
    except Exception as exc:  # noqa: BLE001 - any other exception is the student's bug
        got = message("raised_other", got=f"{type(exc).__name__}: {exc}{_student_line(exc)}")
        raise _fail(what, message("raises", expected=expected.__name__, got=got), hint) from None
    raise _fail(what, message("raises", expected=expected.__name__,
                              got=message("raised_nothing")), hint)
