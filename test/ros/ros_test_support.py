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
"""Paths and real test data for the ROS tests (no rclpy here: imported before the ROS check)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from viltrack_ros.data.splits import DEFAULT_SEQUENCES_ROOT

REPO_ROOT = Path(__file__).resolve().parents[2]
SEQUENCES = DEFAULT_SEQUENCES_ROOT
# scripts/test.sh sets it: there a missing ROS build is an error, not a reason to skip.
REQUIRE_ROS = os.environ.get("VILTRACK_REQUIRE_ROS") == "1"
# Where scripts/setup.sh installs the ros2 CLI and launch from (beside the checkout on CI and developer machines).
ROS2_CLI_WHEELS = Path(os.environ.get("VILTRACK_ROS2_CLI_WHEELS", REPO_ROOT.parent / "shared" / "ros2_cli_wheels"))


def load_sequence(name: str, count: int):
    """First ``count`` frames (BGR, as OpenCV reads them) and ground-truth boxes of a shared real sequence."""
    import cv2

    folder = SEQUENCES / name
    if not (folder / "groundtruth.txt").is_file():
        pytest.skip(f"real sequence {folder} is absent (shared data set not available)")
    boxes = [tuple(float(v) for v in line.split(",")) for line in
             (folder / "groundtruth.txt").read_text().splitlines()[:count]]
    frames = []
    for path in sorted(folder.glob("*.jpg"))[:count]:
        frame = cv2.imread(str(path), cv2.IMREAD_COLOR)   # grayscale JPEGs come back as 3 equal channels
        assert frame is not None, path
        frames.append(frame)
    return frames, boxes


def ros_missing_reason() -> str | None:
    """Why the ROS tests cannot run here, or None."""
    try:
        import rclpy  # noqa: F401
        import viltrack_ros.ros.interfaces  # noqa: F401  (the colcon-built message types)
    except ImportError as error:
        return f"ROS 2 (rclpy) or the built viltrack_ros interfaces are missing ({error}); run scripts/test.sh"
    return None


def ros_cli_missing_reason() -> str | None:
    """Why the tests of the `ros2` CLI, launch files and launch_testing cannot run here, or None."""
    # launch.logging, not launch: from the repository root, the launch/ folder imports as a namespace package.
    missing = [name.split(".")[0] for name in ("launch.logging", "launch_ros", "launch_testing", "ros2cli", "psutil")
               if not _importable(name)]
    if shutil.which("ros2") is None:
        missing.append("the ros2 command")
    if not missing:
        return None
    return (f"{', '.join(missing)} not installed: neither a ROS 2 installation nor ../shared/ros2_cli_wheels "
            f"(scripts/setup.sh installs the ros2 CLI, launch and launch_testing from {ROS2_CLI_WHEELS} when it "
            f"exists)")


def _importable(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:   # a parent package is missing
        return False


def skip_module_unless_ros_cli() -> None:
    """
    Call at the top of a module that runs `ros2` commands or launch files, after skip_module_unless_ros().

    Skips with the reason where the tools are missing, except under scripts/test.sh on a machine that has the
    wheels: set-up installs them there, so their absence is an error.
    """
    reason = ros_cli_missing_reason()
    if reason is None:
        return
    if REQUIRE_ROS and any(ROS2_CLI_WHEELS.glob("*.whl")):
        raise RuntimeError(f"{reason}; but {ROS2_CLI_WHEELS} has them: did scripts/setup.sh run?")
    pytest.skip(reason, allow_module_level=True)


def skip_module_unless_ros() -> None:
    """Call at the top of a test module, before its ROS imports."""
    reason = ros_missing_reason()
    if reason is None:
        return
    if REQUIRE_ROS:
        raise RuntimeError(reason)
    pytest.skip(reason, allow_module_level=True)
