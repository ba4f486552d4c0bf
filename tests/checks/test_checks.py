import pytest

from labkit.checks import (
    CheckFailure,
    check,
    check_close,
    check_equal,
    check_len,
    check_raises,
    check_records,
    check_type,
)


def test_passing_check_prints_a_tick(capsys):
    check_equal(2 + 2, 4, "addition")
    assert capsys.readouterr().out == "\u2713 addition\n"


@pytest.mark.parametrize(("call", "expected"), [
    (lambda: check_equal(3, 4, "sum", "add again"),
     "\u2717 sum: expected 4, got 3\nHint: add again"),
    (lambda: check(False, "positive"), "\u2717 positive: the condition does not hold"),
    (lambda: check_close(1.5, 1.0, "ratio", rel=0.01),
     "\u2717 ratio: expected 1.0 (within 0.01 relative), got 1.5"),
    (lambda: check_close("1", 1.0, "ratio"), "\u2717 ratio: expected a number, got a str"),
    (lambda: check_type({}, list, "records"), "\u2717 records: expected a list, got a dict"),
    (lambda: check_len([1], 2, "rows"), "\u2717 rows: expected 2 item(s), got 1"),
    (lambda: check_records([{"a": 1}], [{"a": 2}], "recs"),
     "\u2717 recs, item 0['a']: expected 2, got 1"),
    (lambda: check_records([{"b": 1}], [{"a": 1}], "recs"),
     "\u2717 recs: item 0 has no key 'a' (it has: b)"),
    (lambda: check_raises(lambda: None, ValueError, "bad input"),
     "\u2717 bad input: expected ValueError to be raised, but nothing was raised"),
    (lambda: check_raises(lambda: 1 / 0, ValueError, "bad input"),
     "\u2717 bad input: expected ValueError to be raised, but ZeroDivisionError: "
     "division by zero was raised instead"),
], ids=["equal", "condition", "close", "close-not-number", "type", "length", "record-value",
        "record-key", "raises-nothing", "raises-other"])
def test_failures_say_what_expected_got_and_hint(call, expected):
    with pytest.raises(CheckFailure) as info:
        call()
    assert str(info.value) == expected
    assert isinstance(info.value, AssertionError), "nbgrader scores AssertionError as failed"


def test_unanswered_exercise_is_named():
    def unanswered():
        raise NotImplementedError()
    with pytest.raises(CheckFailure, match="not answered yet"):
        check_raises(unanswered, ValueError, "validation")


def test_records_compare_floats_with_tolerance_and_ignore_extra_keys(capsys):
    check_records([{"x": 0.1 + 0.2, "extra": 1}], [{"x": 0.3}], "floats")
    assert "floats" in capsys.readouterr().out


def test_long_values_are_shortened():
    with pytest.raises(CheckFailure) as info:
        check_equal("x" * 500, "y", "long")
    assert len(str(info.value)) < 300


def test_check_call_returns_the_result_or_explains_the_failure():
    from labkit.checks import check_call

    assert check_call(lambda x: x * 2, 21) == 42

    def unanswered(text):
        raise NotImplementedError()

    with pytest.raises(CheckFailure, match="not answered yet"):
        check_call(unanswered, "x", what="parse")

    def buggy(text):
        return int(text)

    with pytest.raises(CheckFailure) as info:
        check_call(buggy, "abc", what="buggy('abc') runs", hint="convert numbers only")
    assert str(info.value).startswith("\u2717 buggy('abc') runs: it raised ValueError: invalid")
    assert str(info.value).endswith("Hint: convert numbers only")


def _cell(source: str, name: str = "/tmp/ipykernel_0/cell.py"):
    """Compile ``source`` as a notebook cell would be (ipykernel's file name, in linecache)."""
    import linecache

    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    return compile(source, name, "exec")


def _render(source: str, name: str = "/tmp/ipykernel_0/cell.py") -> list[str]:
    namespace = {}
    with pytest.raises(CheckFailure) as info:
        exec(_cell(source, name), namespace)
    return info.value._render_traceback_()


def test_check_runs_turns_a_raise_into_a_readable_failure_naming_the_line():
    lines = _render(
        "from labkit.checks import check_runs\n"
        "def parse(text):\n"
        "    return int(text)\n"
        "with check_runs('parse(\"x\") runs', hint='convert digits only'):\n"
        "    parse('x')\n")
    assert lines[0].startswith("\u2717 parse(\"x\") runs: it raised ValueError: invalid literal")
    assert "(in parse, line 3: return int(text))" in lines[0]
    assert lines[1] == "Hint: convert digits only"
    assert not any("Traceback" in line for line in lines)


def test_check_runs_names_an_unanswered_exercise_and_passes_check_failures_through():
    from labkit.checks import check_runs

    with pytest.raises(CheckFailure, match="not answered yet"), check_runs("x", hint="h"):
        raise NotImplementedError()
    with pytest.raises(CheckFailure, match="inner") as info, check_runs("outer"):
        check(False, "inner")
    assert "outer" not in str(info.value)


def test_a_failure_in_the_hidden_block_is_labelled_hidden():
    visible = _render("from labkit.checks import check\ncheck(False, 'visible one')\n"
                      "### BEGIN HIDDEN TESTS\ncheck(True, 'x')\n### END HIDDEN TESTS\n")
    hidden = _render("from labkit.checks import check\ncheck(True, 'visible one')\n"
                     "### BEGIN HIDDEN TESTS\ncheck(False, 'hidden one')\n"
                     "### END HIDDEN TESTS\n")
    assert visible == ["\u2717 visible one: the condition does not hold"]
    assert hidden[0].startswith("[hidden test]")
    assert hidden[1] == "\u2717 hidden one: the condition does not hold"


def test_check_call_keeps_its_hint_when_the_function_raises():
    from labkit.checks import check_call

    with pytest.raises(CheckFailure) as info:
        check_call(lambda: {}["k"], what="lookup runs", hint="use .get")
    assert str(info.value) == "\u2717 lookup runs: it raised KeyError: 'k'\nHint: use .get"


def test_check_raises_passes_arguments_and_returns_the_exception(capsys):
    def admit(gpu, tenants):
        raise ValueError(f"{tenants[0]} needs more than {gpu} has")

    err = check_raises(admit, ValueError, "too big", args=("A100", ["huge"]))
    assert str(err) == "huge needs more than A100 has"
    assert isinstance(err.exception, ValueError)
    err._ipython_display_()  # ending a cell, it shows nothing (no stray exception repr)
    assert capsys.readouterr().out == "\u2713 too big\n"


def test_a_helper_defined_above_the_hidden_block_fails_as_hidden():
    lines = _render("from labkit.checks import check\n"
                    "def helper(ok):\n"
                    "    check(ok, 'inside the helper')\n"
                    "helper(True)\n"
                    "### BEGIN HIDDEN TESTS\n"
                    "helper(False)\n"
                    "### END HIDDEN TESTS\n", name="/tmp/ipykernel_0/helper.py")
    assert lines[0].startswith("[hidden test]")


def test_check_label_never_shows_the_expected_label(capsys):
    from labkit.checks import check_label, label_digest

    digest = label_digest("GPU", "ex3:gemm")
    assert "GPU" not in digest and label_digest(" gpu ", "ex3:gemm") == digest
    check_label("gpu", digest, "ex3:gemm", "gemm")
    assert capsys.readouterr().out == "\u2713 gemm\n"
    with pytest.raises(CheckFailure) as info:
        check_label("CPU", digest, "ex3:gemm", "gemm", hint="compare its intensity with the "
                    "ridge point", choices=["CPU", "GPU", "DPU"])
    assert str(info.value) == ("\u2717 gemm: 'CPU' is not the right answer here\n"
                               "Hint: compare its intensity with the ridge point")
    with pytest.raises(CheckFailure, match="'TPU' is not one of 'CPU', 'GPU', 'DPU'"):
        check_label("TPU", digest, "ex3:gemm", "gemm", choices=["CPU", "GPU", "DPU"])
