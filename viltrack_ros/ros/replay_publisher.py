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
A camera for demos and tests without one, publishing sensor_msgs/Image.

It streams a video file, a folder of frames or the image topic of a rosbag2 bag (.mcap or .db3) as sensor_msgs/Image.

  python -m viltrack_ros.ros.replay_publisher --ros-args -p source:=/path/to/video.avi -p fps:=10.0
  ros2 run viltrack_ros replay_publisher --ros-args -p source:=/path/to/frames/ -p loop:=true
  ros2 run viltrack_ros replay_publisher --ros-args -p source:=my_bag -r image:=/camera/image_raw

Video frames are stamped with the time they are published (so latencies measured from the stamp are real) and carry
``frame_id``. A bag's images keep their recorded header (stamp and frame_id), as ``ros2 bag play`` does, unless
``restamp`` is true. A video may also be gzip-compressed (``.avi.gz``, as some Debian packages ship their samples).
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import rclpy
from rcl_interfaces.msg import FloatingPointRange, ParameterDescriptor
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

from viltrack_ros.data.frame_source import FrameSource
from viltrack_ros.ros.bag_io import BagImageSource, is_bag
from viltrack_ros.ros.image_conversion import numpy_to_image_msg
from viltrack_ros.ros.node_main import run_node, stop_requested

ENCODINGS = ("bgr8", "rgb8", "mono8")
# A folder's 16-bit frames keep their 16 bits, in the 16-bit form of the encoding asked for; with the default, a grey
# file goes out as mono16, as a 16-bit mono camera (a thermal or 12-bit one) sends it.
SIXTEEN_BIT_ENCODINGS = {"bgr8": "bgr16", "rgb8": "rgb16", "mono8": "mono16"}


def encode_frame(bgr: np.ndarray, encoding: str) -> np.ndarray:
    """Return a BGR (or, 16-bit, grey) frame's pixels in ``encoding`` (one of ``ENCODINGS``, or their 16-bit forms)."""
    if bgr.ndim == 2:   # a 16-bit grey file
        if encoding == "mono16":
            return bgr
        bgr = cv2.cvtColor(bgr, cv2.COLOR_GRAY2BGR)
    if encoding in ("bgr8", "bgr16"):
        return bgr
    if encoding in ("rgb8", "rgb16"):
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)   # not numpy's strided bgr[:, :, ::-1]: 15x faster
    if encoding in ("mono8", "mono16"):
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    raise ValueError(f"encoding must be one of {', '.join(ENCODINGS)}, got {encoding!r}")


def frame_encoding(frame: np.ndarray, encoding: str) -> str:
    """Return the encoding a frame goes out in: ``encoding``, or for a 16-bit frame its 16-bit form (see above)."""
    if frame.dtype != np.uint16:
        return encoding
    if encoding == "bgr8" and frame.ndim == 2:
        return "mono16"
    return SIXTEEN_BIT_ENCODINGS[encoding]


class ReplayPublisher(Node):
    """
    Publishes the frames of ``source`` on ``image``: on a timer at ``fps``, or one by one with publish_next().

    ``next_frame()`` gives the next image message (a bag's as recorded; a video's without a stamp), and
    ``publish_frame(msg)`` stamps it as the source asks and publishes it.
    """

    def __init__(self, use_timer: bool = True, **node_options):
        super().__init__("replay_publisher", **node_options)
        self.declare_parameter("source", "", ParameterDescriptor(
            description="Video file (.avi, .mp4, optionally .gz), folder of images, or rosbag2 bag (folder with "
                        "metadata.yaml, or a .mcap/.db3 file).", read_only=True))
        self.declare_parameter("bag_topic", "", ParameterDescriptor(
            description="Image topic of the bag to replay; empty: the bag's only sensor_msgs/Image topic.",
            read_only=True))
        self.declare_parameter("restamp", False, ParameterDescriptor(
            description="Bags only: stamp each image with the time it is published instead of its recorded stamp.",
            read_only=True))
        self.declare_parameter("fps", 0.0, ParameterDescriptor(
            description="Frames per second; 0: the source's own rate (10 for a folder).", read_only=True,
            floating_point_range=[FloatingPointRange(from_value=0.0, to_value=1000.0, step=0.0)]))
        self.declare_parameter("loop", False, ParameterDescriptor(
            description="Start again at the first frame after the last.", read_only=True))
        self.declare_parameter("max_frames", 0, ParameterDescriptor(
            description="Stop (or loop) after this many frames; 0: all.", read_only=True))
        self.declare_parameter("frame_id", "camera_optical_frame", ParameterDescriptor(
            description="frame_id of the published images.", read_only=True))
        self.declare_parameter("encoding", "bgr8", ParameterDescriptor(
            description="Published encoding of video frames: " + ", ".join(ENCODINGS) + " (a bag's images keep "
                        "theirs; a folder's 16-bit images keep their 16 bits: rgb16, mono16, and for bgr8 bgr16, "
                        "or mono16 for a grey file, as a 16-bit camera sends them).", read_only=True))
        source = self.get_parameter("source").value
        if not source:
            raise ValueError("parameter source is empty: give a video file, a folder of images or a bag")
        if not Path(source).exists():
            raise FileNotFoundError(f"no video, folder of images or rosbag2 bag at {source}")
        self.encoding = self.get_parameter("encoding").value
        encode_frame(np.zeros((1, 1, 3), np.uint8), self.encoding)   # ValueError now rather than per frame
        self.frame_id = self.get_parameter("frame_id").value
        self.loop = self.get_parameter("loop").value
        max_frames = self.get_parameter("max_frames").value
        self.frames_skipped = 0     # unreadable images of a frame folder, skipped with a warning each
        self.from_bag = is_bag(source)
        self.restamp = self.get_parameter("restamp").value or not self.from_bag
        self.source = (BagImageSource(source, self.get_parameter("bag_topic").value, max_frames) if self.from_bag
                       else FrameSource(source, max_frames, on_unreadable=self._skip_unreadable, keep_depth=True))
        self.fps = self.get_parameter("fps").value or self.source.fps or 10.0
        self.frames_published = 0
        self._frames = iter(self.source)
        # Reliable: accepted by best-effort and reliable subscribers alike.
        self.publisher = self.create_publisher(
            Image, "image", QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1,
                                       reliability=ReliabilityPolicy.RELIABLE))
        self.finished = False
        if use_timer:
            self.create_timer(1.0 / self.fps, self._on_timer)
        what = f"{source} ({self.source.topic})" if self.from_bag else source
        # Without the timer its owner publishes (the demo's lock-step): the source's rate is then not the pace.
        pace = f"at {self.fps:g} fps" if use_timer else "one image at a time, as its owner asks"
        self.get_logger().info(f"streaming {what} {pace} on {self.publisher.topic_name}")

    def _skip_unreadable(self, path, message: str) -> None:
        # One bad file in a folder of frames must not end the stream: said, skipped.
        self.frames_skipped += 1
        self.get_logger().warning(message)

    def next_frame(self) -> Image | None:
        """Return the next image of the source (not yet published), None at its end."""
        frame = next(self._frames, None)
        if frame is None and self.loop and self.frames_published:
            self._frames = iter(self.source)
            frame = next(self._frames, None)
        if frame is None or self.from_bag:
            return frame
        # A thermal or 12-bit camera's frames: their bits reach the node unchanged (frame_encoding).
        encoding = frame_encoding(frame, self.encoding)
        msg = numpy_to_image_msg(encode_frame(frame, encoding), encoding)
        msg.header.frame_id = self.frame_id
        return msg

    def publish_frame(self, msg: Image) -> Image:
        if self.restamp:
            msg.header.stamp = self.get_clock().now().to_msg()
        self.publisher.publish(msg)
        self.frames_published += 1
        return msg

    def publish_next(self) -> Image | None:
        """Publish the next frame; None (and ``finished``) at the end of the source."""
        frame = self.next_frame()
        if frame is None:
            self.finished = True
            return None
        return self.publish_frame(frame)

    def _on_timer(self) -> None:
        if not self.finished and self.publish_next() is None:
            self.get_logger().info(f"end of {self.source.path} after {self.frames_published} frames")


def spin_until_finished(node: "ReplayPublisher") -> None:
    while rclpy.ok() and not node.finished and not stop_requested():
        rclpy.spin_once(node, timeout_sec=0.1)


def main(args=None) -> int:
    return run_node(ReplayPublisher, "replay_publisher", (ValueError, OSError, ImportError), args=args,
                    spin=spin_until_finished)


if __name__ == "__main__":
    raise SystemExit(main())
