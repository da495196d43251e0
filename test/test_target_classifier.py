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
"""The target's own online classifier (tracking.discriminative), on the shipped network's features of real frames."""
from __future__ import annotations

import numpy as np
import pytest

from viltrack_ros.tracking.config import TrackerConfig
from viltrack_ros.tracking.crop import crop_and_resize
from viltrack_ros.tracking.decode import sigmoid
from viltrack_ros.tracking.discriminative import TargetClassifier, _patches, gaussian_label
from viltrack_ros.tracking.tracker import MultiTracker, TrackStatus, normalised_chw


def test_patches_hold_each_cells_neighbourhood_and_a_bias():
    features = np.arange(2 * 4 * 4, dtype=np.float32).reshape(1, 2, 4, 4)
    patches = _patches(features, 3)
    assert patches.shape == (1, 16, 2 * 9 + 1)
    np.testing.assert_array_equal(patches[0, :, -1], 1.0)
    # cell (1, 2): its 3x3 neighbourhood in channel 0, row by row
    np.testing.assert_array_equal(patches[0, 1 * 4 + 2, :9], features[0, 0, 0:3, 1:4].reshape(-1))
    # the corner cell sees zeros outside the map
    assert patches[0, 0, 0] == 0 and patches[0, 0, 4] == features[0, 0, 0, 0]


def test_gaussian_label_peaks_at_the_centre():
    label = gaussian_label(10, (3.5, 6.5), 0.8)
    assert np.unravel_index(label.argmax(), label.shape) == (6, 3) and label.max() == pytest.approx(1.0)


def _peak_distance(score: np.ndarray, box) -> float:
    """Cells between ``score``'s peak and the centre of the normalised box (cx, cy, w, h)."""
    g = score.shape[0]
    row, col = np.unravel_index(score.argmax(), score.shape)
    return float(np.hypot(col + 0.5 - box[0] * g, row + 0.5 - box[1] * g))


def test_each_target_has_a_classifier_of_its_own(sequence_frames):
    """
    Two targets in one real frame (Dudek's face, and the room beside it) each have a classifier of their own.

    Each classifier, fitted at init, finds its own target in a later frame's crop that holds both, not whatever is
    most salient.
    """
    frames, boxes = sequence_frames("Dudek", 6)
    face = boxes[0]
    beside = face + np.array([1.6 * face[2], 0, 0, 0])            # the same size, right of the face
    tracker = MultiTracker.from_checkpoint(None, config=TrackerConfig(classifier_weight=0.5))
    tracker.init(0, frames[0], face)
    tracker.init(1, frames[0], beside)
    both = np.array([face[0], face[1], beside[0] + beside[2] - face[0], face[3]])
    crop, transform = crop_and_resize(frames[5], both, 2.5, tracker.model_config.search_size)
    appearance = tracker._network_step([tracker._targets[0]], normalised_chw(crop)[None])[4][0]
    size = tracker.model_config.search_size

    def normalised(box):
        x, y, w, h = transform.image_to_crop_box(box) / size
        return np.array([x + w / 2, y + h / 2, w, h])
    for target_id, box, other in ((0, boxes[5], beside), (1, beside, boxes[5])):
        score = tracker._targets[target_id].classifier.score(appearance)
        assert _peak_distance(score, normalised(box)) <= 1.0
        assert _peak_distance(score, normalised(box)) < _peak_distance(score, normalised(other))


def test_learning_moves_the_classifier_towards_the_new_frames(sequence_frames):
    """Refitting on a frame with the target elsewhere raises the answer there, keeping part of the first frame."""
    frames, boxes = sequence_frames("Dudek", 2)
    tracker = MultiTracker.from_checkpoint(None, config=TrackerConfig(classifier_weight=0.5))
    tracker.init(0, frames[0], boxes[0])
    classifier = tracker._targets[0].classifier
    size = tracker.model_config.search_size
    crop, transform = crop_and_resize(frames[1], boxes[1], 4.0, size, center=(boxes[1][0], boxes[1][1]))
    appearance = tracker._network_step([tracker._targets[0]], normalised_chw(crop)[None])[4][0]
    x, y, w, h = transform.image_to_crop_box(boxes[1]) / size
    target = np.array([x + w / 2, y + h / 2, w, h])
    g = appearance.shape[-1]
    cell = int(target[1] * g), int(target[0] * g)
    with pytest.raises(RuntimeError, match="score a crop first"):
        classifier.learn(target)
    before = classifier.score(appearance)[cell]
    for _ in range(5):
        classifier.learn(target)
    assert classifier.score(appearance)[cell] > before


def test_tracker_fits_a_classifier_only_when_it_is_used(sequence_frames):
    frames, boxes = sequence_frames("Dudek", 4)
    off = MultiTracker.from_checkpoint(None, config=TrackerConfig(classifier_weight=0.0))
    on = MultiTracker.from_checkpoint(None, config=TrackerConfig(classifier_weight=0.5))
    for tracker in (off, on):
        tracker.init(0, frames[0], boxes[0])
    assert off._targets[0].classifier is None and isinstance(on._targets[0].classifier, TargetClassifier)
    for frame, box in zip(frames[1:], boxes[1:]):
        result = on.update(frame)[0]
        assert result.status == TrackStatus.TRACKING
        centre, truth = np.add(result.box[:2], np.divide(result.box[2:], 2)), box[:2] + box[2:] / 2
        assert np.hypot(*(centre - truth)) < 20


def test_classifier_settings_are_bounded():
    with pytest.raises(ValueError, match="classifier_weight"):
        TrackerConfig(classifier_weight=1.5)
    with pytest.raises(ValueError, match="classifier_learn_threshold"):
        TrackerConfig(classifier_learn_threshold=-0.1)


def test_a_classifier_set_to_zero_at_run_time_stops_ranking_and_learning(sequence_frames):
    """
    `ros2 param set ... tracker.classifier_weight 0.0` replaces the tracker's settings.

    The network alone picks the peak from the next frame, and the target's classifier neither costs nor changes any
    more.
    """
    import dataclasses
    frames, boxes = sequence_frames("Dudek", 4)
    tracker = MultiTracker.from_checkpoint(None, config=TrackerConfig(classifier_weight=0.4))
    plain = MultiTracker.from_checkpoint(None, config=TrackerConfig(classifier_weight=0.0))
    for t in (tracker, plain):
        t.init(0, frames[0], boxes[0])
    tracker.config = dataclasses.replace(tracker.config, classifier_weight=0.0)
    fitted = tracker._targets[0].classifier.filter.copy()
    for frame in frames[1:]:
        np.testing.assert_allclose(tracker.update(frame)[0].box, plain.update(frame)[0].box, atol=1e-6)
    np.testing.assert_array_equal(tracker._targets[0].classifier.filter, fitted)


def test_the_reported_confidence_is_the_mix_that_picked_the_peak(sequence_frames):
    """
    The target confidence (status, TrackedObject.confidence) is the mix that picked the peak.

    It is the network's score at the chosen cell mixed with the target's classifier there, with the same weight that
    picked the cell; not the network's score alone.
    """
    frames, boxes = sequence_frames("Dudek", 4)
    weight = 0.4
    tracker = MultiTracker.from_checkpoint(None, config=TrackerConfig(classifier_weight=weight))
    tracker.init(0, frames[0], boxes[0])
    size = tracker.model_config.search_size
    moved_by_the_classifier = 0
    for frame in frames[1:]:
        target = tracker._targets[0]
        crop, transform = crop_and_resize(frame, target.box, tracker.config.search_factor, size)
        logits, _, _, _, appearance = tracker._network_step([target], normalised_chw(crop)[None])
        network = sigmoid(logits[0, 0])
        learnt = np.clip(target.classifier.score(appearance[0]), 0.0, 1.0)   # before update() learns from it
        result = tracker.update(frame)[0]
        x, y, w, h = transform.image_to_crop_box(result.box) / size
        g = network.shape[0]
        cell = int((y + h / 2) * g), int((x + w / 2) * g)
        assert result.confidence == pytest.approx((1 - weight) * network[cell] + weight * learnt[cell], abs=1e-4)
        moved_by_the_classifier += abs(result.confidence - network[cell]) > 1e-3
    assert moved_by_the_classifier >= 2
