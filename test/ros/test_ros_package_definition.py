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
"""The package's declarations agree with each other: package.xml, interfaces, tracker statuses, shipped config."""

import array
import ast
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

import yaml

from viltrack_ros.tracking import TrackerConfig, TrackStatus

from .ros_test_support import REQUIRE_ROS, skip_module_unless_ros

skip_module_unless_ros()   # before the ROS imports below

from viltrack_ros.ros.interfaces import InitTarget, StopTarget, TrackedObject  # noqa: E402


ROOT = Path(__file__).resolve().parents[2]


def test_package_xml_is_valid_format_3_with_its_dependencies():
    from catkin_pkg.package import parse_package

    package = parse_package(str(ROOT / "package.xml"))   # validates, e.g. the maintainer e-mail
    assert package.name == "viltrack_ros" and package.package_format == 3
    names = {d.name for d in package.build_depends + package.exec_depends + package.buildtool_depends
             + package.test_depends}
    for needed in ["rclpy", "sensor_msgs", "std_msgs", "builtin_interfaces", "rosidl_default_generators",
                   "rosidl_default_runtime", "cv_bridge", "python3-numpy", "python3-opencv", "python3-pytorch-pip",
                   "launch_testing"]:
        assert needed in names, needed
    assert "rosidl_interface_packages" in [group.name for group in package.member_of_groups]


def test_status_constants_are_the_tracker_statuses():
    assert TrackedObject.INITIALIZING == TrackStatus.INITIALIZING == 0
    assert TrackedObject.TRACKING == TrackStatus.TRACKING == 1
    assert TrackedObject.LOST == TrackStatus.LOST == 2


def test_service_defaults_suit_single_target_use():
    request = InitTarget.Request()
    assert request.target_id == 0 and (request.stamp.sec, request.stamp.nanosec) == (0, 0)
    assert InitTarget.Request.NEW_TARGET_ID == -1
    assert StopTarget.Request().target_id == StopTarget.Request.ALL_TARGETS == -1


def test_shipped_params_file_lists_every_tracker_setting_without_copying_defaults():
    text = (ROOT / "config" / "tracker.yaml").read_text()
    parameters = yaml.safe_load(text)["/**"]["ros__parameters"]
    assert "tracker" not in parameters, "tracker defaults have one home: TrackerConfig"
    documented = re.findall(r"^\s*#\s+(\w+): (\S+)", text.split("# tracker:")[1], flags=re.MULTILINE)
    assert [name for name, _ in documented] == list(TrackerConfig.describe())
    # The values shown for uncommenting are today's defaults, not a second home that drifts from them.
    assert {name: yaml.safe_load(value) for name, value in documented} == {
        name: spec["default"] for name, spec in TrackerConfig.describe().items()}


def test_shipped_params_file_values_are_the_node_defaults():
    """The node parameters the file sets are those the node declares (a file that changed one would hide it)."""
    import rclpy
    from viltrack_ros.ros.managed_tracker_node import ManagedTrackerNode

    def flattened(tree: dict, prefix: str = "") -> dict:
        items = {}
        for key, value in tree.items():
            items.update(flattened(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key: value})
        return items

    in_file = flattened(yaml.safe_load((ROOT / "config" / "tracker.yaml").read_text())["/**"]["ros__parameters"])
    context = rclpy.Context()
    rclpy.init(args=[], context=context)
    try:
        node = ManagedTrackerNode(context=context)   # unconfigured: declares its parameters, loads no model
        # An array parameter's value is an array.array: compared as the list the YAML file holds.
        declared = {name: node.get_parameter(name).value for name in in_file}
        declared = {name: list(value) if isinstance(value, array.array) else value for name, value in declared.items()}
        node.destroy_node()
    finally:
        rclpy.shutdown(context=context)
    assert in_file == declared


def test_launch_file_declares_described_arguments():
    # Without the launch package the file cannot be run here; its arguments can still be read.
    text = (ROOT / "launch" / "tracker.launch.py").read_text()
    arguments = re.findall(r"DeclareLaunchArgument\(\s*\"(\w+)\"", text)
    assert {"image_topic", "weights", "device", "params_file", "namespace", "use_sim_time",
            "publish_overlay", "managed", "autostart"} <= set(arguments)
    assert text.count("description=") >= len(arguments)
    # The name the launch gives the node (a LifecycleNode action needs one) is the node's own.
    from viltrack_ros.ros.tracking_adapter import NODE_NAME
    assert re.findall(r'^NODE_NAME = "(\w+)"', text, flags=re.MULTILINE) == [NODE_NAME]
    from viltrack_ros.tracking.backends import BACKENDS
    (backends,) = re.findall(r"^BACKENDS = (\[.*\])$", text, flags=re.MULTILINE)
    assert ast.literal_eval(backends) == list(BACKENDS)


def test_colcon_test_runs_the_pytest_suite(tmp_path):
    # What a ROS user runs after `colcon build`: CMakeLists.txt registers the pytest suite with ament_cmake_pytest.
    # One quick test of it is selected (PYTEST_ADDOPTS reaches the pytest that ctest starts), so this checks the
    # registration and its environment, not the suite a second time.
    if os.environ.get("VILTRACK_UNDER_COLCON_TEST") == "1":
        pytest.skip("already running under colcon test")
    build = ROOT / "build" / "viltrack_ros"
    if shutil.which("colcon") is None or not (build / "CTestTestfile.cmake").is_file():
        if REQUIRE_ROS:
            pytest.fail("colcon or the package's build with tests (scripts/setup.sh) is missing")
        pytest.skip("colcon or a build of this package with tests is missing (scripts/setup.sh)")
    selected = "test_status_constants_are_the_tracker_statuses"
    report_file = build / "test_results" / "viltrack_ros" / "viltrack_ros_tests.xunit.xml"
    report_file.unlink(missing_ok=True)   # an earlier run's report must not pass for this one
    result = subprocess.run(
        ["colcon", "--log-base", str(tmp_path / "log"), "test", "--packages-select", "viltrack_ros",
         "--ctest-args", "-R", "viltrack_ros_tests"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, env={**os.environ, "PYTEST_ADDOPTS": f"-k {selected}"})
    assert result.returncode == 0, result.stdout + result.stderr
    report = ElementTree.parse(report_file).getroot()
    cases = report.findall(".//testcase")
    assert [case.get("name") for case in cases] == [selected]
    assert not report.findall(".//failure") and not report.findall(".//error") and not report.findall(".//skipped")
