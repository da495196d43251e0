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
"""OTB scores reproduced on hand-made boxes, with the expected values worked out by hand."""
import numpy as np
import pytest

from viltrack_ros.evaluation.metrics import (PERFECT_AUC, StatusCounts, status_counts, SUCCESS_THRESHOLDS, box_iou,
                                             centre_error, mean_score, precision_curve, score_sequence, success_curve)

GT = np.array([[0.0, 0.0, 10.0, 10.0]] * 5)


def test_iou_of_hand_made_boxes():
    predicted = np.array([[0, 0, 10, 10],      # identical: 1
                          [5, 0, 10, 10],      # half shifted: 50 / (100 + 100 - 50) = 1/3
                          [0, 0, 5, 10],       # inside, half the area: 50 / 100 = 1/2
                          [20, 20, 10, 10],    # disjoint: 0
                          [np.nan] * 4], float)
    np.testing.assert_allclose(box_iou(predicted, GT), [1, 1 / 3, 1 / 2, 0, 0])
    gt_with_absent = GT.copy()
    gt_with_absent[2] = np.nan
    assert np.isnan(box_iou(predicted, gt_with_absent)[2])
    np.testing.assert_allclose(box_iou([[0, 0, 0, 10]], [[0, 0, 10, 10]]), [0])   # no area, no overlap


def test_identical_boxes_score_twenty_of_twenty_one():
    """Success counts IoU strictly above t (OTB toolkit); at t = 1 nothing passes, so a perfect run is 20/21."""
    score = score_sequence(GT, GT)
    np.testing.assert_allclose(score.success, [1.0] * 20 + [0.0])
    assert score.auc == pytest.approx(20 / 21) == pytest.approx(PERFECT_AUC)
    assert score.precision == 1.0 and score.mean_iou == 1.0 and score.num_scored == 4


def test_constant_iou_of_one_third_gives_auc_one_third():
    # IoU 1/3 beats thresholds 0, 0.05, ..., 0.30: seven of 21, so the AUC is 7/21 = 1/3.
    predicted = GT + [5, 0, 0, 0]
    score = score_sequence(predicted, GT)
    assert int((score.success > 0).sum()) == 7
    assert score.auc == pytest.approx(7 / 21)
    # Centre error is 5 px: inside 20 px.
    assert score.precision == 1.0 and score.precision_curve[4] == 0.0 and score.precision_curve[5] == 1.0


def test_first_frame_and_absent_frames_are_not_scored():
    predicted = GT.copy()
    predicted[0] = [100, 100, 5, 5]          # frame 1 is the init: a bad box there changes nothing
    gt = GT.copy()
    gt[3] = np.nan                           # absent target: not scored whatever the tracker says
    predicted[3] = [500, 500, 1, 1]
    score = score_sequence(predicted, gt)
    assert score.num_scored == 3 and score.auc == pytest.approx(20 / 21) and score.precision == 1.0


def test_missing_boxes_score_zero_and_are_counted():
    predicted = GT.copy()
    predicted[[2, 4]] = np.nan
    score = score_sequence(predicted, GT, seconds=0.5)
    # Frames 2..5 scored; two of four have no box: IoU 1, 0, 1, 0.
    assert score.num_failures == 2 and score.auc == pytest.approx(0.5 * 20 / 21)
    assert score.precision == 0.5 and score.fps == pytest.approx(10.0)
    assert np.isinf(centre_error(predicted, GT)[2])


def test_precision_counts_errors_up_to_and_including_the_threshold():
    errors = np.array([0.0, 20.0, 20.5, 50.0, np.inf])
    curve = precision_curve(errors)
    assert curve[20] == pytest.approx(2 / 5) and curve[50] == pytest.approx(4 / 5) and curve[0] == pytest.approx(1 / 5)
    predicted = GT + [12, 16, 0, 0]          # 3-4-5 triangle scaled by 4: 20 px exactly
    assert centre_error(predicted, GT)[1] == pytest.approx(20.0)
    assert score_sequence(predicted, GT).precision == 1.0


def test_success_curve_edges_and_mean_over_sequences():
    np.testing.assert_allclose(success_curve(np.array([0.0, 1.0])), [0.5] * 20 + [0.0])
    assert len(SUCCESS_THRESHOLDS) == 21 and SUCCESS_THRESHOLDS[1] == pytest.approx(0.05)
    perfect = score_sequence(GT, GT, "t", "a", seconds=1.0)
    third = score_sequence(GT + [5, 0, 0, 0], GT, "t", "b", seconds=3.0)
    mean = mean_score([perfect, third], total_seconds=4.0)
    # Sequences weigh the same: (20/21 + 7/21) / 2.
    assert mean.auc == pytest.approx((20 / 21 + 7 / 21) / 2)
    assert mean.fps == pytest.approx(10 / 4.0) and mean.num_sequences == 2
    with pytest.raises(ValueError, match="predicted boxes"):
        box_iou(GT[:2], GT)


def test_status_counts_on_hand_made_frames():
    """Frame 1 is the init (not counted); on target = overlapping the true box; an absent target is off target."""
    truth = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10], [np.nan] * 4, [0, 0, 10, 10],
                      [0, 0, 10, 10]])
    boxes = np.array([[0, 0, 10, 10], [5, 5, 10, 10], [50, 50, 10, 10], [5, 5, 10, 10], [np.nan] * 4,
                      [1, 1, 8, 8]])
    tracking = [True, True, True, True, False, False]
    counts = status_counts(boxes, truth, tracking)
    # on target: frames 2 and 6 (6 said LOST); off target: 3 (away), 4 (absent), 5 (no box); 3 and 4 said TRACKING
    assert counts == StatusCounts(on_target=2, lost_on_target=1, off_target=3, tracking_off_target=2)
    assert counts.balanced_accuracy == pytest.approx(0.5 * (1 / 2 + 1 / 3))
    assert (counts + counts).as_dict()["off_target"] == 6
    assert np.isnan(StatusCounts(on_target=4).balanced_accuracy)
    with pytest.raises(ValueError, match="statuses"):
        status_counts(boxes, truth, tracking[:-1])


def test_mean_score_leaves_out_a_sequence_without_scored_frames():
    perfect = score_sequence(GT, GT, "t", "a")
    absent = GT.copy()
    absent[1:] = np.nan                                  # the target is only in the init frame
    empty = score_sequence(GT, absent, "t", "b")
    assert empty.num_scored == 0
    mean = mean_score([perfect, empty])
    assert mean.num_sequences == 1
    assert mean.auc == pytest.approx(20 / 21) and mean.precision == 1.0
    np.testing.assert_allclose(mean.success, perfect.success)


def test_centre_error_is_measured_between_centres_for_boxes_of_different_sizes():
    predicted = np.array([[0, 0, 10, 10],      # centre (5, 5) against (8, 9): a 3-4-5 triangle
                          [2, 2, 6, 6]], float)  # centre (5, 5) against (5, 5): corners differ, centres agree
    truth = np.array([[0, 0, 16, 18], [0, 0, 10, 10]], float)
    np.testing.assert_allclose(centre_error(predicted, truth), [5.0, 0.0])
