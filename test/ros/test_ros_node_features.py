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
What ROS users expect of a perception node beyond boxes, over real DDS with node processes.

Tested here: /diagnostics, the managed (lifecycle) variant, and the vision_msgs/Detection2DArray output (its
conversion tested without vision_msgs).
"""
from __future__ import annotations

import time

import cv2
import pytest
import torch

from .ros_test_support import REPO_ROOT, load_sequence, skip_module_unless_ros

skip_module_unless_ros()   # before the ROS imports below

import sys  # noqa: E402

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus  # noqa: E402
from lifecycle_msgs.msg import Transition  # noqa: E402
from lifecycle_msgs.srv import ChangeState, GetState  # noqa: E402
from rcl_interfaces.srv import SetParameters  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402
from std_msgs.msg import Header  # noqa: E402

from viltrack_ros.ros.detections import (TRACKED_CLASS_ID, detection2d_array_fields,  # noqa: E402
                                         vision_msgs_missing_reason)
from viltrack_ros.ros.interfaces import TrackedObject  # noqa: E402
from viltrack_ros.ros.shm_segments import MIN_AGE_S, stale_segments  # noqa: E402
from viltrack_ros.tracking import TrackStatus  # noqa: E402
from .ros_harness import NODE_NAME, RELIABLE, NodeProcess, RosProbe, frame_msg, stamp_of  # noqa: E402

FRAME_ID = "camera_optical_frame"
INPUT_STATUS = f"/{NODE_NAME}: image input"
MANAGED_NODE = [sys.executable, "-m", "viltrack_ros.ros.managed_tracker_node"]
# The managed nodes run in a namespace of their own, beside the module's tracker node.
MANAGED_NAMESPACE = "/managed"


@pytest.fixture(scope="module")
def tracker_node(tmp_path_factory, test_weights):
    """One tracker node for the module, reporting twice a second."""
    node = NodeProcess(log_path=tmp_path_factory.mktemp("node") / "tracker_node.log", weights=test_weights,
                       parameters=["diagnostics.period:=0.5"], extra_args=[], cwd=REPO_ROOT)
    yield node
    node.stop()


def values_of(status: DiagnosticStatus) -> dict[str, str]:
    return {pair.key: pair.value for pair in status.values}


def level_of(status: DiagnosticStatus) -> int:
    return status.level[0] if isinstance(status.level, bytes) else int(status.level)


def test_diagnostics_report_rates_drops_slow_processing_and_targets(tracker_node, probe):
    reports: list[DiagnosticArray] = []
    probe.node.create_subscription(DiagnosticArray, "/diagnostics", reports.append, RELIABLE)
    probe.wait_for_node(tracker_node)

    def input_statuses():
        return [status for report in reports for status in report.status if status.name == INPUT_STATUS]

    # Before any image: a warning that names the topic.
    assert probe.spin_until(lambda: input_statuses(), 10), "nothing on /diagnostics"
    first = input_statuses()[0]
    assert level_of(first) == DiagnosticStatus.WARN[0] and first.message == "no image received yet on /image"

    def wait_for_a_quiet_report() -> None:
        """Until a report counts no image: every image before it is in the reports before it."""
        reports.clear()
        assert probe.spin_until(lambda: any(values_of(s)["images received"] == "0" for s in input_statuses()), 30)

    frames, boxes = load_sequence("Crossing", 3)
    handshake = frame_msg(frames[0], sec=100, frame_id=FRAME_ID)
    probe.handshake(handshake)
    assert probe.init_target(*boxes[0]).success
    wait_for_a_quiet_report()
    reports.clear()

    # A burst much faster than the tracker: depth 1 keeps only the newest image, the others are dropped.
    burst = 30
    for index in range(burst):
        probe.image_pub.publish(frame_msg(frames[1 + index % 2], sec=200 + index, frame_id=FRAME_ID))
    last = (200 + burst - 1, 0)
    assert probe.spin_until(lambda: probe.array_for(last) is not None, 30), "the newest image was not processed"
    assert probe.spin_until(lambda: any(values_of(s)["images received"] == "0" for s in input_statuses()), 30)
    statuses = input_statuses()
    received = sum(int(values_of(s)["images received"]) for s in statuses)
    dropped = sum(int(values_of(s)["images dropped"]) for s in statuses)
    processed = sum(int(values_of(s)["images processed"]) for s in statuses)
    answered = len({stamp_of(a) for a in probe.arrays if stamp_of(a)[0] >= 200})
    assert received + dropped == burst, (received, dropped)   # every image of the burst, taken or dropped
    # ... and the tracker was told of each dropped one, as camera frames missed before the next image it tracked
    assert sum(int(values_of(s)["camera frames missed before tracked images"]) for s in statuses) == dropped
    assert dropped > 0 and processed == received == answered
    warned = [s for s in statuses if "dropped" in s.message]
    assert warned and all(level_of(s) == DiagnosticStatus.WARN[0] for s in warned)
    assert f"dropped {values_of(warned[0])['images dropped']} of" in warned[0].message
    assert all(values_of(s)["topic"] == "/image" and s.hardware_id == FRAME_ID for s in warned)
    assert any(float(values_of(s)["latency max (ms)"]) > 0 for s in warned)

    # One status per target, named after it.
    target_statuses = [status for report in reports for status in report.status
                       if status.name == f"/{NODE_NAME}: target 0"]
    assert target_statuses and values_of(target_statuses[-1])["status"] in {s.name for s in TrackStatus}

    # A processing rate under diagnostics.min_rate (changeable at run time) is a warning.
    assert probe.set_parameter("diagnostics.min_rate", 500.0).successful
    reports.clear()
    for index in range(3):
        probe.send(frame_msg(frames[1], sec=300 + index, frame_id=FRAME_ID))
    assert probe.spin_until(lambda: any("below diagnostics.min_rate 500 Hz" in s.message
                                        for s in input_statuses()), 5), [s.message for s in input_statuses()]

    def target_0() -> list[DiagnosticStatus]:
        return [status for report in reports for status in report.status if status.name == f"/{NODE_NAME}: target 0"]

    # The camera stops: the target's status is that of an old image, a warning that says how old.
    reports.clear()
    assert probe.spin_until(lambda: any("no image since" in s.message for s in target_0()), 10), \
        [s.message for s in target_0()]
    stale = next(s for s in target_0() if "no image since" in s.message)
    assert level_of(stale) == DiagnosticStatus.WARN[0]
    assert stale.message.startswith(values_of(stale)["status"] + " on the last image, ")

    # The camera comes back at another size: the target is dropped, and /diagnostics says so until it is given again.
    larger = cv2.resize(frames[1], None, fx=1.5, fy=1.5)
    assert probe.send(frame_msg(larger, sec=400, frame_id=FRAME_ID)).objects == []
    reports.clear()
    assert probe.spin_until(lambda: any(values_of(s)["status"] == "DROPPED" for s in target_0()), 10)
    dropped = next(s for s in target_0() if values_of(s)["status"] == "DROPPED")
    assert level_of(dropped) == DiagnosticStatus.WARN[0]
    height, width = frames[1].shape[:2]
    assert f"image size changed from {width}x{height} to " in dropped.message and "init_target" in dropped.message
    assert probe.init_target(*(value * 1.5 for value in boxes[1])).success
    probe.send(frame_msg(larger, sec=401, frame_id=FRAME_ID))
    reports.clear()
    assert probe.spin_until(lambda: len(target_0()) >= 2, 10)
    assert all(values_of(s)["status"] != "DROPPED" for s in target_0()), [s.message for s in target_0()]
    assert tracker_node.alive()


def test_diagnostics_go_on_with_sim_time_and_no_clock(start_node, probe):
    """With use_sim_time and no /clock (a paused bag, a simulator not started) a timer on the node's clock stops."""
    # In a namespace of its own: the module's tracker node reports on /diagnostics too.
    node = start_node("use_sim_time:=true", "diagnostics.period:=0.5", extra_args=["-r", "__ns:=/sim_time"])
    reports: list[DiagnosticArray] = []
    probe.node.create_subscription(DiagnosticArray, "/diagnostics", reports.append, RELIABLE)

    def own_input_statuses():
        return [status for report in reports for status in report.status
                if status.name == f"/sim_time/{NODE_NAME}: image input"]
    assert probe.spin_until(lambda: len(own_input_statuses()) >= 3, 90), node.log()[-3000:]
    assert all("no image" in status.message for status in own_input_statuses())
    assert node.alive()


# --- managed (lifecycle) node ---------------------------------------------------------------------------------
@pytest.fixture
def managed_probe(ros_context):
    probe = RosProbe("managed_probe", namespace=MANAGED_NAMESPACE)
    yield probe
    probe.destroy()


def start_managed_node(log_path, weights) -> NodeProcess:
    return NodeProcess(log_path=log_path, command=MANAGED_NODE, weights=weights, parameters=[],
                       extra_args=["-r", f"__ns:={MANAGED_NAMESPACE}"], cwd=REPO_ROOT)


class Lifecycle:
    def __init__(self, probe):
        self.probe = probe
        self.change = probe.node.create_client(ChangeState, f"{MANAGED_NAMESPACE}/{NODE_NAME}/change_state")
        self.get = probe.node.create_client(GetState, f"{MANAGED_NAMESPACE}/{NODE_NAME}/get_state")
        self.parameters = probe.node.create_client(SetParameters, f"{MANAGED_NAMESPACE}/{NODE_NAME}/set_parameters")

    def set_parameter(self, name: str, value):
        request = SetParameters.Request(parameters=[Parameter(name, value=value).to_parameter_msg()])
        return self.probe.call(self.parameters, request).results[0]

    def state(self) -> str:
        return self.probe.call(self.get, GetState.Request()).current_state.label

    def transition(self, transition_id: int) -> bool:
        request = ChangeState.Request(transition=Transition(id=transition_id))
        return self.probe.call(self.change, request, timeout=60).success


def test_managed_node_configures_activates_deactivates_cleans_up_and_configures_again(tmp_path, test_weights,
                                                                                      managed_probe):
    probe = managed_probe
    started_at = time.time()
    node = start_managed_node(tmp_path / "managed.log", test_weights)
    try:
        lifecycle = Lifecycle(probe)
        assert lifecycle.change.wait_for_service(timeout_sec=60), node.log()
        assert lifecycle.state() == "unconfigured"
        assert not probe.init_client.wait_for_service(timeout_sec=1.0), "services before configure"
        frames, boxes = load_sequence("Crossing", 4)

        for cycle in range(2):   # after cleanup, configure loads the model again
            assert lifecycle.transition(Transition.TRANSITION_CONFIGURE) and lifecycle.state() == "inactive"
            assert probe.init_client.wait_for_service(timeout_sec=10.0)
            assert lifecycle.transition(Transition.TRANSITION_ACTIVATE) and lifecycle.state() == "active"
            first = frame_msg(frames[0], sec=1000 * (cycle + 1), frame_id=FRAME_ID)
            probe.handshake(first)
            assert probe.init_target(*boxes[0], stamp=stamp_of(first)).success
            answer = probe.send(frame_msg(frames[1], sec=1000 * (cycle + 1) + 1, frame_id=FRAME_ID))
            assert [obj.target_id for obj in answer.objects] == [0]

            assert lifecycle.transition(Transition.TRANSITION_DEACTIVATE) and lifecycle.state() == "inactive"
            probe.spin_for(0.5)
            probe.arrays.clear()
            for index in range(3):
                probe.image_pub.publish(frame_msg(frames[2], sec=1000 * (cycle + 1) + 10 + index, frame_id=FRAME_ID))
                probe.spin_for(0.5)
            assert probe.arrays == [], "an inactive node published"
            assert probe.stop_target().success, "services stay while inactive"
            refused = probe.init_target(*boxes[0])
            assert not refused.success and "inactive" in refused.message, refused.message
            # Activated again: the images sent while it was inactive are not counted as dropped.
            reports: list[DiagnosticArray] = []
            subscription = probe.node.create_subscription(DiagnosticArray, "/diagnostics", reports.append, RELIABLE)
            # The report of the image below goes out once: the node's writer must have matched the new subscription
            # (a report received shows it; the inactive node reports too).
            assert probe.spin_until(lambda: reports, 10), "no /diagnostics report from the inactive node"
            assert lifecycle.transition(Transition.TRANSITION_ACTIVATE)
            # Activation makes a new image subscription: a frame sent before DDS matched it with this publisher is
            # lost (CI saw that once), so the frame is repeated until answered, as every first frame is.
            probe.handshake(frame_msg(frames[3], sec=1000 * (cycle + 1) + 20, frame_id=FRAME_ID))
            inputs = lambda: [values_of(status) for report in reports for status in report.status  # noqa: E731
                              if status.name == f"{MANAGED_NAMESPACE}/{NODE_NAME}: image input"
                              and values_of(status)["images received"] != "0"]
            assert probe.spin_until(inputs, 10), "no report of the image sent after activation"
            assert all(values["images dropped"] == "0" for values in inputs()), inputs()
            probe.node.destroy_subscription(subscription)
            assert lifecycle.transition(Transition.TRANSITION_DEACTIVATE)

            assert lifecycle.transition(Transition.TRANSITION_CLEANUP) and lifecycle.state() == "unconfigured"
            assert probe.spin_until(lambda: not probe.init_client.service_is_ready(), 10), "init_target stays"
        assert node.log().count("model and interfaces released") == 2
        assert node.alive()
        assert node.stop() == 0
        # Stopped, it closed DDS: its 64 MB shared-memory segment went with it (rclpy keeps a lifecycle node's
        # state machine, and with it the participant, until garbage collection, which os._exit skips).
        time.sleep(MIN_AGE_S)
        assert stale_segments(since=started_at) == []
    finally:
        node.stop()


def test_managed_node_with_missing_weights_fails_configure_with_the_reason_and_is_mended_by_a_parameter(
        tmp_path, test_weights, managed_probe):
    node = start_managed_node(tmp_path / "managed.log", tmp_path / "missing.pt")
    try:
        lifecycle = Lifecycle(managed_probe)
        assert lifecycle.change.wait_for_service(timeout_sec=60), node.log()
        assert not lifecycle.transition(Transition.TRANSITION_CONFIGURE)
        assert lifecycle.state() == "unconfigured"
        node.wait_for_log("cannot configure", 5)
        assert "cannot configure: checkpoint not found" in node.log(), node.log()
        assert "Traceback" not in node.log()
        assert node.alive() and lifecycle.state() == "unconfigured"
        # A file whose weights are not tensors failed with no line at all (an AttributeError, which rclpy swallows).
        payload = torch.load(test_weights, weights_only=True)
        payload["state_dict"] = {key: "abc" for key in payload["state_dict"]}
        torch.save(payload, tmp_path / "not_tensors.pt")
        assert lifecycle.set_parameter("weights", str(tmp_path / "not_tensors.pt")).successful
        assert not lifecycle.transition(Transition.TRANSITION_CONFIGURE)
        node.wait_for_log("weights are not tensors", 5)
        assert lifecycle.state() == "unconfigured"

        # Mended without a restart: the settings read at configure are settable while unconfigured (checked).
        assert lifecycle.set_parameter("weights", str(test_weights)).successful
        refused = lifecycle.set_parameter("device", "gpu")
        assert not refused.successful, "device gpu accepted"
        assert "parameter device='gpu' must be one of auto, cpu, cuda" in refused.reason, refused.reason
        assert lifecycle.transition(Transition.TRANSITION_CONFIGURE) and lifecycle.state() == "inactive"
        # Configured, they are refused: the model was loaded with them.
        refused = lifecycle.set_parameter("weights", str(tmp_path / "other.pt"))
        assert not refused.successful and "read at configure" in refused.reason, refused.reason
        assert lifecycle.set_parameter("tracker.window_influence", 0.3).successful   # a run-time setting
        assert lifecycle.transition(Transition.TRANSITION_CLEANUP) and lifecycle.state() == "unconfigured"
        assert lifecycle.set_parameter("qos.depth", 2).successful
        assert lifecycle.transition(Transition.TRANSITION_CONFIGURE) and lifecycle.state() == "inactive"
    finally:
        node.stop()


# --- vision_msgs/Detection2DArray ------------------------------------------------------------------------------
def tracked(target_id: int, status: TrackStatus, header: Header) -> TrackedObject:
    return TrackedObject(header=header, target_id=target_id, center_x=50.5 + target_id, center_y=20.25,
                         width=10.0, height=30.0, confidence=0.75, status=int(status))


def test_detection_fields_follow_vision_msgs_and_leave_lost_targets_out():
    header = Header(frame_id=FRAME_ID)
    header.stamp.sec, header.stamp.nanosec = 12, 500
    objects = [tracked(0, TrackStatus.TRACKING, header), tracked(3, TrackStatus.LOST, header),
               tracked(7, TrackStatus.INITIALIZING, header)]
    fields = detection2d_array_fields(header, objects)
    assert fields["header"] is header
    assert [d["id"] for d in fields["detections"]] == ["0", "7"]
    detection = fields["detections"][0]
    assert detection["header"] is header
    assert detection["bbox"] == {"center": {"position": {"x": 50.5, "y": 20.25}, "theta": 0.0},
                                 "size_x": 10.0, "size_y": 30.0}
    assert detection["results"] == [{"hypothesis": {"class_id": TRACKED_CLASS_ID, "score": 0.75}}]
    assert detection2d_array_fields(header, [])["detections"] == []


def test_node_publishes_detection2d_arrays_where_vision_msgs_is_installed(tracker_node, probe):
    reason = vision_msgs_missing_reason()
    if reason is not None:
        pytest.skip(reason)
    from vision_msgs.msg import Detection2DArray

    detections = []
    probe.node.create_subscription(Detection2DArray, "detections", detections.append, RELIABLE)
    probe.wait_for_node(tracker_node)
    frames, boxes = load_sequence("Crossing", 2)
    probe.handshake(frame_msg(frames[0], sec=700, frame_id=FRAME_ID))
    assert probe.init_target(*boxes[0]).success
    answer = probe.send(frame_msg(frames[1], sec=701, frame_id=FRAME_ID))
    assert probe.spin_until(lambda: any(stamp_of(d) == (701, 0) for d in detections), 10)
    detection_array = next(d for d in detections if stamp_of(d) == (701, 0))
    tracked_object = answer.objects[0]
    assert detection_array.header.frame_id == FRAME_ID
    if tracked_object.status != TrackStatus.LOST:
        box = detection_array.detections[0].bbox
        assert (box.center.position.x, box.size_x) == pytest.approx((tracked_object.center_x, tracked_object.width))
