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
The short variant of the load benchmark (viltrack_ros/ros/load_benchmark.py).

The full one is scripts/bench_load.sh, its figures are in the README. This one runs a 200 Hz 1280x720 camera for a few
seconds, the camera stopping and coming back, a slow subscriber on the outputs. Real processes over DDS; the small
test checkpoint keeps it short.
"""
from __future__ import annotations

from .ros_test_support import skip_module_unless_ros

skip_module_unless_ros()   # before the ROS imports below

from viltrack_ros.ros.load_benchmark import run_load  # noqa: E402


def test_short_load_run_keeps_latency_bounded_memory_flat_and_tracking_after_camera_restarts(test_weights, tmp_path):
    result = run_load(test_weights, rate=200.0, size=(1280, 720), duration=6.0, pause=1.0, slow_delay=0.2,
                      threads=1, work_dir=tmp_path, progress=lambda text: None)
    summary = {k: v for k, v in vars(result).items() if k != "node_log"}
    assert result.node_alive, result.node_log
    assert result.processed >= 10, summary
    # Depth 1: the node takes the newest image and the rest is dropped, counted by the node itself.
    assert result.dropped > 0, summary
    assert abs(result.received_by_node + result.dropped - result.published) <= 0.1 * result.published + 250, summary
    # Bounded: with depth 1 no backlog builds up, so an image waits at most for the one being processed before it
    # (its own processing plus one more, plus transport); a queue of k images would add k processing times to every
    # image. The margins are for a CPU shared with other work (a descheduled process delays any single image).
    assert result.latency_ms["p50"] <= 2.0 * result.processing_ms["p50"] + 100.0, summary
    assert result.latency_ms["p99"] <= 3.0 * result.processing_ms["max"] + 400.0, summary
    assert result.rss_mb["end"] - result.rss_mb["start"] <= 60.0, summary
    # A slow reliable subscriber on every output does not hold the tracker back.
    assert result.slow_subscriber_received > 0, summary
    assert result.rate_with_slow_subscriber_hz >= 0.5 * result.rate_without_slow_subscriber_hz, summary
    # The camera stops, or dies, and comes back: the target is tracked on its new images. Timed from the first image
    # DDS could deliver: discovery of the new camera process is DDS's time (0.1 to 3 s, 10 s seen under load).
    assert result.no_image_warning_during_pause, summary
    for resumed, discovered in ((result.resume_after_restart_s, result.discovery_after_restart_s),
                                (result.resume_after_disappearance_s, result.discovery_after_disappearance_s)):
        assert resumed is not None and discovered is not None and resumed - discovered < 15.0, summary
    assert "Traceback" not in result.node_log
