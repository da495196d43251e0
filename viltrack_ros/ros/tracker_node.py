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
ROS 2 node: camera images in, tracked boxes out, ready as soon as it exists (the model loads in the constructor).

The interfaces are described in tracking_adapter.py; managed_tracker_node.py is the lifecycle variant. Run:
``ros2 run viltrack_ros tracker_node`` or ``python -m viltrack_ros.ros.tracker_node``.
"""
from __future__ import annotations

from rclpy.exceptions import ParameterException
from rclpy.node import Node

from viltrack_ros.model.checkpoint import CheckpointError
from viltrack_ros.ros.node_main import run_node
from viltrack_ros.ros.tracking_adapter import NODE_NAME, TrackingAdapter

__all__ = ["TrackerNode", "main"]


class TrackerNode(TrackingAdapter, Node):
    """Configured and active from construction on: images in, tracked boxes out."""

    def __init__(self, **node_options):
        super().__init__(NODE_NAME, **node_options)
        # A failure here (or a stop signal while the model loads) leaves a half-built node: node_main ends the
        # process without releasing it (releasing it crashed the process at times).
        self._declare_parameters()
        self._configure()
        self._activate()


def main(args=None) -> int:
    # Wrong weights or settings (a missing, truncated or mismatched checkpoint, device cuda without CUDA, a
    # parameter of the wrong type or out of its range): one line saying why, exit code 1.
    return run_node(TrackerNode, NODE_NAME, (CheckpointError, ValueError, ParameterException), args=args)


if __name__ == "__main__":
    raise SystemExit(main())
