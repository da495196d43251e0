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
Reliability of the tracker library with the real shipped weights.

Tested here: any box and any image either give a clear ValueError or a finite box inside the image (property-based,
hypothesis), extreme frame sizes, and network faults injected through real weight files whose parameters are NaN or
inf. The ROS side: test/ros/test_ros_reliability_inputs.py and test_ros_reliability_faults.py.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from viltrack_ros.model.checkpoint import default_weights_path, load_checkpoint, save_checkpoint
from viltrack_ros.tracking import MultiTracker, TrackerConfig, TrackStatus, ViLTracker
from viltrack_ros.tracking.crop import clamp_box

pytestmark = pytest.mark.skipif(not default_weights_path().exists(), reason="no shipped weights")


@pytest.fixture(scope="module")
def shipped() -> MultiTracker:
    return MultiTracker.from_checkpoint(None)


def textured(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def assert_valid(result, shape) -> None:
    x, y, w, h = result.box
    assert all(math.isfinite(v) for v in result.box), result
    assert w > 0 and h > 0, result
    assert x >= 0 and y >= 0 and x + w <= shape[1] + 1e-6 and y + h <= shape[0] + 1e-6, (result, shape)
    assert math.isfinite(result.confidence) and 0.0 <= result.confidence <= 1.0, result
    assert result.status in (TrackStatus.INITIALIZING, TrackStatus.TRACKING, TrackStatus.LOST)


# --- property-based: any box, any image ---------------------------------------------------------------------------
coordinates = st.one_of(st.floats(-3000, 3000, allow_nan=False), st.sampled_from([0.0, -0.0, 1e-9, 1e9, -1e9]),
                        st.just(float("nan")), st.just(float("inf")), st.just(float("-inf")))
boxes = st.tuples(coordinates, coordinates, coordinates, coordinates)
image_sizes = st.tuples(st.integers(1, 300), st.integers(1, 300))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=image_sizes, box=boxes, seed=st.integers(0, 2**16), channels=st.sampled_from([1, 3, 4]))
def test_any_box_on_any_image_is_refused_clearly_or_tracked_inside_the_image(shipped, size, box, seed, channels):
    height, width = size
    image = textured(height, width, seed)
    image = image[:, :, 0] if channels == 1 else np.concatenate([image, image[:, :, :1]], 2) if channels == 4 \
        else image
    shipped.clear()
    try:
        shipped.init(0, image, box)
    except ValueError as error:
        x, y, w, h = box
        finite = all(math.isfinite(v) for v in box)
        # Refused only for a reason the message names: a non-finite value, an empty box, or no overlap.
        assert (not finite and "NaN or infinite" in str(error)) or (finite and (w <= 0 or h <= 0) and
                                                                    "non-positive" in str(error)) \
            or (finite and "outside" in str(error)), (box, error)
        assert shipped.target_ids == []
        return
    assert all(math.isfinite(v) for v in box) and box[2] > 0 and box[3] > 0
    for step in range(2):
        result = shipped.update(textured(height, width, seed + step + 1))[0]
        assert_valid(result, image.shape)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(st.tuples(st.sampled_from(["init", "remove", "update", "clear"]), st.integers(0, 3),
                                     st.tuples(st.integers(0, 150), st.integers(0, 110), st.integers(1, 80),
                                               st.integers(1, 80))),
                           min_size=1, max_size=12))
def test_any_sequence_of_init_remove_update_keeps_the_target_set_consistent(shipped, operations):
    shipped.clear()
    expected: set[int] = set()
    image = textured(120, 160, 3)
    for operation, target_id, box in operations:
        if operation == "init":
            shipped.init(target_id, image, box)
            expected.add(target_id)
        elif operation == "remove":
            assert shipped.remove(target_id) == (target_id in expected)
            expected.discard(target_id)
        elif operation == "clear":
            shipped.clear()
            expected.clear()
        else:
            results = shipped.update(image)
            assert set(results) == expected
            for result in results.values():
                assert_valid(result, image.shape)
        assert set(shipped.target_ids) == expected


# --- extreme frame sizes -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("height,width,box", [
    (2160, 3840, (1800.0, 1000.0, 120.0, 200.0)),   # 4K
    (16, 16, (4.0, 4.0, 8.0, 8.0)),                 # 16x16
    (16, 16, (0.0, 0.0, 16.0, 16.0)),               # the whole 16x16 image
    (1, 1, (0.0, 0.0, 1.0, 1.0)),                   # one pixel
])
def test_extreme_frame_sizes_track_inside_the_image(shipped, height, width, box):
    shipped.clear()
    shipped.init(0, textured(height, width), box)
    for seed in range(1, 4):
        assert_valid(shipped.update(textured(height, width, seed))[0], (height, width))


def test_clamp_box_keeps_boxes_inside_images_smaller_than_its_minimum_size():
    for shape in [(1, 1), (1, 5), (5, 1), (2, 2)]:
        x, y, w, h = clamp_box((-3.0, -3.0, 10.0, 10.0), shape)
        assert x >= 0 and y >= 0 and w > 0 and h > 0 and x + w <= shape[1] and y + h <= shape[0], (shape, x, y, w, h)


# --- faults ------------------------------------------------------------------------------------------------------
def faulty_weights(tmp_path, value: float, part: str):
    """Write the shipped checkpoint with one of the head's final layers set to ``value`` (NaN or inf): a real file."""
    model, info = load_checkpoint(None)
    with torch.no_grad():
        layer = getattr(model.head, part)[-1]
        (layer.weight if math.isnan(value) else layer.bias).fill_(value)
    return save_checkpoint(tmp_path / f"head_{part}_{value}.pt", model, trained=True,
                           training={"note": f"shipped weights with the head's {part} layer set to {value}"})


@pytest.mark.parametrize("value,part", [(float("nan"), "score"), (float("nan"), "size"), (float("nan"), "offset"),
                                        (float("inf"), "score"), (float("-inf"), "score")])
def test_nan_or_inf_network_output_reports_lost_never_a_nan(tmp_path, value, part):
    tracker = MultiTracker.from_checkpoint(faulty_weights(tmp_path, value, part))
    image = textured(240, 320)
    box = (100.0, 80.0, 40.0, 60.0)
    tracker.init(0, image, box)
    tracker.init(1, image, (10.0, 10.0, 30.0, 30.0))
    for seed in range(1, 4):
        results = tracker.update(textured(240, 320, seed))
        for target_id, result in results.items():
            assert result.status == TrackStatus.LOST, "a NaN/inf output must say LOST at once, not after patience"
            assert result.confidence == 0.0
            assert_valid(result, image.shape)
        assert results[0].box == pytest.approx(box), "a faulty output keeps the last box, it does not jump"
        assert tracker.last_invalid_ids == [0, 1], "the faulted targets are named"
    assert tracker.invalid_outputs == 6


def test_a_target_recovers_after_a_transient_fault(tmp_path):
    """A fault clears the target's temporal state, so finite outputs afterwards are tracked again."""
    good = MultiTracker.from_checkpoint(None)
    broken = MultiTracker.from_checkpoint(faulty_weights(tmp_path, float("nan"), "score"))
    image = textured(240, 320)
    good.init(0, image, (100.0, 80.0, 40.0, 60.0))
    # The same target object through the broken network for one frame (its stem features are identical: the
    # NaN is only in the head), then the good one again.
    broken._targets, broken._image_size = good._targets, good.image_size
    assert broken.update(image)[0].status == TrackStatus.LOST
    assert good._targets[0].film_context is None
    assert broken.last_invalid_ids == [0]
    result = good.update(image)[0]
    assert_valid(result, image.shape)
    assert result.confidence > 0.0 and good.last_invalid_ids == []


def test_device_cuda_without_cuda_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ValueError, match="no CUDA GPU is available"):
        ViLTracker.from_checkpoint(None, device="cuda")


@pytest.mark.parametrize("device", ["gpu", "mps", None])
def test_a_device_that_is_not_cpu_or_cuda_is_a_clear_error(device):
    with pytest.raises(ValueError, match="'auto', 'cpu' or 'cuda'"):
        ViLTracker.from_checkpoint(None, device=device)


def test_settings_as_a_dict_or_numpy_scalars_are_taken_and_a_wrong_config_is_refused_at_once():
    tracker = MultiTracker.from_checkpoint(None, config={"window_influence": 0.3, "lost_patience": 4})
    assert tracker.config == TrackerConfig(window_influence=0.3, lost_patience=4)
    with pytest.raises(ValueError, match="unknown tracker settings"):
        MultiTracker.from_checkpoint(None, config={"window_influenze": 0.3})
    with pytest.raises(TypeError, match="TrackerConfig or a dict"):
        MultiTracker.from_checkpoint(None, config=[("window_influence", 0.3)])
    # Values read from numpy arrays are numbers too, stored as Python's own (they go into YAML, JSON and ROS).
    config = TrackerConfig(window_influence=np.float32(0.25), lost_patience=np.int64(3),
                           hold_box_when_lost=np.bool_(True))
    assert (config.window_influence, config.lost_patience, config.hold_box_when_lost) == (0.25, 3, True)
    assert [type(v) for v in (config.window_influence, config.lost_patience, config.hold_box_when_lost)] == \
        [float, int, bool]
    with pytest.raises(ValueError, match="lost_patience must be an integer"):
        TrackerConfig(lost_patience=np.float64(3.0))


def test_an_image_of_another_size_drops_the_targets_given_on_the_old_size():
    """A camera that changes mode: boxes in pixels of the old size mean nothing in the new one."""
    tracker = MultiTracker.from_checkpoint(None)
    small, large = textured(240, 320), textured(480, 640, 2)
    tracker.init(0, small, (100.0, 80.0, 40.0, 60.0))
    tracker.init(1, small, (10.0, 10.0, 30.0, 30.0))
    assert sorted(tracker.update(textured(240, 320, 1))) == [0, 1] and tracker.last_dropped_ids == []
    assert tracker.update(large) == {} and tracker.last_dropped_ids == [0, 1] and tracker.target_ids == []
    tracker.init(0, large, (200.0, 160.0, 80.0, 120.0))   # given again at the new size: tracked
    assert tracker.last_dropped_ids == [] and tracker.image_size == (480, 640)
    assert list(tracker.update(textured(480, 640, 3))) == [0]
    tracker.init(5, small, (10.0, 10.0, 30.0, 30.0))      # a target given at another size replaces the others
    assert tracker.last_dropped_ids == [0] and tracker.target_ids == [5]

    single = ViLTracker.from_checkpoint(None)
    single.init(small, (100.0, 80.0, 40.0, 60.0))
    with pytest.raises(ValueError, match="the image is 640x480, the target was given on 320x240 images"):
        single.update(large)
    assert not single.initialized


def nothing_frame(kind: str, shape: tuple, rng: np.random.Generator) -> np.ndarray:
    """Return a frame with nothing in it: uniform (a number, grey level) or a dark sensor's noise ('noise SIGMA')."""
    if kind.startswith("noise"):
        sigma = float(kind.split()[1])
        return np.clip(12 + rng.normal(0, sigma, shape), 0, 255).astype(np.uint8)
    return np.full(shape, int(kind), dtype=np.uint8)


@pytest.mark.parametrize("kind", ["0", "128", "255", "noise 4", "noise 8"])
def test_a_covered_lens_leaves_the_box_and_the_track_where_they_were(kind):
    """
    30 frames with nothing in them (black, grey, overexposed; a covered lens's sensor noise) in a real sequence.

    No sighting, so no move: the box stays exactly where the last real frame put it (on black frames it ran to the
    image's top edge within 5 frames, at confidence 0.02; on noise it wandered and grew from 88 to 166 px wide), the
    confidence is 0, the status turns LOST, and once the scene is back the target is found where it was.
    """
    import cv2
    from viltrack_ros.data.frame_source import list_frames
    from viltrack_ros.paths import default_sequences_root

    sequence = default_sequences_root() / "vot2015_bag"   # a development sequence
    if not sequence.is_dir():
        pytest.skip(f"real sequence {sequence} is absent")
    frames = [cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB) for path in list_frames(sequence)[:12]]
    truth = np.loadtxt(sequence / "groundtruth.txt", delimiter=",", max_rows=12)
    tracker = MultiTracker.from_checkpoint(None, threads=1)
    tracker.init(0, frames[0], tuple(truth[0]))
    for frame in frames[1:5]:
        last = tracker.update(frame)[0]
    statuses = []
    rng = np.random.default_rng(0)
    for _ in range(30):
        result = tracker.update(nothing_frame(kind, frames[0].shape, rng))[0]
        assert result.box == last.box and result.confidence == 0.0, result
        statuses.append(result.status)
    assert statuses[-1] == TrackStatus.LOST and statuses.count(TrackStatus.LOST) >= 27
    for frame in frames[5:]:
        result = tracker.update(frame)[0]
    x, y, w, h = result.box
    tx, ty, tw, th = truth[11]
    overlap = max(0.0, min(x + w, tx + tw) - max(x, tx)) * max(0.0, min(y + h, ty + th) - max(y, ty))
    assert result.status == TrackStatus.TRACKING and overlap / (w * h + tw * th - overlap) > 0.5, result


def test_dim_and_few_level_scenes_still_count_as_seen():
    """
    A night scene or a 14-bit thermal clip read as 8 grey levels carries what the network can follow: not blank.

    Nor does a sensor's strong noise (24 grey levels) pass for nothing: the rule is for what is flat once
    averaged over cells, not for what a camera at high gain sees.
    """
    import cv2
    from viltrack_ros.data.frame_source import list_frames
    from viltrack_ros.paths import default_sequences_root
    from viltrack_ros.tracking.crop import crop_and_resize
    from viltrack_ros.tracking.tracker import is_featureless

    sequence = default_sequences_root() / "vot2015_bag"
    if not sequence.is_dir():
        pytest.skip(f"real sequence {sequence} is absent")
    frame = cv2.cvtColor(cv2.imread(str(list_frames(sequence)[0])), cv2.COLOR_BGR2RGB)
    box = np.loadtxt(sequence / "groundtruth.txt", delimiter=",", max_rows=1)
    crop, _ = crop_and_resize(frame, box, 4.0, 160)
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float64)
    night = np.rint(crop * 0.05).astype(np.uint8)                                # 5% brightness
    eight_levels = np.repeat(np.rint(27 + grey / 255 * 8).astype(np.uint8)[:, :, None], 3, axis=2)
    rng = np.random.default_rng(0)
    for seen in (crop, night, eight_levels, nothing_frame("noise 24", crop.shape, rng)):
        assert not is_featureless(seen)
    for kind in ("0", "128", "255", "noise 2", "noise 8"):
        assert is_featureless(nothing_frame(kind, crop.shape, rng)), kind
    # Other presets' crops (128 and 256 px) are judged over cells of the same 32 pixels, so the same bound holds.
    for side in (128, 256):
        assert is_featureless(nothing_frame("noise 8", (side, side, 3), rng)), side
        assert not is_featureless(cv2.resize(eight_levels, (side, side), interpolation=cv2.INTER_LINEAR)), side
