# Copyright 2026 viltrack_ros developers
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""
What the demo and the node benchmarks share: starting a tracker node process, stopping it, waiting on an executor.

Each runs the node as its own process over real DDS, as a user would, and watches it from an rclpy node of its own.
"""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np


def default_threads() -> int:
    """Half the machine's cores: the node's network gets them, the process feeding it images the rest."""
    return max(1, (os.cpu_count() or 2) // 2)


# Linux's prctl, looked up here: the child calls it between fork and exec, where loading a library could deadlock
# on a lock another thread of this (DDS-threaded) process held at the fork.
_PR_SET_PDEATHSIG = 1
try:
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):   # not Linux: the node is then only stopped by stop_process
    _PRCTL = None


def _end_with_parent() -> None:
    """Ask the kernel to send the child SIGTERM when its parent dies (a demo killed with SIGKILL leaves no node)."""
    _PRCTL(_PR_SET_PDEATHSIG, int(signal.SIGTERM))


def start_tracker_node(weights: Path, threads: int, log_path: Path,
                       extra_parameters: tuple[str, ...] = ()) -> subprocess.Popen:
    """Start the tracker node on the CPU with ``weights``, logging to ``log_path``; extra_parameters: NAME:=VALUE."""
    parameters = [f"weights:={weights}", f"threads:={threads}", "device:=cpu", *extra_parameters]
    command = [sys.executable, "-m", "viltrack_ros.ros.tracker_node", "--ros-args"]
    for parameter in parameters:
        command += ["-p", parameter]
    return subprocess.Popen(command, stdout=open(log_path, "w"), stderr=subprocess.STDOUT, env=dict(os.environ),
                            preexec_fn=_end_with_parent if _PRCTL is not None else None)


def stop_process(process: subprocess.Popen, sig: int = signal.SIGINT, timeout: float = 10.0) -> None:
    """Stop ``process`` with ``sig`` as a user would (Ctrl-C); killed if it has not ended within ``timeout`` s."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def spin_until(executor, condition: Callable[[], bool], timeout: float,
               alive: Callable[[], bool] | None = None) -> bool:
    """Spin ``executor`` until ``condition()`` holds or ``timeout`` s pass (or ``alive()`` turns false): the result."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline or (alive is not None and not alive()):
            return condition()
        executor.spin_once(timeout_sec=0.01)
    return True


def percentile_ms(values_s: list[float], q: float) -> float:
    """Return the ``q``-th percentile of durations in seconds, in milliseconds (NaN without any)."""
    return float(np.percentile(np.asarray(values_s) * 1000.0, q)) if values_s else float("nan")
