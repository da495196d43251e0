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
"""Loaders of the four dataset layouts, on small hand-made folders, including malformed files."""
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from viltrack_ros.data.sequences import (InMemorySequence, Sequence, list_frames, load_dataset, load_got10k,
                                         load_lasot, load_sequence_folder, load_sequence_folders,
                                         load_trackingnet, read_boxes, read_image_rgb)

cv2.setNumThreads(1)


def write_frames(folder: Path, count: int, first_index: int = 1, padded: bool = True, grayscale: bool = False,
                 size=(12, 16)) -> list[Path]:
    """Tiny JPEG frames whose red channel encodes the frame number (to check frame order)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        number = first_index + i
        name = f"{number:08d}.jpg" if padded else f"{number}.jpg"
        if grayscale:
            image = np.full(size, 10 * i, np.uint8)
        else:
            image = np.zeros((*size, 3), np.uint8)
            image[..., 2] = 10 * i   # BGR on disk: red channel
        cv2.imwrite(str(folder / name), image, [cv2.IMWRITE_JPEG_QUALITY, 100])
        paths.append(folder / name)
    return paths


def write_lines(path: Path, lines) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def box_lines(count: int, offset: float = 0.0) -> list[str]:
    return [f"{1 + i + offset},{2 + i},{3 + i},{4 + i}" for i in range(count)]


# ---------------------------------------------------------------------------------------------------------------
# plain folders

def test_plain_folder_loads_frames_in_order_with_boxes_and_absent_rows(tmp_path):
    folder = tmp_path / "Walker"
    write_frames(folder, 4)
    write_lines(folder / "groundtruth.txt", ["1,2,3,4", "nan,nan,nan,nan", "5\t6\t7\t8", "9 10 11 12"])
    sequence = load_sequence_folder(folder)
    assert sequence.name == "Walker" and len(sequence) == 4 and sequence.dataset == "folder"
    np.testing.assert_array_equal(sequence.boxes[[0, 2, 3]], [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]])
    assert np.isnan(sequence.boxes[1]).all()
    np.testing.assert_array_equal(sequence.visible, [True, False, True, True])
    reds = [int(sequence.read_frame(i)[..., 0].mean().round()) for i in range(4)]
    assert reds == [0, 10, 20, 30]


def test_malformed_line_names_file_and_line(tmp_path):
    folder = tmp_path / "Broken"
    write_frames(folder, 20)
    lines = box_lines(20)
    lines[16] = "abc"
    gt = write_lines(folder / "groundtruth.txt", lines)
    with pytest.raises(ValueError) as error:
        load_sequence_folder(folder)
    assert str(error.value) == f"{gt} line 17: expected 4 comma-separated numbers, got 'abc'"


@pytest.mark.parametrize("bad_line, message", [
    ("1,2,3", "expected 4 comma-separated numbers, got '1,2,3'"),
    ("1,2,3,4,5", "expected 4 comma-separated numbers"),
    ("1,2,-3,4", "negative box size"),
    ("1,nan,3,4", "a box must be all numbers or all 'nan'"),
    ("", "expected 4 comma-separated numbers, got ''"),
])
def test_each_kind_of_malformed_box_line_is_reported_at_its_line(tmp_path, bad_line, message):
    gt = write_lines(tmp_path / "groundtruth.txt", ["1,2,3,4", bad_line, "1,2,3,4"])
    with pytest.raises(ValueError, match=re.escape(f"line 2: {message}")):
        read_boxes(gt)


def test_zero_size_box_means_absent_and_trailing_blank_lines_are_ignored(tmp_path):
    gt = tmp_path / "groundtruth.txt"
    gt.write_text("1,2,3,4\n0,0,0,0\n\n\n")
    boxes = read_boxes(gt)
    assert boxes.shape == (2, 4) and np.isnan(boxes[1]).all()


def test_frame_count_mismatch_is_a_clear_error(tmp_path):
    folder = tmp_path / "Short"
    write_frames(folder, 3)
    gt = write_lines(folder / "groundtruth.txt", box_lines(4))
    with pytest.raises(ValueError, match=re.escape(f"{gt}: 4 boxes but 3 frames")):
        load_sequence_folder(folder)


def test_missing_groundtruth_and_first_frame_without_box(tmp_path):
    folder = tmp_path / "NoGt"
    write_frames(folder, 2)
    with pytest.raises(FileNotFoundError, match="groundtruth.txt"):
        load_sequence_folder(folder)
    write_lines(folder / "groundtruth.txt", ["nan,nan,nan,nan", "1,2,3,4"])
    with pytest.raises(ValueError, match="line 1: the first frame initialises the tracker"):
        load_sequence_folder(folder)


def test_folder_of_folders_sorts_case_insensitively_and_checks_requested_names(tmp_path):
    for name in ("beta", "Alpha", "gamma"):
        write_frames(tmp_path / name, 2)
        write_lines(tmp_path / name / "groundtruth.txt", box_lines(2))
    (tmp_path / "README.md").write_text("not a sequence")
    assert [s.name for s in load_sequence_folders(tmp_path)] == ["Alpha", "beta", "gamma"]
    assert [s.name for s in load_sequence_folders(tmp_path, ["gamma", "Alpha"])] == ["gamma", "Alpha"]
    with pytest.raises(FileNotFoundError, match="no sequence folder named delta"):
        load_sequence_folders(tmp_path, ["delta"])


# ---------------------------------------------------------------------------------------------------------------
# GOT-10k

def make_got10k(root: Path) -> None:
    train = root / "train"
    for name, count in (("GOT-10k_Train_000001", 3), ("GOT-10k_Train_000002", 2)):
        write_frames(train / name, count)
        write_lines(train / name / "groundtruth.txt", box_lines(count))
        write_lines(train / name / "absence.label", ["0"] * (count - 1) + ["1"])
    write_lines(train / "list.txt", ["GOT-10k_Train_000001", "GOT-10k_Train_000002"])


def test_got10k_uses_list_and_absence_labels(tmp_path):
    make_got10k(tmp_path)
    sequences = load_got10k(tmp_path)
    assert [s.name for s in sequences] == ["GOT-10k_Train_000001", "GOT-10k_Train_000002"]
    assert [len(s) for s in sequences] == [3, 2]
    np.testing.assert_array_equal(sequences[0].visible, [True, True, False])
    np.testing.assert_array_equal(sequences[0].boxes[1], [2, 3, 4, 5])
    assert sequences[0].dataset == "got10k"
    assert [s.name for s in load_dataset("got10k", tmp_path / "train")] == [s.name for s in sequences]


def test_got10k_list_naming_missing_folder_and_bad_absence_label(tmp_path):
    make_got10k(tmp_path)
    list_path = write_lines(tmp_path / "train" / "list.txt", ["GOT-10k_Train_000001", "GOT-10k_Train_000099"])
    expected = f"{list_path} line 2: sequence folder 'GOT-10k_Train_000099' not found"
    with pytest.raises(ValueError, match=re.escape(expected)):
        load_got10k(tmp_path)
    write_lines(list_path, ["GOT-10k_Train_000001"])
    label = write_lines(tmp_path / "train" / "GOT-10k_Train_000001" / "absence.label", ["0", "x", "0"])
    with pytest.raises(ValueError, match=re.escape(f"{label} line 2: expected 0 or 1 flags, got 'x'")):
        load_got10k(tmp_path)
    write_lines(label, ["0", "0"])
    with pytest.raises(ValueError, match=re.escape(f"{label}: 2 flags for 3 frames")):
        load_got10k(tmp_path)


# ---------------------------------------------------------------------------------------------------------------
# LaSOT

def make_lasot(root: Path) -> Path:
    folder = root / "airplane" / "airplane-1"
    write_frames(folder / "img", 4)
    write_lines(folder / "groundtruth.txt", box_lines(4))
    write_lines(folder / "full_occlusion.txt", ["0,1,0,0"])
    write_lines(folder / "out_of_view.txt", ["0,0,0,1"])
    other = root / "bird" / "bird-3"
    write_frames(other / "img", 2)
    write_lines(other / "groundtruth.txt", box_lines(2))
    return folder


def test_lasot_marks_occluded_and_out_of_view_frames_absent(tmp_path):
    make_lasot(tmp_path)
    sequences = load_lasot(tmp_path)
    assert [s.name for s in sequences] == ["airplane-1", "bird-3"]
    np.testing.assert_array_equal(sequences[0].visible, [True, False, True, False])
    assert sequences[1].visible.all()
    assert [s.name for s in load_lasot(tmp_path, names=["bird-3"])] == ["bird-3"]


def test_lasot_malformed_groundtruth_and_flag_count(tmp_path):
    folder = make_lasot(tmp_path)
    gt = write_lines(folder / "groundtruth.txt", box_lines(3) + ["1,2,three,4"])
    expected = f"{gt} line 4: expected 4 comma-separated numbers, got '1,2,three,4'"
    with pytest.raises(ValueError, match=re.escape(expected)):
        load_lasot(tmp_path)
    write_lines(gt, box_lines(4))
    flags = write_lines(folder / "out_of_view.txt", ["0,0,1"])
    with pytest.raises(ValueError, match=re.escape(f"{flags}: 3 flags for 4 frames")):
        load_lasot(tmp_path)


# ---------------------------------------------------------------------------------------------------------------
# TrackingNet

def test_trackingnet_orders_unpadded_frames_numerically(tmp_path):
    chunk = tmp_path / "TRAIN_0"
    write_frames(chunk / "frames" / "abc_1", 12, first_index=0, padded=False)
    write_lines(chunk / "anno" / "abc_1.txt", box_lines(12))
    write_frames(tmp_path / "TRAIN_1" / "frames" / "xyz_2", 2, first_index=0, padded=False)
    write_lines(tmp_path / "TRAIN_1" / "anno" / "xyz_2.txt", box_lines(2))
    sequences = load_trackingnet(tmp_path)
    assert [s.name for s in sequences] == ["TRAIN_0/abc_1", "TRAIN_1/xyz_2"]
    assert [p.name for p in sequences[0].frame_paths[:3]] == ["0.jpg", "1.jpg", "2.jpg"]
    assert sequences[0].frame_paths[-1].name == "11.jpg"
    assert int(sequences[0].read_frame(11)[..., 0].mean().round()) == 110
    assert [s.name for s in load_trackingnet(tmp_path, chunks=["TRAIN_1"])] == ["TRAIN_1/xyz_2"]


def test_trackingnet_count_mismatch_and_bad_line(tmp_path):
    chunk = tmp_path / "TRAIN_0"
    write_frames(chunk / "frames" / "seq", 3, first_index=0, padded=False)
    anno = write_lines(chunk / "anno" / "seq.txt", box_lines(2))
    with pytest.raises(ValueError, match=re.escape(f"{anno}: 2 boxes but 3 frames")):
        load_trackingnet(tmp_path)
    write_lines(anno, ["1,2,3,4", "1;2;3;4", "1,2,3,4"])
    expected = f"{anno} line 2: expected 4 comma-separated numbers, got '1;2;3;4'"
    with pytest.raises(ValueError, match=re.escape(expected)):
        load_trackingnet(tmp_path)


def test_unknown_dataset_kind():
    with pytest.raises(ValueError, match="unknown dataset kind 'coco'"):
        load_dataset("coco", "/nowhere")


# ---------------------------------------------------------------------------------------------------------------
# images and sequence types

def test_image_reader_returns_rgb_for_colour_and_grayscale_files(tmp_path):
    colour = tmp_path / "colour.png"
    bgr = np.zeros((5, 7, 3), np.uint8)
    bgr[..., 0] = 200   # blue in OpenCV's BGR order
    cv2.imwrite(str(colour), bgr)
    image = read_image_rgb(colour)
    assert image.shape == (5, 7, 3) and image.dtype == np.uint8
    assert image[0, 0].tolist() == [0, 0, 200]
    gray_path = write_frames(tmp_path / "gray", 2, grayscale=True)[1]
    gray = read_image_rgb(gray_path)
    assert gray.shape == (12, 16, 3) and (gray[..., 0] == gray[..., 2]).all() and abs(int(gray[0, 0, 0]) - 10) <= 1
    with pytest.raises(FileNotFoundError, match="missing.jpg"):
        read_image_rgb(tmp_path / "missing.jpg")
    (tmp_path / "junk.jpg").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="cannot decode image"):
        read_image_rgb(tmp_path / "junk.jpg")


def test_as_rgb_converts_array_layouts():
    from viltrack_ros.tracking.crop import as_rgb as to_rgb_uint8
    assert to_rgb_uint8(np.zeros((4, 5), np.uint8)).shape == (4, 5, 3)
    assert to_rgb_uint8(np.zeros((4, 5, 1), np.uint8)).shape == (4, 5, 3)
    assert to_rgb_uint8(np.zeros((4, 5, 4), np.uint8)).shape == (4, 5, 3)
    assert to_rgb_uint8(np.full((2, 2, 3), 65535, np.uint16)).max() == 255
    # The values, not just the shapes: grey replicated into 3 channels, alpha dropped, strided views read right.
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, (6, 8), dtype=np.uint8)
    rgba = rng.integers(0, 256, (6, 8, 4), dtype=np.uint8)
    assert np.array_equal(to_rgb_uint8(grey), np.stack([grey] * 3, axis=2))
    assert np.array_equal(to_rgb_uint8(grey[:, :, None][::2, ::-1]), np.stack([grey[::2, ::-1]] * 3, axis=2))
    assert np.array_equal(to_rgb_uint8(rgba), rgba[:, :, :3])
    assert np.array_equal(to_rgb_uint8(rgba[1::2, ::3]), rgba[1::2, ::3, :3])
    assert np.array_equal(to_rgb_uint8(rgba.astype(np.uint16) * 257), rgba[:, :, :3])
    with pytest.raises(ValueError, match="shape"):
        to_rgb_uint8(np.zeros((4, 5, 2), np.uint8))
    # Floats: [0, 1] read from the finite values, so one NaN or inf pixel does not turn the frame black.
    unit = rgba[:, :, :3] / 255.0
    assert np.abs(to_rgb_uint8(unit).astype(int) - rgba[:, :, :3]).max() <= 1
    unit[0, 0, 0], unit[1, 1, 1] = np.nan, np.inf
    converted = to_rgb_uint8(unit)
    assert np.abs(converted[2:].astype(int) - rgba[2:, :, :3]).max() <= 1
    assert converted[0, 0, 0] == 0 and converted[1, 1, 1] == 255
    assert np.array_equal(to_rgb_uint8(rgba[:, :, :3].astype(np.float64)), rgba[:, :, :3])


def test_sequence_types_check_their_lengths(tmp_path):
    frames = write_frames(tmp_path, 2)
    with pytest.raises(ValueError, match="2 frames but 3 boxes"):
        Sequence(name="s", frame_paths=tuple(frames), boxes=np.ones((3, 4)))
    with pytest.raises(ValueError, match="1 frames but 2 boxes"):
        InMemorySequence(name="m", frame_paths=(), boxes=np.ones((2, 4)), frames=(np.zeros((2, 2, 3), np.uint8),))
    assert [p.name for p in list_frames(tmp_path)] == ["00000001.jpg", "00000002.jpg"]


def test_restarted_sequences_start_at_visible_frames_and_read_the_source_frames():
    from viltrack_ros.data.sequences import InMemorySequence, RestartedSequence, restarted_sequences
    frames = tuple(np.full((8, 8, 3), i, np.uint8) for i in range(30))
    boxes = np.tile([1.0, 1.0, 3.0, 3.0], (30, 1))
    boxes[10] = np.nan                                  # the second start point (frame 10) has no target
    source = InMemorySequence(name="clip", frame_paths=(), boxes=boxes, frames=frames)
    runs = restarted_sequences([source], 3)
    assert [r.name for r in runs] == ["clip", "clip@11", "clip@20"]
    assert runs[0] is source
    later = runs[1]
    assert len(later) == 19 and np.array_equal(later.boxes, boxes[11:])
    assert later.read_frame(0)[0, 0, 0] == 11 and later.read_frame(18)[0, 0, 0] == 29
    assert restarted_sequences([source], 1) == [source]
    with pytest.raises(ValueError, match="no visible target"):
        RestartedSequence(source, 10)


def test_runs_from_later_starts_average_back_to_their_sequence():
    from viltrack_ros.data.sequences import InMemorySequence, mean_over_starts, restart_source, restarted_sequences
    frames = tuple(np.zeros((8, 8, 3), np.uint8) for _ in range(30))
    clips = [InMemorySequence(name=name, frame_paths=(), boxes=np.tile([1.0, 1.0, 3.0, 3.0], (30, 1)), frames=frames)
             for name in ("clip", "other")]
    runs = restarted_sequences(clips, 3)
    assert [restart_source(r.name) for r in runs] == ["clip"] * 3 + ["other"] * 3
    values = {r.name: float(k) for k, r in enumerate(runs)}              # clip: 0, 1, 2; other: 3, 4, 5
    assert mean_over_starts(values) == {"clip": 1.0, "other": 4.0}


def test_frame_step_sequences_keep_every_nth_frame_with_its_box():
    from viltrack_ros.data.sequences import FrameStepSequence, InMemorySequence, frame_step_sequences, \
        restarted_sequences
    frames = tuple(np.full((8, 8, 3), i, np.uint8) for i in range(10))
    boxes = np.array([[i, 0.0, 3.0, 3.0] for i in range(10)])
    source = InMemorySequence(name="clip", frame_paths=(), boxes=boxes, frames=frames)
    (every_third,) = frame_step_sequences([source], 3)
    assert every_third.name == "clip/step3" and len(every_third) == 4
    assert np.array_equal(every_third.boxes[:, 0], [0, 3, 6, 9])
    assert [every_third.read_frame(i)[0, 0, 0] for i in range(4)] == [0, 3, 6, 9]
    assert frame_step_sequences([source], 1) == [source]
    # Restarts of a stepped sequence read the stepped frames.
    longer = InMemorySequence(name="long", frame_paths=(), boxes=np.tile([1.0, 1.0, 3.0, 3.0], (60, 1)),
                              frames=tuple(np.full((8, 8, 3), i, np.uint8) for i in range(60)))
    later = restarted_sequences([FrameStepSequence(longer, 2)], 2)[1]
    assert later.name == "long/step2@20" and later.read_frame(0)[0, 0, 0] == 40
    with pytest.raises(ValueError, match="frame step"):
        FrameStepSequence(source, 0)


def test_run_names_lead_back_to_their_stored_sequence():
    from viltrack_ros.data.sequences import FrameStepSequence, InMemorySequence, RestartedSequence, \
        source_sequence_name
    source = InMemorySequence(name="uav_car16_2", frame_paths=(), boxes=np.tile([1.0, 1.0, 3.0, 3.0], (30, 1)),
                              frames=tuple(np.zeros((8, 8, 3), np.uint8) for _ in range(30)))
    runs = [source, RestartedSequence(source, 12), FrameStepSequence(source, 3),
            RestartedSequence(FrameStepSequence(source, 3), 4), FrameStepSequence(RestartedSequence(source, 5), 2)]
    assert [r.name for r in runs] == ["uav_car16_2", "uav_car16_2@12", "uav_car16_2/step3", "uav_car16_2/step3@4",
                                      "uav_car16_2@5/step2"]
    assert {source_sequence_name(r.name) for r in runs} == {"uav_car16_2"}
    assert source_sequence_name("otb_Human3-2") == "otb_Human3-2"    # a name's own digits are kept


def test_frame_folders_of_any_naming_play_in_frame_order_in_the_library_the_cli_and_the_replay(tmp_path):
    from viltrack_ros.data.frame_source import FrameSource
    names = ["frame_10.png", "frame_2.png", "frame_1.png", "frame_11.png", "notes.txt"]
    for index, name in enumerate(names[:4]):
        cv2.imwrite(str(tmp_path / name), np.full((8, 8, 3), int(name[6:-4]) * 10, np.uint8))
    (tmp_path / "notes.txt").write_text("not a frame")
    (tmp_path / "folder.jpg").mkdir()                 # a folder with an image's name is not a frame
    order = ["frame_1.png", "frame_2.png", "frame_10.png", "frame_11.png"]
    assert [p.name for p in list_frames(tmp_path)] == order
    assert [int(frame[0, 0, 0]) for frame in FrameSource(tmp_path)] == [10, 20, 100, 110]
