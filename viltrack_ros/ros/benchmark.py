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
Latency of the tracker node end to end, next to the bare tracker's, measured in the same run.

  scripts/bench_node.sh [--weights FILE] [--frames 150] [--size 640x480] [--threads N]

1. bare tracker: ``MultiTracker.update`` on the frames in this process (no ROS);
2. node, lock-step: publish a frame stamped now, wait for its TrackedObject; latency = receive time - stamp
   (conversion, DDS both ways, tracker, message building), FPS = frames / wall time;
3. node, live: publish at a fixed rate (default 30 fps) and count what the node processes (it drops the rest,
   as a depth-1 sensor-data subscription should).
Both run one after the other on the same frames, so they share the machine the same way. A benchmark, not a test.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

from viltrack_ros.evaluation.benchmark_frames import benchmark_frames
from viltrack_ros.machine import cpu_description
from viltrack_ros.model.checkpoint import default_weights_path, read_checkpoint
from viltrack_ros.ros.image_conversion import numpy_to_image_msg
from viltrack_ros.ros.interfaces import InitTarget, TrackedObject, TrackedObjectArray
from viltrack_ros.ros.processes import default_threads, percentile_ms, spin_until, start_tracker_node, stop_process
from viltrack_ros.settings import thread_count
from viltrack_ros.tracking import MultiTracker

RELIABLE = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=100, reliability=ReliabilityPolicy.RELIABLE)


def load_frames(count: int, size: tuple[int, int]) -> tuple[list[np.ndarray], tuple[float, float, float, float], str]:
    """``count`` real frames resized to ``size`` (w, h), BGR (what a camera driver publishes), box scaled alike."""
    try:
        frames, box, name = benchmark_frames(count, size)
    except FileNotFoundError as exc:
        raise SystemExit(str(exc)) from None
    return [np.ascontiguousarray(f[:, :, ::-1]) for f in frames], box, name


def bare_tracker(weights: Path, frames, box, threads: int) -> tuple[list[float], str]:
    """Return the bare tracker's update durations (seconds) on ``frames``, and the name of its backend."""
    tracker = MultiTracker.from_checkpoint(weights, device="cpu", threads=threads or None)
    rgb_frames = [np.ascontiguousarray(f[:, :, ::-1]) for f in frames]
    tracker.init(0, rgb_frames[0], box)
    for frame in rgb_frames[1:6]:   # warm-up
        tracker.update(frame)
    tracker.init(0, rgb_frames[0], box)
    durations = []
    for frame in rgb_frames[1:]:
        start = time.perf_counter()
        tracker.update(frame)
        durations.append(time.perf_counter() - start)
    return durations, tracker.backend.name


class BenchClient(Node):
    def __init__(self):
        super().__init__("viltrack_bench")
        self.arrival: dict[tuple[int, int], float] = {}
        self.processing: dict[tuple[int, int], float] = {}
        self.arrays: set[tuple[int, int]] = set()
        self.publisher = self.create_publisher(Image, "image", QoSProfile(
            history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.RELIABLE))
        self.create_subscription(TrackedObject, "tracked_object", self._on_object, RELIABLE)
        self.create_subscription(TrackedObjectArray, "tracked_objects",
                                 lambda m: self.arrays.add((m.header.stamp.sec, m.header.stamp.nanosec)), RELIABLE)
        self.init_client = self.create_client(InitTarget, "init_target")

    def _on_object(self, msg: TrackedObject) -> None:
        key = (msg.header.stamp.sec, msg.header.stamp.nanosec)
        self.arrival[key] = time.time()
        self.processing[key] = msg.processing_latency.sec + msg.processing_latency.nanosec * 1e-9

    def publish(self, bgr: np.ndarray) -> tuple[int, int]:
        msg = numpy_to_image_msg(bgr, "bgr8")
        msg.header.frame_id = "camera_optical_frame"
        msg.header.stamp = self.get_clock().now().to_msg()
        self.publisher.publish(msg)
        return msg.header.stamp.sec, msg.header.stamp.nanosec


def node_runs(weights: Path, frames, box, threads: int, live_fps: float, log_path: Path) -> dict:
    process = start_tracker_node(weights, threads, log_path)
    rclpy.init()
    client = BenchClient()
    executor = SingleThreadedExecutor()
    executor.add_node(client)
    try:
        if not spin_until(executor, lambda: process.poll() is not None or (
                client.init_client.service_is_ready() and client.publisher.get_subscription_count()), 120) \
                or process.poll() is not None:
            raise SystemExit(f"tracker node did not come up; see {log_path}")
        for _ in range(30):   # first frame until the node has it (discovery may lag on its side)
            key = client.publish(frames[0])
            if spin_until(executor, lambda: key in client.arrays, 1.0):
                break
        future = client.init_client.call_async(
            InitTarget.Request(x=box[0], y=box[1], width=box[2], height=box[3]))
        spin_until(executor, future.done, 30)
        assert future.done() and future.result().success, "init_target failed"
        for frame in frames[1:6]:   # warm-up, as for the bare tracker
            key = client.publish(frame)
            spin_until(executor, lambda: key in client.arrival, 60)

        # Lock-step: every frame answered before the next goes out.
        lockstep_keys = []
        start = time.monotonic()
        for frame in frames[1:]:
            key = client.publish(frame)
            lockstep_keys.append(key)
            if not spin_until(executor, lambda: key in client.arrival, 60):
                raise SystemExit(f"no TrackedObject within 60 s; see {log_path}")
        lockstep_wall = time.monotonic() - start

        # Live: a camera at live_fps; the node takes what it can.
        live_keys = []
        period = 1.0 / live_fps
        start = next_time = time.monotonic()
        for frame in frames[1:]:
            spin_until(executor, lambda: time.monotonic() >= next_time, period + 1)
            next_time += period
            live_keys.append(client.publish(frame))
        spin_until(executor, lambda: False, 1.0)   # the last answers
        answered_at = [client.arrival[k] for k in live_keys if k in client.arrival]
        # From the first frame sent to the last answer (wall clock of both: time.time()).
        live_wall = max(answered_at) - (live_keys[0][0] + live_keys[0][1] * 1e-9) if answered_at else float("nan")
    finally:
        stop_process(process)
        executor.shutdown()
        client.destroy_node()
        rclpy.try_shutdown()

    def latencies(keys):
        return [client.arrival[k] - (k[0] + k[1] * 1e-9) for k in keys if k in client.arrival]

    live_answered = [k for k in live_keys if k in client.arrival]
    return {
        "lockstep_e2e": latencies(lockstep_keys),
        "lockstep_processing": [client.processing[k] for k in lockstep_keys],
        "lockstep_fps": len(lockstep_keys) / lockstep_wall,
        "live_e2e": latencies(live_keys),
        "live_fps": len(live_answered) / live_wall,
        "live_sent": len(live_keys),
        "live_answered": len(live_answered),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().split("\n")[0])
    parser.add_argument("--weights", help="checkpoint (.pt); default: the package's weights")
    parser.add_argument("--frames", type=int, default=150, help="frames timed in each run (default 150)")
    parser.add_argument("--size", default="640x480", help="frame size WxH (default 640x480)")
    parser.add_argument("--threads", type=thread_count, default=default_threads(),
                        help="the network's CPU threads (onnxruntime or PyTorch) in both (default: half the cores; "
                             "the publishing client needs the rest)")
    parser.add_argument("--live-fps", type=float, default=30.0,
                        help="the live run's camera rate: frames published at this rate whatever the node keeps up "
                             "with (default 30)")
    args = parser.parse_args(argv)

    weights = Path(args.weights) if args.weights else default_weights_path()
    if not weights.exists():
        raise SystemExit(f"weights {weights} not found (give --weights)")
    info = read_checkpoint(weights)
    size = tuple(int(v) for v in args.size.lower().split("x"))
    frames, box, source = load_frames(args.frames + 1, size)
    threads = args.threads

    bare, backend = bare_tracker(weights, frames, box, threads)
    log_path = Path(tempfile.gettempdir()) / f"viltrack_bench_node_{os.getpid()}.log"
    node = node_runs(weights, frames, box, threads, args.live_fps, log_path)

    bare_p50 = percentile_ms(bare, 50)

    def p50_p99(durations):
        return percentile_ms(durations, 50), percentile_ms(durations, 99)

    rows = [
        ("bare tracker (MultiTracker.update)", *p50_p99(bare), len(bare) / sum(bare), len(bare)),
        ("node: processing (in-node)", *p50_p99(node["lockstep_processing"]), float("nan"),
         len(node["lockstep_processing"])),
        ("node: stamp -> TrackedObject, lock-step", *p50_p99(node["lockstep_e2e"]), node["lockstep_fps"],
         len(node["lockstep_e2e"])),
        (f"node: stamp -> TrackedObject, live {args.live_fps:g} fps", *p50_p99(node["live_e2e"]), node["live_fps"],
         node["live_answered"]),
    ]
    print(f"\nviltrack_ros node benchmark: {size[0]}x{size[1]} bgr8, {args.frames} frames of {source}")
    print(f"weights {weights} (preset {info['model_config'].get('name')}, "
          f"{'trained' if info['trained'] else 'untrained'}), CPU, {backend} with {threads} "
          f"thread{'s' if threads != 1 else ''}, {cpu_description()}, {os.cpu_count()} cores, "
          f"DDS {os.environ.get('RMW_IMPLEMENTATION', 'default')} on loopback\n")
    print(f"| {'measurement':<44} | {'p50 ms':>7} | {'p99 ms':>7} | {'FPS':>6} | {'frames':>6} | {'/ bare p50':>10} |")
    print(f"|{'-' * 46}|{'-' * 9}|{'-' * 9}|{'-' * 8}|{'-' * 8}|{'-' * 12}|")
    for name, p50, p99, fps, count in rows:
        fps_text = "-" if np.isnan(fps) else f"{fps:.1f}"   # the in-node time is part of a frame, not a rate
        print(f"| {name:<44} | {p50:7.1f} | {p99:7.1f} | {fps_text:>6} | {count:6d} | {p50 / bare_p50:9.2f}x |")
    dropped = node["live_sent"] - node["live_answered"]
    print(f"\nlive run: {node['live_sent']} frames sent at {args.live_fps:g} fps, {node['live_answered']} processed, "
          f"{dropped} dropped by the node's depth-1 image subscription (old frames are dropped by design)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
