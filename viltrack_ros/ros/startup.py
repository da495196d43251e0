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
What the installed executables run first, before they import rclpy, PyTorch and the rest (about a second).

A stop signal in that second used to raise KeyboardInterrupt inside whatever import was running: a 40-line
traceback and exit code 130, and now and then a signal swallowed by an import lock ("Exception ignored in ...
_get_module_lock"), after which the node came up as if never stopped. Nothing exists yet that would need releasing,
so the process leaves at once with exit code 0, as a node stopped later does. ``node_main.run_node`` puts its own
handlers in place before it starts rclpy. Only standard-library imports here.
"""
import os
import signal

# The signals that stop every node of the package (node_main's handlers take the same ones over).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _leave(signal_number, frame) -> None:
    os._exit(0)


def leave_quietly_on_stop_signals() -> None:
    """Until ``run_node`` takes over: SIGINT or SIGTERM ends the process at once with exit code 0."""
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, _leave)
