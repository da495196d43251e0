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
What the node's log tells a user who got the set-up wrong, over real DDS with node processes.

A misspelt parameter and a topic nothing publishes on leave a node that runs and tracks nothing as the user meant;
/diagnostics says the second, but a user looks at the terminal first.
"""
from __future__ import annotations

import re
import time

from .ros_test_support import load_sequence, skip_module_unless_ros

skip_module_unless_ros()   # before the ROS imports below

from sensor_msgs.msg import Image  # noqa: E402

from viltrack_ros.ros.tracking_adapter import INPUT_SILENCE_REPORT_S  # noqa: E402
from .ros_harness import RELIABLE, frame_msg  # noqa: E402


def test_values_for_parameters_the_node_does_not_have_are_named_in_the_log(start_node, probe, tmp_path):
    params = tmp_path / "robot.yaml"
    params.write_text("/**:\n  ros__parameters:\n    publish_overlays: false\n    tracker:\n"
                      "      window_influense: 0.9\n")
    node = start_node("colour_scheme:=dark", params_file=params)
    probe.wait_for_node(node)
    log = node.log()
    assert ("ignoring the value given for tracker.window_influense: this node has no such parameter; did you mean "
            "tracker.window_influence?") in log, log[-3000:]
    assert "ignoring the value given for publish_overlays: this node has no such parameter; did you mean " \
           "publish_overlay?" in log, log[-3000:]
    assert "ignoring the value given for colour_scheme: this node has no such parameter (`ros2 param list`" in log
    assert "ignoring the value given for tracker.window_influence" not in log   # the declared ones: no word
    assert node.alive()


def test_a_topic_without_images_is_said_once_in_the_log_and_images_arriving_later_too(start_node, probe):
    topic = "/nothing_publishes_here"
    node = start_node(extra_args=["-r", f"image:={topic}"])
    assert node.wait_for_log("s of listening: is a camera publishing there?", 60.0), node.log()[-3000:]
    said = re.search(rf"no image on {topic} in (\d+) s of listening", node.log())
    assert said and INPUT_SILENCE_REPORT_S <= int(said.group(1)) <= INPUT_SILENCE_REPORT_S + 10, node.log()[-3000:]
    publisher = probe.node.create_publisher(Image, topic, RELIABLE)
    frames, _ = load_sequence("Crossing", 1)
    deadline = time.monotonic() + 30.0
    while time.monotonic() < deadline and f"images arriving on {topic} again" not in node.log():
        publisher.publish(frame_msg(frames[0], sec=1))
        probe.spin_for(0.5)
    log = node.log()
    assert f"images arriving on {topic} again" in log, log[-3000:]
    assert log.count(f"no image on {topic}") == 1, log[-3000:]   # once, not every diagnostics period
    # The camera stops after images came: said once more, in other words.
    assert node.wait_for_log("s: has the camera stopped?", 60.0), node.log()[-3000:]
    assert node.log().count(f"no image on {topic}") == 2
    assert node.alive()
