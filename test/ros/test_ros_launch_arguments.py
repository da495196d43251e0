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
The launch file's arguments and a user's params file, through `ros2 launch` and the node's parameter services.

A launch argument that is given overrides the params file; one that is left out leaves the file's value alone (the
launch arguments' own defaults used to replace five of the file's settings without a word).
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from .ros_test_support import load_sequence, skip_module_unless_ros, skip_module_unless_ros_cli

skip_module_unless_ros()
skip_module_unless_ros_cli()

from lifecycle_msgs.msg import Transition  # noqa: E402
from lifecycle_msgs.srv import ChangeState, GetState  # noqa: E402
from rcl_interfaces.srv import GetParameters  # noqa: E402

from .ros_harness import NODE_NAME, frame_msg  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def launch(arguments: list[str], log_path) -> subprocess.Popen:
    log = open(log_path, "w")
    return subprocess.Popen(["ros2", "launch", "viltrack_ros", "tracker.launch.py", *arguments], stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True, env=dict(os.environ))


def stop(process: subprocess.Popen) -> None:
    """Ctrl-C to the launch's process group, as a terminal sends it (also to a node left by a launch that ended)."""
    try:
        os.killpg(process.pid, signal.SIGINT)
    except ProcessLookupError:   # the group is empty: nothing left running
        return
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def test_given_arguments_override_the_params_file_and_the_others_leave_it_alone(probe, test_weights, tmp_path):
    params_file = tmp_path / "robot.yaml"
    params_file.write_text(
        "/**:\n  ros__parameters:\n"
        f"    weights: {test_weights}\n    device: cpu\n    backend: onnxruntime\n    threads: 1\n"
        "    image_transport: compressed\n    publish_overlay: false\n    tracker:\n      window_influence: 0.3\n")
    process = launch([f"params_file:={params_file}", "backend:=torch"], tmp_path / "launch.log")
    try:
        parameters = probe._parameter_client(GetParameters, "get_parameters")
        assert probe.spin_until(lambda: process.poll() is not None or parameters.service_is_ready(), 60), \
            f"the launched node never came up:\n{(tmp_path / 'launch.log').read_text()[-3000:]}"
        assert process.poll() is None, (tmp_path / "launch.log").read_text()[-3000:]
        names = ["weights", "device", "backend", "threads", "image_transport", "publish_overlay",
                 "tracker.window_influence", "use_sim_time"]
        assert probe.get_parameters(names) == {
            "weights": str(test_weights), "device": "cpu", "threads": 1, "image_transport": "compressed",
            "publish_overlay": False, "tracker.window_influence": 0.3, "use_sim_time": False,
            "backend": "torch",   # given on the command line: it wins over the file's onnxruntime
        }
    finally:
        stop(process)


@pytest.mark.parametrize("arguments, says", [
    (["threads:=many"], "launch argument threads:='many' is not a valid value. Nothing was started."),
    (["autostart:=true"], "autostart:=true needs managed:=true (the plain node is active from the start). Nothing "
                          "was started."),
    (["backend:=tensorflow"], 'Argument "backend" provided value "tensorflow" is not valid'),
    (["params_file:=/nonexistent/robot.yaml"], "params_file:=/nonexistent/robot.yaml is not a file. Nothing was "
                                               "started."),
    (["image_topic:=/cam/"], "image_topic:='/cam/' is not a valid topic name (topic name '/cam/' is invalid: topic "
                             "name must not end with a forward slash). Nothing was started."),
    (["image_topic:=cam//image"], "image_topic:='cam//image' is not a valid topic name (")])
def test_a_launch_that_cannot_be_carried_out_stops_before_anything_starts(arguments, says, tmp_path):
    process = launch(arguments, tmp_path / "launch.log")
    try:
        assert process.wait(timeout=60) != 0
    finally:
        stop(process)   # a launch that did start something must not outlive the test
    output = (tmp_path / "launch.log").read_text()
    assert says in output, output[-3000:]
    assert "process started" not in output, output[-3000:]


def test_autostart_brings_the_managed_node_up_active_once_and_leaves_later_transitions_to_the_user(
        probe, test_weights, tmp_path):
    log = tmp_path / "launch.log"
    process = launch(["managed:=true", "autostart:=true", f"weights:={test_weights}", "device:=cpu", "threads:=1"],
                     log)
    try:
        get_state = probe.node.create_client(GetState, f"/{NODE_NAME}/get_state")
        change_state = probe.node.create_client(ChangeState, f"/{NODE_NAME}/change_state")

        def state() -> str:
            return probe.call(get_state, GetState.Request()).current_state.label

        assert probe.spin_until(lambda: process.poll() is not None or get_state.service_is_ready(), 60), \
            f"the launched node never came up:\n{log.read_text()[-3000:]}"
        deadline = time.monotonic() + 60
        while state() != "active" and time.monotonic() < deadline and process.poll() is None:
            probe.spin_for(0.5)
        assert state() == "active", log.read_text()[-3000:]
        frames, boxes = load_sequence("Crossing", 2)
        probe.handshake(frame_msg(frames[0], sec=30))          # it tracks without a hand on the lifecycle
        assert probe.init_target(*boxes[0]).success
        assert [obj.target_id for obj in probe.send(frame_msg(frames[1], sec=31)).objects] == [0]
        # A deactivate is the user's: autostart does not activate the node again.
        request = ChangeState.Request(transition=Transition(id=Transition.TRANSITION_DEACTIVATE))
        assert probe.call(change_state, request, timeout=60).success
        probe.spin_for(2.0)
        assert state() == "inactive"
    finally:
        stop(process)


@pytest.mark.parametrize("namespace, image_topic", [("", "image"), ("front", "/front/image_raw"), ("front", "image")])
def test_rviz_shows_the_topics_of_the_tracker_it_was_launched_with(namespace, image_topic):
    """Resolved by rcl as the two processes would: rviz (shipped config, launch's remaps) and the tracker."""
    import importlib.util

    import rclpy
    from sensor_msgs.msg import Image

    spec = importlib.util.spec_from_file_location("tracker_launch", ROOT / "launch" / "tracker.launch.py")
    launch_file = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(launch_file)
    rviz_topics = re.findall(r"^\s+Value: (/\w+)$", (ROOT / "config" / "viltrack.rviz").read_text(), re.MULTILINE)
    assert sorted(rviz_topics) == ["/image", "/overlay"]   # the displays' topics, as the shipped file names them

    def resolved(remappings: list[tuple[str, str]], topics: list[str]) -> list[str]:
        rules = [arg for source, target in remappings for arg in ("-r", f"{source}:={target}")]
        context = rclpy.Context()
        rclpy.init(args=["--ros-args", "-r", f"__ns:=/{namespace}", *rules], context=context)
        try:
            node = rclpy.create_node("resolver", context=context)
            names = [node.create_subscription(Image, topic, lambda _: None, 1).topic_name for topic in topics]
            node.destroy_node()
            return names
        finally:
            rclpy.shutdown(context=context)

    rviz_sees = resolved(launch_file.rviz_remappings(image_topic), ["/overlay", "/image"])
    # The tracker's own names ("overlay" published, "image" read) under the launch's remapping of its input.
    tracker_uses = resolved([("image", image_topic)], ["overlay", "image"])
    assert rviz_sees == tracker_uses
