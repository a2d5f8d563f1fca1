"""Run one stage: a playbook through ansible-runner (or a plain command), with the live
display and the full log file. Returns a StageResult."""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import ansible_runner

from vedops import ROOT
from vedops.progress import ProgressState, apply_event, render, totals
from vedops.summary import StageResult


class Display:
    """TTY: one line rewritten in place. Otherwise (CI, pipes): a plain line whenever the line
    changes, without the clock so a long task prints once."""

    def __init__(self, stream=None, tty: bool | None = None):
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self._last = None
        self._width = shutil.get_terminal_size((120, 20)).columns
        self._lock = threading.Lock()  # the ticker and the event handler both write

    def update(self, state: ProgressState) -> None:
        with self._lock:
            self._update(state)

    def _update(self, state: ProgressState) -> None:
        if self.tty:
            line = render(state, time.time())[: self._width - 1]
            self.stream.write("\r\x1b[K" + line)
        else:
            # the line without its clock decides whether something new happened
            key = render(state, state.started).split("] ", 1)[-1]
            if key == self._last:
                return
            self._last = key
            self.stream.write(render(state, time.time()) + "\n")
        self.stream.flush()

    def message(self, text: str) -> None:
        with self._lock:
            self.stream.write(("\r\x1b[K" if self.tty else "") + text + "\n")
            self.stream.flush()

    def finish(self) -> None:
        if self.tty:
            with self._lock:
                self.stream.write("\r\x1b[K")
                self.stream.flush()

    @contextlib.contextmanager
    def ticking(self, state: ProgressState, every: float = 1.0):
        """On a TTY, redraw once a second so the clock runs during long tasks."""
        stop = threading.Event()

        def tick():
            while not stop.wait(every):
                self.update(state)

        ticker = threading.Thread(target=tick, daemon=True) if self.tty else None
        if ticker:
            ticker.start()
        try:
            yield
        finally:
            stop.set()
            if ticker:
                ticker.join()


def log_path(log_dir: Path, stage: str) -> Path:
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    log_dir.mkdir(parents=True, exist_ok=True)
    path, n = log_dir / f"{stage}-{stamp}.log", 1
    while path.exists():  # the same stage twice within a second
        n += 1
        path = log_dir / f"{stage}-{stamp}-{n}.log"
    return path


def _env() -> dict:
    """ansible-playbook from this interpreter's venv, with the repo's ansible.cfg."""
    venv_bin = str(Path(sys.executable).parent)
    return {
        "ANSIBLE_CONFIG": os.environ.get("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg")),
        "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_NOCOLOR": "1",
    }


def run_playbook(
    stage: str,
    playbook: Path,
    *,
    inventory: str | list[str] | None,
    extravars: dict | None = None,
    cmdline: list[str] | None = None,
    log_dir: Path,
    display: Display | None = None,
    events: list | None = None,
) -> StageResult:
    """Run ``playbook`` through ansible-runner. ``inventory`` may be a path, a list of paths
    (one ``-i`` each) or an inline host list such as ``"localhost,"``. Every event is folded
    into the progress state, its text goes to the log, failures are printed; ``events`` (if
    given) collects the raw events."""
    display = display or Display()
    started = time.time()
    state = ProgressState(stage=stage, started=started)
    log = log_path(log_dir, stage)
    with (
        log.open("w") as log_file,
        tempfile.TemporaryDirectory(prefix="vedops-") as pdd,
        display.ticking(state),
    ):

        def on_event(event: dict) -> bool:
            if event.get("stdout"):
                log_file.write(event["stdout"] + "\n")
                log_file.flush()
            line = apply_event(state, event)
            if line:
                display.message(line)
            display.update(state)
            if events is not None:
                events.append(event)
            return False  # ansible-runner need not keep the event on disk

        runner = ansible_runner.run(
            private_data_dir=pdd,
            project_dir=str(ROOT),
            playbook=str(playbook),
            inventory=inventory,
            extravars=extravars or {},
            cmdline=" ".join(cmdline or []) or None,
            envvars=_env(),
            event_handler=on_event,
            quiet=True,
            suppress_env_files=True,
        )
    display.finish()
    ok = runner.status == "successful" and runner.rc == 0
    if not ok and not state.failures:
        state.failures.append(f"{stage}: ansible-runner {runner.status} (rc={runner.rc}), see {log}")
    return StageResult(
        name=stage,
        status="ok" if ok else "failed",
        seconds=time.time() - started,
        totals=totals(state) if state.stats else {},
        log=str(log),
        failures=state.failures,
        note=f"rows loaded {state.rows_loaded:,}" if state.rows_loaded else "",
        hosts=sorted({h for per_host in state.stats.values() for h in per_host}),
    )


def run_command(stage: str, argv: list[str], *, log_dir: Path, display: Display | None = None) -> StageResult:
    """A non-Ansible step (the local test host): output to the log, last line shown."""
    display = display or Display()
    started = time.time()
    log = log_path(log_dir, stage)
    display.message(f"[{stage}] {' '.join(argv)}")
    with log.open("w") as log_file:
        proc = subprocess.run(argv, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT, check=False)
    tail = [ln for ln in log.read_text().splitlines() if ln.strip()]
    note = tail[-1] if tail else ""
    failures = [] if proc.returncode == 0 else [f"{stage}: rc={proc.returncode}: {note}"]
    return StageResult(
        name=stage,
        status="ok" if proc.returncode == 0 else "failed",
        seconds=time.time() - started,
        log=str(log),
        failures=failures,
        note=note[:60] if proc.returncode == 0 else "",
    )
