"""launch_testing: the shipped launch file brings the node up, remaps the camera topic and answers on DDS.

Runs where ROS 2's launch_testing is installed (`colcon test`, or pytest on a ROS 2 installation). The pip wheels
used on plain Python machines have no `launch`, so there it skips; test_ros_tracker_node.py covers the same node
started as a process.
"""
import os
import tempfile
import time
import unittest
from pathlib import Path

import pytest

launch_testing = pytest.importorskip(
    "launch_testing", reason="launch_testing is not installed (it ships with a ROS 2 installation, not with the "
                             "pip wheels); test_ros_tracker_node.py tests the node as a process instead")
pytest.importorskip("launch_ros", reason="launch_ros is not installed (part of a ROS 2 installation)")

import launch  # noqa: E402
import launch_testing.actions  # noqa: E402
import launch_testing.asserts  # noqa: E402
import numpy as np  # noqa: E402
import rclpy  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402

from viltrack_ros.ros.image_conversion import numpy_to_image_msg  # noqa: E402
from viltrack_ros.ros.interfaces import InitTarget, TrackedObjectArray  # noqa: E402

LAUNCH_FILE = Path(__file__).resolve().parents[2] / "launch" / "tracker.launch.py"
CAMERA_TOPIC = "/test_camera/image_raw"


def _test_weights() -> str:
    """A small random checkpoint: the launch test checks wiring, not accuracy."""
    import torch

    from viltrack_ros.model import build_model, get_preset
    from viltrack_ros.model.checkpoint import save_checkpoint

    torch.manual_seed(0)
    path = Path(tempfile.mkdtemp(prefix="viltrack_launch_test_")) / "vil_cpu.pt"
    return str(save_checkpoint(path, build_model(get_preset("vil_cpu")), trained=False))


@pytest.mark.launch_test
def generate_test_description():
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    tracker = launch.actions.IncludeLaunchDescription(
        PythonLaunchDescriptionSource(str(LAUNCH_FILE)),
        launch_arguments={"weights": _test_weights(), "device": "cpu", "image_topic": CAMERA_TOPIC}.items())
    return launch.LaunchDescription([tracker, launch_testing.actions.ReadyToTest()]), {}


class TestTrackerComesUpThroughTheLaunchFile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        rclpy.init()
        cls.node = rclpy.create_node("launch_test_probe")

    @classmethod
    def tearDownClass(cls):
        cls.node.destroy_node()
        rclpy.shutdown()

    def test_init_and_tracking_over_the_remapped_topic(self):
        arrays = []
        self.node.create_subscription(TrackedObjectArray, "/tracked_objects", arrays.append, 10)
        publisher = self.node.create_publisher(Image, CAMERA_TOPIC, 10)
        client = self.node.create_client(InitTarget, "/init_target")
        self.assertTrue(client.wait_for_service(timeout_sec=120.0), "init_target never appeared")

        frame = numpy_to_image_msg(np.full((240, 320, 3), 90, np.uint8), "rgb8")
        frame.header.frame_id = "camera_optical_frame"
        deadline = time.monotonic() + 60.0
        while not arrays and time.monotonic() < deadline:
            frame.header.stamp.sec += 1
            publisher.publish(frame)
            rclpy.spin_once(self.node, timeout_sec=0.5)
        self.assertTrue(arrays, f"no tracked_objects for images on {CAMERA_TOPIC}")

        future = client.call_async(InitTarget.Request(x=100.0, y=80.0, width=40.0, height=60.0))
        rclpy.spin_until_future_complete(self.node, future, timeout_sec=30.0)
        self.assertTrue(future.result().success, future.result().message)


@launch_testing.post_shutdown_test()
class TestTrackerShutsDownCleanly(unittest.TestCase):
    def test_exit_code(self, proc_info):
        # 0, or the SIGINT/SIGTERM the launch system sends at the end.
        launch_testing.asserts.assertExitCodes(proc_info, allowable_exit_codes=[0, -2, -15])
