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
"""The demo as the README runs it (node process + replay publisher + client), on a short real sequence."""

import csv
import gzip
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from .ros_test_support import REPO_ROOT, SEQUENCES, skip_module_unless_ros

skip_module_unless_ros()   # before the ROS imports below

from viltrack_ros.data.frame_source import FrameSource  # noqa: E402
from viltrack_ros.tracking import TrackStatus  # noqa: E402
from viltrack_ros.tracking.visualize import STATUS_COLOURS  # noqa: E402

RNG = np.random.default_rng(3)


def test_demo_writes_the_annotated_video_and_the_csv(tmp_path, test_weights):
    source = SEQUENCES / "Crossing"
    if not source.is_dir():
        pytest.skip(f"real sequence {source} is absent")
    # Relative paths are the caller's, wherever the demo is started (it once resolved them in the checkout).
    (tmp_path / "clip").symlink_to(source)
    out = tmp_path / "demo"
    env = {**os.environ, "PYTHONPATH": f"{REPO_ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    result = subprocess.run(
        [sys.executable, "-m", "viltrack_ros.ros.demo", "--source", "clip", "--max-frames", "8",
         "--weights", str(test_weights), "--threads", "1", "--out", "demo"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "frames processed      8" in result.stdout, result.stdout

    video = cv2.VideoCapture(str(out / "annotated.mp4"))
    assert (video.get(cv2.CAP_PROP_FRAME_WIDTH), video.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (360, 240)
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 8
    # Frame 0 shows the box the target was given, drawn as a target without an estimate yet (grey).
    ok, first = video.read()
    assert ok
    x, y, w, h = (int(round(v)) for v in np.loadtxt(source / "groundtruth.txt", delimiter=",", max_rows=1))
    top_edge = cv2.cvtColor(first, cv2.COLOR_BGR2RGB)[y, x + 2:x + w - 1].reshape(-1, 3)
    assert np.median(top_edge, axis=0) == pytest.approx(STATUS_COLOURS[TrackStatus.INITIALIZING], abs=30)
    with open(out / "tracked_objects.csv") as handle:
        rows = list(csv.DictReader(handle))
    # Frame 0 is the one the target is initialised on; every later frame has its row.
    assert [int(row["frame"]) for row in rows] == list(range(1, 8))
    assert all(0.0 <= float(row["confidence"]) <= 1.0 for row in rows)
    assert all(row["frame_id"] == "camera_optical_frame" for row in rows)
    assert (out / "tracker_node.log").read_text().count("tracking target 0") == 1


def test_a_demo_stopped_with_ctrl_c_writes_what_it_tracked(tmp_path, test_weights):
    import signal
    import time
    source = SEQUENCES / "Crossing"
    if not source.is_dir():
        pytest.skip(f"real sequence {source} is absent")
    out = tmp_path / "demo"
    process = subprocess.Popen(
        [sys.executable, "-m", "viltrack_ros.ros.demo", "--source", str(source), "--max-frames", "0", "--fps", "10",
         "--weights", str(test_weights), "--threads", "1", "--out", str(out)],     # live: 12 s for 120 frames
        cwd=REPO_ROOT, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in process.stdout:      # the target is given: frames are flowing
            if line.startswith("init"):
                break
        time.sleep(2.0)
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=60)[0]
    finally:
        if process.poll() is None:
            process.kill()
    assert "stopped after" in output and "Traceback" not in output, output
    assert process.returncode == 130          # as a shell reports an interrupted command, its files written
    with open(out / "tracked_objects.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert 0 < len(rows) < 100, len(rows)          # some of Crossing's 120 frames, not all
    assert (out / "annotated.mp4").is_file()


def test_the_demo_reads_any_groundtruth_first_line_and_checks_its_options(tmp_path):
    from viltrack_ros.ros.demo import groundtruth_first_box, parse_args
    for text, box in (("205,151,17,50", (205, 151, 17, 50)), ("205\t151\t17\t50", (205, 151, 17, 50)),
                      ("10 20 30 20 30 40 10 40", (10, 20, 20, 20))):   # VOT's polygon: the box around it
        (tmp_path / "groundtruth.txt").write_text(text + "\n")
        assert groundtruth_first_box(tmp_path / "groundtruth.txt") == pytest.approx(box)
    (tmp_path / "groundtruth.txt").write_text("nan,nan\n")
    with pytest.raises(SystemExit, match="is not a box"):
        groundtruth_first_box(tmp_path / "groundtruth.txt")
    for wrong in (["--fps", "-1"], ["--fps", "5000"], ["--max-frames", "-1"], ["--param", "image.auto_range"],
                  ["--param", "image.auto_range:="], ["--param", "1x:=2"], ["--param", "threads:=2"],
                  ["--param", "weights:=other.pt"]):
        with pytest.raises(SystemExit):
            parse_args(wrong)
    given = ["--param", "image.auto_range:=true", "--param", "tracker.window_influence:=0.3"]
    assert parse_args(given).node_parameters == ["image.auto_range:=true", "tracker.window_influence:=0.3"]
    assert parse_args([]).node_parameters == []


def thermal_bag(path, source, frames: int):
    """
    Write a 14-bit thermal camera's bag made from a real sequence: its grey levels as raw counts 7000-9040 (mono16).

    Over the whole 16-bit range those counts are 27-35 of 255, a near-uniform grey.
    """
    from viltrack_ros.data.frame_source import list_frames
    from viltrack_ros.ros.bag_io import BagWriter
    from viltrack_ros.ros.image_conversion import numpy_to_image_msg

    with BagWriter(path) as bag:
        for index, frame_path in enumerate(list_frames(source)[:frames]):
            grey = cv2.cvtColor(cv2.imread(str(frame_path)), cv2.COLOR_BGR2GRAY)
            msg = numpy_to_image_msg((7000 + grey.astype(np.uint16) * 8), "mono16")
            msg.header.frame_id = "thermal_optical_frame"
            msg.header.stamp.sec, msg.header.stamp.nanosec = 100 + index // 10, (index % 10) * 100_000_000
            bag.write("/thermal/image_raw", msg, (100 + index * 0.1) * 1e9)


def test_a_thermal_bag_is_tracked_through_the_demo_with_an_automatic_range(tmp_path):
    """The shipped weights track a face in 16-bit thermal-like counts once the node takes their range itself."""
    source = SEQUENCES / "Dudek"   # a development sequence
    if not source.is_dir():
        pytest.skip(f"real sequence {source} is absent")
    frames = 20   # all of Dudek's
    thermal_bag(tmp_path / "thermal", source, frames)
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "viltrack_ros.ros.demo", "--source", str(tmp_path / "thermal"), "--max-frames", "0",
         "--threads", "1", "--out", str(out), "--box", "123,87,132,176", "--param", "image.auto_range:=true"],
        cwd=REPO_ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"frames processed      {frames}" in result.stdout, result.stdout
    assert "image values automatic (each image's percentiles 1 and 99" in (out / "tracker_node.log").read_text()
    # The overlay shows the scene's contrast, not the near-uniform grey of the counts over 0-65535 (std about 2).
    video = cv2.VideoCapture(str(out / "annotated.mp4"))
    ok, last = video.read()
    assert ok and cv2.cvtColor(last, cv2.COLOR_BGR2GRAY).std() > 30
    truth = np.loadtxt(source / "groundtruth.txt", delimiter=",", max_rows=frames)
    assert tuple(truth[0]) == (123, 87, 132, 176), "the box given above is the sequence's first"
    with open(out / "tracked_objects.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["frame"]) for row in rows] == list(range(1, frames))
    overlaps = []
    for row in rows:
        cx, cy, w, h = (float(row[key]) for key in ("center_x", "center_y", "width", "height"))
        tx, ty, tw, th = truth[int(row["frame"])]
        ix = max(0.0, min(cx + w / 2, tx + tw) - max(cx - w / 2, tx))
        iy = max(0.0, min(cy + h / 2, ty + th) - max(cy - h / 2, ty))
        overlaps.append(ix * iy / (w * h + tw * th - ix * iy))
    assert all(row["frame_id"] == "thermal_optical_frame" for row in rows)
    # Measured: mean IoU 0.825 with the automatic range, 0.615 over the whole 16-bit range (2026-12-07, AMD EPYC).
    assert np.mean(overlaps) > 0.7 and all(row["status"] == "TRACKING" for row in rows), (overlaps, rows[-1])
    # The face moves 13 px to the right over the clip: a box that stood still (a track frozen as if blank) would
    # keep an IoU near 0.9 here, so the box must have followed.
    assert float(rows[-1]["x"]) - float(rows[0]["x"]) > 5, (rows[0], rows[-1])


def test_a_shaken_camera_is_followed_through_the_demo_with_camera_motion(tmp_path):
    """
    Dudek's frames shaken by up to 24 px each, replayed to the node with ``tracker.camera_motion`` on.

    The box stays nearer the face than without it: median centre error 11.8 px through the node, 17.9 px with the
    setting off (measured by hand, 2026-12-07), as in the library and the command line (``test/test_camera_motion.py``,
    ``test/test_cli_and_training.py``).
    """
    from viltrack_ros.data.sequences import ShakenSequence, load_sequence_folder
    from viltrack_ros.evaluation.metrics import centre_error

    source = SEQUENCES / "Dudek"   # a development sequence
    if not source.is_dir():
        pytest.skip(f"real sequence {source} is absent")
    shaken = ShakenSequence(load_sequence_folder(source), 24.0, seed=3)
    folder = tmp_path / "shaken"
    folder.mkdir()
    for index in range(len(shaken)):
        cv2.imwrite(str(folder / f"{index + 1:08d}.png"), cv2.cvtColor(shaken.read_frame(index), cv2.COLOR_RGB2BGR))
    out = tmp_path / "demo"
    box = ",".join(f"{v:g}" for v in shaken.boxes[0])
    result = subprocess.run(
        [sys.executable, "-m", "viltrack_ros.ros.demo", "--source", str(folder), "--max-frames", "0", "--threads", "1",
         "--out", str(out), "--box", box, "--param", "tracker.camera_motion:=true"],
        cwd=REPO_ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"frames processed      {len(shaken)}" in result.stdout, result.stdout
    with open(out / "tracked_objects.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["frame"]) for row in rows] == list(range(1, len(shaken)))
    found = [[float(row["x"]), float(row["y"]), float(row["width"]), float(row["height"])] for row in rows]
    errors = centre_error(found, shaken.boxes[1:])
    assert np.median(errors) < 14.5, errors


def test_frame_source_reads_folders_videos_and_gzip_videos(tmp_path):
    frames = [np.full((32, 48, 3), value, np.uint8) for value in (20, 120, 220)]
    writer = cv2.VideoWriter(str(tmp_path / "clip.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 5.0, (48, 32))
    for frame in frames:
        writer.write(frame)
    writer.release()
    with open(tmp_path / "clip.avi", "rb") as raw, gzip.open(tmp_path / "clip.avi.gz", "wb") as packed:
        packed.write(raw.read())
    folder = tmp_path / "frames"
    folder.mkdir()
    for index, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"{index + 1:08d}.png"), frame)

    for path in (tmp_path / "clip.avi", tmp_path / "clip.avi.gz", folder):
        read = list(FrameSource(path))
        assert len(read) == 3, path
        assert [int(np.median(f)) for f in read] == pytest.approx([20, 120, 220], abs=4)
    assert FrameSource(tmp_path / "clip.avi").fps == pytest.approx(5.0)
    assert len(list(FrameSource(folder, max_frames=2))) == 2
    with pytest.raises(FileNotFoundError):
        FrameSource(tmp_path / "missing.avi")


def test_a_replayed_folder_of_16_bit_frames_goes_out_as_a_16_bit_camera_sends_them(tmp_path, ros_context):
    import rclpy.parameter
    from viltrack_ros.ros.replay_publisher import ReplayPublisher
    grey16 = RNG.integers(7000, 9001, (12, 20)).astype(np.uint16)
    colour16 = RNG.integers(0, 65536, (12, 20, 3)).astype(np.uint16)
    cv2.imwrite(str(tmp_path / "00000001.png"), grey16)
    cv2.imwrite(str(tmp_path / "00000002.png"), colour16)
    as_grey = np.rint(colour16 @ np.array([0.114, 0.587, 0.299])).astype(np.uint16)   # BT.601, BGR order
    cases = {"bgr8": ((grey16, "mono16"), (colour16, "bgr16")),
             "rgb8": ((np.repeat(grey16[:, :, None], 3, axis=2), "rgb16"), (colour16[:, :, ::-1], "rgb16")),
             "mono8": ((grey16, "mono16"), (as_grey, "mono16"))}
    for asked, expected_frames in cases.items():
        replay = ReplayPublisher(use_timer=False, parameter_overrides=[
            rclpy.parameter.Parameter("source", value=str(tmp_path)),
            rclpy.parameter.Parameter("encoding", value=asked)])
        try:
            for expected, encoding in expected_frames:
                msg = replay.next_frame()
                assert msg.encoding == encoding and msg.header.frame_id == "camera_optical_frame", asked
                np.testing.assert_allclose(decode_pixels(msg), expected.reshape(12, 20, -1), atol=1, err_msg=asked)
        finally:
            replay.destroy_node()


def decode_pixels(msg) -> np.ndarray:
    """Read the message's 16-bit values from its bytes by hand, as they are (no conversion to 8 bits)."""
    dtype = np.dtype(">u2" if msg.is_bigendian else "<u2")
    channels = 1 if msg.encoding == "mono16" else 3
    rows = np.frombuffer(bytes(msg.data), np.uint8).reshape(msg.height, msg.step)[:, :msg.width * 2 * channels]
    return rows.copy().view(dtype).reshape(msg.height, msg.width, channels).astype(np.float64)


def test_a_replayed_folder_skips_an_unreadable_frame_with_a_warning(tmp_path, ros_context):
    import rclpy.parameter
    from viltrack_ros.ros.replay_publisher import ReplayPublisher
    for index, value in enumerate((20, 120, 220)):
        cv2.imwrite(str(tmp_path / f"{index + 1:08d}.png"), np.full((16, 16, 3), value, np.uint8))
    (tmp_path / "00000002.png").write_text("not a picture")
    replay = ReplayPublisher(use_timer=False, parameter_overrides=[
        rclpy.parameter.Parameter("source", value=str(tmp_path))])
    try:
        frames = [replay.next_frame() for _ in range(3)]
        assert [np.frombuffer(f.data, np.uint8)[0] for f in frames[:2]] == [20, 220] and frames[2] is None
        assert replay.frames_skipped == 1
    finally:
        replay.destroy_node()
