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
The ROS side of the tracker, shared by the plain node (tracker_node.py) and the managed one.

The managed node is managed_tracker_node.py. The shared part holds the parameters, image callbacks, services, outputs
and diagnostics around ``viltrack_ros.tracking.MultiTracker``.

Interfaces (all names relative, so a namespace or a remap runs one node per camera):
  subscribes  ``image`` (sensor_msgs/Image), or ``image/compressed`` with ``image_transport:=compressed``
  publishes   ``tracked_object`` (TrackedObject, one per target and image), ``tracked_objects`` (TrackedObjectArray,
              one per processed image, also when empty), ``overlay`` (sensor_msgs/Image: boxes drawn, rgb8),
              ``detections`` (vision_msgs/Detection2DArray, where vision_msgs is installed) and ``/diagnostics``
  services    ``init_target`` (InitTarget: start or replace a target), ``stop_target`` (StopTarget: one or all)

Every output carries the header of the image it was computed from. The steps are the lifecycle's: ``_configure``
checks the settings and loads the model, then creates the outputs and services (a client that sees
``init_target`` talks to a ready node); ``_activate`` subscribes to the images; ``_deactivate`` unsubscribes;
``_cleanup`` removes the interfaces and frees the model.
"""
from __future__ import annotations

import collections
import ctypes
import ctypes.util
import difflib
import functools
import gc
import time
import traceback
from dataclasses import dataclass

import numpy as np
import torch
from builtin_interfaces.msg import Duration
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult
from rclpy.clock import Clock, ClockType
from rclpy.parameter import Parameter
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.subscription import MessageInfo
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header

from viltrack_ros.ros.detections import to_detection2d_array, vision_msgs_missing_reason
from viltrack_ros.ros.diagnostics import FrameStatistics, assess_input, diagnostic_array, input_values
from viltrack_ros.ros.frames_elapsed import FramesElapsed
from viltrack_ros.data.value_scaling import ValueScaling
from viltrack_ros.ros.image_conversion import (AUTO_RANGE_PARAMETER, VALUE_RANGE_PARAMETER, ImageConversionError,
                                               compressed_msg_to_rgb, image_msg_to_rgb, rgb_to_image_msg, shortened,
                                               using_cv_bridge, value_scaling_from_parameters)
from viltrack_ros.ros.interfaces import InitTarget, StopTarget, TrackedObject, TrackedObjectArray
from viltrack_ros.ros.stamps import stamp_key, stamp_nanoseconds, stamp_text
from viltrack_ros.settings import MAX_THREADS
from viltrack_ros.tracking.visualize import draw_tracks
from viltrack_ros.tracking import MultiTracker, TrackerConfig, TrackResult
from viltrack_ros.tracking.backends import BACKENDS

NODE_NAME = "viltrack_tracker"
TRACKER_PREFIX = "tracker."   # node parameter tracker.<name> <-> TrackerConfig.<name>
DEVICES = ("auto", "cpu", "cuda")
TRANSPORTS = ("raw", "compressed")
RELIABILITIES = ("best_effort", "reliable")
# Outputs are reliable, so both reliable and best-effort subscribers (rviz, rosbag) can connect.
OUTPUT_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10, reliability=ReliabilityPolicy.RELIABLE)
OVERLAY_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=2, reliability=ReliabilityPolicy.RELIABLE)
# Service requests queue deeper than rclpy's default 10: a burst of calls (a script starting many targets at once,
# or calls arriving while a large frame is tracked) overflowed it, and the calls past the tenth never got an answer.
SERVICE_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1000, reliability=ReliabilityPolicy.RELIABLE)
# The recent frames kept for init_target are bounded by memory as well as by count: 30 frames of 640x480 take 28 MB,
# but 30 frames of 8000x6000 would take 4 GB, and a tiny PNG can decode to a huge image.
RECENT_FRAMES_MAX_BYTES = 512 * 2**20
# Skipped images are logged once per kind of problem; an unbounded number of kinds (a new made-up encoding name in
# every message) would flood the log, so after this many the rest are only counted on /diagnostics.
MAX_LOGGED_SKIP_KINDS = 64
# Seconds without an image before the log says so (once, until images come again): a camera's start-up or a
# bag's pause is shorter; a wrong topic name or QoS is forever.
INPUT_SILENCE_REPORT_S = 5.0
# A box given on an image older than this gets a note in the init_target answer (the camera may have stopped).
STALE_INIT_FRAME_S = 1.0
INT32_MAX = 2**31 - 1   # target ids are int32 in the interfaces
# The topic every diagnostic_updater publishes on, whatever the node's namespace.
DIAGNOSTICS_TOPIC = "/diagnostics"
# Targets at once: the default is the largest count the batched benchmark measures (viltrack bench --targets); a
# client that starts targets in a loop would otherwise grow every frame's time and the memory (about 1.4 MB a
# target) without bound.
DEFAULT_MAX_TARGETS = 64
MAX_TARGETS_LIMIT = 10_000
# /diagnostics' hardware_id is the camera's frame_id, at most this long (REP-105 frame names are far shorter).
HARDWARE_ID_CHARS = 200
SEQUENCE_NUMBER_UNSUPPORTED = 2**64 - 1   # rmw's RMW_MESSAGE_INFO_SEQUENCE_NUMBER_UNSUPPORTED
# PyTorch's own thread count in this process, before any configure set one: what threads 0 means. The count is
# process-wide, so after a configure with threads 2, a cleanup and a configure with threads 0 would otherwise keep 2.
DEFAULT_TORCH_THREADS = min(torch.get_num_threads(), MAX_THREADS)   # a 512-core host must not fail on threads 0


@dataclass(frozen=True)
class _Frame:
    header: Header
    rgb: np.ndarray
    received_at: float   # time.monotonic() when it arrived: how old a box given on it is


def release_free_heap() -> None:
    """
    Give the C heap's free memory back to the system (glibc's ``malloc_trim``; nothing elsewhere).

    After the model is released, glibc keeps its freed arenas mapped. Three configure/cleanup cycles of the managed
    node (352 MB unconfigured at start, 487-516 MB configured): 457, 499 and 515 MB after each cleanup without this,
    400-402 MB with it (the imported libraries stay).
    """
    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):   # not glibc (musl, macOS): nothing to trim
        pass


def _publication(info: MessageInfo) -> tuple[bytes | None, int | None]:
    """Return the image's publisher id and its publication sequence number (None where the RMW gives none)."""
    publisher = info.get("publisher_gid") or {}
    sequence_number = info.get("publication_sequence_number")
    # RMWs without sequence numbers give RMW_MESSAGE_INFO_SEQUENCE_NUMBER_UNSUPPORTED (Cyclone DDS) or 0.
    if sequence_number in (0, SEQUENCE_NUMBER_UNSUPPORTED):
        sequence_number = None
    return publisher.get("data"), sequence_number


def _duration(seconds: float) -> Duration:
    nanoseconds = max(0, int(round(seconds * 1e9)))
    return Duration(sec=nanoseconds // 1_000_000_000, nanosec=nanoseconds % 1_000_000_000)


def _describe(description: str, read_only: bool = False, low=None, high=None,
              choices: tuple[str, ...] = (), constraints: str = "") -> ParameterDescriptor:
    descriptor = ParameterDescriptor(description=description, read_only=read_only)
    if choices:
        descriptor.additional_constraints = "one of: " + ", ".join(choices)
    elif constraints:
        descriptor.additional_constraints = constraints
    if isinstance(low, float) or isinstance(high, float):
        descriptor.floating_point_range = [FloatingPointRange(from_value=float(low), to_value=float(high), step=0.0)]
    elif low is not None and high is not None:
        descriptor.integer_range = [IntegerRange(from_value=int(low), to_value=int(high), step=1)]
    return descriptor


def _never_raises(what: str):
    """
    Decorate a callback so that an unexpected error is logged (with its traceback) instead of leaving ``spin``.

    Leaving ``spin`` would end the process: one bad request or image must not take a camera's tracker down. A service
    callback answers ``success: false`` with the error.
    """
    def decorate(callback):
        @functools.wraps(callback)
        def guarded(self, *args):
            try:
                return callback(self, *args)
            except Exception as error:   # noqa: BLE001 - the point is that nothing escapes
                self._statistics.callback_failed()
                self.get_logger().error(f"{what} failed: {error!r}; the node goes on\n{traceback.format_exc()}",
                                        throttle_duration_sec=5.0)
                response = args[1] if len(args) == 2 and hasattr(args[1], "success") else None
                if response is not None:
                    response.success, response.message = False, f"internal error ({what}): {error!r}"
                return response
        return guarded
    return decorate


def tracked_object_msg(header: Header, target_id: int, result: TrackResult, latency_s: float) -> TrackedObject:
    """One tracker result as a message: the top-left box of the tracker becomes the centre form of the message."""
    x, y, w, h = result.box
    return TrackedObject(header=header, target_id=int(target_id), center_x=float(x + w / 2),
                         center_y=float(y + h / 2), width=float(w), height=float(h),
                         confidence=float(result.confidence), status=int(result.status),
                         processing_latency=_duration(latency_s))


class TrackingAdapter:
    """
    Mixed into an rclpy ``Node`` or ``LifecycleNode``: images in, tracked boxes out (see the module docstring).

    The node class decides when each step runs; ``_create_output_publisher`` / ``_destroy_output_publisher`` are
    the hooks a managed node overrides so that deactivation also stops its publishers. Attribute names must not
    shadow rclpy's own (``Node._services`` holds the parameter services, for one).
    """

    _tracker: MultiTracker | None = None
    _image_sub = None
    # What configure creates, absent until then: _cleanup releases whatever exists, also after a failed configure.
    _diagnostics_timer = _diagnostics_pub = None
    _object_pub = _array_pub = _overlay_pub = _detections_pub = None
    _target_services: tuple | list = ()
    # The settings read once, at configure. The plain node configures in its constructor, so for it they are
    # read-only; a managed node takes them while unconfigured (a failed configure can be mended, a cleanup followed
    # by configure can change them, as Nav2's nodes do) and refuses them once configured.
    SETTABLE_WHILE_UNCONFIGURED = False
    CHOICES = {"device": DEVICES, "backend": BACKENDS, "image_transport": TRANSPORTS, "qos.reliability": RELIABILITIES}

    # --- parameters ------------------------------------------------------------------------------------
    def _declare_parameters(self) -> None:
        self._configure_time_parameters: set[str] = set()
        when = (" Read at configure: settable while the node is unconfigured, refused once configured."
                if self.SETTABLE_WHILE_UNCONFIGURED else "")

        def configure_time(name: str, default, description: str, **limits) -> None:
            self._configure_time_parameters.add(name)
            self.declare_parameter(name, default, _describe(
                description + when, read_only=not self.SETTABLE_WHILE_UNCONFIGURED,
                choices=self.CHOICES.get(name, ()), **limits))

        configure_time("weights", "", "Checkpoint file (.pt) to load; empty: the weights shipped with the package.")
        configure_time("preset", "", "Model preset the checkpoint must hold (e.g. vil_cpu); empty accepts the "
                       "checkpoint's own. The network's shape always comes from the checkpoint: this only guards "
                       "against a wrong file.")
        configure_time("device", "auto", "Where the network runs: auto (cuda when available), cpu or cuda.")
        configure_time("backend", "auto", "Who runs the network: auto (onnxruntime on CPU when installed, else "
                       "torch), torch, onnxruntime (CPU only; same outputs within float rounding, faster), or for a "
                       "GPU torch-bf16 (bfloat16), torch-compile (CUDA graphs; each new target count compiles on its "
                       "first frame) or torch-compile-bf16.")
        configure_time("threads", 0, "CPU threads of the network (PyTorch or onnxruntime); 0: PyTorch's default "
                       f"in this process ({DEFAULT_TORCH_THREADS}).", low=0, high=MAX_THREADS)
        configure_time("image_transport", "raw", "raw: subscribe to image (sensor_msgs/Image); compressed: "
                       "image/compressed (JPEG/PNG).")
        configure_time("qos.reliability", "best_effort", "Reliability of the image subscription. best_effort "
                       "(sensor data) accepts every camera publisher.")
        configure_time("qos.depth", 1, "Images queued for the tracker. 1: a slow model drops old frames instead of "
                       "falling behind.", low=1, high=100)
        configure_time("camera_frame_rate", 0.0, "The camera's frames per second, to count the frames missed "
                       "between two tracked images from their stamps (the tracker searches ahead by that many "
                       "frames' motion); set it where a throttle or relay between camera and node drops frames. 0: "
                       "counted from DDS's sequence numbers, or where the RMW gives none (Cyclone DDS) from a frame "
                       "period learnt from the stamps.", low=0.0, high=10000.0)
        self.declare_parameter("publish_overlay", True, _describe(
            "Publish the annotated image on overlay (drawn only while someone subscribes)."))
        configure_time("init_frame_buffer_size", 30, "Recent images kept so that init_target can name the stamp of "
                       "the image a box was drawn on (and at most "
                       f"{RECENT_FRAMES_MAX_BYTES // 2**20} MB of them: large images keep fewer).", low=1, high=1000)
        configure_time("diagnostics.period", 1.0, "Seconds between two /diagnostics reports; rates and counts are "
                       "over this period.", low=0.1, high=60.0)
        self.declare_parameter("max_targets", DEFAULT_MAX_TARGETS, _describe(
            "Most targets tracked at once; init_target for one more is refused. Each target adds its crop to every "
            "frame's batched network pass (64 take about 0.5 s a frame on 2 CPU cores).", low=1,
            high=MAX_TARGETS_LIMIT))
        self.declare_parameter(VALUE_RANGE_PARAMETER, [0.0, 0.0], _describe(
            "For 16-bit, signed and floating-point images (thermal, depth), raw or compressed: [low, high], the values "
            "drawn black and white, linear between (e.g. [7000.0, 9000.0] for a thermal camera's raw counts, "
            "[0.3, 5.0] for depth in metres); [0.0, 0.0]: the encoding's own range (16-bit: 0-65535; signed and "
            "floating-point images are then skipped). 8-bit images are never scaled.",
            constraints="two decimal numbers [low, high] with low < high, or [0.0, 0.0]"))
        self.declare_parameter(AUTO_RANGE_PARAMETER, False, _describe(
            "Take the range of 16-bit, signed and floating-point images from the images themselves (each one's "
            "1st-99th percentile, followed smoothly from image to image, as a thermal camera's automatic gain); "
            f"overrides {VALUE_RANGE_PARAMETER}."))
        self.declare_parameter("diagnostics.min_rate", 0.0, _describe(
            "Processing rate (images per second) under which /diagnostics warns; 0: no such warning.",
            low=0.0, high=1000.0))
        # Tracker settings: names, defaults, ranges and meaning all come from TrackerConfig, their one home.
        for name, spec in TrackerConfig.describe().items():
            self.declare_parameter(TRACKER_PREFIX + name, spec["default"],
                                   _describe(spec["description"], low=spec.get("low"), high=spec.get("high")))
        self.add_on_set_parameters_callback(self._validate_parameters)
        self.add_post_set_parameters_callback(self._apply_parameters)
        self._report_unknown_parameters()

    def _report_unknown_parameters(self) -> None:
        """
        Warn about the values given (params file, ``-p``) for parameters this node does not have.

        rclpy ignores them without a word, so a misspelt name in a params file left its default in force silently.
        """
        declared = set(self._parameters)
        # rclpy's own overrides, and those of ROS features this node does not take (QoS overrides by parameter).
        unknown = sorted(name for name in self._parameter_overrides
                         if name not in declared and not name.startswith("qos_overrides."))
        for name in unknown:
            close = difflib.get_close_matches(name, declared, n=1, cutoff=0.75)
            hint = f"; did you mean {close[0]}?" if close else " (`ros2 param list` lists the node's parameters)"
            self.get_logger().warning(f"ignoring the value given for {name}: this node has no such parameter{hint}")

    def _choice(self, name: str) -> str:
        value = self.get_parameter(name).value
        problem = self._choice_problem(name, value)
        if problem:
            raise ValueError(problem)
        return value

    def _choice_problem(self, name: str, value) -> str | None:
        """Say why ``value`` is not one of parameter ``name``'s choices, or None (also for a free parameter)."""
        choices = self.CHOICES.get(name)
        if choices and value not in choices:
            return f"parameter {name}={value!r} must be one of {', '.join(choices)}"
        return None

    def _tracker_config_from_parameters(self, changes: dict | None = None) -> TrackerConfig:
        settings = {name: self.get_parameter(TRACKER_PREFIX + name).value for name in TrackerConfig.describe()}
        settings.update(changes or {})
        return TrackerConfig.from_dict(settings)

    def _check_preset(self, tracker: MultiTracker) -> None:
        expected = self.get_parameter("preset").value
        actual = tracker.model_info["model_config"]["name"]
        if expected and expected != actual:
            raise ValueError(f"{tracker.model_info['path']} holds preset '{actual}', but parameter preset is "
                             f"'{expected}'")

    def _value_scaling_from_parameters(self, changes: dict | None = None) -> ValueScaling:
        settings = {name: self.get_parameter(name).value for name in (VALUE_RANGE_PARAMETER, AUTO_RANGE_PARAMETER)}
        settings.update(changes or {})
        return value_scaling_from_parameters(settings[VALUE_RANGE_PARAMETER], settings[AUTO_RANGE_PARAMETER])

    def _validate_parameters(self, parameters: list[Parameter]) -> SetParametersResult:
        scaling_changes = {p.name: p.value for p in parameters
                           if p.name in (VALUE_RANGE_PARAMETER, AUTO_RANGE_PARAMETER)}
        if scaling_changes:
            try:
                self._value_scaling_from_parameters(scaling_changes)
            except ValueError as error:
                return SetParametersResult(successful=False, reason=str(error))
        for parameter in parameters:
            if parameter.name not in self._configure_time_parameters:
                continue
            if self._tracker is not None:
                return SetParametersResult(successful=False, reason=(
                    f"{parameter.name} is read at configure: set it while the node is unconfigured (cleanup first)"))
            problem = self._choice_problem(parameter.name, parameter.value)
            if problem:
                return SetParametersResult(successful=False, reason=problem)
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
        if self._tracker is not None and any(name.startswith(TRACKER_PREFIX) for name in names):
            self._tracker.config = self._tracker_config_from_parameters()
            self.get_logger().info(f"tracker settings now {self._tracker.config.to_dict()}")
        if "publish_overlay" in names:
            self._publish_overlay = self.get_parameter("publish_overlay").value
        if names & {VALUE_RANGE_PARAMETER, AUTO_RANGE_PARAMETER}:
            # A new object: an automatic range starts again from the next image.
            self._value_scaling = self._value_scaling_from_parameters()
            self.get_logger().info(f"image value range now {self._value_scaling.describe()}")

    # --- lifecycle steps -------------------------------------------------------------------------------
    def _configure(self) -> None:
        """
        Check every setting, load the model, then create the outputs and services.

        Raises ValueError or CheckpointError (a ValueError) on a wrong setting or file, before anything is created;
        a later failure (anything) leaves interfaces for ``_cleanup`` to release (the managed node calls it).
        """
        # Every setting is checked before the (slow) model load, so a typo fails at once.
        device = self._choice("device")
        backend = self._choice("backend")
        self._transport = self._choice("image_transport")
        self._reliability = self._choice("qos.reliability")
        tracker_config = self._tracker_config_from_parameters()   # ValueError on an invalid combination
        self._value_scaling = self._value_scaling_from_parameters()   # a params file's value is not validated on set
        self._narrow_range_reported = False
        self._publish_overlay = self.get_parameter("publish_overlay").value

        weights = self.get_parameter("weights").value or None   # None: the weights shipped with the package
        tracker = MultiTracker.from_checkpoint(weights, device=device, config=tracker_config, backend=backend,
                                               threads=self.get_parameter("threads").value or DEFAULT_TORCH_THREADS)
        self._check_preset(tracker)
        if backend.startswith("torch-compile"):
            self.get_logger().info(f"backend {backend}: compiling the tracking step (about a minute)")
        # One-off costs at start-up, not on the first tracked frame.
        tracker.warm_up()
        # Kept only once it loaded, matched and ran: a node whose configure failed holds no tracker, so its
        # configure-time parameters can be mended.
        self._tracker = tracker

        self._recent_frames: collections.deque[_Frame] = collections.deque(
            maxlen=self.get_parameter("init_frame_buffer_size").value)
        self._image_size: tuple[int, int] | None = None
        self._latest_objects: dict[int, TrackedObject] = {}
        # Targets the node dropped itself (id: why), reported on /diagnostics until initialised or stopped again.
        self._dropped_targets: dict[int, str] = {}
        self._statistics = FrameStatistics(time.monotonic())
        self._frames_elapsed = FramesElapsed(self.get_parameter("camera_frame_rate").value)
        self._reported_skips: set[str] = set()
        self._last_stamp: tuple[int, int] | None = None
        self._invalid_outputs_seen = 0
        self._image_topic = self.resolve_topic_name("image/compressed" if self._transport == "compressed"
                                                    else "image")
        self._hardware_id = ""

        self._object_pub = self._create_output_publisher(TrackedObject, "tracked_object", OUTPUT_QOS)
        self._array_pub = self._create_output_publisher(TrackedObjectArray, "tracked_objects", OUTPUT_QOS)
        self._overlay_pub = self._create_output_publisher(Image, "overlay", OVERLAY_QOS)
        vision_missing = vision_msgs_missing_reason()
        self._detections_pub = None
        if vision_missing is None:
            from vision_msgs.msg import Detection2DArray
            self._detections_pub = self._create_output_publisher(Detection2DArray, "detections", OUTPUT_QOS)
        self._diagnostics_pub = self.create_publisher(DiagnosticArray, DIAGNOSTICS_TOPIC, OUTPUT_QOS)
        # On the steady clock: with use_sim_time and no /clock (a paused bag, a simulator not started) a timer on
        # the node's clock never fires, and the watchdog would fall silent exactly when the input has stopped.
        self._diagnostics_timer = self.create_timer(self.get_parameter("diagnostics.period").value,
                                                    self._publish_diagnostics,
                                                    clock=Clock(clock_type=ClockType.STEADY_TIME))
        self._target_services = [
            self.create_service(InitTarget, "init_target", self._on_init_target, qos_profile=SERVICE_QOS),
            self.create_service(StopTarget, "stop_target", self._on_stop_target, qos_profile=SERVICE_QOS)]

        info = self._tracker.model_info
        detections = f"on {self._detections_pub.topic_name}" if self._detections_pub else f"off: {vision_missing}"
        self.get_logger().info(
            f"ready: weights {info.get('path')} (preset {info['model_config']['name']}, "
            f"{'trained' if info.get('trained') else 'UNTRAINED: boxes are meaningless'}), "
            f"device {self._tracker.device}, backend {self._tracker.backend.name}, threads {torch.get_num_threads()}, "
            f"image conversion {'cv_bridge' if using_cv_bridge() else 'built-in'}, "
            f"image values {self._value_scaling.describe()}, "
            f"detections {detections}")
        if not info.get("trained"):
            self.get_logger().warning("the loaded checkpoint is marked untrained (freshly initialised weights)")

    def _activate(self) -> None:
        # The images published while the node was inactive were never meant for it: not "dropped", nor frames the
        # targets moved through since the last one tracked.
        self._statistics.forget_sequence_numbers()
        self._frames_elapsed.forget()
        self._listening_since = time.monotonic()   # the input silence the log reports starts with listening
        self._silence_reported = False
        image_qos = QoSProfile(
            history=HistoryPolicy.KEEP_LAST, depth=self.get_parameter("qos.depth").value,
            reliability=(ReliabilityPolicy.BEST_EFFORT if self._reliability == "best_effort"
                         else ReliabilityPolicy.RELIABLE))
        if self._transport == "compressed":
            self._image_sub = self.create_subscription(CompressedImage, "image/compressed",
                                                       self._on_compressed_image, image_qos)
        else:
            self._image_sub = self.create_subscription(Image, "image", self._on_image, image_qos)
        self.get_logger().info(f"listening on {self._image_sub.topic_name}")

    def _deactivate(self) -> None:
        if self._image_sub is not None:
            self.destroy_subscription(self._image_sub)
            self._image_sub = None
            self.get_logger().info(f"stopped listening on {self._image_topic}")

    def _cleanup(self) -> None:
        """Release the model and every interface configure created; also after a configure that failed half-way."""
        self._deactivate()
        for service in self._target_services:
            self.destroy_service(service)
        self._target_services = []
        if self._diagnostics_timer is not None:
            self.destroy_timer(self._diagnostics_timer)
            self._diagnostics_timer = None
        if self._diagnostics_pub is not None:
            self.destroy_publisher(self._diagnostics_pub)
            self._diagnostics_pub = None
        for name in ("_object_pub", "_array_pub", "_overlay_pub", "_detections_pub"):
            if getattr(self, name) is not None:
                self._destroy_output_publisher(getattr(self, name))
                setattr(self, name, None)
        for name in ("_recent_frames", "_latest_objects", "_dropped_targets"):
            if hasattr(self, name):
                getattr(self, name).clear()
        self._tracker = None
        gc.collect()   # the network's tensors go now, not at some later collection
        release_free_heap()
        self.get_logger().info("model and interfaces released")

    def _report_dropped_targets(self, dropped: list[int], given_on: tuple[int, int], size: tuple[int, int]) -> None:
        self._latest_objects.clear()
        change = f"image size changed from {given_on[1]}x{given_on[0]} to {size[1]}x{size[0]}"
        self._dropped_targets.update({target_id: f"dropped: {change}; call init_target again" for target_id in dropped})
        self.get_logger().warning(f"{change}; dropped targets {dropped}: call init_target again")

    def _create_output_publisher(self, msg_type, topic: str, qos: QoSProfile):
        return self.create_publisher(msg_type, topic, qos)

    def _destroy_output_publisher(self, publisher) -> None:
        self.destroy_publisher(publisher)

    # --- images ----------------------------------------------------------------------------------------
    @_never_raises("image callback")
    def _on_image(self, msg: Image, info: MessageInfo) -> None:
        publication = _publication(info)
        received = self._image_received(publication)
        rgb = self._convert(functools.partial(image_msg_to_rgb, scaling=self._value_scaling), msg,
                            f"{msg.width}x{msg.height} '{shortened(msg.encoding)}'")
        if rgb is not None:
            self._report_narrow_range()
            self._track(msg.header, rgb, received, publication)

    def _report_narrow_range(self) -> None:
        """
        Say once when 16-bit images, read over the whole 16-bit range, use only a small part of it.

        A thermal camera's counts or a 12-bit camera's values then reach the tracker as a few grey levels, and the
        tracker fails without any other sign; the line names the setting that helps.
        """
        if self._narrow_range_reported:
            return
        hint = self._value_scaling.narrow_range_hint(
            f"on {self._image_topic}",
            f"Set {AUTO_RANGE_PARAMETER}:=true, or {VALUE_RANGE_PARAMETER}:=[{{low:.1f}}, {{high:.1f}}] -- said once")
        if hint is not None:
            self._narrow_range_reported = True
            self.get_logger().warning(hint)

    @_never_raises("compressed image callback")
    def _on_compressed_image(self, msg: CompressedImage, info: MessageInfo) -> None:
        publication = _publication(info)
        received = self._image_received(publication)
        rgb = self._convert(functools.partial(compressed_msg_to_rgb, scaling=self._value_scaling), msg,
                            f"format '{shortened(msg.format)}'")
        if rgb is not None:
            self._report_narrow_range()
            self._track(msg.header, rgb, received, publication)

    def _convert(self, convert, msg, description: str) -> np.ndarray | None:
        """
        Return the image as RGB, or None when it cannot be converted.

        Then the image is skipped (counted in /diagnostics) and the problem is logged once per kind of problem (an
        unsupported encoding, a malformed message, ...) for this topic, not once per frame: a camera that sends 30 such
        images a second for hours says it once.
        """
        try:
            return convert(msg)
        except ImageConversionError as error:
            kind, reason = error.kind, str(error)
        except Exception as error:   # noqa: BLE001 - a converter bug must not end the node either
            kind, reason = f"conversion error {type(error).__name__}", f"{error!r}\n{traceback.format_exc()}"
        self._statistics.image_skipped(reason.splitlines()[0])
        if kind not in self._reported_skips and len(self._reported_skips) < MAX_LOGGED_SKIP_KINDS:
            self._reported_skips.add(kind)
            more = (f"; after {MAX_LOGGED_SKIP_KINDS} kinds of problem further kinds are not logged"
                    if len(self._reported_skips) == MAX_LOGGED_SKIP_KINDS else "")
            self.get_logger().warning(
                f"skipping images on {self._image_topic} ({description}): {reason} -- said once for this topic; "
                f"every skipped image is counted on /diagnostics ('images skipped'){more}")
        return None

    def _image_received(self, publication: tuple[bytes | None, int | None]) -> float:
        """Count the image (and the ones dropped before it, from DDS's sequence numbers); return the time."""
        received = time.perf_counter()
        if self._silence_reported:
            self._silence_reported = False
            self.get_logger().info(f"images arriving on {self._image_topic} again")
        self._statistics.image_received(time.monotonic(), *publication)
        return received

    def _track(self, header: Header, rgb: np.ndarray, received: float,
               publication: tuple[bytes | None, int | None]) -> None:
        stamp = stamp_key(header.stamp)
        if self._last_stamp is not None and stamp < self._last_stamp:
            self._statistics.stamp_went_back()
            # A looping bag, a restarted camera or a clock reset: images are processed in the order they arrive,
            # each output keeps its own image's header.
            self.get_logger().info(
                f"image stamp went back from {self._last_stamp[0]}.{self._last_stamp[1]:09d} to "
                f"{stamp[0]}.{stamp[1]:09d} (bag loop, camera restart or clock reset); tracking goes on",
                throttle_duration_sec=10.0)
        self._last_stamp = stamp
        size = rgb.shape[:2]
        if self._image_size is not None and size != self._image_size:
            self._recent_frames.clear()   # a box drawn on an image of the old size would mean nothing on this one
        self._image_size = size
        # A sender's string, copied into every status of each /diagnostics report: cut (a 1 MB frame_id made 2 MB
        # reports). The tracked objects keep the header as it came.
        self._hardware_id = shortened(header.frame_id, HARDWARE_ID_CHARS)
        self._recent_frames.append(_Frame(header, rgb, time.monotonic()))
        while (len(self._recent_frames) > 1
               and sum(frame.rgb.nbytes for frame in self._recent_frames) > RECENT_FRAMES_MAX_BYTES):
            self._recent_frames.popleft()
        given_on = self._tracker.image_size
        frames_elapsed = self._frames_elapsed.since_last(*publication, stamp_nanoseconds(stamp))
        self._statistics.image_tracked_after(frames_elapsed)
        try:
            results = self._tracker.update(rgb, frames_elapsed)
        except Exception:   # one bad frame must not take the camera's tracker down
            results = None
            self._statistics.tracker_failed()
            self.get_logger().error(f"tracker failed on this image, skipped:\n{traceback.format_exc()}",
                                    throttle_duration_sec=5.0)
        if self._tracker.last_dropped_ids:   # the tracker drops targets given on images of another size
            self._report_dropped_targets(self._tracker.last_dropped_ids, given_on, size)
        if results is None:
            return
        invalid = self._tracker.invalid_outputs - self._invalid_outputs_seen
        if invalid:
            self._invalid_outputs_seen = self._tracker.invalid_outputs
            self._statistics.invalid_outputs(invalid)
            self.get_logger().error(
                f"the network gave NaN/inf for {invalid} target(s) on the image stamped {stamp[0]}.{stamp[1]:09d}: "
                f"reported LOST (targets {self._tracker.last_invalid_ids}), last boxes kept; a broken checkpoint or "
                "a numerical fault",
                throttle_duration_sec=30.0)
        latency = time.perf_counter() - received
        objects = [tracked_object_msg(header, target_id, result, latency) for target_id, result in results.items()]
        for tracked in objects:
            self._object_pub.publish(tracked)
        self._array_pub.publish(TrackedObjectArray(header=header, objects=objects))
        if self._detections_pub is not None:
            self._detections_pub.publish(to_detection2d_array(header, objects))
        if self._publish_overlay and self._overlay_pub.get_subscription_count() > 0:
            self._overlay_pub.publish(rgb_to_image_msg(draw_tracks(rgb, results.items()), header))
        self._latest_objects = {tracked.target_id: tracked for tracked in objects}
        self._statistics.image_processed(latency)

    # --- diagnostics -----------------------------------------------------------------------------------
    @_never_raises("diagnostics")
    def _publish_diagnostics(self) -> None:
        now = time.monotonic()
        summary = self._statistics.take_summary(now)
        self._report_input_silence(summary.seconds_since_image, now)
        level, message = assess_input(summary, self._image_topic, self.get_parameter("diagnostics.min_rate").value,
                                      subscribed=self._image_sub is not None)
        self._diagnostics_pub.publish(diagnostic_array(
            self.get_clock().now().to_msg(), self.get_fully_qualified_name(), self._hardware_id, level, message,
            input_values(summary, self._image_topic), list(self._latest_objects.values()), self._dropped_targets,
            seconds_without_image=summary.seconds_since_image if summary.received == 0 else None))

    def _report_input_silence(self, seconds_since_image: float | None, now: float) -> None:
        """
        Say once in the log when no image has come for a while (again after images resumed).

        /diagnostics says it every period, but a user watching the terminal of a node remapped to a topic no camera
        publishes on, or with a QoS no publisher offers, would otherwise see nothing after "listening on".
        """
        if self._image_sub is None or self._silence_reported:
            return
        listening_for = now - self._listening_since
        heard = seconds_since_image is not None and seconds_since_image < listening_for   # since this activation
        silent_for = seconds_since_image if heard else listening_for
        if silent_for < INPUT_SILENCE_REPORT_S:
            return
        self._silence_reported = True
        topic = self._image_topic
        if heard:
            self.get_logger().warning(f"no image on {topic} for {silent_for:.0f} s: has the camera stopped?")
        else:
            self.get_logger().warning(
                f"no image on {topic} in {silent_for:.0f} s of listening: is a camera publishing there? "
                f"`ros2 topic info -v {topic}` lists its publishers and their QoS (this node asks for "
                f"{self._reliability.replace('_', ' ')}, {self._transport} images)")

    # --- services --------------------------------------------------------------------------------------
    @_never_raises("init_target")
    def _on_init_target(self, request: InitTarget.Request, response: InitTarget.Response) -> InitTarget.Response:
        response.target_id = request.target_id
        if self._image_sub is None:
            response.success = False
            response.message = ("the node is inactive (not subscribed to its images): activate it, then give the "
                                "target on a current image")
            return response
        frame, problem = self._frame_for(request.stamp)
        if frame is None:
            response.success, response.message = False, problem
            return response
        if request.target_id == InitTarget.Request.NEW_TARGET_ID:
            response.target_id = self._new_target_id()
        elif request.target_id < 0:
            response.success = False
            response.message = f"target_id must be >= 0, or {InitTarget.Request.NEW_TARGET_ID} for a new id"
            return response
        limit = self.get_parameter("max_targets").value
        if response.target_id not in self._tracker.target_ids and len(self._tracker.target_ids) >= limit:
            response.success = False
            response.message = (f"already tracking {limit} targets (max_targets): stop one (stop_target), or "
                                "raise max_targets; each target adds its crop to every frame's network pass")
            return response
        box = (request.x, request.y, request.width, request.height)
        given_on = self._tracker.image_size
        try:
            self._tracker.init(response.target_id, frame.rgb, box)
        except ValueError as error:
            response.success, response.message = False, f"invalid box: {error}"
            return response
        if self._tracker.last_dropped_ids:   # only if the others were given on images of another size
            self._report_dropped_targets(self._tracker.last_dropped_ids, given_on, frame.rgb.shape[:2])
        self._dropped_targets.pop(response.target_id, None)
        height, width = frame.rgb.shape[:2]
        response.success = True
        response.message = (f"tracking target {response.target_id} from box ({request.x:g}, {request.y:g}, "
                            f"{request.width:g}, {request.height:g}) on the {width}x{height} image stamped "
                            f"{stamp_text(frame.header.stamp)}")
        age = time.monotonic() - frame.received_at
        if age > STALE_INIT_FRAME_S:
            # Allowed (a box drawn on an older image is what a stamp asks for), but a robot should know.
            response.message += f"; that image arrived {age:.1f} s ago (no newer image with that stamp)"
        width_factor, height_factor = self._tracker.size_correction(response.target_id)
        if (width_factor, height_factor) != (1.0, 1.0):
            # Tells a user why the reported box keeps the style of the box they drew (README, init_target).
            response.message += (f"; the network's sizes scaled by {width_factor:.2f} x {height_factor:.2f} "
                                 "to match that box (tracker.size_calibration)")
        self.get_logger().info(response.message)
        return response

    def _new_target_id(self) -> int:
        """One above the largest id in use; the smallest unused id once that would leave int32."""
        ids = set(self._tracker.target_ids)
        highest = max(ids, default=-1)
        if highest < INT32_MAX:
            return highest + 1
        return next(candidate for candidate in range(len(ids) + 1) if candidate not in ids)

    def _frame_for(self, stamp) -> tuple[_Frame | None, str]:
        if not self._recent_frames:
            return None, f"no image received yet on {self._image_topic}"
        if stamp_key(stamp) == (0, 0):
            return self._recent_frames[-1], ""
        for frame in reversed(self._recent_frames):
            if stamp_key(frame.header.stamp) == stamp_key(stamp):
                return frame, ""
        # The earliest and latest stamps, not the first and last kept: after a bag loop they differ.
        stamps = [stamp_key(frame.header.stamp) for frame in self._recent_frames]
        return None, (f"no recent image has stamp {stamp_text(stamp)}; kept: {stamp_text(min(stamps))} .. "
                      f"{stamp_text(max(stamps))} (zero stamp = newest image)")

    @_never_raises("stop_target")
    def _on_stop_target(self, request: StopTarget.Request, response: StopTarget.Response) -> StopTarget.Response:
        if request.target_id == StopTarget.Request.ALL_TARGETS:
            stopped = self._tracker.target_ids
            self._tracker.clear()
            self._latest_objects.clear()
            self._dropped_targets.clear()
            response.success, response.message = True, f"stopped targets {stopped}"
        elif self._tracker.remove(request.target_id):
            self._latest_objects.pop(request.target_id, None)
            self._dropped_targets.pop(request.target_id, None)
            response.success, response.message = True, f"stopped target {request.target_id}"
        elif self._dropped_targets.pop(request.target_id, None) is not None:
            response.success = True
            response.message = f"target {request.target_id} was already dropped (image size change); forgotten"
        else:
            response.success = False
            response.message = f"no target {request.target_id}; tracking {self._tracker.target_ids}"
        self.get_logger().info(response.message)
        return response
