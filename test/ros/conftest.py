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
Harness for the ROS tests: the node runs as its own process and the tests talk to it over real DDS.

Each pytest process picks its own ROS_DOMAIN_ID and keeps discovery on loopback before rclpy starts, and the node
processes inherit that environment. Where the ROS wheels or the built interfaces are missing, the test modules skip
with the reason (ros_test_support.skip_module_unless_ros), unless VILTRACK_REQUIRE_ROS=1 (scripts/test.sh) makes
that an error.
"""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

# Before any rclpy import: parallel test runs must not see each other, and DDS must stay on loopback.
os.environ["ROS_DOMAIN_ID"] = os.environ.get("VILTRACK_TEST_DOMAIN_ID", str(1 + os.getpid() % 100))
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.setdefault("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")
# Without it a best-effort subscriber loses images above ~0.5 MB (config/fastdds_localhost.xml says why).
os.environ.setdefault("FASTDDS_DEFAULT_PROFILES_FILE",
                      str(Path(__file__).resolve().parents[2] / "config" / "fastdds_localhost.xml"))

# The node processes are stopped with SIGINT, as Ctrl-C would. A shell that starts pytest in the background (no job
# control) makes it ignore SIGINT, and every child would inherit that: give the children the default handler back.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

from .ros_test_support import REPO_ROOT, ros_missing_reason  # noqa: E402

if ros_missing_reason() is None:
    from .ros_harness import NodeProcess, RosProbe  # noqa: E402  (needs rclpy)


# --- weights ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def test_weights(tmp_path_factory) -> Path:
    """
    A small (vil_cpu) checkpoint, built here: the ROS tests check plumbing and state, not accuracy.

    FiLM is an identity at initialisation; its output layers get random weights so that the temporal state
    really changes the boxes and a missing reset on init would show.
    """
    import torch

    from viltrack_ros.model import build_model, get_preset
    from viltrack_ros.model.checkpoint import save_checkpoint

    torch.manual_seed(0)
    model = build_model(get_preset("vil_cpu"))
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if ".film.layers." in name and (".gamma.2." in name or ".beta.2." in name):
                parameter.normal_(0.0, 0.5)
    return save_checkpoint(tmp_path_factory.mktemp("weights") / "vil_cpu_test.pt", model, trained=False,
                           training={"note": "random weights for the ROS tests"})


# --- ROS fixtures ------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def ros_context():
    import rclpy

    rclpy.init()
    yield
    rclpy.try_shutdown()


@pytest.fixture
def probe(ros_context, request):
    probe = RosProbe(f"probe_{request.node.name[:40].replace('[', '_').replace(']', '_').replace('-', '_')}")
    yield probe
    probe.destroy()


@pytest.fixture
def start_node(tmp_path, test_weights, request):
    """Start tracker node processes (``python -m``); stopped (SIGINT, then kill) after the test."""
    started: list[NodeProcess] = []
    request.node.tracker_node_logs = []

    def start(*parameters: str, weights: Path | str | None = None, command: list[str] | None = None,
              params_file: Path | None = None, extra_args: list[str] | None = None) -> NodeProcess:
        node = NodeProcess(log_path=tmp_path / f"tracker_node_{len(started)}.log", command=command,
                           weights=test_weights if weights is None else weights, parameters=parameters,
                           extra_args=extra_args or [], cwd=REPO_ROOT, params_file=params_file)
        started.append(node)
        request.node.tracker_node_logs.append(node.log_path)
        return node

    yield start
    for node in started:
        node.stop()


@pytest.fixture(scope="session", autouse=True)
def remove_stale_dds_segments():
    """
    Remove, at the end, the shared-memory segments of processes the tests killed or that crashed.

    Killed means SIGKILL after a timeout. 64 MB each, they would stay in /dev/shm (RAM) after the run; only this
    session's are touched.
    """
    import time

    started_at = time.time()
    yield
    from viltrack_ros.ros.shm_segments import remove_stale_segments

    removed = remove_stale_segments(since=started_at)
    if removed:
        print(f"\nremoved {removed} stale Fast DDS shared-memory segments of processes that did not close DDS",
              file=sys.stderr)


def pytest_runtest_makereport(item, call):
    # On a failure, show the node's log: it is where the reason usually is.
    if call.when == "call" and call.excinfo is not None:
        for log in getattr(item, "tracker_node_logs", []):
            if log.exists():
                print(f"\n----- {log.name} -----\n{log.read_text()[-4000:]}", file=sys.stderr)
