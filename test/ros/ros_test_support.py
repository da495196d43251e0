"""Paths and real test data for the ROS tests (no rclpy here: imported before the ROS check)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from viltrack_ros.data.splits import DEFAULT_SEQUENCES_ROOT

REPO_ROOT = Path(__file__).resolve().parents[2]
SEQUENCES = DEFAULT_SEQUENCES_ROOT
# scripts/test.sh sets it: there a missing ROS build is an error, not a reason to skip.
REQUIRE_ROS = os.environ.get("VILTRACK_REQUIRE_ROS") == "1"


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


def skip_module_unless_ros() -> None:
    """Call at the top of a test module, before its ROS imports."""
    reason = ros_missing_reason()
    if reason is None:
        return
    if REQUIRE_ROS:
        raise RuntimeError(reason)
    pytest.skip(reason, allow_module_level=True)
