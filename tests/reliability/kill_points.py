"""The one way the fault-injection tests kill a child: a hook that wraps a function (by dotted
name) and `os._exit`s on its n-th call, like SIGKILL (no `finally`, no cleanup), and the runner
of that child. `make soak` sets more iterations (`PP_FAULT_ITERATIONS`), kills by wall-clock
timer (`PP_FAULT_TIMED=1`) and a JSON-lines report of every fault (`PP_FAULT_REPORT`)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
N = int(os.environ.get("PP_FAULT_ITERATIONS", "3"))
TIMED = os.environ.get("PP_FAULT_TIMED") == "1"
KILLED = 137

_HOOK = """
import importlib, os
target, nth, partial, after = {target!r}, {nth}, {partial}, {after}
owner_path, attr = target.rsplit(".", 1)
try:
    owner = importlib.import_module(owner_path)
except ModuleNotFoundError:
    module_path, cls = owner_path.rsplit(".", 1)
    owner = getattr(importlib.import_module(module_path), cls)
original = getattr(owner, attr)
calls = [0]
def hooked(*args, **kwargs):
    calls[0] += 1
    if calls[0] == nth:
        if partial and len(args) > 1 and hasattr(args[1], "write"):
            args[1].write(b"PK\\x03\\x04 partial checkpoint")
            args[1].flush()
        if after:
            original(*args, **kwargs)
        os._exit({killed})
    return original(*args, **kwargs)
setattr(owner, attr, hooked)
"""


def kill_hook(target: str, nth: int, *, partial: bool = False, after: bool = False) -> str:
    """Code that makes the `nth` call of `target` (e.g. "torch.save", "os.rename") kill the
    process: `partial` first writes a few bytes into the call's file argument (half a
    checkpoint), `after` lets the call finish first (death right after the step)."""
    return textwrap.dedent(
        _HOOK.format(target=target, nth=nth, partial=partial, after=after, killed=KILLED)
    )


def run_child(code: str, hook: str, *, timed_kill_s: float | None = None) -> int:
    """Run `hook + code` in a fresh interpreter; its exit status, which must be 0 or a kill."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "WANDB_MODE": "disabled"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.Popen(
        [sys.executable, "-c", hook + code],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if timed_kill_s is not None:
        try:
            proc.wait(timeout=timed_kill_s)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=600)
    status = proc.returncode
    if status not in (0, KILLED, -signal.SIGKILL):
        raise AssertionError(f"child failed on its own (status {status}):\n{err[-3000:]}")
    return status


def report(kind: str, **fields) -> None:
    """One JSON line per injected fault into `PP_FAULT_REPORT`, if set (`fault_counts`)."""
    path = os.environ.get("PP_FAULT_REPORT")
    if path:
        with open(path, "a") as fh:
            fh.write(json.dumps({"kind": kind, **fields}) + "\n")
