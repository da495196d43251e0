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
Reliability of the tracker node against bad and unusual input, over real DDS with one node process for the module.

Tested here: every encoding of sensor_msgs/image_encodings (supported ones checked pixel by pixel through the overlay,
which is the converted image when no target is drawn), malformed images, extreme sizes, stamps going backwards,
init/stop edge cases and two clients calling while frames flow.

Cases the older tests already cover (test_ros_tracker_node.py: 32FC1 and unknown encodings, truncated data, a short
step, 0x0, a resolution change, init before the first image, an unbuffered stamp, stop of an unknown id) are not
repeated; the README's "Reliability" table lists every case with its test.
"""
from __future__ import annotations

import array
import math
import re

import numpy as np
import pytest

from .ros_test_support import REPO_ROOT, load_sequence, skip_module_unless_ros

skip_module_unless_ros()   # before the ROS imports below

from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402

from viltrack_ros.ros.image_conversion import (  # noqa: E402
    RANGED_ENCODINGS, SUPPORTED_ENCODINGS, UNSUPPORTED_REASONS)
from viltrack_ros.ros.interfaces import InitTarget, StopTarget, TrackedObject  # noqa: E402
from viltrack_ros.ros.stamps import stamp_text  # noqa: E402
from viltrack_ros.ros.tracking_adapter import MAX_LOGGED_SKIP_KINDS  # noqa: E402
from .ros_harness import Diagnostics, NodeProcess, RosProbe, frame_msg, skip_repeatedly, stamp_of  # noqa: E402

FRAME_ID = "camera_optical_frame"
RNG = np.random.default_rng(9)
# Every encoding of sensor_msgs/image_encodings.hpp (Kilted): the conversion must either support it or refuse it
# with a reason.
ROS_ENCODINGS = (
    ["rgb8", "rgba8", "rgb16", "rgba16", "bgr8", "bgra8", "bgr16", "bgra16", "mono8", "mono16"]
    + [f"{depth}{kind}C{channels}" for depth, kind in (("8", "U"), ("8", "S"), ("16", "U"), ("16", "S"), ("32", "S"),
                                                       ("32", "F"), ("64", "F")) for channels in (1, 2, 3, 4)]
    + [f"bayer_{pattern}{bits}" for bits in (8, 16) for pattern in ("rggb", "bggr", "gbrg", "grbg")]
    + ["uyvy", "yuv422", "yuyv", "yuv422_yuy2", "nv12", "nv21", "nv24"])


@pytest.fixture(scope="module")
def node(tmp_path_factory, test_weights):
    node = NodeProcess(log_path=tmp_path_factory.mktemp("node") / "tracker_node.log", weights=test_weights,
                       parameters=["diagnostics.period:=0.2"], extra_args=[], cwd=REPO_ROOT)
    yield node
    node.stop()


@pytest.fixture(scope="module")
def module_probe(ros_context, node):
    probe = RosProbe("reliability_inputs_probe")
    probe.wait_for_node(node)
    yield probe
    probe.destroy()


@pytest.fixture
def ready(node, module_probe):
    """Give the module's node and probe, with no target, nothing recorded and a frame answered."""
    probe = module_probe
    for recorded in (probe.objects, probe.arrays, probe.overlays):
        recorded.clear()
    probe.handshake(frame_msg(np.zeros((48, 64, 3), np.uint8), sec=1, nanosec=int(RNG.integers(1, 10**9))))
    assert probe.stop_target(StopTarget.Request.ALL_TARGETS).success
    yield probe
    assert node.alive(), node.log()[-3000:]


def raw_msg(data: np.ndarray, encoding: str, width: int, height: int, step: int, sec: int,
            big_endian: bool = False) -> Image:
    msg = Image(height=height, width=width, encoding=encoding, step=step, is_bigendian=int(big_endian))
    msg.header.stamp.sec, msg.header.frame_id = sec, FRAME_ID
    msg.data = array.array("B", np.ascontiguousarray(data).tobytes())
    return msg


def padded(rows: np.ndarray, padding: int) -> np.ndarray:
    """``(H, row_bytes)`` uint8 rows, each followed by ``padding`` junk bytes."""
    return np.concatenate([rows, np.full((rows.shape[0], padding), 0xCD, np.uint8)], axis=1)


def yuv_to_rgb(y, u, v) -> np.ndarray:
    """BT.601 limited range, written out from its definition (the matrix OpenCV's YUV420sp conversions use)."""
    y, u, v = (np.asarray(c, np.float64) for c in (y, u, v))
    c, d, e = 1.164 * (y - 16), u - 128, v - 128
    return np.clip(np.rint(np.stack([c + 1.596 * e, c - 0.391 * d - 0.813 * e, c + 2.018 * d], -1)), 0, 255)


def encoded_frame(encoding: str, sec: int, height: int = 8, width: int = 12):
    """Return a message in ``encoding`` built byte by byte, and the RGB image it stands for (with a tolerance)."""
    order = {"rgb": [0, 1, 2], "bgr": [2, 1, 0]}
    if encoding in ("rgb8", "bgr8", "rgba8", "bgra8", "8UC3", "8UC4", "mono8", "8UC1", "rgb16", "bgr16", "rgba16",
                    "bgra16", "16UC3", "16UC4", "mono16", "16UC1"):
        sixteen = "16" in encoding
        channels = 1 if encoding in ("mono8", "8UC1", "mono16", "16UC1") else 4 if (
            "a" in encoding.replace("bayer", "") or encoding.endswith("C4")) else 3
        dtype = np.uint16 if sixteen else np.uint8
        pixels = RNG.integers(0, 65536 if sixteen else 256, (height, width, channels)).astype(dtype)
        big_endian = sixteen and encoding in ("rgb16", "16UC1")   # both byte orders go over the wire
        wire = pixels.astype(">u2" if big_endian else "<u2") if sixteen else pixels
        rows = padded(wire.reshape(height, -1).view(np.uint8), 2)
        msg = raw_msg(rows, encoding, width, height, rows.shape[1], sec, big_endian)
        values = np.rint(pixels.astype(np.float64) * 255 / 65535) if sixteen else pixels.astype(np.float64)
        if channels == 1:
            expected = np.repeat(values, 3, axis=2)
        else:
            colour_order = order["rgb"] if encoding.startswith("rgb") else order["bgr"]
            expected = values[:, :, colour_order]
        return msg, expected, 0
    if encoding.startswith("bayer_"):
        pattern, bits = encoding[6:10], int(encoding[10:])
        colour = {"r": 200, "g": 110, "b": 40}
        mosaic = np.empty((height, width), np.uint16 if bits == 16 else np.uint8)
        for row in range(height):
            for column in range(width):
                mosaic[row, column] = colour[pattern[(row % 2) * 2 + column % 2]] * (257 if bits == 16 else 1)
        wire = mosaic.astype("<u2").view(np.uint8) if bits == 16 else mosaic
        msg = raw_msg(wire, encoding, width, height, wire.shape[1], sec)
        expected = np.tile([200.0, 110.0, 40.0], (height, width, 1))
        return msg, expected, 2   # demosaicing is exact on a uniform scene, up to rounding
    if encoding in ("uyvy", "yuv422", "yuyv", "yuv422_yuy2"):
        y = RNG.integers(16, 236, (height, width))
        u, v = RNG.integers(16, 241, (height, width // 2)), RNG.integers(16, 241, (height, width // 2))
        packed = np.empty((height, width, 2), np.uint8)
        first = encoding in ("uyvy", "yuv422")
        for pair in range(width // 2):
            a, b = 2 * pair, 2 * pair + 1
            packed[:, a] = np.stack([u[:, pair], y[:, a]], -1) if first else np.stack([y[:, a], u[:, pair]], -1)
            packed[:, b] = np.stack([v[:, pair], y[:, b]], -1) if first else np.stack([y[:, b], v[:, pair]], -1)
        msg = raw_msg(packed.reshape(height, -1), encoding, width, height, width * 2, sec)
        expected = yuv_to_rgb(y, np.repeat(u, 2, 1), np.repeat(v, 2, 1))
        return msg, expected, 3
    if encoding in ("nv12", "nv21", "nv24"):
        full = encoding == "nv24"
        chroma_h, chroma_w = (height, width) if full else (height // 2, width // 2)
        y = RNG.integers(16, 236, (height, width))
        u, v = RNG.integers(16, 241, (chroma_h, chroma_w)), RNG.integers(16, 241, (chroma_h, chroma_w))
        pairs = np.stack([v, u] if encoding == "nv21" else [u, v], -1).reshape(chroma_h, -1)
        data = np.concatenate([y.astype(np.uint8).ravel(), pairs.astype(np.uint8).ravel()])
        msg = raw_msg(data, encoding, width, height, width, sec)
        scale = 1 if full else 2
        expected = yuv_to_rgb(y, np.repeat(np.repeat(u, scale, 0), scale, 1),
                              np.repeat(np.repeat(v, scale, 0), scale, 1))
        return msg, expected, 3
    raise AssertionError(f"no test frame for {encoding}")


def overlay_for(probe: RosProbe, msg, timeout: float = 20.0) -> np.ndarray:
    """
    Publish ``msg`` until its overlay (the converted image, no box drawn) comes back.

    The overlay subscription may match later than the image one.
    """
    stamp = stamp_of(msg)

    def overlay():
        return next((image for image in probe.overlays if stamp_of(image) == stamp), None)

    for _ in range(int(timeout)):
        probe.image_pub.publish(msg)
        if probe.spin_until(lambda: overlay() is not None, 1.0):
            image = overlay()
            assert image.encoding == "rgb8" and image.header.frame_id == FRAME_ID
            return np.frombuffer(image.data, np.uint8).reshape(image.height, image.width, 3)
    raise AssertionError(f"no overlay for {msg.encoding} stamped {stamp}")


def test_every_encoding_of_sensor_msgs_is_supported_or_refused_with_a_reason():
    # Supported as they are, supported through a value range (signed and floating point), or refused: one of these.
    for encoding in ROS_ENCODINGS:
        homes = (SUPPORTED_ENCODINGS, RANGED_ENCODINGS, UNSUPPORTED_REASONS)
        assert sum(encoding in home for home in homes) == 1, encoding


@pytest.mark.parametrize("encoding", [e for e in ROS_ENCODINGS if e in SUPPORTED_ENCODINGS])
def test_supported_encodings_arrive_pixel_by_pixel_through_the_node(ready, encoding):
    msg, expected, tolerance = encoded_frame(encoding, sec=100 + ROS_ENCODINGS.index(encoding))
    rgb = overlay_for(ready, msg).astype(np.float64)
    assert rgb.shape == expected.shape
    np.testing.assert_allclose(rgb, expected, atol=tolerance, rtol=0, err_msg=encoding)


# --- images the node skips ------------------------------------------------------------------------------------------
def malformed(sec: int) -> dict[str, tuple[Image, str]]:
    """Broken messages, each with the text its (single) log line must hold."""
    frame = RNG.integers(0, 256, (8, 12, 3), dtype=np.uint8)

    def bgr(**changes) -> Image:
        msg = frame_msg(frame, sec=sec)
        for name, value in changes.items():
            setattr(msg, name, value)
        return msg

    cases = {
        "step too large for the data": (bgr(step=12 * 3 + 40), "data holds 288 bytes but 8 rows of step 76 need 608"),
        "zero width": (bgr(width=0), "empty image: 0x8"),
        "zero height": (bgr(height=0), "empty image: 0x8"),       # the same problem: said once, with the first
        "width far beyond the data": (bgr(width=2**30, step=2**30 * 3), "data holds 288 bytes"),
        "odd width in 4:2:2": (raw_msg(np.zeros((8, 14), np.uint8), "uyvy", 7, 8, 14, sec), "width 7 must be even"),
        "odd size in 4:2:0": (raw_msg(np.zeros(7 * 7 * 3), "nv12", 7, 7, 7, sec), "width and height must be even"),
        "Bayer of one pixel": (raw_msg(np.zeros(1), "bayer_rggb8", 1, 1, 1, sec), "at least 2x2"),
    }
    return cases


def test_unsupported_and_malformed_images_are_said_once_and_skipped(node, ready):
    probe, diagnostics = ready, Diagnostics(ready)
    frame = RNG.integers(0, 256, (8, 12, 4), dtype=np.uint8)
    refused = [e for e in ROS_ENCODINGS if e not in SUPPORTED_ENCODINGS] + ["jpeg", "BGR8", ""]
    for index, encoding in enumerate(refused):
        msg = frame_msg(frame.view(np.uint8)[:, :, :3].copy(), sec=300 + index)
        msg.encoding = encoding
        skip_repeatedly(probe, diagnostics, msg, times=1 if index > 2 else 3)
        # Under load a late copy of the previous image can be the one counted: publish until this one is said.
        said = f"unsupported image encoding '{encoding}'"

        def published_and_said():
            probe.image_pub.publish(msg)
            return probe.spin_until(lambda: said in node.log(), 0.1)
        assert probe.spin_until(published_and_said, 30), f"no line for {encoding!r}"
        assert probe.array_for(stamp_of(msg)) is None, "a refused image is never answered"
    for index, (case, (msg, text)) in enumerate(malformed(sec=400).items()):
        msg.header.stamp.sec = 400 + index
        skip_repeatedly(probe, diagnostics, msg, times=2)
        assert probe.array_for(stamp_of(msg)) is None, case
        assert text in node.log(), (case, node.log()[-2000:])

    # The node goes on tracking.
    answer = probe.send(frame_msg(np.zeros((48, 64, 3), np.uint8), sec=499))
    assert answer.header.frame_id == FRAME_ID
    log = node.log()
    for encoding in refused:
        lines = [line for line in log.splitlines() if f"unsupported image encoding '{encoding}'" in line]
        assert len(lines) == 1, (encoding, lines)   # one line per topic and problem, not per frame
    for case, (_, text) in malformed(sec=0).items():
        assert sum(text in line for line in log.splitlines()) == 1, case
    assert "32FC1" in log and "give one (the node's image.value_range, or image.auto_range: true)" in log
    skipped = [s for s in diagnostics.statuses if "skipped" in s.message]
    assert skipped and all(s.level == b"\x01" for s in skipped) and "(last: " in skipped[-1].message


def test_4k_and_16x16_frames_are_tracked(ready):
    probe = ready
    frames, boxes = load_sequence("Crossing", 2)
    import cv2

    for sec, (width, height) in [(600, (3840, 2160)), (610, (16, 16))]:
        scale_x, scale_y = width / frames[0].shape[1], height / frames[0].shape[0]
        images = [cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA) for frame in frames]
        x, y, w, h = boxes[0]
        box = (x * scale_x, y * scale_y, max(w * scale_x, 2.0), max(h * scale_y, 2.0))
        probe.handshake(frame_msg(images[0], sec=sec), timeout=60)   # a size change drops every target first
        response = probe.init_target(*box)
        assert response.success, response.message
        for index in (1, 2):
            # Republished until answered: what is tested is the node, not best-effort delivery of 25 MB samples.
            answer = probe.handshake(frame_msg(images[1], sec=sec + index), timeout=60)
            assert [obj.target_id for obj in answer.objects] == [0]
            obj = answer.objects[0]
            assert all(math.isfinite(v) for v in (obj.center_x, obj.center_y, obj.width, obj.height, obj.confidence))
            assert 0 <= obj.center_x - obj.width / 2 + 1e-3 and obj.center_x + obj.width / 2 <= width + 1e-3
            assert 0 <= obj.center_y - obj.height / 2 + 1e-3 and obj.center_y + obj.height / 2 <= height + 1e-3


def test_a_stamp_going_backwards_is_processed_in_arrival_order(node, ready):
    probe, diagnostics = ready, Diagnostics(ready)
    frames, boxes = load_sequence("Crossing", 4)
    probe.send(frame_msg(frames[0], sec=900))
    assert probe.init_target(*boxes[0]).success
    order = [(901, 0), (902, 0), (850, 0), (850, 500), (903, 0)]   # a bag loop, then on
    for index, (sec, nanosec) in enumerate(order):
        answer = probe.send(frame_msg(frames[1 + index % 3], sec=sec, nanosec=nanosec, frame_id=FRAME_ID))
        assert stamp_of(answer) == (sec, nanosec) and [o.target_id for o in answer.objects] == [0]
        assert answer.objects[0].status != TrackedObject.INITIALIZING
    # Said on /diagnostics for each time it happens, and in the log (at most every 10 s: a looping bag is normal).
    assert probe.spin_until(lambda: diagnostics.total("stamps gone back") >= 1, 10)
    assert "image stamp went back from" in node.log()
    # Both stamps of the loop stay addressable for init_target.
    assert probe.init_target(*boxes[0], stamp=(850, 500)).success
    assert probe.init_target(*boxes[0], stamp=(902, 0)).success
    # An unknown stamp: the answer names the earliest and latest kept stamps in that order, loop or not.
    refused = probe.init_target(*boxes[0], stamp=(870, 0))
    assert not refused.success and "kept: 850.000000000 .. 903.000000000" in refused.message, refused.message


# --- init_target / stop_target ----------------------------------------------------------------------------------
INF = float("inf")


EDGE_CASES = [   # box on a 64x48 image, target id, accepted, reason in the answer
    ((INF, 10, 20, 20), 0, False, "NaN or infinite"),
    ((10, 10, -INF, 20), 0, False, "NaN or infinite"),
    ((10, float("nan"), 20, 20), 0, False, "NaN or infinite"),
    ((10, 10, -20, 20), 0, False, "non-positive size"),
    ((10, 10, 20, -1e-6), 0, False, "non-positive size"),
    ((10, 10, 0, 0), 0, False, "non-positive size"),
    ((64, 10, 20, 20), 0, False, "outside"),          # starts at the right edge: no pixel inside
    ((10, -30, 20, 30), 0, False, "outside"),         # ends at the top edge
    ((1e30, 1e30, 1e30, 1e30), 0, False, "outside"),
    ((-10, -10, 20, 20), 0, True, ""),               # over the top-left corner: clipped to the image
    ((54, 38, 20, 20), 0, True, ""),                 # over the bottom-right corner
    ((0, 0, 64, 48), 0, True, ""),                   # the whole image
    ((-1e6, -1e6, 2e6, 2e6), 0, True, ""),           # far larger than the image, covering it
    ((63, 47, 1, 1), 0, True, ""),                   # the last pixel
    ((10, 10, 1e-3, 1e-3), 0, True, ""),             # sub-pixel
    ((10, 10, 20, 20), -2, False, "target_id must be >= 0"),
    ((10, 10, 20, 20), 2**31 - 1, True, ""),         # the largest id
]


def test_init_target_edge_boxes_and_ids(ready):
    probe = ready
    for index, (box, target_id, accepted, reason) in enumerate(EDGE_CASES):
        assert probe.stop_target(StopTarget.Request.ALL_TARGETS).success
        response = probe.init_target(*box, target_id=target_id)
        assert response.success == accepted, (box, response.message)
        assert reason in response.message, (box, response.message)
        answer = probe.send(frame_msg(RNG.integers(0, 256, (48, 64, 3), dtype=np.uint8), sec=1000 + index))
        assert [obj.target_id for obj in answer.objects] == ([target_id] if accepted else []), box
        for obj in answer.objects:
            left, top = obj.center_x - obj.width / 2, obj.center_y - obj.height / 2
            assert obj.width > 0 and obj.height > 0 and left >= -1e-3 and top >= -1e-3, box
            assert left + obj.width <= 64 + 1e-3 and top + obj.height <= 48 + 1e-3, box


def test_new_ids_and_unknown_ids(ready):
    probe = ready
    assert probe.init_target(10, 10, 20, 20, target_id=2**31 - 1).success
    # The next new id would leave int32: the smallest free one is given instead of an error or a crash.
    response = probe.init_target(10, 10, 20, 20, target_id=InitTarget.Request.NEW_TARGET_ID)
    assert response.success and response.target_id == 0, response.message
    response = probe.init_target(10, 10, 20, 20, target_id=InitTarget.Request.NEW_TARGET_ID)
    assert response.success and response.target_id == 1, response.message
    for unknown in (2, -2, -2**31, 2**31 - 2):
        response = probe.stop_target(unknown)
        assert not response.success and f"no target {unknown}" in response.message
    assert probe.stop_target(2**31 - 1).success
    assert probe.stop_target(StopTarget.Request.ALL_TARGETS).success
    assert probe.stop_target(StopTarget.Request.ALL_TARGETS).success   # stopping nothing is fine
    assert probe.send(frame_msg(np.zeros((48, 64, 3), np.uint8), sec=1100)).objects == []


def test_stamps_are_written_as_seconds_also_when_nanosec_overflows():
    assert stamp_text((12, 5)) == "12.000000005"
    assert stamp_text((9000, 2_000_000_000)) == "9002.000000000"   # before: "9000.2000000000"
    # Exact at today's epoch seconds, where a float keeps about 7 of the 9 decimals (the demo's CSV wrote
    # "1796654708.663918018" for this stamp before it used stamp_text).
    assert stamp_text((1796654708, 663918035)) == "1796654708.663918035"


def test_targets_past_max_targets_are_refused_and_the_limit_is_settable(ready):
    probe = ready
    assert probe.set_parameter("max_targets", 2).successful
    try:
        assert probe.init_target(10, 10, 20, 20, target_id=0).success
        assert probe.init_target(30, 10, 20, 20, target_id=1).success
        refused = probe.init_target(10, 25, 20, 20, target_id=InitTarget.Request.NEW_TARGET_ID)
        assert not refused.success and "already tracking 2 targets (max_targets)" in refused.message, refused.message
        assert probe.init_target(12, 12, 20, 20, target_id=1).success, "a tracked target may be given again"
        answer = probe.send(frame_msg(RNG.integers(0, 256, (48, 64, 3), dtype=np.uint8), sec=1200))
        assert sorted(obj.target_id for obj in answer.objects) == [0, 1]
        assert probe.stop_target(0).success and probe.init_target(10, 25, 20, 20, target_id=5).success
        assert not probe.set_parameter("max_targets", 0).successful
    finally:
        assert probe.set_parameter("max_targets", 64).successful


def test_100_interleaved_init_and_stop_calls_from_two_clients_while_frames_flow(node, ready, ros_context):
    probe = ready
    other = RosProbe("second_client")
    other.executor.remove_node(other.node)
    probe.executor.add_node(other.node)   # one executor: both clients' calls are in flight at once
    try:
        # New clients, called below with call_async straight away: give them the moment call() gives a new client.
        for client in (other.init_client, other.stop_client, probe.init_client, probe.stop_client):
            probe.settle(client, timeout=10)
        frames, boxes = load_sequence("Crossing", 3)
        probe.send(frame_msg(frames[0], sec=1199, frame_id=FRAME_ID))   # the boxes are drawn on this size
        mine = {"a": set(), "b": set()}
        sent_stamps = []
        calls = 0
        for round_index in range(25):
            futures = []
            for client_name, client, base in (("a", probe, 100), ("b", other, 200)):
                for call in range(2):
                    target_id = base + (round_index * 2 + call) % 5
                    if target_id in mine[client_name]:
                        request = StopTarget.Request(target_id=target_id)
                        futures.append((client_name, "stop", target_id, client.stop_client.call_async(request)))
                    else:
                        x, y, w, h = boxes[0]
                        request = InitTarget.Request(x=x, y=y, width=w, height=h, target_id=target_id)
                        futures.append((client_name, "init", target_id, client.init_client.call_async(request)))
                    calls += 1
            msg = frame_msg(frames[1 + round_index % 2], sec=1200 + round_index, frame_id=FRAME_ID)
            probe.image_pub.publish(msg)
            sent_stamps.append(stamp_of(msg))
            assert probe.spin_until(lambda: all(f.done() for *_, f in futures), 30), "a call was not answered"
            for client_name, kind, target_id, future in futures:
                response = future.result()
                assert response.success, (kind, target_id, response.message)
                (mine[client_name].add if kind == "init" else mine[client_name].discard)(target_id)
        assert calls == 100
        final = probe.send(frame_msg(frames[0], sec=1300, frame_id=FRAME_ID))
        assert sorted(obj.target_id for obj in final.objects) == sorted(mine["a"] | mine["b"])
        everything = {100 + i for i in range(5)} | {200 + i for i in range(5)}
        for answer in probe.arrays:
            if stamp_of(answer) in sent_stamps:
                for obj in answer.objects:
                    assert obj.target_id in everything
                    assert all(math.isfinite(v) for v in (obj.center_x, obj.center_y, obj.width, obj.height,
                                                          obj.confidence))
        assert not re.search(r"Traceback|failed: ", node.log())
    finally:
        probe.executor.remove_node(other.node)
        other.node.destroy_node()


def test_made_up_encodings_do_not_flood_the_log(node, ready):
    """A megabyte-long encoding name, then a new made-up name in every image: a bounded log, not one line each."""
    probe, diagnostics = ready, Diagnostics(ready)
    frame = RNG.integers(0, 256, (8, 12, 3), dtype=np.uint8)
    logged_before = len(node.log())
    msg = frame_msg(frame, sec=600)
    msg.encoding = "E" * 1_000_000
    skip_repeatedly(probe, diagnostics, msg, times=1)
    for index in range(100):
        msg = frame_msg(frame, sec=601 + index)
        msg.encoding = f"made-up-{index}"
        skip_repeatedly(probe, diagnostics, msg, times=1)
    answer = probe.send(frame_msg(np.zeros((48, 64, 3), np.uint8), sec=799))
    assert answer.header.frame_id == FRAME_ID, "the node goes on tracking"
    lines = node.log()[logged_before:].splitlines()
    assert max(len(line) for line in lines) < 2000, "the long name is shortened"
    assert sum("made-up-" in line for line in lines) <= MAX_LOGGED_SKIP_KINDS
    assert sum("further kinds are not logged" in line for line in lines) == 1


def test_a_burst_of_300_calls_in_flight_at_once_is_answered_in_full(ready):
    """
    300 stop_target calls sent before the first answer comes: every one is answered.

    rclpy's default service queue keeps 10 requests, and the calls past them were never answered. The client sizes
    its own queue for the answers (its business); the node's queue for the requests is what is tested.
    """
    probe = ready
    deep = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1000, reliability=ReliabilityPolicy.RELIABLE)
    client = probe.node.create_client(StopTarget, "stop_target", qos_profile=deep)
    try:
        probe.settle(client, timeout=10)   # a new client: its responses need its reader matched first (harness)
        futures = [client.call_async(StopTarget.Request(target_id=5000 + i)) for i in range(300)]
        assert probe.spin_until(lambda: all(f.done() for f in futures), 60), \
            f"{sum(f.done() for f in futures)} of 300 calls answered"
        answers = [f.result() for f in futures]
        assert all(not a.success and str(5000 + i) in a.message for i, a in enumerate(answers))
    finally:
        probe.node.destroy_client(client)


def test_thermal_counts_and_depth_are_read_through_a_value_range_set_at_run_time(node, ready):
    """
    A 14-bit thermal camera (mono16 counts 7000-9000) and a depth camera (32FC1 metres, NaN for no reading).

    Over the whole 16-bit range the thermal image is near-uniform grey (and the node says so once);
    ``image.value_range`` spreads it over the grey levels, ``image.auto_range`` finds the range itself, and the depth
    image, skipped without a range, is read through one. A wrong range is refused with the reason.
    """
    probe = ready
    height, width = 8, 12
    counts = RNG.integers(7000, 9001, (height, width)).astype(np.uint16)
    thermal = raw_msg(counts.astype("<u2").view(np.uint8), "mono16", width, height, width * 2, sec=900)
    whole_range = overlay_for(probe, thermal)[:, :, 0].astype(np.float64)
    assert whole_range.max() - whole_range.min() <= 8
    # The node says once what it sees and what to set (earlier tests sent it 16-bit images over the whole range).
    assert probe.spin_until(lambda: "use values 70" in node.log(), 10), node.log()[-2000:]
    hint = [line for line in node.log().splitlines() if "16-bit images on /image use values" in line]
    assert len(hint) == 1 and "image.auto_range:=true" in hint[0] and "about 8 grey levels" in hint[0], hint
    try:
        assert probe.set_parameter("image.value_range", [7000.0, 9000.0]).successful
        thermal.header.stamp.sec = 901
        ranged = overlay_for(probe, thermal).astype(np.float64)
        expected = np.clip((counts - 7000.0) * 255 / 2000, 0, 255)
        np.testing.assert_allclose(ranged, np.repeat(expected[:, :, None], 3, axis=2), atol=1)
        assert "image value range now 7000 (black) to 9000 (white)" in node.log()

        depth = RNG.uniform(0.3, 5.0, (height, width)).astype(np.float32)
        depth[0, :4] = np.nan
        depth_msg = raw_msg(depth.view(np.uint8), "32FC1", width, height, width * 4, sec=910)
        assert probe.set_parameter("image.value_range", [0.5, 4.5]).successful
        read = overlay_for(probe, depth_msg)[:, :, 0].astype(np.float64)
        expected = np.clip((np.nan_to_num(depth, nan=0.5) - 0.5) * 255 / 4.0, 0, 255)
        np.testing.assert_allclose(read, expected, atol=1)

        for wrong, reason in (([4.5, 0.5], "low < high"), ([1.0], "two numbers"), ([1.0, 2.0, 3.0], "two numbers"),
                              ([0.5, float("inf")], "finite"), ("near", "type"), ([1, 2], "type")):
            result = probe.set_parameter("image.value_range", wrong)
            assert not result.successful and reason in result.reason, (wrong, result.reason)
        assert probe.get_parameters(["image.value_range"])["image.value_range"] == [0.5, 4.5]

        assert probe.set_parameter("image.auto_range", True).successful
        thermal.header.stamp.sec = 920
        automatic = overlay_for(probe, thermal)[:, :, 0].astype(np.float64)
        assert automatic.min() <= 5 and automatic.max() >= 250, "the image's own 1st-99th percentile"
    finally:
        probe.set_parameter("image.auto_range", False)
        probe.set_parameter("image.value_range", [0.0, 0.0])
    assert sum("16-bit images on /image use values" in line for line in node.log().splitlines()) == 1
    depth_msg.header.stamp.sec = 930
    probe.image_pub.publish(depth_msg)
    answer = probe.send(frame_msg(np.zeros((48, 64, 3), np.uint8), sec=931))
    assert answer.header.frame_id == FRAME_ID and probe.array_for(stamp_of(depth_msg)) is None, \
        "back to the default, the depth image is skipped again"
