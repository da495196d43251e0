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
node_main's stop-signal handling, in this process with real signals and a real rclpy context.

The node processes' side is in test_ros_reliability_faults.py.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from .ros_test_support import skip_module_unless_ros

skip_module_unless_ros()   # before the ROS imports below

import rclpy  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402

from viltrack_ros.ros import node_main  # noqa: E402
from viltrack_ros.ros.node_main import (STOP_SIGNALS, ShutdownRequested, _request_shutdown,  # noqa: E402
                                        stop_signals_deferred)


@pytest.fixture
def stop_handlers():
    """Install the node's stop handlers on SIGINT/SIGTERM for one test, the previous ones back afterwards."""
    previous = {stop_signal: signal.getsignal(stop_signal) for stop_signal in STOP_SIGNALS}
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, _request_shutdown)
    yield
    for stop_signal, handler in previous.items():
        signal.signal(stop_signal, handler)
    node_main._stop_signal_received = None   # the signals sent here must not count for what runs next


def _signal_from_another_thread(signal_number: int) -> None:
    # As in the node, where DDS and the inference libraries run threads of their own.
    sender = threading.Thread(target=os.kill, args=(os.getpid(), signal_number))
    sender.start()
    sender.join()


def test_a_stop_signal_while_an_executor_is_built_is_raised_once_it_is_whole(stop_handlers):
    context = rclpy.Context()
    rclpy.init(context=context, signal_handler_options=rclpy.signals.SignalHandlerOptions.NO)
    steps = []
    try:
        with pytest.raises(ShutdownRequested, match="SIGTERM"):
            with stop_signals_deferred():
                _signal_from_another_thread(signal.SIGTERM)
                time.sleep(0.05)   # Python runs the handler here, in the main thread
                steps.append("signal handled")
                executor = SingleThreadedExecutor(context=context)
                steps.append("executor built")
        assert steps == ["signal handled", "executor built"]
        assert executor.shutdown(timeout_sec=0)
    finally:
        rclpy.try_shutdown(context=context)


def test_outside_the_block_a_stop_signal_interrupts_at_once_and_a_second_one_is_left_to_the_system(stop_handlers):
    with pytest.raises(ShutdownRequested, match="SIGINT"):
        _signal_from_another_thread(signal.SIGINT)
        time.sleep(5)   # interrupted: the test would take 5 s otherwise
    # The handler gave the default action back: a second signal during the release ends the process at once.
    assert signal.getsignal(signal.SIGINT) == signal.SIG_DFL and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_a_stop_signal_inside_the_import_system_is_recorded_not_raised(stop_handlers):
    """
    A stop signal handled in importlib's own code is left to the spin loops' check instead of raised there.

    Raised in a module lock's callback it would be printed and dropped ("Exception ignored in: ... _get_module_lock",
    seen in CI); recorded, ``stop_requested`` ends the node where it next looks. The frame is a real one whose code
    is named as importlib's frozen modules are.
    """
    namespace = {}
    exec(compile("import sys\nframe = sys._getframe()", "<frozen importlib._bootstrap>", "exec"), namespace)
    assert not node_main.stop_requested()
    _request_shutdown(signal.SIGINT, namespace["frame"])          # no exception
    assert node_main.stop_requested()
    node_main._stop_signal_received = None
    with pytest.raises(ShutdownRequested, match="SIGTERM"):
        _request_shutdown(signal.SIGTERM, sys._getframe())        # anywhere else: raised at once
    assert node_main.stop_requested()


def test_a_block_without_a_signal_raises_nothing(stop_handlers):
    with stop_signals_deferred():
        pass
    assert signal.getsignal(signal.SIGINT) == _request_shutdown


def test_a_stop_signal_whose_exception_is_swallowed_still_ends_the_node(tmp_path):
    """
    The exception a stop signal raises lands wherever the main thread is, and code there may swallow it.

    Seen under CPU load: a node that had just started spinning took a SIGINT and spun on for good. Here a callback
    swallows it on purpose, once (the handlers are reset by then: a second signal would kill the process).
    """
    script = tmp_path / "swallower.py"
    script.write_text(textwrap.dedent("""
        import os, signal, sys, time
        from rclpy.node import Node
        from viltrack_ros.ros.node_main import run_node

        class Swallower(Node):
            def __init__(self):
                super().__init__("swallower")
                self.timer = self.create_timer(0.3, self.tick)

            def tick(self):
                self.timer.cancel()
                try:
                    os.kill(os.getpid(), signal.SIGINT)
                    time.sleep(1.0)   # the handler runs in here and raises
                except BaseException as error:   # as an extension that clears the error it met would
                    print("swallowed", type(error).__name__, flush=True)

        sys.exit(run_node(Swallower, "swallower"))
    """))
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert "swallowed ShutdownRequested" in result.stdout, result.stdout + result.stderr
    assert result.returncode == 0, result.stdout + result.stderr
    assert time.monotonic() - started < 30
