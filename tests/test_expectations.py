"""Expected-failure files: --xfails-file, --skips-file, --xfails-as-skips, --update-xfails, bad files.

Most tests run pytest in a subprocess on a small file of tests whose outcomes are planted (one passes,
one fails, a parametrized one fails for one parameter, ...), the way a vendor's run would; one runs the
suite to show how the files combine with the kit's own known torch issues.
"""
from __future__ import annotations

import pathlib
import textwrap

import pytest

from conformance.expectations import ExpectationsError, load

from .subprocess_runs import SUITE, one_error_line
from .subprocess_runs import run as _run


SAMPLE = """
import pathlib
import pytest

def test_passes():
    pass

def test_fails():
    assert False, "planted failure"

@pytest.mark.parametrize("n", [1, 2, 3])
def test_param(n):
    assert n != 2, "two is broken"

def test_leaves_a_trace():
    pathlib.Path("ran.txt").write_text("ran")
    assert False, "should not have run"

@pytest.mark.xfail(reason="its own mark", strict=False)
def test_own_mark():
    assert False
"""


def run(args, *, cwd, env=None):
    """pytest with the kit's plugin, outside CI's profile, listing the reasons of every outcome (-rfxXs)."""
    return _run(["-rfxXs", *args], cwd=cwd, env=env, load_plugin=True, without_ci=True)


@pytest.fixture
def sample(tmp_path) -> pathlib.Path:
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    return tmp_path


def write(path: pathlib.Path, text: str) -> pathlib.Path:
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def lines_starting(result, prefix: str) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith(prefix)]


# --- the file format -----------------------------------------------------------------------------------

def test_reasons_come_from_the_line_or_the_comment_block_above_its_group(tmp_path):
    file = load(write(tmp_path / "x.txt", """
        # https://example.com/issues/12: rounding
        # in half precision
        test_a[add_-float16-
        test_a[sub_-float16-   # own reason

        test_b
        # another group
        test_c.py::test_c
    """), "--xfails-file")
    assert [(e.text, e.line, e.comment) for e in file.entries] == [
        ("test_a[add_-float16-", 3, "https://example.com/issues/12: rounding in half precision"),
        ("test_a[sub_-float16-", 4, "own reason"),
        ("test_b", 6, ""),
        ("test_c.py::test_c", 8, "another group")]
    assert file.reason(file.entries[0]) == "https://example.com/issues/12: rounding in half precision (x.txt:3)"
    assert file.reason(file.entries[2]) == "listed in x.txt:6"


def test_entries_match_node_ids_wherever_the_suite_is_installed(tmp_path):
    file = load(write(tmp_path / "x.txt", """
        conformance/suite/test_pointwise.py::test_x[add_-
        test_y[mul_-float32-cpu]
        test_pointwise.py
    """), "--xfails-file")
    path, name, module = file.entries
    for nodeid in ("conformance/suite/test_pointwise.py::test_x[add_-float16-cpu]",
                   "../venv/lib/python3.11/site-packages/conformance/suite/test_pointwise.py::test_x[add_-int8-cpu]",
                   "suite/test_pointwise.py::test_x[add_-int8-cpu]"):  # pytest --pyargs conformance elsewhere
        assert path.matches(nodeid, "test_x[add_-float16-cpu]") and module.matches(nodeid, "")
    assert not path.matches("other/conformance/suite/test_pointwise.py::test_x[addcmul_-int8-cpu]", "")
    assert not path.matches("myconformance/suite/test_pointwise.py::test_x[add_-int8-cpu]", "")
    assert name.matches("anything/test_more.py::test_y[mul_-float32-cpu]", "test_y[mul_-float32-cpu]")
    assert not name.matches("test_more.py::test_y[mul_-float32-cuda]", "test_y[mul_-float32-cuda]")
    assert not module.matches("conformance/suite/test_pointwise2.py::test_x", "test_x")


@pytest.mark.parametrize("text, expected", [
    ("test_a[x]  bogus\n", "'test_a[x]  bogus' is not a test id"),
    ("*[div_-int32-*\n", "prefixes replace wildcards"),
    ("add_-float16-cpu\n", "'add_-float16-cpu' is not a test id"),
    ("suite/thing::test_a\n", "'suite/thing::test_a' is not a test id"),
], ids=["space", "wildcard", "params-only", "not-a-py-path"])
def test_malformed_entries_name_the_file_and_line(tmp_path, text, expected):
    path = tmp_path / "x.txt"
    path.write_text("# fine\ntest_ok\n" + text)
    with pytest.raises(ExpectationsError) as error:
        load(path, "--xfails-file")
    assert f"--xfails-file {str(path)!r} line 3: " in str(error.value) and expected in str(error.value)


# --- xfails, skips and the unmatched-entry warning -----------------------------------------------------

def test_xfails_and_skips_files_mark_tests_with_their_reasons(sample):
    write(sample / "xfails.txt", """
        # planted: see https://example.com/issues/1
        test_sample.py::test_fails
        test_param[2]     # the second parameter
    """)
    write(sample / "skips.txt", "test_leaves_a_trace  # would crash the device\n")
    result = run(["test_sample.py", "--xfails-file=xfails.txt", "--skips-file=skips.txt"], cwd=sample)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "XFAIL test_sample.py::test_fails - planted: see https://example.com/issues/1 (xfails.txt:2)" \
        in result.stdout
    assert "XFAIL test_sample.py::test_param[2] - the second parameter (xfails.txt:3)" in result.stdout
    assert "would crash the device (skips.txt:1)" in result.stdout
    assert not (sample / "ran.txt").exists()
    assert "4 passed" not in result.stdout and "3 passed" in result.stdout  # passes, param 1 and 3


def test_a_failing_test_not_listed_still_fails(sample):
    write(sample / "xfails.txt", "test_sample.py::test_fails\n")
    result = run(["test_sample.py", "--xfails-file=xfails.txt", "-k", "param"], cwd=sample)
    assert result.returncode == 1 and "FAILED test_sample.py::test_param[2]" in result.stdout


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["in-process", "xdist"])
def test_every_unmatched_entry_is_named_once(sample, workers):
    write(sample / "xfails.txt", "test_fails\ntest_renamed_long_ago\ntest_sample.py::test_param[7]\n")
    write(sample / "skips.txt", "test_sample.py::test_gone\n")
    result = run(["test_sample.py", "--xfails-file=xfails.txt", "--skips-file=skips.txt", "-k", "passes",
                  *workers], cwd=sample)
    output = result.stdout + result.stderr
    assert "2 warnings in" in output, output  # one a file, not one a worker
    assert output.count("UnmatchedExpectationWarning: --xfails-file") == 1, output
    assert "2 entries match no collected test: line 2: test_renamed_long_ago; line 3: " \
           "test_sample.py::test_param[7]" in output
    assert output.count("--skips-file skips.txt: 1 entry matches no collected test: line 1: "
                        "test_sample.py::test_gone") == 1, output
    assert "test_fails" not in output.split("UnmatchedExpectationWarning")[1].split("\n")[0]


def test_xfails_as_skips_runs_no_expected_failure(sample):
    write(sample / "xfails.txt", "test_leaves_a_trace  # slow and failing\n")
    result = run(["test_sample.py", "--xfails-file=xfails.txt", "--xfails-as-skips", "-k", "trace or own"],
                 cwd=sample)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (sample / "ran.txt").exists()
    assert "expected to fail, skipped (--xfails-as-skips): slow and failing (xfails.txt:1)" in result.stdout
    assert "expected to fail, skipped (--xfails-as-skips): its own mark" in result.stdout
    assert "2 skipped" in result.stdout


def test_files_combine_with_the_kits_known_issues(tmp_path):
    """An entry for a known-issue test counts as matched, and the known issue's mark stays: the crashing
    ``div_`` on int32 is still not run. --xfails-as-skips skips known issues too."""
    known = "test_inplace_agrees_with_twin[div_-int32-cpu]"
    write(tmp_path / "xfails.txt", f"{known}  # also ours\ntest_inplace_agrees_with_twin[add_-float64-cpu]\n")
    selection = [str(SUITE), "-k", "div_-int32-cpu or add_-float64-cpu", "--xfails-file=xfails.txt", "-p",
                 "no:randomly"]
    result = run(selection, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[NOTRUN] known torch issue int-trunc-division-sigfpe" in result.stdout
    assert "XPASS" in result.stdout and "add_-float64-cpu] - listed in xfails.txt:2" in result.stdout
    assert "UnmatchedExpectationWarning" not in result.stdout
    skipped = run([*selection, "--xfails-as-skips"], cwd=tmp_path)
    assert skipped.returncode == 0 and "2 skipped" in skipped.stdout, skipped.stdout
    assert "skipped (--xfails-as-skips): known torch issue int-trunc-division-sigfpe" in skipped.stdout


# --- --update-xfails --------------------------------------------------------------------------------------

BEFORE = """
# vendor X expected failures
# https://example.com/issues/3: fixed since
test_sample.py::test_passes

test_param[      # some parameters fail
test_leaves_a_trace  # not selected by -k in this run: kept
test_sample.py::test_removed_from_the_suite  # matches nothing: kept, and warned about
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["in-process", "xdist"])
def test_update_xfails_rewrites_the_file_from_the_results(sample, workers):
    xfails = write(sample / "xfails.txt", BEFORE)
    result = run(["test_sample.py", "--xfails-file=xfails.txt", "--update-xfails", "-k", "not trace",
                  *workers], cwd=sample)
    assert result.returncode == 1, result.stdout + result.stderr  # test_fails did fail in this run
    assert "--update-xfails: rewrote xfails.txt: 1 added, 1 removed" in result.stdout
    text = xfails.read_text()
    lines = text.splitlines()
    assert "test_sample.py::test_passes" not in text  # every test it matched passed
    assert "# https://example.com/issues/3: fixed since" in lines  # comments stay
    for kept in ("test_param[      # some parameters fail", "test_leaves_a_trace  # not selected by -k in this "
                 "run: kept", "test_sample.py::test_removed_from_the_suite  # matches nothing: kept, and "
                 "warned about"):
        assert kept in lines
    assert lines[-2].startswith("# added by --update-xfails on ")
    assert lines[-1] == "test_sample.py::test_fails  # AssertionError: planted failure"
    assert "test_own_mark" not in text  # an expected failure, xfailed by its own mark
    again = run(["test_sample.py", "--xfails-file=xfails.txt", "-k", "not trace", *workers], cwd=sample)
    assert again.returncode == 0, again.stdout + again.stderr
    unchanged = run(["test_sample.py", "--xfails-file=xfails.txt", "--update-xfails", "-k", "not trace"],
                    cwd=sample)
    assert "--update-xfails: xfails.txt unchanged" in unchanged.stdout and xfails.read_text() == text


def test_update_xfails_creates_a_missing_file(sample):
    result = run(["test_sample.py", "--xfails-file=new.txt", "--update-xfails", "-k", "param"], cwd=sample)
    assert result.returncode == 1 and "1 added, 0 removed" in result.stdout
    assert (sample / "new.txt").read_text().splitlines()[1] == \
        "test_sample.py::test_param[2]  # AssertionError: two is broken"


# --- bad input -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("option", ["--xfails-file", "--skips-file"])
def test_missing_file_is_one_clear_line(sample, option):
    line = one_error_line(run(["test_sample.py", f"{option}=nope.txt"], cwd=sample))
    assert f"{option} 'nope.txt': no such file" in line


def test_unreadable_files_are_one_clear_line(sample):
    (sample / "adir").mkdir()
    assert "cannot read it" in one_error_line(run(["test_sample.py", "--xfails-file=adir"], cwd=sample))
    (sample / "latin1.txt").write_bytes(b"test_caf\xe9\n")
    assert "not UTF-8" in one_error_line(run(["test_sample.py", "--skips-file=latin1.txt"], cwd=sample))


def test_malformed_entry_is_one_clear_line(sample):
    write(sample / "xfails.txt", "test_fails\nnot a test id\n")
    line = one_error_line(run(["test_sample.py", "--xfails-file=xfails.txt"], cwd=sample))
    assert "--xfails-file 'xfails.txt' line 2: 'not a test id' is not a test id" in line


@pytest.mark.parametrize("args, expected", [
    (["--update-xfails"], "--update-xfails needs --xfails-file"),
    (["--update-xfails", "--xfails-file=x.txt", "--xfails-as-skips"], "drop --xfails-as-skips"),
])
def test_contradictory_options_are_one_clear_line(sample, args, expected):
    assert expected in one_error_line(run(["test_sample.py", *args], cwd=sample))
