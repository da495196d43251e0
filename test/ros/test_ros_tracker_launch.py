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
launch_testing of the shipped launch file: it brings the node up, and it shuts down cleanly with the launch.

The launch file starts the node with the shipped weights and remaps the camera topic; the node answers on DDS.

Runs under pytest (launch_testing's plugin; scripts/test.sh) and alone:
``launch_test test/ros/test_ros_tracker_launch.py``.
It needs launch_testing and launch_ros: a ROS 2 installation has them, and scripts/setup.sh installs them from
../shared/ros2_cli_wheels; elsewhere it skips with the reason.
"""
import time
import unittest
from pathlib import Path

import pytest

if __package__:   # collected by pytest (launch_test loads the file on its own, with its tools present)
    from .ros_test_support import skip_module_unless_ros, skip_module_unless_ros_cli

    skip_module_unless_ros()
    skip_module_unless_ros_cli()

import launch  # noqa: E402
import launch_testing.actions  # noqa: E402
import launch_testing.asserts  # noqa: E402
import numpy as np  # noqa: E402
import rclpy  # noqa: E402
from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402

from viltrack_ros.ros.image_conversion import numpy_to_image_msg  # noqa: E402
from viltrack_ros.ros.interfaces import InitTarget, TrackedObjectArray  # noqa: E402

LAUNCH_FILE = Path(__file__).resolve().parents[2] / "launch" / "tracker.launch.py"
CAMERA_TOPIC = "/test_camera/image_raw"


@pytest.mark.launch_test
def generate_test_description():
    # The shipped weights (no weights argument), as `ros2 launch` runs it: no checkpoint file is written.
    tracker = launch.actions.IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(LAUNCH_FILE)),
        launch_arguments={"device": "cpu", "image_topic": CAMERA_TOPIC}.items())
    return launch.LaunchDescription([tracker, launch_testing.actions.ReadyToTest()]), {}


class TestTrackerComesUpThroughTheLaunchFile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # A context of its own: the pytest process may hold another one (test/ros/conftest.py).
        cls.context = rclpy.Context()
        rclpy.init(context=cls.context)
        cls.node = rclpy.create_node("launch_test_probe", context=cls.context)
        cls.executor = SingleThreadedExecutor(context=cls.context)
        cls.executor.add_node(cls.node)

    @classmethod
    def tearDownClass(cls):
        cls.executor.shutdown()
        cls.node.destroy_node()
        rclpy.shutdown(context=cls.context)

    def spin_until(self, condition, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline:
            self.executor.spin_once(timeout_sec=0.1)
        return condition()

    def test_init_tracking_and_diagnostics_over_the_remapped_topic(self):
        arrays, diagnostics = [], []
        self.node.create_subscription(TrackedObjectArray, "/tracked_objects", arrays.append, 10)
        self.node.create_subscription(DiagnosticArray, "/diagnostics", diagnostics.append, 10)
        publisher = self.node.create_publisher(Image, CAMERA_TOPIC, 10)
        client = self.node.create_client(InitTarget, "/init_target")
        self.assertTrue(client.wait_for_service(timeout_sec=120.0), "init_target never appeared")

        frame = numpy_to_image_msg(np.full((240, 320, 3), 90, np.uint8), "rgb8")
        frame.header.frame_id = "camera_optical_frame"
        deadline = time.monotonic() + 60.0
        while not arrays and time.monotonic() < deadline:
            frame.header.stamp.sec += 1
            publisher.publish(frame)
            self.spin_until(lambda: arrays, 0.5)
        self.assertTrue(arrays, f"no tracked_objects for images on {CAMERA_TOPIC}")
        self.assertEqual(arrays[0].header.frame_id, "camera_optical_frame")

        future = client.call_async(InitTarget.Request(x=100.0, y=80.0, width=40.0, height=60.0))
        self.assertTrue(self.spin_until(future.done, 30.0), "no answer from init_target")
        self.assertTrue(future.result().success, future.result().message)

        self.assertTrue(self.spin_until(lambda: diagnostics, 10.0), "nothing on /diagnostics")
        names = [status.name for status in diagnostics[-1].status]
        self.assertIn("/viltrack_tracker: image input", names)


@launch_testing.post_shutdown_test()
class TestTrackerShutsDownCleanly(unittest.TestCase):
    def test_exit_code(self, proc_info):
        # 0, or the SIGINT/SIGTERM the launch system sends at the end.
        launch_testing.asserts.assertExitCodes(proc_info, allowable_exit_codes=[0, -2, -15])
