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
The tracked boxes as ``vision_msgs/Detection2DArray``, the message detection and tracking consumers read.

vision_msgs ships with ROS 2 installations but not as a pip wheel. The conversion is split so that it is testable
without it: ``detection2d_array_fields`` builds the message as nested fields (the layout of vision_msgs 4, Humble and
later), and ``to_detection2d_array`` fills the real message from them with rosidl_runtime_py, which rejects any
field the installed vision_msgs does not have.
"""
from __future__ import annotations

from viltrack_ros.tracking import TrackStatus

# The tracker follows whatever object it was given: its hypotheses have no class of their own.
TRACKED_CLASS_ID = "tracked_target"


def vision_msgs_missing_reason() -> str | None:
    """Why Detection2DArray cannot be published here, or None."""
    try:
        import vision_msgs.msg  # noqa: F401
        import rosidl_runtime_py  # noqa: F401
    except ImportError as error:
        return (f"vision_msgs is not installed ({error}); it comes with a ROS 2 installation "
                f"(apt install ros-$ROS_DISTRO-vision-msgs), not with the pip wheels")
    return None


def detection2d_array_fields(header, tracked_objects) -> dict:
    """
    Build a Detection2DArray as nested fields: one detection per target that is not LOST, in the image's header.

    A LOST target's box is only the tracker's last guess, and Detection2D has no status to say so: consumers would
    take it for a detection, so it is left out (``tracked_object`` still reports it, with its status).
    """
    return {
        "header": header,
        "detections": [
            {
                "header": header,
                "id": str(tracked.target_id),
                "bbox": {"center": {"position": {"x": float(tracked.center_x), "y": float(tracked.center_y)},
                                    "theta": 0.0},
                         "size_x": float(tracked.width), "size_y": float(tracked.height)},
                "results": [{"hypothesis": {"class_id": TRACKED_CLASS_ID, "score": float(tracked.confidence)}}],
            }
            for tracked in tracked_objects if tracked.status != TrackStatus.LOST
        ],
    }


def to_detection2d_array(header, tracked_objects):
    """Build the real vision_msgs/Detection2DArray (vision_msgs and rosidl_runtime_py must be importable)."""
    from rosidl_runtime_py import set_message_fields
    from vision_msgs.msg import Detection2DArray

    message = Detection2DArray()
    set_message_fields(message, detection2d_array_fields(header, tracked_objects))
    return message
