"""ROS 2 node: camera images in, tracked boxes out. A thin adapter around ``viltrack_ros.tracking.MultiTracker``.

Interfaces (all names relative, so a namespace or a remap runs one node per camera):
  subscribes  ``image`` (sensor_msgs/Image), or ``image/compressed`` with ``image_transport:=compressed``
  publishes   ``tracked_object`` (TrackedObject, one per target and image), ``tracked_objects`` (TrackedObjectArray,
              one per processed image, also when empty) and ``overlay`` (sensor_msgs/Image: boxes drawn, rgb8)
  services    ``init_target`` (InitTarget: start or replace a target), ``stop_target`` (StopTarget: one or all)

Every output carries the header of the image it was computed from. The model is loaded once, before the services
exist, so a client that sees ``init_target`` talks to a ready node. Run: ``python -m viltrack_ros.ros.tracker_node``
or ``ros2 run viltrack_ros tracker_node``.
"""
from __future__ import annotations

import collections
import time
import traceback
from dataclasses import dataclass

import numpy as np
import rclpy
import torch
from builtin_interfaces.msg import Duration
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header

from viltrack_ros.model.checkpoint import CheckpointError, default_weights_path
from viltrack_ros.ros.image_conversion import (ImageConversionError, compressed_msg_to_rgb, image_msg_to_rgb,
                                               rgb_to_image_msg, using_cv_bridge)
from viltrack_ros.ros.interfaces import InitTarget, StopTarget, TrackedObject, TrackedObjectArray
from viltrack_ros.tracking.visualize import draw_tracks
from viltrack_ros.tracking import MultiTracker, TrackerConfig, TrackResult

TRACKER_PREFIX = "tracker."   # node parameter tracker.<name> <-> TrackerConfig.<name>
DEVICES = ("auto", "cpu", "cuda")
TRANSPORTS = ("raw", "compressed")
RELIABILITIES = ("best_effort", "reliable")
# Outputs are reliable, so both reliable and best-effort subscribers (rviz, rosbag) can connect.
OUTPUT_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10, reliability=ReliabilityPolicy.RELIABLE)
OVERLAY_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=2, reliability=ReliabilityPolicy.RELIABLE)


@dataclass(frozen=True)
class _Frame:
    header: Header
    rgb: np.ndarray


def _stamp_key(stamp) -> tuple[int, int]:
    return int(stamp.sec), int(stamp.nanosec)


def _duration(seconds: float) -> Duration:
    nanoseconds = max(0, int(round(seconds * 1e9)))
    return Duration(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


def _describe(description: str, read_only: bool = False, low=None, high=None,
              choices: tuple[str, ...] = ()) -> ParameterDescriptor:
    descriptor = ParameterDescriptor(description=description, read_only=read_only)
    if choices:
        descriptor.additional_constraints = "one of: " + ", ".join(choices)
    if isinstance(low, float) or isinstance(high, float):
        descriptor.floating_point_range = [FloatingPointRange(from_value=float(low), to_value=float(high), step=0.0)]
    elif low is not None and high is not None:
        descriptor.integer_range = [IntegerRange(from_value=int(low), to_value=int(high), step=1)]
    return descriptor


def tracked_object_msg(header: Header, target_id: int, result: TrackResult, latency_s: float) -> TrackedObject:
    """One tracker result as a message: the top-left box of the tracker becomes the centre form of the message."""
    x, y, w, h = result.box
    return TrackedObject(header=header, target_id=int(target_id), center_x=float(x + w / 2),
                         center_y=float(y + h / 2), width=float(w), height=float(h),
                         confidence=float(result.confidence), status=int(result.status),
                         processing_latency=_duration(latency_s))


class TrackerNode(Node):
    """Images in, tracked boxes out; the tracking itself is MultiTracker's (see the module docstring)."""

    def __init__(self, **node_options):
        super().__init__("viltrack_tracker", **node_options)
        try:
            self._set_up()
        except Exception:
            # A half-built node left to the garbage collector after rclpy shutdown can crash the process
            # (seen: SIGSEGV instead of exit code 1): release its handles while the context still lives.
            self.destroy_node()
            raise

    def _set_up(self) -> None:
        self._declare_parameters()
        # Every setting is checked before the (slow) model load, so a typo fails at once.
        device = self._choice("device", DEVICES)
        transport = self._choice("image_transport", TRANSPORTS)
        reliability = self._choice("qos.reliability", RELIABILITIES)
        tracker_config = self._tracker_config_from_parameters()   # ValueError on an invalid combination
        self._publish_overlay = self.get_parameter("publish_overlay").value

        threads = self.get_parameter("threads").value
        if threads > 0:
            torch.set_num_threads(threads)
        weights = self.get_parameter("weights").value or str(default_weights_path())
        self._tracker = MultiTracker.from_checkpoint(weights, device=device,
                                                     config=tracker_config)   # CheckpointError: caught in main
        self._check_preset(weights)

        self._recent_frames: collections.deque[_Frame] = collections.deque(
            maxlen=self.get_parameter("init_frame_buffer_size").value)
        self._image_size: tuple[int, int] | None = None

        self._object_pub = self.create_publisher(TrackedObject, "tracked_object", OUTPUT_QOS)
        self._array_pub = self.create_publisher(TrackedObjectArray, "tracked_objects", OUTPUT_QOS)
        self._overlay_pub = self.create_publisher(Image, "overlay", OVERLAY_QOS)
        image_qos = QoSProfile(
            history=HistoryPolicy.KEEP_LAST, depth=self.get_parameter("qos.depth").value,
            reliability=ReliabilityPolicy.BEST_EFFORT if reliability == "best_effort" else ReliabilityPolicy.RELIABLE)
        if transport == "compressed":
            self._image_sub = self.create_subscription(CompressedImage, "image/compressed",
                                                       self._on_compressed_image, image_qos)
        else:
            self._image_sub = self.create_subscription(Image, "image", self._on_image, image_qos)
        self.add_on_set_parameters_callback(self._validate_parameters)
        self.add_post_set_parameters_callback(self._apply_parameters)
        self.create_service(InitTarget, "init_target", self._on_init_target)
        self.create_service(StopTarget, "stop_target", self._on_stop_target)

        info = self._tracker.model_info
        self.get_logger().info(
            f"ready: weights {info.get('path')} (preset {info['model_config']['name']}, "
            f"{'trained' if info.get('trained') else 'UNTRAINED: boxes are meaningless'}), "
            f"device {self._tracker.device}, torch threads {torch.get_num_threads()}, "
            f"image conversion {'cv_bridge' if using_cv_bridge() else 'built-in'}; "
            f"listening on {self._image_sub.topic_name}")
        if not info.get("trained"):
            self.get_logger().warning("the loaded checkpoint is marked untrained (freshly initialised weights)")

    # --- parameters ------------------------------------------------------------------------------------
    def _declare_parameters(self) -> None:
        self.declare_parameter("weights", "", _describe(
            "Checkpoint file (.pt) to load; empty: the weights shipped with the package.", read_only=True))
        self.declare_parameter("preset", "", _describe(
            "Model preset the checkpoint must hold (e.g. vil_cpu); empty accepts the checkpoint's own. The "
            "network's shape always comes from the checkpoint: this only guards against a wrong file.",
            read_only=True))
        self.declare_parameter("device", "auto", _describe(
            "Where the network runs: auto (cuda when available), cpu or cuda.", read_only=True, choices=DEVICES))
        self.declare_parameter("threads", 0, _describe(
            "PyTorch CPU threads; 0 keeps PyTorch's default.", read_only=True, low=0, high=256))
        self.declare_parameter("image_transport", "raw", _describe(
            "raw: subscribe to image (sensor_msgs/Image); compressed: image/compressed (JPEG/PNG).",
            read_only=True, choices=TRANSPORTS))
        self.declare_parameter("qos.reliability", "best_effort", _describe(
            "Reliability of the image subscription. best_effort (sensor data) accepts every camera publisher.",
            read_only=True, choices=RELIABILITIES))
        self.declare_parameter("qos.depth", 1, _describe(
            "Images queued for the tracker. 1: a slow model drops old frames instead of falling behind.",
            read_only=True, low=1, high=100))
        self.declare_parameter("publish_overlay", True, _describe(
            "Publish the annotated image on overlay (drawn only while someone subscribes)."))
        self.declare_parameter("init_frame_buffer_size", 30, _describe(
            "Recent images kept so that init_target can name the stamp of the image a box was drawn on.",
            read_only=True, low=1, high=1000))
        # Tracker settings: names, defaults, ranges and meaning all come from TrackerConfig, their one home.
        for name, spec in TrackerConfig.describe().items():
            self.declare_parameter(TRACKER_PREFIX + name, spec["default"],
                                   _describe(spec["description"], low=spec.get("low"), high=spec.get("high")))

    def _choice(self, name: str, choices: tuple[str, ...]) -> str:
        value = self.get_parameter(name).value
        if value not in choices:
            raise ValueError(f"parameter {name}={value!r} must be one of {', '.join(choices)}")
        return value

    def _tracker_config_from_parameters(self, changes: dict | None = None) -> TrackerConfig:
        settings = {name: self.get_parameter(TRACKER_PREFIX + name).value for name in TrackerConfig.describe()}
        settings.update(changes or {})
        return TrackerConfig.from_dict(settings)

    def _check_preset(self, weights: str) -> None:
        expected = self.get_parameter("preset").value
        actual = self._tracker.model_info["model_config"]["name"]
        if expected and expected != actual:
            raise ValueError(f"{weights} holds preset '{actual}', but parameter preset is '{expected}'")

    def _validate_parameters(self, parameters: list[Parameter]) -> SetParametersResult:
        tracker_changes = {p.name[len(TRACKER_PREFIX):]: p.value for p in parameters
                           if p.name.startswith(TRACKER_PREFIX)}
        if tracker_changes:
            try:
                self._tracker_config_from_parameters(tracker_changes)
            except (ValueError, TypeError) as error:
                return SetParametersResult(successful=False, reason=str(error))
        return SetParametersResult(successful=True)

    def _apply_parameters(self, parameters: list[Parameter]) -> None:
        names = {p.name for p in parameters}
        if any(name.startswith(TRACKER_PREFIX) for name in names):
            self._tracker.config = self._tracker_config_from_parameters()
            self.get_logger().info(f"tracker settings now {self._tracker.config.to_dict()}")
        if "publish_overlay" in names:
            self._publish_overlay = self.get_parameter("publish_overlay").value

    # --- images ----------------------------------------------------------------------------------------
    def _on_image(self, msg: Image) -> None:
        received = time.perf_counter()
        try:
            rgb = image_msg_to_rgb(msg)
        except ImageConversionError as error:
            self.get_logger().warning(f"skipping image ({msg.width}x{msg.height}, '{msg.encoding}'): {error}",
                                      throttle_duration_sec=5.0)
            return
        self._track(msg.header, rgb, received)

    def _on_compressed_image(self, msg: CompressedImage) -> None:
        received = time.perf_counter()
        try:
            rgb = compressed_msg_to_rgb(msg)
        except ImageConversionError as error:
            self.get_logger().warning(f"skipping image: {error}", throttle_duration_sec=5.0)
            return
        self._track(msg.header, rgb, received)

    def _track(self, header: Header, rgb: np.ndarray, received: float) -> None:
        size = rgb.shape[:2]
        if self._image_size is not None and size != self._image_size:
            # Boxes are pixels of the old resolution: they mean nothing in the new one.
            dropped = self._tracker.target_ids
            self._tracker.clear()
            self._recent_frames.clear()
            self.get_logger().warning(
                f"image size changed from {self._image_size[1]}x{self._image_size[0]} to {size[1]}x{size[0]}; "
                f"dropped targets {dropped}: call init_target again")
        self._image_size = size
        self._recent_frames.append(_Frame(header, rgb))
        try:
            results = self._tracker.update(rgb)
        except Exception:   # one bad frame must not take the camera's tracker down
            self.get_logger().error(f"tracker failed on this image, skipped:\n{traceback.format_exc()}",
                                    throttle_duration_sec=5.0)
            return
        latency = time.perf_counter() - received
        objects = [tracked_object_msg(header, target_id, result, latency) for target_id, result in results.items()]
        for tracked in objects:
            self._object_pub.publish(tracked)
        self._array_pub.publish(TrackedObjectArray(header=header, objects=objects))
        if self._publish_overlay and self._overlay_pub.get_subscription_count() > 0:
            self._overlay_pub.publish(rgb_to_image_msg(draw_tracks(rgb, results.items()), header))

    # --- services --------------------------------------------------------------------------------------
    def _on_init_target(self, request: InitTarget.Request, response: InitTarget.Response) -> InitTarget.Response:
        response.target_id = request.target_id
        frame, problem = self._frame_for(request.stamp)
        if frame is None:
            response.success, response.message = False, problem
            return response
        if request.target_id == InitTarget.Request.NEW_TARGET_ID:
            response.target_id = max(self._tracker.target_ids, default=-1) + 1
        elif request.target_id < 0:
            response.success = False
            response.message = f"target_id must be >= 0, or {InitTarget.Request.NEW_TARGET_ID} for a new id"
            return response
        box = (request.x, request.y, request.width, request.height)
        try:
            self._tracker.init(response.target_id, frame.rgb, box)
        except ValueError as error:
            response.success, response.message = False, f"invalid box: {error}"
            return response
        height, width = frame.rgb.shape[:2]
        response.success = True
        response.message = (f"tracking target {response.target_id} from box ({request.x:g}, {request.y:g}, "
                            f"{request.width:g}, {request.height:g}) on the {width}x{height} image stamped "
                            f"{frame.header.stamp.sec}.{frame.header.stamp.nanosec:09d}")
        self.get_logger().info(response.message)
        return response

    def _frame_for(self, stamp) -> tuple[_Frame | None, str]:
        if not self._recent_frames:
            return None, f"no image received yet on {self._image_sub.topic_name}"
        if _stamp_key(stamp) == (0, 0):
            return self._recent_frames[-1], ""
        for frame in reversed(self._recent_frames):
            if _stamp_key(frame.header.stamp) == _stamp_key(stamp):
                return frame, ""
        oldest, newest = self._recent_frames[0].header.stamp, self._recent_frames[-1].header.stamp
        return None, (f"no recent image has stamp {stamp.sec}.{stamp.nanosec:09d}; kept: "
                      f"{oldest.sec}.{oldest.nanosec:09d} .. {newest.sec}.{newest.nanosec:09d} "
                      f"(zero stamp = newest image)")

    def _on_stop_target(self, request: StopTarget.Request, response: StopTarget.Response) -> StopTarget.Response:
        if request.target_id == StopTarget.Request.ALL_TARGETS:
            stopped = self._tracker.target_ids
            self._tracker.clear()
            response.success, response.message = True, f"stopped targets {stopped}"
        elif self._tracker.remove(request.target_id):
            response.success, response.message = True, f"stopped target {request.target_id}"
        else:
            response.success = False
            response.message = f"no target {request.target_id}; tracking {self._tracker.target_ids}"
        self.get_logger().info(response.message)
        return response


def main(args=None) -> int:
    rclpy.init(args=args)
    try:
        node = TrackerNode()
    except (CheckpointError, ValueError) as error:
        # Wrong weights or settings: say why in one line instead of a traceback, and exit non-zero.
        rclpy.logging.get_logger("viltrack_tracker").fatal(f"cannot start: {error}")
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
