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
The tracker node as users meet it: its own process, real DDS, real frames from the shared sequences.

The weights are a small random checkpoint (see conftest.test_weights): these tests check the ROS contract
(headers, one answer per frame, service semantics, robustness, state handling), not tracking accuracy.
"""
from __future__ import annotations

import array
import re
import time

import cv2
import numpy as np
import pytest

from .ros_test_support import REPO_ROOT, REQUIRE_ROS, load_sequence, skip_module_unless_ros

skip_module_unless_ros()   # before the ROS imports below

from viltrack_ros.ros.interfaces import InitTarget, StopTarget, TrackedObject  # noqa: E402
from .ros_harness import frame_msg, stamp_of  # noqa: E402


FRAME_ID = "camera_optical_frame"


def box_inside(obj: TrackedObject, width: int, height: int, tolerance: float = 1e-3) -> bool:
    return (obj.width > 0 and obj.height > 0
            and obj.center_x - obj.width / 2 >= -tolerance and obj.center_x + obj.width / 2 <= width + tolerance
            and obj.center_y - obj.height / 2 >= -tolerance and obj.center_y + obj.height / 2 <= height + tolerance)


def test_init_before_any_image_is_refused_and_parameters_are_validated(start_node, probe):
    node = start_node()
    probe.wait_for_node(node)

    response = probe.init_target(10, 10, 20, 20)
    assert not response.success
    assert "no image received yet" in response.message
    response = probe.stop_target(3)
    assert not response.success and "no target 3" in response.message

    # Tracker settings are checked by TrackerConfig, including rules across settings.
    result = probe.set_parameter("tracker.lost_threshold", 0.5)   # above recover_threshold (0.4)
    assert not result.successful and "recover_threshold" in result.reason
    result = probe.set_parameter("tracker.window_influence", 1.5)
    assert not result.successful
    result = probe.set_parameter("weights", "/elsewhere.pt")
    assert not result.successful   # read-only: the model is loaded once
    result = probe.set_parameter("tracker.window_influence", 0.25)
    assert result.successful, result.reason
    assert probe.get_parameters(["tracker.window_influence", "tracker.lost_threshold"]) == {
        "tracker.window_influence": 0.25, "tracker.lost_threshold": 0.3}
    assert node.alive()


def test_tracks_a_real_sequence_with_the_source_headers(start_node, probe):
    frames, boxes = load_sequence("Crossing", 10)
    height, width = frames[0].shape[:2]
    node = start_node()
    probe.wait_for_node(node)

    first = frame_msg(frames[0], sec=1000, frame_id=FRAME_ID)
    before_init = probe.handshake(first)
    assert before_init.objects == []   # processed, nothing to track yet
    response = probe.init_target(*boxes[0], stamp=stamp_of(first))
    assert response.success, response.message
    assert response.target_id == 0
    # The default size calibration says how it scales the network's sizes to the given box's style.
    assert re.search(r"network's sizes scaled by \d\.\d\d x \d\.\d\d", response.message), response.message

    sent = []
    for index, frame in enumerate(frames[1:], start=1):
        msg = frame_msg(frame, sec=1000 + index, nanosec=250_000_000, frame_id=FRAME_ID)
        answer = probe.send(msg)
        assert answer.header.frame_id == FRAME_ID
        assert [obj.target_id for obj in answer.objects] == [0]
        sent.append(stamp_of(msg))
    probe.spin_for(0.5)   # anything late or duplicated would arrive now

    objects = [obj for obj in probe.objects if stamp_of(obj) in sent]
    assert [stamp_of(obj) for obj in objects] == sent, "exactly one TrackedObject per processed frame, in order"
    for obj in objects:
        assert obj.header.frame_id == FRAME_ID
        assert obj.target_id == 0
        assert 0.0 <= obj.confidence <= 1.0
        assert obj.status in (TrackedObject.INITIALIZING, TrackedObject.TRACKING, TrackedObject.LOST)
        assert box_inside(obj, width, height), (obj.center_x, obj.center_y, obj.width, obj.height)
        latency = obj.processing_latency.sec + obj.processing_latency.nanosec * 1e-9
        assert 0.0 < latency < 30.0

    overlays = {stamp_of(image): image for image in probe.overlays}
    for stamp, frame in zip(sent, frames[1:]):
        overlay = overlays.get(stamp)
        assert overlay is not None, f"no overlay for {stamp}"
        assert overlay.header.frame_id == FRAME_ID
        assert (overlay.width, overlay.height, overlay.encoding) == (width, height, "rgb8")
        drawn = np.frombuffer(overlay.data, np.uint8).reshape(height, width, 3)
        changed = np.any(drawn != frame[:, :, ::-1], axis=2).mean()
        assert 0.0 < changed < 0.5, "the overlay is the camera image with a box drawn on it"
    assert node.alive()


def test_reinit_mid_stream_resets_the_target_state(start_node, probe):
    frames, boxes = load_sequence("Crossing", 6)
    node = start_node()
    probe.wait_for_node(node)

    def run(first_sec: int) -> np.ndarray:
        rows = []
        for index, frame in enumerate(frames[1:], start=1):
            answer = probe.send(frame_msg(frame, sec=first_sec + index, frame_id=FRAME_ID))
            obj = answer.objects[0]
            rows.append((obj.center_x, obj.center_y, obj.width, obj.height, obj.confidence))
        return np.array(rows)

    start = frame_msg(frames[0], sec=2000, frame_id=FRAME_ID)
    probe.handshake(start)
    assert probe.init_target(*boxes[0], stamp=stamp_of(start)).success
    first_run = run(2000)
    # Without a new init the same frames give other answers: the target carries state from frame to frame
    # (position and the FiLM context), so the comparison below can fail.
    continued = run(2100)
    assert np.abs(continued - first_run).max() > 1e-2

    restart = frame_msg(frames[0], sec=2200, frame_id=FRAME_ID)
    probe.send(restart)
    response = probe.init_target(*boxes[0], stamp=stamp_of(restart))
    assert response.success, response.message
    second_run = run(2200)
    np.testing.assert_allclose(second_run, first_run, atol=1e-3,
                               err_msg="after re-init the same frames must give the same boxes: state was kept")

    # Re-initialising somewhere else moves the search there at once.
    new_box = (40.0, 40.0, 17.0, 50.0)
    assert probe.init_target(*new_box).success
    obj = probe.send(frame_msg(frames[1], sec=2300, frame_id=FRAME_ID)).objects[0]
    search_half_side = 4.0 * np.sqrt(new_box[2] * new_box[3]) / 2   # TrackerConfig.search_factor default
    assert abs(obj.center_x - (new_box[0] + new_box[2] / 2)) <= search_half_side + 1
    assert abs(obj.center_y - (new_box[1] + new_box[3] / 2)) <= search_half_side + 1
    assert node.alive()


def test_bad_images_and_a_resolution_change_do_not_kill_the_node(start_node, probe):
    small, small_boxes = load_sequence("Crossing", 2)
    large, large_boxes = load_sequence("Human3", 2)
    node = start_node()
    probe.wait_for_node(node)
    probe.handshake(frame_msg(small[0], sec=4000, frame_id=FRAME_ID))
    assert probe.init_target(*small_boxes[0]).success

    good = frame_msg(small[1], sec=4001, frame_id=FRAME_ID)
    unsupported = frame_msg(small[1], sec=4002, frame_id=FRAME_ID)
    unsupported.encoding = "32FC1"
    unknown = frame_msg(small[1], sec=4003, frame_id=FRAME_ID)
    unknown.encoding = "no_such_encoding"
    truncated = frame_msg(small[1], sec=4004, frame_id=FRAME_ID)
    truncated.data = array.array("B", bytes(truncated.data)[: len(truncated.data) // 2])
    short_step = frame_msg(small[1], sec=4005, frame_id=FRAME_ID)
    short_step.step = short_step.width   # one byte per pixel for bgr8
    empty = frame_msg(small[1], sec=4006, frame_id=FRAME_ID)
    empty.height, empty.width, empty.step, empty.data = 0, 0, 0, array.array("B")
    for index, bad in enumerate([unsupported, unknown, truncated, short_step, empty]):
        probe.image_pub.publish(bad)
        # The image topic keeps one message (depth 1): a check frame published at once can replace the bad one
        # before a busy node takes it. So the first bad image is repeated until the node says it skipped it, and
        # the others get a moment to arrive (the skip warning is throttled, so they add no line).
        deadline = time.monotonic() + 20.0
        while index == 0 and "skipping image" not in node.log() and time.monotonic() < deadline:
            time.sleep(0.25)
            probe.image_pub.publish(bad)
        time.sleep(0.2)
        check = frame_msg(small[1], sec=4010 + index, frame_id=FRAME_ID)
        assert len(probe.send(check).objects) == 1, "the node goes on tracking after a bad image"
        assert probe.array_for(stamp_of(bad)) is None, "a bad image is skipped, not answered"
    assert probe.array_for(stamp_of(good)) is None
    assert "skipping image" in node.log()

    # The camera switches resolution: the old boxes mean nothing there, so the targets are dropped.
    height, width = large[0].shape[:2]
    answer = probe.send(frame_msg(large[0], sec=4100, frame_id=FRAME_ID))
    assert answer.objects == []
    assert "image size changed" in node.log()
    assert probe.init_target(*large_boxes[0]).success
    obj = probe.send(frame_msg(large[1], sec=4101, frame_id=FRAME_ID)).objects[0]
    assert box_inside(obj, width, height)

    # Init answers honestly.
    for request, reason in [((width + 10, 10, 20, 20), "outside"), ((10, 10, 0, 20), "non-positive"),
                            ((10, 10, float("nan"), 20), "NaN")]:
        response = probe.init_target(*request)
        assert not response.success and reason in response.message, response.message
    response = probe.init_target(10, 10, 20, 20, stamp=(123, 0))
    assert not response.success and "no recent image has stamp 123" in response.message
    response = probe.init_target(10, 10, 20, 20, target_id=-5)
    assert not response.success and "target_id" in response.message
    # The camera has stopped: a box given on the last image is taken, and the answer says how old that image is.
    time.sleep(1.5)
    response = probe.init_target(10, 10, 20, 20, target_id=7)
    assert response.success and "that image arrived " in response.message, response.message
    age = float(response.message.split("that image arrived ")[1].split(" s ago")[0])
    assert age >= 1.5, response.message
    assert node.alive()


def test_several_targets_on_grayscale_frames_and_stopping_them(start_node, probe):
    frames, boxes = load_sequence("Dudek", 4)
    mono = [cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) for frame in frames]   # the sequence is grayscale
    node = start_node()
    probe.wait_for_node(node)
    probe.handshake(frame_msg(mono[0], sec=5000, encoding="mono8", frame_id=FRAME_ID))

    first = probe.init_target(*boxes[0], target_id=InitTarget.Request.NEW_TARGET_ID)
    second = probe.init_target(400, 300, 60, 60, target_id=InitTarget.Request.NEW_TARGET_ID)
    assert first.success and second.success
    assert (first.target_id, second.target_id) == (0, 1)

    answer = probe.send(frame_msg(mono[1], sec=5001, encoding="mono8", frame_id=FRAME_ID))
    assert sorted(obj.target_id for obj in answer.objects) == [0, 1]
    probe.spin_for(0.3)
    assert sorted(obj.target_id for obj in probe.objects if stamp_of(obj) == (5001, 0)) == [0, 1]

    assert probe.stop_target(0).success
    answer = probe.send(frame_msg(mono[2], sec=5002, encoding="mono8", frame_id=FRAME_ID))
    assert [obj.target_id for obj in answer.objects] == [1]
    assert not probe.stop_target(7).success
    assert probe.stop_target(StopTarget.Request.ALL_TARGETS).success
    answer = probe.send(frame_msg(mono[3], sec=5003, encoding="mono8", frame_id=FRAME_ID))
    assert answer.objects == []
    assert node.alive()


def test_compressed_image_transport(start_node, probe):
    from sensor_msgs.msg import CompressedImage

    frames, boxes = load_sequence("Crossing", 2)
    node = start_node("image_transport:=compressed")
    probe.wait_for_node(node, publisher=probe.compressed_pub)

    def jpeg(frame, sec):
        msg = CompressedImage(format="jpeg")
        msg.header.stamp.sec, msg.header.frame_id = sec, FRAME_ID
        msg.data = array.array("B", cv2.imencode(".jpg", frame)[1].tobytes())
        return msg

    answer = probe.handshake(jpeg(frames[0], 6000), publisher=probe.compressed_pub)
    assert answer.header.frame_id == FRAME_ID
    assert probe.init_target(*boxes[0]).success
    answer = probe.send(jpeg(frames[1], 6001), publisher=probe.compressed_pub)
    assert len(answer.objects) == 1 and stamp_of(answer.objects[0]) == (6001, 0)
    assert node.alive()


def test_wrong_weights_or_settings_stop_the_node_with_a_reason(start_node, tmp_path):
    missing = start_node(weights=tmp_path / "missing.pt")
    wrong_preset = start_node("preset:=vil_s")
    wrong_device = start_node("device:=tpu")
    bad_tracker = start_node("tracker.recover_threshold:=0.1")   # below lost_threshold
    for node, reason in [(missing, "checkpoint not found"), (wrong_preset, "holds preset 'vil_cpu'"),
                         (wrong_device, "must be one of auto, cpu, cuda"), (bad_tracker, "recover_threshold")]:
        assert node.wait_exit(timeout=90) == 1, node.log()
        log = node.log()
        assert "cannot start" in log and reason in log, log
        assert "Traceback" not in log
    # A node in a namespace (one camera of several) says which one failed.
    namespaced = start_node(weights=tmp_path / "missing.pt", extra_args=["-r", "__ns:=/cam3"])
    assert namespaced.wait_exit(timeout=90) == 1
    assert "[cam3.viltrack_tracker]: cannot start: checkpoint not found" in namespaced.log(), namespaced.log()


def test_installed_executable_with_the_shipped_params_file(start_node, probe):
    import yaml

    installed = REPO_ROOT / "install" / "viltrack_ros" / "lib" / "viltrack_ros" / "tracker_node"
    if not installed.exists():
        if REQUIRE_ROS:
            pytest.fail(f"{installed} missing: the colcon build did not install the node")
        pytest.skip(f"{installed} missing (package not built with colcon)")
    params_file = REPO_ROOT / "config" / "tracker.yaml"
    node = start_node(command=[str(installed)], params_file=params_file)
    probe.wait_for_node(node)

    shipped = yaml.safe_load(params_file.read_text())["/**"]["ros__parameters"]
    flat = {}
    for key, value in shipped.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{name}": inner for name, inner in value.items()})
        else:
            flat[key] = value
    declared = set(probe.list_parameters())
    assert set(flat) <= declared, f"params file names undeclared parameters: {set(flat) - declared}"
    set_by_the_test = {"weights", "threads"}   # given with -p, which wins over the file
    applied = probe.get_parameters([name for name in flat if name not in set_by_the_test])
    assert applied == {name: value for name, value in flat.items() if name not in set_by_the_test}
    assert node.alive()


def test_a_gpu_backend_chosen_on_a_cpu_still_tracks(start_node, probe):
    """
    Check that backend torch-bf16 (bfloat16, meant for a GPU) still tracks on a CPU with the shipped weights.

    The node warms it up at start-up, names it, and follows the bag of vot2015_bag (a development sequence) as float32
    would.
    """
    from viltrack_ros.model.checkpoint import default_weights_path
    frames, boxes = load_sequence("vot2015_bag", 6)
    node = start_node("backend:=torch-bf16", weights=default_weights_path())
    probe.wait_for_node(node)
    first = frame_msg(frames[0], sec=2000, frame_id=FRAME_ID)
    probe.handshake(first)
    assert probe.init_target(*boxes[0], stamp=stamp_of(first)).success
    for index, (frame, truth) in enumerate(zip(frames[1:], boxes[1:]), start=1):
        obj = probe.send(frame_msg(frame, sec=2000 + index, frame_id=FRAME_ID)).objects[0]
        x, y, w, h = truth
        assert abs(obj.center_x - (x + w / 2)) < w / 2 and abs(obj.center_y - (y + h / 2)) < h / 2, (index, obj)
        assert obj.status == TrackedObject.TRACKING
    assert "backend torch-bf16" in node.log() and node.alive()
