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
"""The arithmetic behind /diagnostics (plain Python: runs without ROS). Over DDS: test_ros_node_features.py."""
import pytest

from viltrack_ros.ros.diagnostics import FrameStatistics, Level, assess_input, input_values

PUBLISHER_A, PUBLISHER_B = b"\x01" * 16, b"\x02" * 16


def test_gaps_in_the_publication_sequence_numbers_are_dropped_images():
    statistics = FrameStatistics(now_s=0.0)
    for sequence_number in (1, 2, 5, 6, 10):             # 3, 4 and 7..9 never reached the node
        statistics.image_received(0.1, PUBLISHER_A, sequence_number)
        statistics.image_processed(0.020)
    statistics.image_received(0.2, PUBLISHER_B, 40)      # another camera: its own numbering starts here
    statistics.image_received(0.3, PUBLISHER_B, 42)
    statistics.image_skipped()
    summary = statistics.take_summary(now_s=2.0)
    assert (summary.received, summary.processed, summary.skipped, summary.dropped) == (7, 5, 1, 6)
    assert summary.input_rate_hz == pytest.approx((7 + 6) / 2.0)
    assert summary.processing_rate_hz == pytest.approx(5 / 2.0)
    assert summary.latency_mean_s == pytest.approx(0.020) and summary.latency_max_s == pytest.approx(0.020)
    assert summary.seconds_since_image == pytest.approx(1.7)

    # The next period starts from zero, and the numbering carries over: 11 follows 10, 13 skips one.
    statistics.image_received(2.5, PUBLISHER_A, 11)
    statistics.image_received(2.6, PUBLISHER_A, 13)
    summary = statistics.take_summary(now_s=3.0)
    assert (summary.received, summary.processed, summary.dropped) == (2, 0, 1)
    assert summary.latency_mean_s is None


def test_images_sent_while_the_node_did_not_listen_are_not_dropped_ones():
    statistics = FrameStatistics(now_s=0.0)
    statistics.image_received(0.1, PUBLISHER_A, 1)
    statistics.forget_sequence_numbers()                 # deactivated, then activated again
    statistics.image_received(5.0, PUBLISHER_A, 48)      # 2..47 went out while it was not subscribed
    statistics.image_received(5.1, PUBLISHER_A, 50)      # a real gap after that
    assert statistics.take_summary(now_s=6.0).dropped == 1


def test_without_sequence_numbers_the_drops_are_unknown_not_zero():
    statistics = FrameStatistics(now_s=0.0)
    statistics.image_received(0.5, None, None)
    assert statistics.take_summary(now_s=1.0).dropped is None


def test_camera_frames_missed_are_what_the_tracker_was_told_and_counted_per_period():
    """Also without sequence numbers (counted from the stamps): the one count a Cyclone DDS user gets."""
    statistics = FrameStatistics(now_s=0.0)
    statistics.image_received(0.1, PUBLISHER_A, None)
    statistics.image_tracked_after(1)
    statistics.image_received(0.2, PUBLISHER_A, None)
    statistics.image_tracked_after(3)
    summary = statistics.take_summary(now_s=1.0)
    assert (summary.dropped, summary.frames_missed) == (None, 2)
    assert input_values(summary, "/image")["camera frames missed before tracked images"] == "2"
    assert statistics.take_summary(now_s=2.0).frames_missed == 0


def test_levels_and_messages():
    statistics = FrameStatistics(now_s=0.0)
    level, message = assess_input(statistics.take_summary(1.0), "/camera/image_raw", min_rate_hz=0.0)
    assert level == Level.WARN and message == "no image received yet on /camera/image_raw"

    for sequence_number in range(1, 11):
        statistics.image_received(1.5, PUBLISHER_A, sequence_number)
        statistics.image_processed(0.01)
    summary = statistics.take_summary(2.0)
    assert assess_input(summary, "/cam", min_rate_hz=0.0) == (Level.OK, "processing 10.0 Hz")
    level, message = assess_input(summary, "/cam", min_rate_hz=15.0)
    assert level == Level.WARN and "processing 10.0 Hz, below diagnostics.min_rate 15 Hz" in message

    statistics.image_received(2.5, PUBLISHER_A, 14)      # 11..13 dropped
    statistics.tracker_failed()
    level, message = assess_input(statistics.take_summary(3.0), "/cam", min_rate_hz=0.0)
    assert level == Level.ERROR
    assert "the tracker failed on 1 images" in message and "dropped 3 of 4 images" in message

    level, message = assess_input(statistics.take_summary(5.0), "/cam", min_rate_hz=0.0)
    assert level == Level.WARN and message == "no image for 2.5 s on /cam"
    assert assess_input(statistics.take_summary(6.0), "/cam", 0.0, subscribed=False)[0] == Level.OK
