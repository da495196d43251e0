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
rosbag2 bags (.mcap and .db3) through rosbags: written, replayed into the tracker node, outputs recorded.

The bags are written from a shared real sequence, replayed into the tracker node (by the replay publisher, and by the
demo in lock-step), and the node's outputs are recorded into another bag.
"""
from __future__ import annotations

import csv
import os
import subprocess
import sys

import numpy as np
import pytest

from .ros_test_support import REPO_ROOT, load_sequence, skip_module_unless_ros

skip_module_unless_ros()   # before the ROS imports below

from sensor_msgs.msg import Image  # noqa: E402

from viltrack_ros.ros.bag_io import BagImageSource, BagWriter, bag_messages, bag_topics, is_bag  # noqa: E402
from viltrack_ros.ros.interfaces import TrackedObject, TrackedObjectArray  # noqa: E402
from .ros_harness import RELIABLE, NodeProcess, frame_msg, stamp_of  # noqa: E402

FRAME_ID = "camera_optical_frame"
CAMERA_TOPIC = "/camera/image_raw"


def write_sequence_bag(path, frames, storage: str, first_sec: int = 1000):
    """Write the frames as a camera would have recorded them: bgr8, 10 per second, stamps first_sec + index / 10."""
    stamps = []
    with BagWriter(path, storage=storage) as bag:
        for index, frame in enumerate(frames):
            stamp_ns = first_sec * 10**9 + index * 100_000_000
            msg = frame_msg(frame, sec=stamp_ns // 10**9, nanosec=stamp_ns % 10**9, frame_id=FRAME_ID)
            bag.write(CAMERA_TOPIC, msg, stamp_ns)
            stamps.append(stamp_of(msg))
    return stamps


@pytest.mark.parametrize("storage, suffix", [("mcap", ".mcap"), ("sqlite3", ".db3")])
def test_bag_round_trip_keeps_pixels_headers_and_own_messages(tmp_path, storage, suffix):
    frames, _ = load_sequence("Crossing", 3)
    bag = tmp_path / "camera"
    with BagWriter(bag, storage=storage) as writer:
        for index, frame in enumerate(frames):
            writer.write(CAMERA_TOPIC, frame_msg(frame, sec=50 + index, frame_id=FRAME_ID), (50 + index) * 10**9)
        array = TrackedObjectArray(objects=[TrackedObject(target_id=4, center_x=1.5, confidence=0.25, status=2)])
        array.header.frame_id = FRAME_ID
        writer.write("/tracked_objects", array, 52 * 10**9)
    storage_file = bag / f"camera{suffix}"
    assert (bag / "metadata.yaml").is_file() and storage_file.is_file()
    assert bag_topics(bag) == {CAMERA_TOPIC: "sensor_msgs/msg/Image",
                               "/tracked_objects": "viltrack_ros/msg/TrackedObjectArray"}

    for source in (bag, storage_file):   # the bag folder, or its storage file alone
        images = list(BagImageSource(source))
        assert [stamp_of(m) for m in images] == [(50, 0), (51, 0), (52, 0)]
        for msg, frame in zip(images, frames):
            assert (msg.header.frame_id, msg.encoding, msg.height, msg.width) == (FRAME_ID, "bgr8", 240, 360)
            np.testing.assert_array_equal(np.frombuffer(msg.data, np.uint8).reshape(frame.shape), frame)
    assert BagImageSource(bag).fps == pytest.approx(1.0)
    assert len(BagImageSource(bag, max_frames=2)) == 2 and len(list(BagImageSource(bag, max_frames=2))) == 2
    [(topic, timestamp, read)] = list(bag_messages(bag, ["/tracked_objects"]))
    assert (topic, timestamp, read) == ("/tracked_objects", 52 * 10**9, array)


def test_bag_errors_name_the_problem(tmp_path):
    frames, _ = load_sequence("Crossing", 1)
    bag = tmp_path / "two_cameras"
    with BagWriter(bag) as writer:
        writer.write("/left/image_raw", frame_msg(frames[0], sec=1), 10**9)
        writer.write("/right/image_raw", frame_msg(frames[0], sec=1), 10**9)
        writer.write("/tracked_objects", TrackedObjectArray(), 10**9)
    with pytest.raises(ValueError, match="2 image topics .*/left/image_raw, /right/image_raw"):
        BagImageSource(bag)
    with pytest.raises(ValueError, match="topic /tracked_objects .* is viltrack_ros/msg/TrackedObjectArray"):
        BagImageSource(bag, "/tracked_objects")
    with pytest.raises(ValueError, match="topic /front .* is not in it"):
        BagImageSource(bag, "/front")
    assert len(BagImageSource(bag, "/right/image_raw")) == 1
    tracks = tmp_path / "tracks_only"   # what bag_recorder writes: no image to replay, and nothing to name
    with BagWriter(tracks) as writer:
        writer.write("/tracked_objects", TrackedObjectArray(), 10**9)
    with pytest.raises(ValueError, match=r"has no sensor_msgs/msg/Image or CompressedImage topic to replay \(it "
                                         r"holds /tracked_objects \(viltrack_ros/msg/TrackedObjectArray\)\)"):
        BagImageSource(tracks)
    with pytest.raises(FileNotFoundError):
        BagImageSource(tmp_path / "missing.mcap")
    with pytest.raises(FileExistsError):
        BagWriter(bag)
    with pytest.raises(ValueError, match="storage must be one of mcap, sqlite3"):
        BagWriter(tmp_path / "new", storage="rosbag1")
    # A bag cut short (a recorder killed mid-write), and a file that is no bag: one error each, not a traceback.
    storage_file = bag / "two_cameras.mcap"
    (tmp_path / "cut.mcap").write_bytes(storage_file.read_bytes()[:200])
    (tmp_path / "notes.mcap").write_text("not a bag")
    for broken in (tmp_path / "cut.mcap", tmp_path / "notes.mcap"):
        with pytest.raises(ValueError, match=f"cannot read the bag {broken}"):
            BagImageSource(broken)


def test_compressed_mixed_and_interrupted_bags_replay(tmp_path):
    import cv2
    from sensor_msgs.msg import CompressedImage
    frames, _ = load_sequence("Crossing", 3)

    def compressed(frame, sec):
        msg = CompressedImage(format="jpeg", data=cv2.imencode(".png", frame)[1].tobytes())   # lossless
        msg.header.stamp.sec, msg.header.frame_id = sec, FRAME_ID
        return msg
    bag = tmp_path / "camera"
    with BagWriter(bag) as writer:
        # The driver restarted in another mode: one topic, compressed then raw; a broken frame; and a message of
        # another topic 100 s later, which must not set the images' rate.
        writer.write(CAMERA_TOPIC, compressed(frames[0], 1), 1 * 10**9)
        bad = compressed(frames[0], 2)
        bad.data = b"\xff\xd8\xff" + bytes(16)
        writer.write(CAMERA_TOPIC, bad, 2 * 10**9)
        writer.write(CAMERA_TOPIC, frame_msg(frames[1], sec=3, frame_id=FRAME_ID), 3 * 10**9)
        writer.write(CAMERA_TOPIC, compressed(frames[2], 4), 4 * 10**9)
        writer.write("/tracked_objects", TrackedObjectArray(), 104 * 10**9)
    source = BagImageSource(bag)
    assert source.topic == CAMERA_TOPIC and len(source) == 4 and source.fps == pytest.approx(1.0)
    images = list(source)
    assert [stamp_of(m) for m in images] == [(1, 0), (3, 0), (4, 0)] and source.skipped == 1
    for msg, frame in zip(images, frames):
        assert msg.encoding == "bgr8"
        np.testing.assert_array_equal(np.frombuffer(msg.data, np.uint8).reshape(frame.shape), frame)
    # A recording killed before it wrote metadata.yaml: the folder's one storage file is the bag.
    (bag / "metadata.yaml").unlink()
    assert is_bag(bag) and len(list(BagImageSource(bag))) == 3


def test_replay_publisher_plays_a_bag_with_its_recorded_headers(tmp_path, probe):
    frames, _ = load_sequence("Crossing", 4)
    stamps = write_sequence_bag(tmp_path / "camera", frames, "sqlite3")
    received: list[Image] = []
    probe.node.create_subscription(Image, CAMERA_TOPIC, received.append, RELIABLE)
    replay = NodeProcess(log_path=tmp_path / "replay.log",
                         command=[sys.executable, "-m", "viltrack_ros.ros.replay_publisher"], weights=None,
                         parameters=[f"source:={tmp_path / 'camera' / 'camera.db3'}", "fps:=4.0", "loop:=true"],
                         extra_args=["-r", f"image:={CAMERA_TOPIC}"], cwd=REPO_ROOT)
    try:
        assert probe.spin_until(lambda: len(received) >= 6, 30), replay.log()
    finally:
        replay.stop()
    assert "streaming" in replay.log() and f"({CAMERA_TOPIC}) at 4 fps" in replay.log()
    # Looping: the recorded stamps again and again, in order (the first images may precede discovery).
    got = [stamp_of(m) for m in received]
    start = stamps.index(got[0])
    assert got == [stamps[(start + i) % len(stamps)] for i in range(len(got))]
    assert all(m.header.frame_id == FRAME_ID for m in received)


def test_demo_replays_a_bag_into_the_node_and_records_its_outputs_into_another(tmp_path, test_weights):
    frames, boxes = load_sequence("Crossing", 6)
    stamps = write_sequence_bag(tmp_path / "camera", frames, "sqlite3")
    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "viltrack_ros.ros.demo", "--source", str(tmp_path / "camera" / "camera.db3"),
         "--bag-topic", CAMERA_TOPIC, "--box", ",".join(str(v) for v in boxes[0]), "--weights", str(test_weights),
         "--threads", "1", "--out", str(out), "--record", str(tmp_path / "tracks"), "--record-storage", "mcap"],
        cwd=REPO_ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "frames processed      6" in result.stdout, result.stdout

    recorded = list(bag_messages(tmp_path / "tracks"))
    assert (tmp_path / "tracks" / "tracks.mcap").is_file()
    arrays = [m for topic, _, m in recorded if topic == "/tracked_objects"]
    objects = [m for topic, _, m in recorded if topic == "/tracked_object"]
    # One array per image, with the bag's own headers (frame 0 may be answered more than once: it is resent until
    # the node has it); the target from frame 1 on.
    assert list(dict.fromkeys(stamp_of(a) for a in arrays)) == stamps
    assert all(a.header.frame_id == FRAME_ID for a in arrays)
    assert [stamp_of(o) for o in objects] == stamps[1:]
    assert all(o.target_id == 0 and o.header.frame_id == FRAME_ID for o in objects)
    with open(out / "tracked_objects.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["frame"]) for row in rows] == [1, 2, 3, 4, 5]
    assert all(float(row["end_to_end_latency_ms"]) > 0 for row in rows)


def test_the_recorder_refuses_a_bad_topic_before_it_creates_the_bag(tmp_path, ros_context):
    import rclpy.parameter
    from viltrack_ros.ros.bag_recorder import BagRecorder
    output = tmp_path / "tracks"
    with pytest.raises(ValueError, match="'bad topic' is not a valid topic name"):
        BagRecorder(parameter_overrides=[rclpy.parameter.Parameter("output", value=str(output)),
                                         rclpy.parameter.Parameter("topics", value=["bad topic", "/ok"])])
    assert not output.exists()          # nothing half-made that the next run would find "exists already"
