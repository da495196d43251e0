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
"""The camera's own motion between frames, and how far each target follows it (``camera_motion``)."""
import cv2
import numpy as np
import pytest

from viltrack_ros.data.sequences import ShakenSequence, load_sequence_folder, source_sequence_name
from viltrack_ros.evaluation.metrics import centre_error
from viltrack_ros.tracking import MultiTracker, TrackerConfig, ViLTracker
from viltrack_ros.tracking.camera_motion import IDENTITY, CameraMotion, move_box


def similarity(dx: float, dy: float, scale: float = 1.0, degrees: float = 0.0, centre=(0.0, 0.0)) -> np.ndarray:
    matrix = cv2.getRotationMatrix2D(centre, degrees, scale)
    matrix[:, 2] += (dx, dy)
    return matrix


def warped(image: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    return cv2.warpAffine(image, matrix, (image.shape[1], image.shape[0]), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)


@pytest.fixture(scope="module")
def scene(sequence_frames):
    """Give a real outdoor frame (640x360) and the skier's box in it."""
    frames, boxes = sequence_frames("Skiing", 1)
    return frames[0], boxes[0]


@pytest.mark.parametrize("motion", [(12.5, -7.25, 1.0, 0.0), (-3.0, 4.0, 1.04, 1.5), (30.0, 0.0, 0.97, -2.0)])
def test_a_known_similarity_is_recovered(scene, motion):
    image, _ = scene
    dx, dy, scale, degrees = motion
    truth = similarity(dx, dy, scale, degrees, centre=(320.0, 180.0))
    estimator = CameraMotion()
    assert estimator.update(image) is None        # the first frame has nothing to compare with
    found = estimator.update(warped(image, truth))
    # Compared where it matters, on points of the image: within a fifth of a pixel everywhere.
    corners = np.array([[0, 0, 1], [639, 0, 1], [0, 359, 1], [639, 359, 1], [320, 180, 1]], dtype=np.float64)
    assert np.abs(corners @ found.T - corners @ truth.T).max() < 0.2
    assert estimator.last_inliers >= 50


def test_a_still_camera_is_exactly_still(scene):
    image, _ = scene
    estimator = CameraMotion()
    estimator.update(image)
    noisy = np.clip(image.astype(np.int16) + np.random.default_rng(0).integers(-2, 3, image.shape), 0, 255)
    assert np.array_equal(estimator.update(noisy.astype(np.uint8)), IDENTITY)


def test_no_estimate_is_said(scene):
    image, _ = scene
    estimator = CameraMotion()
    estimator.update(image)
    assert estimator.update(np.zeros_like(image)) is None                 # a black frame: no corner is followed
    estimator.update(image)
    assert estimator.update(cv2.resize(image, (360, 360))) is None        # another size
    # A wholly different view: the corners do not agree on one motion.
    estimator.update(image)
    assert estimator.update(np.random.default_rng(1).integers(0, 256, image.shape, dtype=np.uint8)) is None
    estimator.reset()
    assert estimator.update(image) is None


def test_the_tracked_boxes_are_not_taken_as_the_scene(scene):
    """
    A large target moving its own way must not pass for the camera's motion.

    Without the boxes most corners would lie on the target and the estimate would follow it.
    """
    image, _ = scene
    box = np.array([40.0, 30.0, 420.0, 300.0])            # 55% of the frame
    x, y, w, h = box.astype(int)
    camera = similarity(6.0, -4.0)
    following = warped(image, camera)
    textured = np.random.default_rng(2).integers(0, 256, (h + 40, w + 40, 3), dtype=np.uint8)
    textured = cv2.GaussianBlur(textured, (5, 5), 1.5)
    first, second = image.copy(), following.copy()
    first[y:y + h, x:x + w] = textured[:h, :w]
    second[y + 6:y + 6 + h, x + 17:x + 17 + w] = textured[:h, :w]    # the target moved by (17, 6) in the image
    estimator = CameraMotion()
    estimator.update(first)
    found = estimator.update(second, [box + [-20, -20, 40, 40]])       # the box a tracker would hold
    assert np.abs(found[:, 2] - camera[:, 2]).max() < 0.5
    estimator.update(first)
    assert np.abs(estimator.update(second)[:, 2] - camera[:, 2]).max() > 5.0   # the same frames, no boxes left out


def test_move_box():
    box = np.array([100.0, 50.0, 40.0, 20.0])
    assert move_box(box, IDENTITY.copy()) is box        # a still camera: the same box, to the last bit
    assert np.allclose(move_box(box, similarity(5.0, -3.0)), [105.0, 47.0, 40.0, 20.0])
    # Zoomed in by 2 about the origin: the centre (120, 60) goes to (240, 120), the box doubles and stays upright.
    assert np.allclose(move_box(box, similarity(0.0, 0.0, scale=2.0)), [200.0, 100.0, 80.0, 40.0])
    turned = move_box(box, similarity(0.0, 0.0, degrees=90.0, centre=(120.0, 60.0)))
    assert np.allclose(turned, box)                     # turned about its own centre: the upright box stays


@pytest.mark.parametrize("steps, moves", [
    # Shaken about a still view: each jolt is a surprise, and the box moves by nearly all of it.
    ([(12.0, 0.0), (-12.0, 0.0), (12.0, 0.0)], [(12.0, 0.0), (-15.6, 0.0), (13.08, 0.0)]),
    # A steady pan (a camera following its target): the first frames move the box, then less and less.
    ([(6.0, 0.0)] * 8, [(6.0, 0.0), (4.2, 0.0), (2.94, 0.0), (2.06, 0.0), (1.44, 0.0), (1.01, 0.0), (0.71, 0.0),
                        (0.0, 0.0)]),   # 0.49 px: under the estimate's noise bound (0.5 px), no move at all
])
def test_boxes_move_by_the_cameras_surprise(scene, small_checkpoint, steps, moves):
    """The tracker moves each box by the camera's shift beyond its smoothed shift (``CAMERA_SMOOTHING`` 0.3)."""
    image, box = scene
    tracker = MultiTracker.from_checkpoint(small_checkpoint, config=TrackerConfig(camera_motion=True), threads=1)
    tracker.init(0, image, box)
    target = tracker._targets[0]
    offset = np.zeros(2)
    for step, expected in zip(steps, moves):
        offset += step
        before = target.box.copy()
        tracker._follow_camera(warped(image, similarity(*offset)), [target])
        assert np.allclose(target.box[:2] - before[:2], expected, atol=0.15), (target.box[:2] - before[:2], expected)


def camera_state(tracker: MultiTracker) -> tuple:
    """Return what the tracker keeps of the camera: its smoothed shift and its last frame (None without one)."""
    return tracker._camera_shift.copy(), tracker._camera_motion._previous


def test_what_the_tracker_keeps_of_the_camera(scene, small_checkpoint):
    """
    A new track forgets the camera; a target added beside others does not touch it; a still camera moves nothing.

    A box drawn on an older frame (``init_target`` with a stamp) beside tracked targets must not have the frames
    between taken for camera motion: their boxes are on the newest frame.
    """
    image, box = scene
    tracker = MultiTracker.from_checkpoint(small_checkpoint, config=TrackerConfig(camera_motion=True), threads=1)
    tracker.init(0, image, box)
    panned = [warped(image, similarity(6.0 * k, 0.0)) for k in range(1, 4)]
    for frame in panned:
        tracker.update(frame)
    shift, kept = camera_state(tracker)
    assert shift[0] > 3.0 and kept is not None
    # Another target, on an older frame: the frame kept and the smoothed shift stay, the first box does not move.
    first_box = tracker._targets[0].box.copy()
    tracker.init(1, panned[0], box)
    assert np.array_equal(camera_state(tracker)[0], shift) and camera_state(tracker)[1] is kept
    assert np.array_equal(tracker._targets[0].box, first_box)
    # The only target restarted (a new clip): the camera is forgotten, the new frame kept.
    tracker.remove(1)
    tracker.init(0, image, box)
    shift, kept = camera_state(tracker)
    assert not shift.any() and np.array_equal(kept, CameraMotion()._small_grey(image)[0])
    # clear() forgets; so does turning the setting off, and turned on again it starts from the next frame.
    tracker.update(panned[0])
    tracker.clear()
    assert not camera_state(tracker)[0].any() and camera_state(tracker)[1] is None
    tracker.init(0, image, box)
    tracker.config = TrackerConfig(camera_motion=False)
    tracker.update(panned[0])
    assert not camera_state(tracker)[0].any() and camera_state(tracker)[1] is None
    tracker.config = TrackerConfig(camera_motion=True)
    target = tracker._targets[0]
    before = target.box.copy()
    tracker._follow_camera(panned[1], [target])          # the first frame seen again: nothing to compare with
    assert np.array_equal(target.box, before)


def test_a_pan_that_stops_then_a_still_camera_moves_nothing(scene, small_checkpoint):
    """After a pan the boxes are moved back while the expected shift fades, then not at all, to the last bit."""
    image, box = scene
    tracker = MultiTracker.from_checkpoint(small_checkpoint, config=TrackerConfig(camera_motion=True), threads=1)
    tracker.init(0, image, box)
    target = tracker._targets[0]
    for k in range(1, 6):
        tracker._follow_camera(warped(image, similarity(6.0 * k, 0.0)), [target])
    still = warped(image, similarity(30.0, 0.0))
    moves = []
    for _ in range(15):
        before = target.box.copy()
        tracker._follow_camera(still, [target])
        moves.append(target.box[0] - before[0])
    assert moves[0] < -2.0                                    # the pan expected, and not seen: a surprise
    assert all(m == 0.0 for m in moves[-5:])                  # the fading shift below the noise bound: nothing
    # A frame with no estimate counts as a shift unknown: the expected shift fades instead of being taken back later.
    for k in range(1, 6):
        tracker._follow_camera(warped(image, similarity(30.0 + 6.0 * k, 0.0)), [target])
    fading = np.abs(tracker._camera_shift[0])
    tracker._follow_camera(np.zeros_like(image), [target])
    assert np.abs(tracker._camera_shift[0]) < fading


def test_a_shaken_camera_is_followed_by_the_tracker(sequences_root):
    """
    Dudek's face, the frames shaken by up to 24 px each (the truth with them): the track stays nearer the face.

    The search region is about 4x the face's size: a jolt puts the face off-centre, where the window weighs it down,
    but the camera's motion brings the box to it first.
    """
    shaken = ShakenSequence(load_sequence_folder(sequences_root / "Dudek"), 24.0, seed=3)
    frames, truth = [shaken.read_frame(i) for i in range(len(shaken))], shaken.boxes

    def centre_errors(camera_motion: bool) -> np.ndarray:
        tracker = ViLTracker.from_checkpoint(config=TrackerConfig(camera_motion=camera_motion), threads=1)
        tracker.init(frames[0], truth[0])
        found = np.array([tracker.update(f).box for f in frames[1:]])
        return centre_error(found, truth[1:])

    with_motion, without = centre_errors(True), centre_errors(False)
    # Measured: median centre error 11.8 px against 17.9 px (2026-12-07).
    assert np.median(with_motion) < 0.75 * np.median(without), (np.median(with_motion), np.median(without))


def test_a_shaken_sequence_moves_its_frames_and_truth_together(sequences_root):
    source = load_sequence_folder(sequences_root / "Dudek")
    shaken = ShakenSequence(source, 24.0, seed=3)
    assert shaken.name == "Dudek/shake24" and source_sequence_name(shaken.name + "@5") == "Dudek"
    assert np.array_equal(shaken.read_frame(0), source.read_frame(0))
    assert np.array_equal(shaken.boxes[0], source.boxes[0])
    for index in (1, 7):
        dx, dy = shaken.offsets[index]
        assert 0 < max(abs(dx), abs(dy)) <= 24
        assert np.allclose(shaken.boxes[index], source.boxes[index] + [dx, dy, 0, 0])
        # The frame's content moved by the same offset: compared away from the mirrored edges.
        expected = warped(source.read_frame(index), similarity(dx, dy))
        assert np.array_equal(shaken.read_frame(index), expected)
        moved = shaken.read_frame(index)[60:-60, 60:-60].astype(np.int16)
        assert np.abs(moved - source.read_frame(index)[60:-60, 60:-60]).mean() > 5, "it did move"
    assert np.array_equal(ShakenSequence(source, 24.0, seed=3).offsets, shaken.offsets)
    assert not np.array_equal(ShakenSequence(source, 24.0, seed=4).offsets, shaken.offsets)
    with pytest.raises(ValueError, match="amplitude"):
        ShakenSequence(source, -1.0)
