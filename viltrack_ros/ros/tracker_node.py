"""ROS 2 node: camera images in, tracked boxes out, ready as soon as it exists (the model loads in the constructor).

The interfaces are described in tracking_adapter.py; managed_tracker_node.py is the lifecycle variant. Run:
``ros2 run viltrack_ros tracker_node`` or ``python -m viltrack_ros.ros.tracker_node``.
"""
from __future__ import annotations

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node

from viltrack_ros.model.checkpoint import CheckpointError
from viltrack_ros.ros.tracking_adapter import NODE_NAME, TrackingAdapter, tracked_object_msg

__all__ = ["TrackerNode", "main", "tracked_object_msg"]


class TrackerNode(TrackingAdapter, Node):
    """Configured and active from construction on: images in, tracked boxes out."""

    def __init__(self, **node_options):
        super().__init__(NODE_NAME, **node_options)
        try:
            self._declare_parameters()
            self._configure()
            self._activate()
        except Exception:
            # A half-built node left to the garbage collector after rclpy shutdown can crash the process
            # (seen: SIGSEGV instead of exit code 1): release its handles while the context still lives.
            self.destroy_node()
            raise


def main(args=None) -> int:
    rclpy.init(args=args)
    try:
        node = TrackerNode()
    except (CheckpointError, ValueError) as error:
        # Wrong weights or settings: say why in one line instead of a traceback, and exit non-zero.
        rclpy.logging.get_logger(NODE_NAME).fatal(f"cannot start: {error}")
        rclpy.try_shutdown()
        return 1
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
