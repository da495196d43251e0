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
End-to-end demo without a camera: tracker node process + replay publisher + a client that starts the target.

  python -m viltrack_ros.ros.demo                                  # Debian opencv-doc's vtest.avi, a pedestrian
  python -m viltrack_ros.ros.demo --source VIDEO_OR_FOLDER --box x,y,w,h
  python -m viltrack_ros.ros.demo --source BAG --bag-topic /camera/image_raw --box x,y,w,h --record outputs/tracks
  python -m viltrack_ros.ros.demo --source THERMAL_BAG --box x,y,w,h --param image.auto_range:=true

The tracker node runs as its own process, exactly as `ros2 run` would start it; this process publishes the video
as sensor_msgs/Image, calls init_target on the first frame, and records what the node publishes:
``<out>/annotated.mp4`` (the node's overlay images), ``<out>/tracked_objects.csv`` (every TrackedObject) and
``<out>/tracker_node.log``; with ``--record BAG`` also a rosbag2 bag of ``tracked_objects`` and ``tracked_object``.
A bag's images keep their recorded headers. Run it through scripts/demo.sh, which prepares the machine and the ROS
environment.
"""
from __future__ import annotations

import argparse
import csv
import re
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

from viltrack_ros.model.checkpoint import default_weights_path, read_checkpoint
from viltrack_ros.ros.bag_recorder import BagRecorder
from viltrack_ros.ros.interfaces import InitTarget, TrackedObject, TrackedObjectArray
from viltrack_ros.ros.replay_publisher import ReplayPublisher
from viltrack_ros.ros.stamps import stamp_key, stamp_text
from viltrack_ros.ros.processes import default_threads, percentile_ms, spin_until, start_tracker_node, stop_process
from viltrack_ros.paths import is_checkout, project_root
from viltrack_ros.settings import at_least, parse_box, thread_count
from viltrack_ros.tracking import TrackResult, TrackStatus
from viltrack_ros.tracking.visualize import draw_tracks

OPENCV_SAMPLES = Path("/usr/share/doc/opencv-doc/examples/data")
# The default input: the pedestrian in black on the right of vtest.avi's first frame, walking left across the
# square (box picked by looking at the frame).
DEFAULT_VIDEO = "vtest.avi"
DEFAULT_BOX = (638.0, 238.0, 48.0, 84.0)
RECORD_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=100, reliability=ReliabilityPolicy.RELIABLE)
RECORDED_TOPICS = ["tracked_objects", "tracked_object"]
# The replay publisher's own limit for its fps parameter.
MAX_FPS = 1000.0
# A run stopped with Ctrl-C or SIGTERM ends as shells report an interrupted command (128 + SIGINT), its files written.
INTERRUPTED_EXIT = 130


def default_source() -> Path:
    for name in (DEFAULT_VIDEO, DEFAULT_VIDEO + ".gz"):
        if (OPENCV_SAMPLES / name).exists():
            return OPENCV_SAMPLES / name
    raise SystemExit(f"the default input {OPENCV_SAMPLES / DEFAULT_VIDEO} is missing: install Debian's opencv-doc "
                     "(scripts/setup.sh does, as root) or give --source VIDEO_OR_FOLDER --box x,y,w,h")


def first_box(source: Path, box: tuple[float, float, float, float] | None) -> tuple[float, float, float, float]:
    if not source.exists():
        raise SystemExit(f"cannot start: no video, folder of images or rosbag2 bag at {source}")
    if box:
        return box
    groundtruth = source / "groundtruth.txt" if source.is_dir() else None
    if groundtruth and groundtruth.is_file():   # the shared sequences' layout: first line is the first box
        return groundtruth_first_box(groundtruth)
    if source.name.startswith(DEFAULT_VIDEO):
        return DEFAULT_BOX
    raise SystemExit(f"give the target's box on the first frame of {source} with --box x,y,w,h")


def groundtruth_first_box(path: Path) -> tuple[float, float, float, float]:
    """
    Read the first box of a ``groundtruth.txt``: ``x,y,w,h`` (commas, tabs or spaces), or VOT's 8-value polygon.

    A polygon becomes the box around its corners; anything else stops the demo with what was found.
    """
    lines = path.read_text().splitlines()
    text = lines[0].strip() if lines else ""
    try:
        values = [float(v) for v in re.split(r"[,\s]+", text) if v]
    except ValueError:
        values = []
    if len(values) == 8:
        xs, ys = values[0::2], values[1::2]
        values = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
    if len(values) != 4:
        raise SystemExit(f"cannot start: the first line of {path} is not a box (x,y,w,h or an 8-value polygon): "
                         f"{text[:80]!r}; give --box x,y,w,h")
    return tuple(values)


@dataclass
class Recording:
    objects: list[TrackedObject] = field(default_factory=list)
    arrays: dict[tuple[int, int], TrackedObjectArray] = field(default_factory=dict)
    overlays: dict[tuple[int, int], Image] = field(default_factory=dict)
    sent_at: dict[tuple[int, int], float] = field(default_factory=dict)       # wall time the image went out
    received_at: dict[tuple[int, int], float] = field(default_factory=dict)   # wall time the array arrived


def header_key(msg) -> tuple[int, int]:
    return stamp_key(msg.header.stamp)


def end_to_end_s(recording: Recording, key: tuple[int, int]) -> float:
    """
    Return the time from publishing the image to receiving the node's answer.

    A bag's images keep their old stamps, so the stamp is not the publishing time.
    """
    return recording.received_at.get(key, float("nan")) - recording.sent_at.get(key, float("nan"))


class DemoClient(Node):
    """Starts the target through the service and records the node's outputs."""

    def __init__(self, recording: Recording):
        super().__init__("viltrack_demo_client")
        self.recording = recording
        self.create_subscription(TrackedObject, "tracked_object", recording.objects.append, RECORD_QOS)
        self.create_subscription(TrackedObjectArray, "tracked_objects", self._on_array, RECORD_QOS)
        self.create_subscription(Image, "overlay", self._on_overlay, RECORD_QOS)
        self.init_client = self.create_client(InitTarget, "init_target")

    def _on_array(self, msg: TrackedObjectArray) -> None:
        self.recording.received_at[header_key(msg)] = time.time()
        self.recording.arrays[header_key(msg)] = msg

    def _on_overlay(self, msg: Image) -> None:
        self.recording.overlays[header_key(msg)] = msg


def prepare_weights(requested: str | None, out_dir: Path) -> tuple[Path, bool]:
    """
    Return the checkpoint to run, and whether it is trained.

    Without any weights the demo still shows the plumbing, with an untrained network that it names as such.
    """
    path = Path(requested) if requested else default_weights_path()
    if path.exists():
        return path, bool(read_checkpoint(path)["trained"])
    if requested:
        raise SystemExit(f"weights file {path} not found")
    import torch

    from viltrack_ros.model import build_model, get_preset
    from viltrack_ros.model.checkpoint import save_checkpoint

    print(f"WARNING: no default weights at {path}; running an UNTRAINED vil_cpu network: the pipeline works, "
          "the boxes mean nothing", file=sys.stderr)
    torch.manual_seed(0)
    return save_checkpoint(out_dir / "untrained_vil_cpu.pt", build_model(get_preset("vil_cpu")), trained=False), False


def run(args: argparse.Namespace) -> int:
    source = Path(args.source) if args.source else default_source()
    box = first_box(source, args.box)      # before anything is created: a wrong source leaves no empty --out behind
    out_dir = Path(args.out).resolve() if args.out else default_out_dir()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SystemExit(f"cannot start: cannot create the output folder {out_dir} ({error.strerror})") from None
    weights, trained = prepare_weights(args.weights, out_dir)
    log_path = out_dir / "tracker_node.log"

    # Ctrl-C and SIGTERM end the streaming, not the program: what was tracked until then is still written.
    rclpy.init(signal_handler_options=rclpy.signals.SignalHandlerOptions.NO)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    recording = Recording()
    client = DemoClient(recording)
    recorder = None
    try:
        # Before the node process starts: a wrong source, bag topic or output stops here and leaves nothing behind.
        replay = ReplayPublisher(use_timer=False, parameter_overrides=[
            rclpy.parameter.Parameter("source", value=str(source)),
            rclpy.parameter.Parameter("bag_topic", value=args.bag_topic),
            rclpy.parameter.Parameter("max_frames", value=args.max_frames),
            rclpy.parameter.Parameter("fps", value=float(args.fps)),
            rclpy.parameter.Parameter("restamp", value=args.restamp),
        ])
        if args.record:
            recorder = BagRecorder(parameter_overrides=[
                rclpy.parameter.Parameter("output", value=str(Path(args.record).resolve())),
                rclpy.parameter.Parameter("storage", value=args.record_storage),
                rclpy.parameter.Parameter("topics", value=RECORDED_TOPICS),
            ])
    except (ValueError, OSError, ImportError) as error:   # OSError: a --record path that cannot be written
        rclpy.try_shutdown()
        raise SystemExit(f"cannot start: {error}") from None
    node_process = start_tracker_node(weights, args.threads, log_path, tuple(args.node_parameters))
    print(f"source  {source}\nbox     {box}\nweights {weights} ({'trained' if trained else 'UNTRAINED'})\n"
          f"mode    {'lock-step (every frame processed)' if args.fps == 0 else f'live at {args.fps:g} fps'}")
    executor = SingleThreadedExecutor()
    for node in (client, replay, recorder):
        if node is not None:
            executor.add_node(node)
    sent: list[tuple[int, int]] = []
    given = None     # the target's id and box, once init_target answered
    interrupted = exhausted = False
    started = time.monotonic()
    try:
        node_alive = lambda: node_process.poll() is None  # noqa: E731
        if not spin_until(executor, lambda: not node_alive() or (client.init_client.service_is_ready()
                                                                 and replay.publisher.get_subscription_count()),
                          120):
            raise SystemExit(f"the tracker node did not come up; see {log_path}")
        if not node_alive():
            raise SystemExit(f"the tracker node exited ({node_process.returncode}); see {log_path}")
        if recorder:
            if not spin_until(executor, recorder.recording_all_topics, 30):
                raise SystemExit(f"the bag recorder never saw the node's {', '.join(RECORDED_TOPICS)}")
            # The recorder has matched the node's writers; each writer has yet to match the recorder (DDS discovers
            # both ways on its own, and nothing shows the writer's side here): frame 0's answer must not go before.
            spin_until(executor, lambda: False, 1.0)

        def publish(msg) -> Image:
            sent = replay.publish_frame(msg)
            recording.sent_at[header_key(sent)] = time.time()
            return sent

        # Frame 0: resent until the node has it (the first message can precede discovery on the node's side).
        first = replay.next_frame()
        if first is None:
            raise SystemExit(f"{source} has no frames")
        for _ in range(30):
            first_msg = publish(first)
            if spin_until(executor, lambda: header_key(first_msg) in recording.arrays, 1.0):
                break
        else:
            raise SystemExit(f"the tracker node never answered; see {log_path}{last_warning(log_path)}")
        sent.append(header_key(first_msg))
        request = InitTarget.Request(x=box[0], y=box[1], width=box[2], height=box[3])
        request.stamp = first_msg.header.stamp   # the box was drawn on exactly this frame
        future = client.init_client.call_async(request)
        spin_until(executor, future.done, 30)
        if not future.done() or not future.result().success:
            raise SystemExit(f"init_target failed: {future.result().message if future.done() else 'no answer'}")
        print(f"init    {future.result().message}")
        given = (future.result().target_id, box)

        period = 1.0 / args.fps if args.fps > 0 else 0.0
        next_time = time.monotonic()
        while True:
            if period:
                spin_until(executor, lambda: time.monotonic() >= next_time, period + 1)
                next_time += period
            msg = replay.next_frame()
            if msg is None:
                exhausted = True
                break
            if header_key(msg) in recording.sent_at:
                # Answers are matched to images by stamp: a repeated stamp would take an earlier image's answer.
                raise SystemExit(f"frame {len(sent)} of {source} has the stamp of an earlier one "
                                 f"({stamp_text(header_key(msg))}): give --restamp")
            publish(msg)
            sent.append(header_key(msg))
            if not period and not spin_until(executor, lambda: header_key(msg) in recording.arrays, 60):
                raise SystemExit(f"no answer for frame {len(sent) - 1} within 60 s; see {log_path}"
                                 f"{last_warning(log_path)}")
            if len(sent) % 50 == 0:
                print(f"  {len(sent)} frames", flush=True)
        spin_until(executor, lambda: False, 1.0)   # late answers and overlays
    except KeyboardInterrupt:
        interrupted = True
        print(f"\nstopped after {len(sent)} frames: writing what was tracked", flush=True)
    finally:
        elapsed = time.monotonic() - started
        stop_process(node_process)
        executor.shutdown()
        if recorder is not None:
            recorder.close()
            recorder.destroy_node()
        client.destroy_node()
        replay.destroy_node()
        rclpy.try_shutdown()

    status = report(args, out_dir, source, sent, recording, elapsed, trained, replay.fps, given,
                    single_frame=exhausted and len(sent) == 1)
    return INTERRUPTED_EXIT if interrupted else status


def report(args, out_dir: Path, source: Path, sent, recording: Recording, elapsed: float, trained: bool,
           source_fps: float, given: tuple[int, tuple[float, ...]] | None, single_frame: bool = False) -> int:
    """
    Write the CSV and the annotated video, print the summary; return the exit status.

    ``given``: the target's id and the box it was given on frame 0, drawn on that frame (the node answers from
    the next image on).
    """
    frame_index = {stamp: index for index, stamp in enumerate(sent)}
    csv_path = out_dir / "tracked_objects.csv"
    with open(csv_path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["frame", "stamp", "frame_id", "target_id", "center_x", "center_y", "width", "height",
                         "x", "y", "confidence", "status", "processing_latency_ms", "end_to_end_latency_ms"])
        for obj in recording.objects:
            key = header_key(obj)
            processing = obj.processing_latency.sec + obj.processing_latency.nanosec * 1e-9
            end_to_end = end_to_end_s(recording, key)
            writer.writerow([frame_index.get(key, -1), stamp_text(key), obj.header.frame_id,
                             obj.target_id, f"{obj.center_x:.2f}", f"{obj.center_y:.2f}", f"{obj.width:.2f}",
                             f"{obj.height:.2f}", f"{obj.center_x - obj.width / 2:.2f}",
                             f"{obj.center_y - obj.height / 2:.2f}", f"{obj.confidence:.4f}",
                             TrackStatus(obj.status).name, f"{processing * 1000:.2f}", f"{end_to_end * 1000:.2f}"])

    video_path = out_dir / "annotated.mp4"
    overlays = [recording.overlays[stamp] for stamp in sent if stamp in recording.overlays]
    if overlays:
        width, height = overlays[0].width, overlays[0].height
        writer = cv2.VideoWriter(str(video_path), cv2.VideoWriter_fourcc(*"mp4v"), source_fps, (width, height))
        for overlay in overlays:
            rgb = np.frombuffer(overlay.data, np.uint8).reshape(overlay.height, overlay.width, 3)
            if (overlay.width, overlay.height) != (width, height):   # a video holds one size: OpenCV drops others
                rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
            if given is not None and overlay is recording.overlays.get(sent[0]):
                target_id, box = given
                rgb = draw_tracks(rgb, [(target_id, TrackResult(box, 1.0, TrackStatus.INITIALIZING))])
            writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        writer.release()

    answered = [stamp for stamp in sent if stamp in recording.arrays]
    end_to_end = [end_to_end_s(recording, s) for s in answered[1:]]   # after frame 0 (init)
    processing = [o.processing_latency.sec + o.processing_latency.nanosec * 1e-9 for o in recording.objects]
    statuses = [TrackStatus(o.status).name for o in recording.objects]
    print("\n=== viltrack_ros demo ===")
    print(f"input                 {source}")
    print(f"weights               {'trained' if trained else 'UNTRAINED (boxes are meaningless)'}")
    print(f"frames published      {len(sent)}")
    print(f"frames processed      {len(answered)}  (TrackedObjectArray messages)")
    print(f"TrackedObject msgs    {len(recording.objects)}  "
          + ", ".join(f"{name.lower()} {statuses.count(name)}" for name in ("TRACKING", "LOST", "INITIALIZING")))
    for label, values in (("latency image->answer", end_to_end), ("node processing", processing)):
        print(f"{label:<22}p50 {percentile_ms(values, 50):.1f} ms   p99 {percentile_ms(values, 99):.1f} ms")
    print(f"throughput            {len(answered) / elapsed:.1f} frames/s over {elapsed:.1f} s")
    print(f"annotated video       {video_path if overlays else 'none (no overlay received)'} ({len(overlays)} frames)")
    print(f"tracked objects CSV   {csv_path}")
    if args.record:
        print(f"recorded bag          {Path(args.record).resolve()}")
    ok = len(answered) > 1 and len(recording.objects) > 0 and overlays
    if single_frame:
        print(f"{source} has a single frame: the target was given on it, and no frame was left to track",
              file=sys.stderr)
    return 0 if ok else 1


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.strip().split("\n")[0])
    parser.add_argument("--source", help="video file, folder of frames, or rosbag2 bag (folder, .mcap or .db3) "
                                         "(default: opencv-doc's vtest.avi)")
    parser.add_argument("--bag-topic", default="", help="image topic of a bag source; default: its only "
                                                        "sensor_msgs/Image topic")
    parser.add_argument("--record", help="also record the node's tracked_objects and tracked_object into this new "
                                         "rosbag2 bag folder")
    parser.add_argument("--record-storage", choices=["mcap", "sqlite3"], default="mcap",
                        help="storage of the recorded bag: mcap (default) or sqlite3 (.db3)")
    parser.add_argument("--box", type=parse_box,
                        help="target box on the first frame: x,y,w,h (top-left, pixels); a folder with "
                             "groundtruth.txt gives its first line")
    parser.add_argument("--weights", help="checkpoint (.pt); default: the weights shipped with the package")
    parser.add_argument("--max-frames", type=at_least(0), default=300, help="frames to stream, 0 = all (default 300)")
    parser.add_argument("--fps", type=frame_rate, default=0.0,
                        help="0 (default): lock-step, every frame is processed; >0: stream live at this rate and "
                             "let the node drop what it cannot keep up with")
    parser.add_argument("--threads", type=thread_count, default=default_threads(),
                        help="the network's CPU threads in the node (onnxruntime or PyTorch; default: half the "
                             "cores, leaving the rest to the video publisher and recorder; oversubscribed cores make "
                             "the latency tail much longer)")
    parser.add_argument("--restamp", action="store_true",
                        help="stamp a bag's images with the time they are sent (for a bag whose stamps repeat); "
                             "by default they keep their recorded headers")
    parser.add_argument("--out", help="output folder (default: outputs/demo in the checkout)")
    parser.add_argument("--param", dest="node_parameters", metavar="NAME:=VALUE", type=node_parameter,
                        action="append", default=[],
                        help="a parameter of the tracker node, as after ros2 run's -p (repeatable): e.g. "
                             "image.auto_range:=true for a thermal camera's 16-bit bag, tracker.window_influence:=0.3")
    return parser.parse_args(argv)


# Set by the demo's own options: a second value through --param would be a second home for them.
_DEMO_SET_PARAMETERS = {"weights": "use --weights", "threads": "use --threads", "device": "it runs the node on the CPU"}


def node_parameter(text: str) -> str:
    """Parse --param: ``NAME:=VALUE`` with a parameter name (the value is the node's to check, as with -p)."""
    name, separator, value = text.partition(":=")
    if not separator or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", name) or not value:
        raise argparse.ArgumentTypeError(f"expected NAME:=VALUE (e.g. image.auto_range:=true), got {text!r}")
    if name in _DEMO_SET_PARAMETERS:
        raise argparse.ArgumentTypeError(f"{name} is set by the demo itself: {_DEMO_SET_PARAMETERS[name]}")
    return text


def frame_rate(text: str) -> float:
    """Parse --fps: 0 (lock-step) or a rate up to MAX_FPS."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 <= value <= MAX_FPS:
        raise argparse.ArgumentTypeError(f"must be 0 (lock-step) or up to {MAX_FPS:g} frames per second, got {value:g}")
    return value


def default_out_dir() -> Path:
    """Return ``outputs/demo`` in the checkout (wherever the demo is started), else in the working directory."""
    root = project_root()
    return (root if is_checkout(root) else Path.cwd()) / "outputs" / "demo"


def last_warning(log_path: Path) -> str:
    """Return the node log's last warning or error line, as a sentence's end (why it did not answer), or ''."""
    try:
        lines = [line for line in log_path.read_text(errors="replace").splitlines()
                 if "[WARN]" in line or "[ERROR]" in line or "[FATAL]" in line]
    except OSError:
        return ""
    return f"; its last warning: {lines[-1].strip()[-300:]}" if lines else ""


def main(argv=None) -> int:
    return run(parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
