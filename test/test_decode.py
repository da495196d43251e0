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
"""Box sanity: hand-made score maps through the tracker's peak and size selection (tracking.decode)."""
from dataclasses import replace

import numpy as np
import pytest
import torch

from viltrack_ros.tracking import TrackerConfig
from viltrack_ros.tracking.decode import SizeChangeLimits, select_boxes, size_penalty

G = 8


def maps(peaks: dict, sizes: dict, default_size=(0.25, 0.25)):
    score = torch.full((1, 1, G, G), 0.01)
    offset = torch.full((1, 2, G, G), 0.5)
    size = torch.tensor(default_size).view(1, 2, 1, 1).repeat(1, 1, G, G)
    for (r, c), value in peaks.items():
        score[0, 0, r, c] = value
    for (r, c), wh in sizes.items():
        size[0, :, r, c] = torch.tensor(wh)
    return score, offset, size


FLAT_WINDOW = torch.ones(G, G)
PREVIOUS = torch.tensor([[0.25, 0.25]])
SHIPPED_LIMITS = SizeChangeLimits.from_config(TrackerConfig())


def test_a_swollen_box_loses_to_a_slightly_weaker_plausible_one():
    score, offset, size = maps({(1, 1): 0.8, (5, 5): 0.7}, {(1, 1): (0.95, 0.95)})
    penalised = replace(SHIPPED_LIMITS, penalty_k=0.3)
    boxes, confidence, cells = select_boxes(score, offset, size, FLAT_WINDOW, 0.0, PREVIOUS, penalised)
    assert np.allclose(boxes[0, :2], [5.5 / G, 5.5 / G])
    assert abs(float(confidence[0]) - 0.7) < 1e-6
    assert cells.tolist() == [5 * G + 5]
    # Without the penalty the swollen cell would have won.
    boxes, _, _ = select_boxes(score, offset, size, FLAT_WINDOW, 0.0, PREVIOUS, replace(SHIPPED_LIMITS, penalty_k=0.0))
    assert np.allclose(boxes[0, :2], [1.5 / G, 1.5 / G])


def test_size_change_per_frame_is_bounded_and_damped():
    score, offset, size = maps({(4, 4): 1.0}, {(4, 4): (1.0, 1.0)})
    prior = SizeChangeLimits(penalty_k=0.0, damping=1.0, max_step=1.25)
    boxes, _, _ = select_boxes(score, offset, size, FLAT_WINDOW, 0.0, PREVIOUS, prior)
    assert np.allclose(boxes[0, 2:], PREVIOUS[0].numpy() * 1.25)        # wanted 4x, got the one-frame bound
    prior = SizeChangeLimits(penalty_k=0.0, damping=0.5, max_step=4.0)
    boxes, _, _ = select_boxes(score, offset, size, FLAT_WINDOW, 0.0, PREVIOUS, prior)
    assert np.allclose(boxes[0, 2:], [0.625, 0.625])   # halfway: 0.25 + 0.5 * 0.75


def test_low_confidence_moves_the_size_less():
    prior = SizeChangeLimits(penalty_k=0.0, damping=1.0, max_step=4.0)
    score, offset, size = maps({(4, 4): 0.2}, {(4, 4): (0.5, 0.5)})
    boxes, _, _ = select_boxes(score, offset, size, FLAT_WINDOW, 0.0, PREVIOUS, prior)
    assert np.allclose(boxes[0, 2:], [0.30, 0.30])     # 0.25 + 0.2 * 0.25


def test_window_prefers_the_centre_between_equal_peaks():
    score, offset, size = maps({(0, 0): 0.6, (3, 4): 0.6}, {})
    window = torch.outer(torch.hann_window(G + 2, periodic=False)[1:-1], torch.hann_window(G + 2, periodic=False)[1:-1])
    boxes, _, _ = select_boxes(score, offset, size, window, 0.5, PREVIOUS, SHIPPED_LIMITS)
    assert np.allclose(boxes[0, :2], [4.5 / G, 3.5 / G])


def test_penalty_is_one_for_an_unchanged_size_and_falls_with_change():
    # (1, 2, 1, 3): widths then heights of three cells
    size = torch.stack([torch.tensor([[0.25, 0.5, 0.25]]), torch.tensor([[0.25, 0.5, 0.05]])]).unsqueeze(0)
    penalty = size_penalty(size, PREVIOUS, penalty_k=0.2)[0, 0]
    assert abs(float(penalty[0]) - 1.0) < 1e-6          # unchanged
    assert float(penalty[1]) < 1.0                      # twice the size
    assert float(penalty[2]) < float(penalty[1])        # 5:1 aspect change costs more


def test_tracker_box_never_grows_faster_than_the_bound(sequences_root, small_checkpoint):
    """Seen before the bound existed: with search_factor 5 the box swelled to the whole frame while TRACKING."""
    import numpy as np
    from viltrack_ros.data.sequences import load_sequence_folder
    from viltrack_ros.tracking import TrackerConfig, ViLTracker
    sequence = load_sequence_folder(sequences_root / "Crossing")
    config = TrackerConfig(search_factor=5.0, max_scale_step=1.25, lost_threshold=0.0, recover_threshold=0.0)
    tracker = ViLTracker.from_checkpoint(small_checkpoint, config=config)
    tracker.init(sequence.read_frame(0), sequence.boxes[0])
    previous = sequence.boxes[0]
    for index in range(1, 15):
        box, _, _ = tracker.update(sequence.read_frame(index))
        assert box[2] <= previous[2] * 1.25 + 1e-6 and box[3] <= previous[3] * 1.25 + 1e-6
        previous = np.asarray(box)


def test_size_change_per_frame_is_bounded_when_the_box_shrinks_too():
    score, offset, size = maps({(4, 4): 1.0}, {(4, 4): (0.01, 0.01)})
    limits = SizeChangeLimits(penalty_k=0.0, damping=1.0, max_step=1.25)
    boxes, _, _ = select_boxes(score, offset, size, FLAT_WINDOW, 0.0, PREVIOUS, limits)
    np.testing.assert_allclose(boxes[0, 2:], [0.2, 0.2], rtol=1e-6)     # wanted 1/25, got 1/1.25


def test_an_elongated_box_is_not_penalised_for_keeping_its_shape():
    previous = np.array([[0.4, 0.1]], np.float32)                        # 4:1
    size = np.array([[[[0.4, 0.1]], [[0.1, 0.4]]]], np.float32)          # (1, 2, 1, 2): unchanged, turned 90 degrees
    penalty = size_penalty(size, previous, penalty_k=0.2)[0, 0]
    assert penalty[0] == pytest.approx(1.0, abs=1e-6)
    assert penalty[1] < 0.1                                              # exp(-0.2 * (16 - 1)) = 0.0498
