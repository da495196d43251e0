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
Frames dropped while the node was busy, counted from DDS's sequence numbers or the stamps and told to the tracker.

The tracker node runs in this process, beside a camera node (real DDS), so that the test decides exactly when the
node takes an image: three images published while it does not spin reach a subscription of depth 1 as the newest
alone.
"""
from __future__ import annotations

import time

import numpy as np
import pytest

from .ros_test_support import load_sequence, skip_module_unless_ros

skip_module_unless_ros()   # before the ROS imports below

import rclpy  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402
from sensor_msgs.msg import Image  # noqa: E402

from viltrack_ros.ros.frames_elapsed import FramesElapsed  # noqa: E402
from viltrack_ros.ros.interfaces import InitTarget, TrackedObjectArray  # noqa: E402
from viltrack_ros.ros.tracker_node import TrackerNode  # noqa: E402
from viltrack_ros.ros.tracking_adapter import _publication  # noqa: E402
from viltrack_ros.tracking import TrackStatus  # noqa: E402
from viltrack_ros.tracking.tracker import VELOCITY_SMOOTHING  # noqa: E402
from .ros_harness import RELIABLE, frame_msg, stamp_of  # noqa: E402

NAMESPACE = "/missed_frames"
PUBLISHER_A, PUBLISHER_B = b"\x01" * 16, b"\x02" * 16
PERIOD_NS = 33_333_333   # a 30 Hz camera


def test_frames_elapsed_counts_from_the_last_tracked_image_of_the_same_publisher():
    frames = FramesElapsed()
    assert frames.since_last(PUBLISHER_A, 7) == 1        # the first image: nothing to count from
    assert frames.since_last(PUBLISHER_A, 8) == 1
    assert frames.since_last(PUBLISHER_A, 11) == 3       # 9 and 10 dropped (or received and not tracked)
    assert frames.since_last(PUBLISHER_B, 12) == 1       # another publisher: its own numbering
    assert frames.since_last(PUBLISHER_A, 13) == 1       # ... and back: the last tracked one was B's
    assert frames.since_last(PUBLISHER_A, 15) == 2
    assert frames.since_last(PUBLISHER_A, 2) == 1        # a restarted publisher counts anew
    assert frames.since_last(PUBLISHER_A, 4) == 2
    assert frames.since_last(None, None) == 1            # an RMW without sequence numbers: as before
    assert frames.since_last(PUBLISHER_A, 6) == 1        # ... and the one after it has nothing to count from
    frames.forget()                                      # the node stopped listening for a while
    assert frames.since_last(PUBLISHER_A, 90) == 1


def test_without_sequence_numbers_the_frames_are_counted_from_a_period_learnt_from_the_stamps():
    """As on Cyclone DDS: no sequence numbers; the stamps jitter by up to 3 ms (10% of a frame)."""
    jitter = np.random.default_rng(0).uniform(-0.1, 0.1, 200) * PERIOD_NS
    frames = FramesElapsed()

    def stamp(frame: int) -> int:
        return int(10**12 + frame * PERIOD_NS + jitter[frame])

    assert frames.since_last(PUBLISHER_A, None, stamp(0)) == 1
    assert frames.since_last(PUBLISHER_A, None, stamp(3)) == 1   # too few stamps yet to know the period: as before
    frame = 3
    for step in [1, 1, 2, 1, 3, 1, 1, 2, 1, 1, 1, 2, 1, 1, 3, 1]:
        frame += step
        counted = frames.since_last(PUBLISHER_A, None, stamp(frame))
        if frame > 20:   # 8 differences seen
            assert counted == step, (frame, step, counted)
    frame += 4
    assert frames.since_last(PUBLISHER_A, None, stamp(frame)) == 4
    assert frames.since_last(PUBLISHER_A, None, stamp(frame - 10)) == 1   # a stamp gone back (a looping bag)
    assert frames.since_last(PUBLISHER_A, None, stamp(frame - 7)) == 3
    assert frames.since_last(PUBLISHER_A, None, 0) == 1                 # a publisher that does not stamp
    assert frames.since_last(PUBLISHER_A, None, 0) == 1
    assert frames.since_last(PUBLISHER_B, None, stamp(frame + 1)) == 1  # another camera
    frames.forget()
    assert frames.since_last(PUBLISHER_B, None, stamp(frame + 3)) == 1


def test_a_node_taking_every_other_frame_is_not_told_too_many_without_sequence_numbers():
    """Stamps alone cannot tell a camera at half its rate from a node that drops every other frame: never over-count."""
    frames = FramesElapsed()
    rng = np.random.default_rng(1)
    counted = [frames.since_last(PUBLISHER_A, None, int(10**12 + frame * PERIOD_NS + rng.uniform(-0.2, 0.2)
                                                        * PERIOD_NS))
               for frame in range(0, 400, 2)]
    assert set(counted) == {1}


def test_a_stated_camera_frame_rate_counts_the_cameras_frames_also_behind_a_relay():
    """A throttle between camera and node numbers its messages 1, 2, 3: the stamps say 3 frames passed."""
    frames = FramesElapsed(camera_frame_rate=30.0)
    assert frames.since_last(PUBLISHER_A, 1, 10**12) == 1
    assert frames.since_last(PUBLISHER_A, 2, 10**12 + 3 * PERIOD_NS) == 3
    assert frames.since_last(PUBLISHER_A, 5, 10**12 + 4 * PERIOD_NS) == 3    # the sequence numbers say more: 3
    assert frames.since_last(PUBLISHER_A, 6, 0) == 1                          # unstamped: the sequence numbers
    assert frames.since_last(PUBLISHER_A, 8, 0) == 2
    with pytest.raises(ValueError, match="camera_frame_rate"):
        FramesElapsed(camera_frame_rate=-30.0)


def test_an_rmw_without_sequence_numbers_reads_as_none():
    """Cyclone DDS gives RMW_MESSAGE_INFO_SEQUENCE_NUMBER_UNSUPPORTED; older RMWs 0."""
    gid = {"data": PUBLISHER_A}
    assert _publication({"publisher_gid": gid, "publication_sequence_number": 2**64 - 1}) == (PUBLISHER_A, None)
    assert _publication({"publisher_gid": gid, "publication_sequence_number": 0}) == (PUBLISHER_A, None)
    assert _publication({"publisher_gid": gid, "publication_sequence_number": 12}) == (PUBLISHER_A, 12)


def test_the_node_tells_the_tracker_how_many_frames_were_dropped():
    """
    The shipped weights on vot2015_bag (development): frame 1 follows 0, then 2 and 3 are dropped before 4.

    The target's velocity is learnt per camera frame: after frame 4 it is the mean motion over the three frames, as
    the tracker computes it when told ``frames_elapsed=3`` (told 1, it would be three times as large).
    """
    _track_frames_0_1_then_4(publish_2_and_3=True, parameters=[])


def test_the_node_counts_the_frames_a_relay_dropped_from_the_stamps_at_a_stated_camera_frame_rate():
    """
    Frames 2 and 3 never reach DDS (a throttle between camera and node): the sequence numbers run on without a gap.

    The stamps are a second apart per frame; with ``camera_frame_rate`` 1.0 the node tells the tracker 3 frames.
    """
    _track_frames_0_1_then_4(publish_2_and_3=False, parameters=[Parameter("camera_frame_rate", value=1.0)])


def _track_frames_0_1_then_4(publish_2_and_3: bool, parameters: list[Parameter]) -> None:
    bgr_frames, boxes = load_sequence("vot2015_bag", 5)
    context = rclpy.Context()
    rclpy.init(args=[], context=context)
    try:
        node = TrackerNode(context=context, namespace=NAMESPACE, parameter_overrides=[
            Parameter("threads", value=1), Parameter("qos.depth", value=1), *parameters])
        camera = rclpy.create_node("camera", namespace=NAMESPACE, context=context)
        publisher = camera.create_publisher(Image, "image", RELIABLE)
        init_client = camera.create_client(InitTarget, "init_target")
        answered: dict[tuple[int, int], TrackedObjectArray] = {}
        camera.create_subscription(TrackedObjectArray, "tracked_objects",
                                   lambda array: answered.update({stamp_of(array): array}), RELIABLE)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        executor.add_node(camera)

        def spin_until(condition, timeout_s: float = 20.0) -> bool:
            deadline = time.monotonic() + timeout_s
            while not condition() and time.monotonic() < deadline:
                executor.spin_once(timeout_sec=0.02)
            return condition()

        def publish(index: int) -> None:
            publisher.publish(frame_msg(bgr_frames[index], sec=100 + index))

        assert spin_until(lambda: publisher.get_subscription_count() > 0 and init_client.service_is_ready())
        publish(0)
        assert spin_until(lambda: (100, 0) in answered)
        future = init_client.call_async(InitTarget.Request(x=boxes[0][0], y=boxes[0][1], width=boxes[0][2],
                                                           height=boxes[0][3]))
        assert spin_until(future.done) and future.result().success, future.result()
        target = node._tracker._targets[0]
        start = target.box[:2] + target.box[2:] / 2

        publish(1)
        assert spin_until(lambda: (101, 0) in answered)
        one = answered[(101, 0)].objects[0]
        assert one.status == TrackStatus.TRACKING.value
        after_one = target.box[:2] + target.box[2:] / 2
        velocity = VELOCITY_SMOOTHING * (after_one - start)
        np.testing.assert_allclose(target.velocity, velocity)

        for index in ((2, 3, 4) if publish_2_and_3 else (4,)):   # while the node does not spin: depth 1 keeps 4
            publish(index)
        time.sleep(0.5)
        assert spin_until(lambda: (104, 0) in answered)
        assert (102, 0) not in answered and (103, 0) not in answered
        assert answered[(104, 0)].objects[0].status == TrackStatus.TRACKING.value
        after_four = target.box[:2] + target.box[2:] / 2
        expected = (1 - VELOCITY_SMOOTHING) * velocity + VELOCITY_SMOOTHING * (after_four - after_one) / 3
        np.testing.assert_allclose(target.velocity, expected)
        executor.shutdown()
        camera.destroy_node()
        node.destroy_node()
    finally:
        rclpy.try_shutdown(context=context)
