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
The one ``main()`` of every node of this package: start rclpy, build the node, spin, and always release.

Shutdown: SIGINT (Ctrl-C, what ``ros2 launch`` sends first) and SIGTERM (what it, systemd and docker send next) both
end the node in order, with exit code 0 and no traceback, also in the middle of a callback (a forward pass).
rclpy's own signal handlers are not used for this: they invalidate the context at once, so a callback that is
running at that moment fails on its next ``publish()`` with "publisher's context is invalid" and the process exits
with a traceback and code 1 (measured). Here the signal interrupts the running callback like Ctrl-C interrupts any
Python code, while the context is still valid, and the node is then destroyed before rclpy shuts down. A second
signal during that release ends the process at once.

Exit: once the node is released and rclpy shut down, the process ends at once (``os._exit`` after flushing the
Python and C output streams) instead of through the interpreter's teardown, which takes about a second with PyTorch
loaded (0.75-1.3 s measured on the project's CPU, more under load) and would break the promise of a 2 s shutdown.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
from typing import Callable

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy   # rcl's own error class: RCLError

from .shm_segments import remove_own_segments
from .startup import STOP_SIGNALS

# How often the spin loop returns to Python, where a signal is handled: the longest wait after a signal while idle.
SPIN_PERIOD_S = 0.1
# While not None, a stop signal is recorded here instead of raised (``stop_signals_deferred``).
_deferred_signals: list[int] | None = None
# The first stop signal's name, kept also when the exception it raised was swallowed on its way (see stop_requested).
_stop_signal_received: str | None = None


class ShutdownRequested(KeyboardInterrupt):
    """Raised by SIGINT or SIGTERM wherever the main thread is (also inside a callback)."""


def _request_shutdown(signal_number, frame) -> None:
    global _stop_signal_received
    # A second signal while the node is being released ends the process at once.
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, signal.SIG_DFL)
    _stop_signal_received = signal.Signals(signal_number).name
    if _deferred_signals is not None:
        _deferred_signals.append(signal_number)
        return
    if _in_import_machinery(frame):
        # Raised here, the exception would land in one of importlib's module-lock callbacks, which print it and drop
        # it ("Exception ignored in: <function _get_module_lock.<locals>.cb>" and a traceback in the node's log; seen
        # in CI, a SIGINT 0.3 s into bag_recorder's start). The import finishes, and the stop is seen where every
        # spin loop looks for it (stop_requested).
        return
    raise ShutdownRequested(_stop_signal_received)


def _in_import_machinery(frame) -> bool:
    """Whether ``frame`` is code of Python's import system (``<frozen importlib._bootstrap>`` and its kin)."""
    return frame is not None and frame.f_code.co_filename.startswith("<frozen importlib")


def stop_requested() -> bool:
    """
    Return whether a stop signal has arrived: what every spin loop checks, besides catching the exception.

    The exception a stop signal raises goes wherever the main thread is at that moment, and code there may swallow
    it without a word (an extension that clears the error it met). Seen under CPU load: a node that had just started
    spinning took a SIGINT and spun on, for good, its handlers already reset by then (3 of 12 runs of the
    stop-signal test's file with a busy loop on the 2 cores).
    """
    return _stop_signal_received is not None


@contextlib.contextmanager
def stop_signals_deferred():
    """
    Run the block to its end even if a stop signal arrives in it; the signal is raised when the block ends.

    For building objects that must not be left half-built: rclpy's ``Executor.__init__`` interrupted before its last
    attribute leaves an object whose ``__del__`` fails ("Exception ignored ... AttributeError: ... '_sigint_gc'",
    a traceback in the node's log; seen once in CI, a SIGINT right after the node said it was listening). Done in
    Python rather than with ``pthread_sigmask``: a mask covers only the main thread, and DDS and the inference
    libraries run threads of their own that would take the signal instead.
    """
    global _deferred_signals
    _deferred_signals = []
    try:
        yield
    finally:
        pending, _deferred_signals = _deferred_signals, None
    if pending:
        raise ShutdownRequested(signal.Signals(pending[0]).name)


def spin_until_shutdown(node: Node) -> None:
    """``rclpy.spin`` that returns to Python every ``SPIN_PERIOD_S`` so that a stop signal is seen."""
    executor = None
    try:
        with stop_signals_deferred():
            executor = SingleThreadedExecutor()
            executor.add_node(node)
        while rclpy.ok() and not stop_requested():
            executor.spin_once(timeout_sec=SPIN_PERIOD_S)
    finally:
        if executor is not None:
            executor.remove_node(node)
            executor.shutdown(timeout_sec=0)


def exit_process(code: int) -> None:
    """
    End the process now with ``code``, skipping the interpreter's slow teardown.

    Everything written so far is flushed (rclpy's log lines go through C's stdio). Only once every file and node is
    closed.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError):
        pass
    os._exit(code)


def _end_half_built(exit_now: bool, code: int) -> None:
    """
    After a node failed to build: (``exit_now``) end the process at once, else shut rclpy down.

    A half-built node cannot be released safely: destroying it crashes the process at times (SIGSEGV in rclpy's
    ``destroy_node``, destroying the type description service), whether the node is destroyed by hand, by
    ``rclpy.try_shutdown()`` (the context destroys the nodes it tracks; 1 of 64 failing starts under CPU load, and
    once in CI, 2026-12-06) or by the garbage collector. So the process ends here without releasing any of it. The
    one thing that would outlive it is its DDS participant's shared-memory segment (64 MB with
    config/fastdds_localhost.xml, in /dev/shm; ``shm_segments``), once per failed start of a node that a launch file
    respawns: it is removed first. Peers that saw the participant drop it when its lease runs out.
    """
    if exit_now:
        remove_own_segments()
        exit_process(code)
    rclpy.try_shutdown()


def startup_logger_name(name: str, arguments: list[str]) -> str:
    """
    Return the logger name the node would have, from its ``__ns``/``__node`` remappings (``cam3.viltrack_tracker``).

    A node that fails to build has no logger of its own yet; with the bare name, a failure of one camera's node in a
    launch of several could not be told from another's.
    """
    namespace = ""
    remapping = False
    for argument in arguments:
        if remapping:
            key, _, value = argument.partition(":=")
            key = key.rsplit(":", 1)[-1]   # "viltrack_tracker:__ns": a rule for one node name
            if key == "__ns":
                namespace = value
            elif key == "__node":
                name = value
        remapping = argument in ("-r", "--remap")
    return ".".join(part for part in [*namespace.split("/"), name] if part)


def ros_argument_problem(error: Exception) -> str:
    """
    Return rcl's complaint about the command line without its source locations.

    "Couldn't parse remap rule: '-r image:=/cam/'. Error: error not set, at .../arguments.c:380" becomes
    "Couldn't parse remap rule: '-r image:=/cam/'", and the same for parameter overrides and params files.
    """
    text = str(error).removeprefix("failed to initialize rcl: ")
    return text.split(". Error:", 1)[0]


def run_node(make_node: Callable[[], Node], name: str, startup_errors: tuple[type[BaseException], ...] = (),
             args=None, spin: Callable[[Node], None] = spin_until_shutdown,
             on_exit: Callable[[Node], None] | None = None, exit_when_done: bool = True) -> int:
    """
    Run ``make_node()`` until SIGINT, SIGTERM or an external shutdown, then end the process with the exit code.

    With ``exit_when_done=False`` the exit code is returned instead.

    An error of ``startup_errors`` while building the node (wrong weights, settings, files) is said in one fatal
    line instead of a traceback, and gives exit code 1. ``on_exit`` runs before the node is destroyed (closing a
    bag, say). ``spin`` must return to Python regularly (``spin_once`` with a timeout) so signals are handled.
    """
    code = _run_node(make_node, name, startup_errors, args, spin, on_exit, exit_when_done)
    if exit_when_done:
        exit_process(code)
    return code


def _run_node(make_node, name, startup_errors, args, spin, on_exit, exit_when_done: bool) -> int:
    global _stop_signal_received
    _stop_signal_received = None   # a node run again in the same process (exit_when_done=False) starts afresh
    # Before rclpy starts, so that no moment of the start is without them (startup.py covers the imports).
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, _request_shutdown)
    try:
        rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    except _rclpy.RCLError as error:   # a remap rule, parameter override or params file that rcl refused
        rclpy.logging.get_logger(startup_logger_name(name, sys.argv if args is None else args)).fatal(
            f"cannot start: the ROS arguments are invalid: {ros_argument_problem(error)}")
        return 1   # nothing was created: no node or participant to release
    try:
        node = make_node()
        if stop_requested():   # its exception was swallowed while the node was built: the node is whole, though
            raise ShutdownRequested(_stop_signal_received)
    except startup_errors as error:
        rclpy.logging.get_logger(startup_logger_name(name, sys.argv if args is None else args)).fatal(
            f"cannot start: {error}")
        _end_half_built(exit_when_done, 1)
        return 1
    except KeyboardInterrupt:   # stopped while starting (loading the model, say)
        _end_half_built(exit_when_done, 0)
        return 0
    try:
        spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        try:
            if on_exit is not None:
                on_exit(node)
        finally:
            node.destroy_node()
            rclpy.try_shutdown()
    return 0
