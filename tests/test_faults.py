"""Faults: a crash or Ctrl-C in the middle of a build never costs the last good PDF or leaves a partial file."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from conftest import SOURCE, write_handbook
from paperkit import cli, output
from paperkit.errors import OutputError
from paperkit.exam import job as exam_build
from paperkit.exam.job import build_exam
from paperkit.exam.options import ExamFlags, parse_exam_flags
from paperkit.exam.paper import paper_code
from paperkit.exam.plan import ExamPlan, plan_exam
from paperkit.handbook import job as build
from paperkit.render import pdf

runner = CliRunner()


def pdf_text(path: Path) -> str:
    """A PDF's text, all pages."""
    return "".join(page.extract_text() for page in PdfReader(path).pages)


def files(root: Path) -> dict[str, bytes]:
    """Every file under root with its bytes (temporary files included: they start with a dot)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def good_handbook(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The PDF of the tiny handbook, built once for this module."""
    root = tmp_path_factory.mktemp("good")
    out = root / "handbook.pdf"
    build.build_handbook(write_handbook(root), out)
    return out.read_bytes()


@pytest.fixture
def previous(in_tmp: Path, good_handbook: bytes) -> Path:
    """A working directory with the tiny handbook and a previous good build/handbook.pdf."""
    write_handbook(in_tmp)
    (in_tmp / "build").mkdir()
    (in_tmp / "build" / "handbook.pdf").write_bytes(good_handbook)
    return in_tmp / "build"


def _crash_after_rendering(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> list[int]:
    """Make the PDF stage do its work (layout and PDF bytes), then fail; returns the calls made."""
    real = pdf.write_document
    calls: list[int] = []

    def crashing(document, identifier, tags=True):
        calls.append(len(real(document, identifier, tags)))
        raise error

    monkeypatch.setattr(pdf, "write_document", crashing)
    return calls


def test_a_crash_mid_render_keeps_the_previous_pdf(
    previous: Path, good_handbook: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _crash_after_rendering(monkeypatch, RuntimeError("simulated crash in the PDF stage"))
    result = runner.invoke(cli.app, ["handbook"])
    assert isinstance(result.exception, RuntimeError) and calls and calls[0] > 0
    assert files(previous) == {"handbook.pdf": good_handbook}


def test_the_console_reports_a_crash_as_one_line_not_a_traceback(
    previous: Path, good_handbook: bytes, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _crash_after_rendering(monkeypatch, RuntimeError("simulated crash in the PDF stage"))
    monkeypatch.setattr(sys, "argv", ["paperkit", "handbook"])
    monkeypatch.delenv("PAPERKIT_DEBUG", raising=False)
    with pytest.raises(SystemExit) as caught:
        cli.main()
    assert caught.value.code == 70
    assert capsys.readouterr().err == (
        "internal error: RuntimeError: simulated crash in the PDF stage "
        "(a bug in paperkit; rerun with PAPERKIT_DEBUG=1 for details)\n"
    )
    assert files(previous) == {"handbook.pdf": good_handbook}


def test_ctrl_c_mid_render_says_so_and_keeps_the_previous_pdf(
    previous: Path, good_handbook: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    _crash_after_rendering(monkeypatch, KeyboardInterrupt())
    result = runner.invoke(cli.app, ["handbook"])
    assert (result.exit_code, result.stderr) == (130, "interrupted; nothing was written.\n")
    assert files(previous) == {"handbook.pdf": good_handbook}


def test_ctrl_c_while_the_new_pdf_is_being_written_leaves_no_temporary_file(
    previous: Path, good_handbook: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[str] = []

    def interrupted_rename(src: str, dst: object) -> None:
        written.append(Path(src).read_bytes()[:5].decode())  # the whole new PDF is in the temporary file
        raise KeyboardInterrupt

    monkeypatch.setattr(output.os, "replace", interrupted_rename)
    result = runner.invoke(cli.app, ["handbook"])
    assert (result.exit_code, result.stderr) == (130, "interrupted; nothing was written.\n")
    assert written == ["%PDF-"]
    assert files(previous) == {"handbook.pdf": good_handbook}


# -- rosters: Ctrl-C stops the render workers and writes nothing ------------------------------------

ROSTER = "\ufeff姓名,学号\n" + "".join(f"学生{i},{i:03d}\n" for i in range(1, 9))


@pytest.fixture
def roster_plan(tmp_path: Path) -> ExamPlan:
    (tmp_path / "class.csv").write_text(ROSTER, encoding="utf-8")
    flags = ExamFlags(modules="3", seed="1", count="2", variants="2", roster=tmp_path / "class.csv")
    return plan_exam(parse_exam_flags(flags), SOURCE, tmp_path / "out")


@pytest.fixture
def workers(monkeypatch: pytest.MonkeyPatch) -> list:
    """The worker processes of every render engine started during the test."""
    started: list = []
    real = exam_build.start_engine

    @contextmanager
    def recording(workers: int = exam_build.WORKERS) -> Iterator[object]:
        with real(workers) as engine:
            started.extend(engine._processes.values())
            yield engine

    monkeypatch.setattr(exam_build, "start_engine", recording)
    return started


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _assert_stopped(processes: list) -> None:
    # The executor's own thread may reap a worker first (then is_alive() wrongly says True): ask the OS.
    assert len(processes) == exam_build.WORKERS
    deadline = time.monotonic() + 10
    for process in processes:
        while process.exitcode is None and not _gone(process.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert process.exitcode is not None or _gone(process.pid), process


def test_ctrl_c_after_some_papers_stops_the_workers_and_writes_nothing(roster_plan, workers: list) -> None:
    done: list[int] = []

    def progress(finished: int, total: int) -> None:
        done.append(finished)
        if finished == 3:  # Ctrl-C arrives in the main process while the workers still have papers to do
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_exam(roster_plan, progress=progress)
    assert done == [1, 2, 3]
    _assert_stopped(workers)
    assert not (roster_plan.out_dir.parent).exists()


_real_render_job = exam_build.render_job


def _render_until_student_4(plan, job):
    if job.student is not None and job.student.student_id == "004":
        raise KeyboardInterrupt  # as if Ctrl-C reached the worker
    return _real_render_job(plan, job)


def test_ctrl_c_inside_a_worker_stops_the_cli_cleanly(
    roster_plan, workers: list, in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exam_build, "render_job", _render_until_student_4)
    (in_tmp / "class.csv").write_text(ROSTER, encoding="utf-8")
    result = runner.invoke(
        cli.app,
        [
            "exam",
            "--source",
            str(SOURCE),
            "--modules",
            "3",
            "--seed",
            "1",
            "--count",
            "2",
            "--variants",
            "2",
            "--roster",
            "class.csv",
        ],
    )
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert (result.exit_code, result.stderr) == (130, "interrupted; nothing was written.\n")
    _assert_stopped(workers)
    assert not (in_tmp / "build").exists()


def test_ctrl_c_while_writing_takes_back_this_runs_files(roster_plan, monkeypatch: pytest.MonkeyPatch) -> None:
    real = exam_build.write_atomic
    count: list[Path] = []

    def write(path: Path, data: bytes) -> None:
        if len(count) == 3:
            raise KeyboardInterrupt
        count.append(path)
        real(path, data)

    monkeypatch.setattr(exam_build, "write_atomic", write)
    with pytest.raises(KeyboardInterrupt):
        build_exam(roster_plan)
    assert len(count) == 3
    assert not roster_plan.out_dir.parent.exists()  # not even the --out folder the build made


def _group(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, from /proc."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def _ctrl_c_reaches_python() -> None:
    """In the child: SIGINT back to its default, so Python turns it into KeyboardInterrupt. A test run started
    in the background (`nohup make test &`) has SIGINT ignored, and a child would inherit that."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _signal_a_roster_build(tmp_path: Path, send) -> tuple[int, str]:
    """Start a 40-student roster build in a session of its own, call `send(pid)` once its workers render, and
    return its exit code and stderr after checking that no process of it is left and nothing was written."""
    (tmp_path / "class.csv").write_text(
        "姓名,学号\n" + "".join(f"学生{i},{i:03d}\n" for i in range(1, 41)), encoding="utf-8"
    )
    return _signal_a_build(
        tmp_path, ["exam", "--source", str(SOURCE), "--modules", "2,3", "--roster", "class.csv"], send
    )


def _signal_a_build(tmp_path: Path, args: list[str], send) -> tuple[int, str]:
    """Run `paperkit args` in tmp_path in a session of its own, call `send(pid)` once its workers render, and
    return its exit code and stderr after checking that no process of it is left and nothing was written."""
    import subprocess

    before = sorted(p.name for p in tmp_path.rglob("*"))
    command = [sys.executable, "-c", "from paperkit.cli import main; main()", *args]
    env = {k: v for k, v in os.environ.items() if k != "PAPERKIT_DEBUG"}
    child = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_ctrl_c_reaches_python,
    )
    try:
        deadline = time.monotonic() + 30
        while len(_group(child.pid)) < 1 + exam_build.WORKERS and time.monotonic() < deadline:
            time.sleep(0.05)
        # Workers start only once the options and content are checked: they are rendering now (40 papers take seconds).
        time.sleep(0.3)
        send(child.pid)
        _, errors = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    deadline = time.monotonic() + 10
    while _group(child.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _group(child.pid) == []
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    return child.returncode, errors


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process groups from /proc")
@pytest.mark.slow
def test_a_real_ctrl_c_stops_the_whole_roster_build(tmp_path: Path) -> None:
    import signal

    # What Ctrl-C in a terminal does: the whole process group gets it.
    result = _signal_a_roster_build(tmp_path, lambda pid: os.killpg(pid, signal.SIGINT))
    assert result == (130, "interrupted; nothing was written.\n")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process groups from /proc")
@pytest.mark.slow
def test_a_real_ctrl_c_stops_a_handbook_laid_out_in_parts(tmp_path: Path) -> None:
    import signal

    args = ["handbook", "--source", str(SOURCE), "--jobs", "2", "--out", "handbook.pdf"]
    result = _signal_a_build(tmp_path, args, lambda pid: os.killpg(pid, signal.SIGINT))
    assert result == (130, "interrupted; nothing was written.\n")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process groups from /proc")
@pytest.mark.slow
def test_sigterm_to_the_main_process_ends_the_whole_job(tmp_path: Path) -> None:
    """`kill` (or a CI cancel) reaches only the main process: its workers must not outlive it."""
    import signal

    result = _signal_a_roster_build(tmp_path, lambda pid: os.kill(pid, signal.SIGTERM))
    assert result == (143, "terminated; nothing was written.\n")


def _kill_a_worker(pid: int) -> None:
    """What the OOM killer does: SIGKILL to one rendering worker, not to the main process."""
    import signal

    worker = next(p for p in _group(pid) if p != pid)
    os.kill(worker, signal.SIGKILL)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process groups from /proc")
@pytest.mark.slow
def test_a_worker_killed_mid_build_is_one_line_and_writes_nothing(tmp_path: Path) -> None:
    """Issue 31 row 15: the pool's BrokenProcessPool read like a bug; it says what happened."""
    code, errors = _signal_a_roster_build(tmp_path, _kill_a_worker)
    assert (code, errors) == (
        1,
        "error: a rendering worker stopped unexpectedly (killed, likely out of memory); nothing was written\n",
    )


def _twice(sig: int, group: bool):
    """Send `sig` twice 10 ms apart, as `timeout`, a CI runner or an impatient Ctrl-C does."""

    def send(pid: int) -> None:
        kill = os.killpg if group else os.kill
        kill(pid, sig)
        time.sleep(0.01)
        kill(pid, sig)

    return send


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process groups from /proc")
@pytest.mark.slow
def test_two_sigterms_in_a_row_end_with_one_line(tmp_path: Path) -> None:
    """Issue 31 row 16: the second signal broke into the unwinding and printed 'Exception ignored' tracebacks."""
    import signal

    assert _signal_a_roster_build(tmp_path, _twice(signal.SIGTERM, group=False)) == (
        143,
        "terminated; nothing was written.\n",
    )


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process groups from /proc")
@pytest.mark.slow
def test_ctrl_c_pressed_twice_ends_with_one_line(tmp_path: Path) -> None:
    import signal

    assert _signal_a_roster_build(tmp_path, _twice(signal.SIGINT, group=True)) == (
        130,
        "interrupted; nothing was written.\n",
    )


# ---- exam folders are all-or-nothing, one build at a time (issue 19, part) ----------------------------------


def _plan(out: Path, title: str, source: Path = SOURCE):
    return plan_exam(parse_exam_flags(ExamFlags(modules="3", seed="1", count="2", title=title or None)), source, out)


def test_a_failed_rebuild_leaves_the_old_folder_exactly_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "source"
    shutil.copytree(SOURCE, source)
    out = tmp_path / "exams"
    first = _plan(out, "", source)
    build_exam(first)
    (first.out_dir / "scores.xlsx").write_bytes(b"the teacher's marks")
    before = files(first.out_dir)
    real = exam_build.write_atomic

    def key_unwritable(path: Path, data: bytes) -> None:
        if path.name == "key.pdf":
            raise OutputError(f"cannot write {path}: permission denied")
        real(path, data)

    monkeypatch.setattr(exam_build, "write_atomic", key_unwritable)
    # The handbook's title is edited: the same exam (the same folder) with a new default title on paper and key.
    handbook = source / "handbook.yaml"
    handbook.write_text(handbook.read_text(encoding="utf-8").replace("学习手册", "复习手册", 1), encoding="utf-8")
    again = _plan(out, "", source)
    assert again.out_dir == first.out_dir
    with pytest.raises(OutputError):
        build_exam(again)
    assert files(first.out_dir) == before  # the old paper with the old key, never a new paper with an old key
    assert sorted(p.name for p in out.iterdir()) == [first.out_dir.name]  # no staging folder left over
    monkeypatch.setattr(exam_build, "write_atomic", real)
    build_exam(again)
    assert (first.out_dir / "scores.xlsx").read_bytes() == b"the teacher's marks"  # the teacher's files stay
    for name in ("paper.pdf", "key.pdf"):
        assert "复习手册" in pdf_text(first.out_dir / name)


def test_an_option_that_changes_the_paper_changes_the_folder(tmp_path: Path) -> None:
    plain, titled, again = _plan(tmp_path, ""), _plan(tmp_path, "期中考试"), _plan(tmp_path, "期中考试")
    assert plain.out_dir.name == "m3_s1_n2"  # defaults only: the plain selection
    assert titled.out_dir != plain.out_dir and titled.out_dir == again.out_dir
    assert re.fullmatch(r"m3_s1_n2_h[0-9a-f]{6}", titled.out_dir.name)
    flags = {"date": "2026-01-15", "duration": "90", "total_points": "120", "paper": "B5", "seal_line": True}
    folders = {
        plan_exam(parse_exam_flags(ExamFlags(modules="3", seed="1", count="2", **{k: v})), SOURCE, tmp_path).out_dir
        for k, v in flags.items()
    }
    assert len(folders | {plain.out_dir, titled.out_dir}) == len(flags) + 2


def test_two_builds_at_once_each_leave_papers_keys_and_manifest_that_agree(tmp_path: Path) -> None:
    """Two real processes, started together: other titles go to their own folders; the same build twice
    either waits its turn or is refused in one line, and the folder it leaves is whole."""
    base = [sys.executable, "-c", "from paperkit.cli import main; main()", "exam", "--source", str(SOURCE)]
    base += ["--modules", "3", "--seed", "1"]
    base += ["--count", "2", "--out", str(tmp_path)]
    runs = [[*base, "--title", "甲卷考试"], [*base, "--title", "乙卷考试"], base, base]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for cmd in runs]
    results = [(p.wait(timeout=300), p.stderr.read() if p.stderr else "") for p in procs]
    for code, err in results[:2]:
        assert (code, err) == (0, "")
    for code, err in results[2:]:
        assert code == 0 or (code == 1 and "another paperkit build is writing" in err and len(err.splitlines()) == 1)
    assert any(code == 0 for code, _ in results[2:])
    folders = sorted(p for p in tmp_path.iterdir())
    assert len(folders) == 3  # no staging folder, no lock file left over
    for folder in folders:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["exam_id"] == folder.name
        title = re.sub(r"\s", "", manifest["title"])
        paper, key = (re.sub(r"\s", "", pdf_text(folder / name)) for name in ("paper.pdf", "key.pdf"))
        assert title in paper and title in key
        code = paper_code(folder.name)
        assert f"{code}·A卷" in paper and f"{code}·A卷" in key
        for qid in manifest["papers"]["A"]["questions"]:  # 3.1.q1: the key's answer comes from section 3.1
            assert f"出自{qid.rsplit('.', 1)[0]}" in key


def test_a_second_build_into_the_same_folder_at_the_same_time_is_refused(tmp_path: Path) -> None:
    import fcntl

    plan = _plan(tmp_path, "")
    with open(tmp_path / f".{plan.out_dir.name}.lock", "a+b") as held:  # a build in progress holds the lock
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(OutputError) as caught:
            build_exam(plan)
    assert str(caught.value) == (
        f"another paperkit build is writing {plan.out_dir} right now; run this one when it has finished"
    )
    assert not plan.out_dir.exists()
    build_exam(plan)  # once it is done, the folder can be written
    assert sorted(p.name for p in plan.out_dir.iterdir()) == ["key.pdf", "manifest.json", "paper.pdf"]


def test_the_output_folder_replaced_by_a_file_mid_build_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Was an internal error (exit 70): someone replaces the --out folder with a file while papers render."""
    out = tmp_path / "exams"
    plan = _plan(out, "")
    real = exam_build.render_plan

    def render_then_replace(*args, **kwargs):
        rendered = real(*args, **kwargs)
        shutil.rmtree(out)
        out.write_text("not a folder any more")
        return rendered

    monkeypatch.setattr(exam_build, "render_plan", render_then_replace)
    with pytest.raises(OutputError) as caught:
        build_exam(plan)
    assert str(caught.value) == f"cannot write {plan.out_dir}/key.pdf: a part of the path is a file, not a directory"
    assert out.read_text() == "not a folder any more"
