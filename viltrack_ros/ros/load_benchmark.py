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
Load benchmark of the tracker node: a fast, large camera stream, a camera that comes back, a slow subscriber.

The camera stops and comes back; the slow subscriber listens on the node's outputs. Every part runs as its own process
over real DDS; this process only watches.

  scripts/bench_load.sh                       # the full variant: 200 Hz 1280x720 for 60 s, shipped weights
  scripts/bench_load.sh --duration 5 --pause 1 --json out.json

Phases, one after the other, with one target tracked throughout:
1. steady: the camera publishes ``--rate`` Hz ``--size`` bgr8 images (sensor-data QoS, depth 1, as the node subscribes)
   for ``--duration`` s. Measured: latency from each image's stamp (its publication time) to its TrackedObject here,
   the node's own processing time, images processed and dropped, the node's RSS at start and end. From half-time on,
   a second process subscribes to every output (reliable, as rviz or rosbag would) and sleeps ``--slow-delay`` s in
   each callback; the node's processing rate in the two halves is compared.
2. publisher stops and restarts: the camera process exits cleanly, nothing is published for ``--pause`` s, a new one
   starts. Measured: time from its first image to the first TrackedObject of the target.
3. camera disappears: the camera process is killed (SIGKILL: no goodbye to DDS), ``--pause`` s, a new one starts.

The dropped count is the node's own (/diagnostics, from the DDS sequence numbers): with depth 1 an image the tracker
is too slow for is replaced by a newer one before the node sees it, by design. The short variant of this benchmark is
a test: test/ros/test_ros_load.py.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from viltrack_ros.files import write_atomically
from viltrack_ros.machine import cpu_description
from viltrack_ros.ros.processes import start_tracker_node, stop_process
from viltrack_ros.ros.processes import spin_until as spin_executor_until
from viltrack_ros.settings import thread_count

CAMERA_NODE = "load_camera"
# The full variant's settings (each an option of the command).
DEFAULT_RATE_HZ = 200.0
DEFAULT_SIZE = (1280, 720)
DEFAULT_DURATION_S = 60.0
DEFAULT_PAUSE_S = 3.0
DEFAULT_SLOW_DELAY_S = 0.2
DEFAULT_THREADS = 1
CAMERA_FRAMES = 30   # distinct frames the camera cycles through


@dataclass
class LoadResult:
    rate_hz: float
    size: tuple[int, int]
    duration_s: float
    published: int = 0                 # by the first camera, during the steady phase
    published_rate_hz: float = 0.0
    processed: int = 0                 # TrackedObjectArrays of steady-phase images received here
    dropped: int = 0                   # the node's count (/diagnostics) over the steady phase
    received_by_node: int = 0
    latency_ms: dict = field(default_factory=dict)      # stamp -> TrackedObject here: p50, p99, max
    processing_ms: dict = field(default_factory=dict)   # the node's own time per image: p50, p99, max
    rss_mb: dict = field(default_factory=dict)          # start, end, max of the node process
    rss_series_mb: list = field(default_factory=list)   # once a second over the steady phase
    rate_without_slow_subscriber_hz: float = 0.0
    rate_with_slow_subscriber_hz: float = 0.0
    slow_subscriber_received: int = 0
    resume_after_restart_s: float | None = None       # new camera's first image -> target's TrackedObject
    resume_after_disappearance_s: float | None = None
    # Of that: new camera's first image -> its publisher matched the node (DDS discovery of a new process; its images
    # before that go to nobody). 0.1 to 3 s measured, once 10 s on a loaded 2-core machine.
    discovery_after_restart_s: float | None = None
    discovery_after_disappearance_s: float | None = None
    no_image_warning_during_pause: bool = False
    target_statuses: dict = field(default_factory=dict)
    node_alive: bool = True
    node_log: str = ""


def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"no VmRSS for {pid}")


def percentiles_ms(values_s: list[float]) -> dict:
    if not values_s:
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan"), "count": 0}
    values = np.asarray(values_s) * 1000.0
    return {"p50": round(float(np.percentile(values, 50)), 1), "p99": round(float(np.percentile(values, 99)), 1),
            "max": round(float(values.max()), 1), "count": int(values.size)}


# --- child processes ------------------------------------------------------------------------------------------------
def camera_main(args) -> int:
    """Run a camera: ``--rate`` Hz, stamped at publication, sensor-data QoS depth 1; write its count to ``--stats``."""
    import rclpy
    from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image

    from viltrack_ros.evaluation.benchmark_frames import benchmark_frames
    from viltrack_ros.ros.image_conversion import numpy_to_image_msg

    stop = []
    signal.signal(signal.SIGINT, lambda *_: stop.append(True))
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    width, height = (int(v) for v in args.size.lower().split("x"))
    frames, _, _ = benchmark_frames(args.frames, (width, height))
    messages: list[Image] = []
    for rgb in frames:
        msg = numpy_to_image_msg(np.ascontiguousarray(rgb[:, :, ::-1]), "bgr8")
        msg.header.frame_id = "camera_optical_frame"
        messages.append(msg)
    rclpy.init(signal_handler_options=rclpy.signals.SignalHandlerOptions.NO)
    node = rclpy.create_node(CAMERA_NODE)
    publisher = node.create_publisher(Image, "image", QoSProfile(
        history=HistoryPolicy.KEEP_LAST, depth=1, reliability=ReliabilityPolicy.BEST_EFFORT))
    period = 1.0 / args.rate
    published, started, first_stamp, first_matched_stamp = 0, time.monotonic(), None, None
    next_time = started
    while not stop:
        now = time.monotonic()
        if now < next_time:
            time.sleep(next_time - now)
            continue
        # Behind schedule (a busy machine): publish now and do not burst to catch up.
        next_time = max(next_time + period, now - period)
        msg = messages[published % len(messages)]
        msg.header.stamp = node.get_clock().now().to_msg()
        publisher.publish(msg)
        published += 1
        stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
        if published == 1:
            first_stamp = stamp
        matched_now = first_matched_stamp is None and publisher.get_subscription_count() > 0
        if matched_now:   # DDS discovery is done: the images before this one went to nobody
            first_matched_stamp = stamp
        if published in (1, 2) or published % 200 == 0 or matched_now:
            _write_stats(args.stats, published, time.monotonic() - started, first_stamp, first_matched_stamp)
    _write_stats(args.stats, published, time.monotonic() - started, first_stamp, first_matched_stamp)
    node.destroy_node()
    rclpy.try_shutdown()
    return 0


def _write_stats(path: str, published: int, seconds: float, first_stamp: float | None,
                 first_matched_stamp: float | None = None) -> None:
    text = json.dumps({"published": published, "seconds": seconds, "first_stamp": first_stamp,
                       "first_matched_stamp": first_matched_stamp})
    write_atomically(path, lambda partial: partial.write_text(text))


def slow_subscriber_main(args) -> int:
    """
    On SIGUSR1, subscribes to every output of the node (reliable, depth 10) and sleeps ``--delay`` s per message.

    It is started early and subscribes on the signal, so its own start-up (imports: seconds of CPU) does not fall in
    the window where the node's rate is measured.
    """
    import rclpy
    from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image

    from viltrack_ros.ros.interfaces import TrackedObject, TrackedObjectArray

    stop = []
    signal.signal(signal.SIGINT, lambda *_: stop.append(True))
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    rclpy.init(signal_handler_options=rclpy.signals.SignalHandlerOptions.NO)
    node = rclpy.create_node("load_slow_subscriber")
    qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=10, reliability=ReliabilityPolicy.RELIABLE)
    received = [0]
    subscribe = []
    signal.signal(signal.SIGUSR1, lambda *_: subscribe.append(True))

    def slow(_msg) -> None:
        received[0] += 1
        time.sleep(args.delay)

    while not stop and not subscribe:
        time.sleep(0.05)
    for msg_type, topic in ((TrackedObject, "tracked_object"), (TrackedObjectArray, "tracked_objects"),
                            (Image, "overlay")):
        node.create_subscription(msg_type, topic, slow, qos)
    while not stop:
        rclpy.spin_once(node, timeout_sec=0.1)
    Path(args.stats).write_text(json.dumps({"received": received[0]}))
    node.destroy_node()
    rclpy.try_shutdown()
    return 0


# --- the watcher -----------------------------------------------------------------------------------------------------
def _start(args: list[str], log_path: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "viltrack_ros.ros.load_benchmark", *args],
                            stdout=open(log_path, "w"), stderr=subprocess.STDOUT, env=dict(os.environ))


def run_load(weights: Path, rate: float = DEFAULT_RATE_HZ, size: tuple[int, int] = DEFAULT_SIZE,
             duration: float = DEFAULT_DURATION_S, pause: float = DEFAULT_PAUSE_S,
             slow_delay: float = DEFAULT_SLOW_DELAY_S, threads: int = DEFAULT_THREADS, frames: int = CAMERA_FRAMES,
             work_dir: Path | None = None, progress=print) -> LoadResult:
    """
    Run the three phases (module docstring) and return what was measured.

    rclpy runs in its own context here, so a caller that already uses rclpy (a test) is not disturbed.
    """
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
    from sensor_msgs.msg import Image

    from viltrack_ros.evaluation.benchmark_frames import benchmark_frames
    from viltrack_ros.ros.interfaces import InitTarget, TrackedObject, TrackedObjectArray
    from viltrack_ros.ros.shm_segments import remove_stale_segments

    started_at = time.time()
    work_dir = Path(work_dir or tempfile.mkdtemp(prefix="viltrack_load_"))
    work_dir.mkdir(parents=True, exist_ok=True)
    result = LoadResult(rate_hz=rate, size=size, duration_s=duration)
    camera_args = ["camera", "--rate", str(rate), "--size", f"{size[0]}x{size[1]}", "--frames", str(frames)]
    node_log = work_dir / "tracker_node.log"
    tracker = start_tracker_node(weights, threads, node_log, ("diagnostics.period:=0.5",))
    context = rclpy.Context()
    rclpy.init(context=context, signal_handler_options=rclpy.signals.SignalHandlerOptions.NO)
    watcher = rclpy.create_node("load_watcher", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(watcher)
    reliable = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=100, reliability=ReliabilityPolicy.RELIABLE)
    objects: list[tuple[float, TrackedObject]] = []
    arrays: list[tuple[float, float]] = []   # (arrival, stamp)
    reports: list[tuple[float, object]] = []
    overlays = [0]
    watcher.create_subscription(TrackedObject, "tracked_object", lambda m: objects.append((time.time(), m)), reliable)
    watcher.create_subscription(
        TrackedObjectArray, "tracked_objects",
        lambda m: arrays.append((time.time(), m.header.stamp.sec + m.header.stamp.nanosec * 1e-9)), reliable)
    watcher.create_subscription(DiagnosticArray, "/diagnostics", lambda m: reports.append((time.time(), m)), reliable)
    # A fast overlay subscriber for the whole run, so the node draws the overlay in both halves of the steady phase
    # and only the slow subscriber's behaviour differs between them.
    watcher.create_subscription(Image, "overlay", lambda m: overlays.__setitem__(0, overlays[0] + 1),
                                QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=2,
                                           reliability=ReliabilityPolicy.RELIABLE))
    init_client = watcher.create_client(InitTarget, "init_target")

    def spin_until(condition, timeout: float) -> bool:
        return spin_executor_until(executor, condition, timeout, alive=lambda: tracker.poll() is None)

    def spin_for(seconds: float) -> None:
        spin_until(lambda: False, seconds)

    def resumed_after(stats_path: Path, timeout: float = 60.0) -> float | None:
        """Seconds from a new camera's first image to the first TrackedObject of the target that it brings."""
        def first_stamp():
            return json.loads(stats_path.read_text())["first_stamp"] if stats_path.exists() else None

        if not spin_until(lambda: first_stamp() is not None, timeout):
            return None
        first = first_stamp()
        answered = lambda: [arrival for arrival, m in objects   # noqa: E731
                            if m.target_id == 0 and m.header.stamp.sec + m.header.stamp.nanosec * 1e-9 >= first]
        if not spin_until(answered, timeout):
            return None
        return round(min(answered()) - first, 2)

    def discovered_after(stats_path: Path, timeout: float = 10.0) -> float | None:
        """Seconds from a new camera's first image to its first one published after it matched the node."""
        def stats():
            return json.loads(stats_path.read_text()) if stats_path.exists() else {}

        # The camera writes the match right after that image, but a busy camera process may write it late.
        if not spin_until(lambda: stats().get("first_matched_stamp") is not None, timeout):
            return None
        return round(stats()["first_matched_stamp"] - stats()["first_stamp"], 2)

    cameras = []
    slow = None
    try:
        if not spin_until(init_client.service_is_ready, 120):
            raise RuntimeError(f"the tracker node did not come up; see {node_log}")
        cameras.append(_start(camera_args + ["--stats", str(work_dir / "camera_1.json")], work_dir / "camera_1.log"))
        if not spin_until(lambda: len(arrays) >= 3, 120):
            raise RuntimeError(f"no tracked_objects from the camera's images; see {node_log}")
        _, box, _ = benchmark_frames(1, size)
        future = init_client.call_async(InitTarget.Request(x=box[0], y=box[1], width=box[2], height=box[3]))
        if not spin_until(future.done, 30) or not future.result().success:
            raise RuntimeError(f"init_target failed: {future.result() if future.done() else 'no answer'}")
        slow = _start(["slow-subscriber", "--delay", str(slow_delay), "--stats", str(work_dir / "slow.json")],
                      work_dir / "slow.log")
        spin_for(max(3.0, min(5.0, duration / 4)))   # warm-up (first allocations), and the slow subscriber starts
        progress(f"steady phase: {duration:g} s of {rate:g} Hz {size[0]}x{size[1]} images")

        start = time.time()
        published_at_start = json.loads((work_dir / "camera_1.json").read_text())["published"] \
            if (work_dir / "camera_1.json").exists() else 0
        rss = [rss_mb(tracker.pid)]
        half, subscribed = start + duration / 2, False
        while time.time() < start + duration and tracker.poll() is None:
            spin_for(min(1.0, max(0.0, half - time.time())) if not subscribed else 1.0)
            rss.append(rss_mb(tracker.pid))
            if not subscribed and time.time() >= half:
                slow.send_signal(signal.SIGUSR1)
                half, subscribed = time.time(), True
        end = time.time()
        stop_process(cameras[-1], timeout=15)   # phase 2 begins: the publisher stops
        camera_stats = json.loads((work_dir / "camera_1.json").read_text())
        spin_for(0.5)   # the answers to the last images

        steady = [(arrival, m) for arrival, m in objects
                  if start <= m.header.stamp.sec + m.header.stamp.nanosec * 1e-9 <= end and m.target_id == 0]
        result.latency_ms = percentiles_ms([a - (m.header.stamp.sec + m.header.stamp.nanosec * 1e-9)
                                            for a, m in steady])
        result.processing_ms = percentiles_ms([m.processing_latency.sec + m.processing_latency.nanosec * 1e-9
                                               for _, m in steady])
        result.processed = sum(1 for _, stamp in arrays if start <= stamp <= end)
        first_half = sum(1 for _, stamp in arrays if start <= stamp < half)
        second_half = sum(1 for _, stamp in arrays if half + 0.5 <= stamp <= end)   # once it has matched
        result.rate_without_slow_subscriber_hz = round(first_half / max(half - start, 1e-9), 2)
        result.rate_with_slow_subscriber_hz = round(second_half / max(end - half - 0.5, 1e-9), 2)
        result.published = camera_stats["published"] - published_at_start
        result.published_rate_hz = round(camera_stats["published"] / camera_stats["seconds"], 1)
        values = [{kv.key: kv.value for kv in status.values} for arrival, report in reports
                  if start <= arrival <= end + 0.5 for status in report.status if status.name.endswith("image input")]
        result.dropped = sum(int(v["images dropped"]) for v in values if v["images dropped"].isdigit())
        result.received_by_node = sum(int(v["images received"]) for v in values)
        result.rss_mb = {"start": round(rss[0], 1), "end": round(rss[-1], 1), "max": round(max(rss), 1),
                         "half": round(rss[len(rss) // 2], 1)}
        result.rss_series_mb = [round(value, 1) for value in rss]

        # Phase 2: nothing for `pause` s, then a new camera process.
        pause_start = time.time()
        spin_for(pause)
        result.no_image_warning_during_pause = any(
            "no image for" in status.message for arrival, report in reports if arrival >= pause_start
            for status in report.status)
        cameras.append(_start(camera_args + ["--stats", str(work_dir / "camera_2.json")], work_dir / "camera_2.log"))
        result.resume_after_restart_s = resumed_after(work_dir / "camera_2.json")
        result.discovery_after_restart_s = discovered_after(work_dir / "camera_2.json")
        spin_for(1.0)

        # Phase 3: the camera disappears without a word, and comes back.
        stop_process(cameras[-1], signal.SIGKILL, timeout=15)
        spin_for(pause)
        cameras.append(_start(camera_args + ["--stats", str(work_dir / "camera_3.json")], work_dir / "camera_3.log"))
        result.resume_after_disappearance_s = resumed_after(work_dir / "camera_3.json")
        result.discovery_after_disappearance_s = discovered_after(work_dir / "camera_3.json")
        spin_for(1.0)
        statuses = [m.status for _, m in objects if m.target_id == 0]
        result.target_statuses = {name: statuses.count(value) for value, name in
                                  ((TrackedObject.INITIALIZING, "INITIALIZING"), (TrackedObject.TRACKING, "TRACKING"),
                                   (TrackedObject.LOST, "LOST"))}
    finally:
        for camera in cameras:
            stop_process(camera, timeout=15)
        if slow is not None:
            stop_process(slow, timeout=15)
            if (work_dir / "slow.json").exists():
                result.slow_subscriber_received = json.loads((work_dir / "slow.json").read_text())["received"]
        result.node_alive = tracker.poll() is None
        stop_process(tracker, timeout=15)
        executor.shutdown(timeout_sec=0)
        watcher.destroy_node()
        rclpy.try_shutdown(context=context)
        # The camera killed in phase 3 could not close its DDS participant: its shared-memory segment stays in
        # /dev/shm (64 MB) unless removed.
        remove_stale_segments(since=started_at)
        result.node_log = node_log.read_text()[-4000:]
    return result


def report(result: LoadResult, weights: Path) -> str:
    lat, proc = result.latency_ms, result.processing_ms
    lines = [
        f"viltrack_ros load benchmark: {result.size[0]}x{result.size[1]} bgr8 at {result.rate_hz:g} Hz "
        f"(camera achieved {result.published_rate_hz:g} Hz) for {result.duration_s:g} s, depth-1 sensor-data QoS",
        f"weights {weights}, {cpu_description()}, {os.cpu_count()} cores, "
        f"DDS {os.environ.get('RMW_IMPLEMENTATION', 'default')} on loopback",
        "",
        "| measurement | value |",
        "|---|---|",
        f"| images published (steady phase) | {result.published} |",
        f"| images processed | {result.processed} |",
        f"| images dropped (node's count, depth 1) | {result.dropped} |",
        f"| latency stamp -> TrackedObject p50 / p99 / max | {lat['p50']} / {lat['p99']} / {lat['max']} ms |",
        f"| node processing per image p50 / p99 / max | {proc['p50']} / {proc['p99']} / {proc['max']} ms |",
        f"| node RSS start / half-time / end / max | {result.rss_mb['start']} / {result.rss_mb['half']} / "
        f"{result.rss_mb['end']} / {result.rss_mb['max']} MB |",
        f"| processing rate without / with a slow subscriber | {result.rate_without_slow_subscriber_hz} / "
        f"{result.rate_with_slow_subscriber_hz} Hz (the slow one took {result.slow_subscriber_received} messages) |",
        f"| publisher stopped and restarted: first image -> target tracked | {result.resume_after_restart_s} s "
        f"(of which DDS discovery of the new camera {result.discovery_after_restart_s} s) |",
        f"| camera killed (SIGKILL) and restarted: first image -> target tracked | "
        f"{result.resume_after_disappearance_s} s (DDS discovery {result.discovery_after_disappearance_s} s of it) |",
        f"| /diagnostics warned 'no image' during the pause | {result.no_image_warning_during_pause} |",
        f"| target statuses over the run | {result.target_statuses} |",
        f"| node alive at the end | {result.node_alive} |",
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().split("\n")[0])
    sub = parser.add_subparsers(dest="command", help=argparse.SUPPRESS)  # its own helper processes, not for users
    # The helper processes get every value from run_load, which takes the defaults below.
    camera = sub.add_parser("camera")
    camera.add_argument("--rate", type=float, required=True)
    camera.add_argument("--size", required=True)
    camera.add_argument("--frames", type=int, required=True)
    camera.add_argument("--stats", required=True)
    slow = sub.add_parser("slow-subscriber")
    slow.add_argument("--delay", type=float, required=True)
    slow.add_argument("--stats", required=True)
    parser.add_argument("--weights", help="checkpoint (.pt); default: the package's weights")
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE_HZ,
                        help=f"camera rate in Hz (default {DEFAULT_RATE_HZ:g})")
    parser.add_argument("--size", default="x".join(map(str, DEFAULT_SIZE)),
                        help="image size WxH (default %(default)s)")
    parser.add_argument("--duration", type=float, default=DEFAULT_DURATION_S,
                        help=f"seconds of the steady phase (default {DEFAULT_DURATION_S:g})")
    parser.add_argument("--pause", type=float, default=DEFAULT_PAUSE_S,
                        help=f"seconds without a camera in phases 2 and 3 (default {DEFAULT_PAUSE_S:g})")
    parser.add_argument("--slow-delay", type=float, default=DEFAULT_SLOW_DELAY_S,
                        help=f"seconds the slow subscriber sleeps per message (default {DEFAULT_SLOW_DELAY_S:g})")
    parser.add_argument("--threads", type=thread_count, default=DEFAULT_THREADS,
                        help=f"the network's CPU threads in the node (onnxruntime or PyTorch; default "
                             f"{DEFAULT_THREADS}: the camera process needs a core too)")
    parser.add_argument("--json", help="also write the measurements here")
    args = parser.parse_args(argv)
    if args.command == "camera":
        return camera_main(args)
    if args.command == "slow-subscriber":
        return slow_subscriber_main(args)

    from viltrack_ros.model.checkpoint import default_weights_path

    weights = Path(args.weights) if args.weights else default_weights_path()
    size = tuple(int(v) for v in args.size.lower().split("x"))
    result = run_load(weights, rate=args.rate, size=size, duration=args.duration, pause=args.pause,
                      slow_delay=args.slow_delay, threads=args.threads,
                      progress=lambda text: print(text, file=sys.stderr, flush=True))
    print(report(result, weights))
    if args.json:
        Path(args.json).write_text(json.dumps({k: v for k, v in asdict(result).items() if k != "node_log"}, indent=2))
    if not result.node_alive:
        print("\nthe tracker node died; its log:\n" + result.node_log, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
