import pytest

from labkit.shell import CommandFailed, run


def test_run_prints_the_command_and_its_output(capsys):
    proc = run("sh -c 'echo out; sleep 0.5; echo err >&2'")  # the gap fixes the order
    assert proc.stdout == "out\n"
    assert capsys.readouterr().out == "$ sh -c 'echo out; sleep 0.5; echo err >&2'\nout\nerr\n"


def test_an_expected_failure_is_returned():
    proc = run(["sh", "-c", "exit 7"], expect=7, show=False)
    assert proc.returncode == 7


def test_an_unexpected_exit_code_raises_with_stderr():
    with pytest.raises(CommandFailed, match=r"exited with 3, expected 0 or 9:\nboom"):
        run(["sh", "-c", "echo boom >&2; exit 3"], expect=(0, 9), show=False)


def test_repeated_stderr_lines_are_shown_once_with_a_count(capsys):
    run(["sh", "-c", "echo note >&2; echo other >&2; echo note >&2"])
    assert capsys.readouterr().out.splitlines()[1:] == ["note (x2)", "other"]


def test_stdout_and_stderr_show_in_the_order_they_were_written(capsys):
    proc = run(["sh", "-c", "echo '+ step' >&2; sleep 0.5; echo result; sleep 0.5; "
                "echo 'ERROR: x' >&2; sleep 0.5; echo 'HINT: y'"], show=True)
    assert capsys.readouterr().out.splitlines()[1:] == ["+ step", "result", "ERROR: x",
                                                         "HINT: y"]
    assert (proc.stdout, proc.stderr) == ("result\nHINT: y\n", "+ step\nERROR: x\n")


def test_a_command_past_its_timeout_is_killed():
    import subprocess

    with pytest.raises(subprocess.TimeoutExpired):
        run(["sleep", "30"], timeout=0.5, show=False)


def test_command_failed_renders_as_its_message_in_a_notebook():
    from labkit.shell import CommandFailed

    lines = CommandFailed("nvidia-smi mig -cgi 9g.99gb exited 2\nInvalid profile").\
        _render_traceback_()
    assert lines == ["CommandFailed: nvidia-smi mig -cgi 9g.99gb exited 2", "Invalid profile"]
