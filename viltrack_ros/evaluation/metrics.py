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
OTB-protocol scores: IoU, success curve and its AUC, centre-error precision.

Conventions (the OTB toolkit's thresholds and rules, with two differences from it and pysot, which score frame 1 and
count absent-target frames as misses; about +0.004 AUC per sequence against theirs):

* frame 1 initialises the tracker and is not scored; frames whose ground truth is NaN (target absent) are not
  scored; a frame where the tracker gave no box (NaN prediction) is scored as IoU 0 and infinite centre error;
* success at threshold t is the fraction of scored frames with IoU **strictly greater** than t, for
  t in ``np.linspace(0, 1, 21)``; the AUC is the mean of that curve. IoU can never exceed 1, so the last point is
  always 0 and a perfect tracker scores 20/21 = 0.952 (as in the OTB toolkit); an IoU of exactly 0 never counts;
* precision at d pixels is the fraction of scored frames whose centre error is **at most** d, for d = 0..50;
  the reported number is the value at 20 px.
"""
from __future__ import annotations

import math
from dataclasses import astuple, dataclass

import numpy as np

SUCCESS_THRESHOLDS = np.linspace(0.0, 1.0, 21)
PRECISION_THRESHOLDS = np.arange(0, 51, dtype=np.float64)
PRECISION_AT_PX = 20
PERFECT_AUC = 20 / 21


def _as_boxes(boxes) -> np.ndarray:
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.ndim == 1:
        boxes = boxes[None]
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes must have shape (N, 4), got {boxes.shape}")
    return boxes


def box_iou(predicted, groundtruth) -> np.ndarray:
    """
    Return the per-frame IoU of ``(x, y, w, h)`` boxes, ``(N,)``.

    NaN where the ground truth is NaN, 0 where the prediction is NaN (no box) or has no area.
    """
    predicted, groundtruth = _as_boxes(predicted), _as_boxes(groundtruth)
    if predicted.shape != groundtruth.shape:
        raise ValueError(f"{len(predicted)} predicted boxes for {len(groundtruth)} ground-truth boxes")
    with np.errstate(invalid="ignore"):
        left = np.maximum(predicted[:, 0], groundtruth[:, 0])
        top = np.maximum(predicted[:, 1], groundtruth[:, 1])
        right = np.minimum(predicted[:, 0] + predicted[:, 2], groundtruth[:, 0] + groundtruth[:, 2])
        bottom = np.minimum(predicted[:, 1] + predicted[:, 3], groundtruth[:, 1] + groundtruth[:, 3])
        intersection = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
        pred_area = np.clip(predicted[:, 2], 0, None) * np.clip(predicted[:, 3], 0, None)
        union = pred_area + groundtruth[:, 2] * groundtruth[:, 3] - intersection
        iou = np.where(union > 0, intersection / np.where(union > 0, union, 1.0), 0.0)
    iou = np.where(np.isfinite(predicted).all(axis=1), iou, 0.0)
    return np.where(np.isfinite(groundtruth).all(axis=1), iou, np.nan)


def centre_error(predicted, groundtruth) -> np.ndarray:
    """
    Return the per-frame distance in pixels between box centres, ``(N,)``.

    NaN where the ground truth is NaN, infinite where the prediction is NaN.
    """
    predicted, groundtruth = _as_boxes(predicted), _as_boxes(groundtruth)
    if predicted.shape != groundtruth.shape:
        raise ValueError(f"{len(predicted)} predicted boxes for {len(groundtruth)} ground-truth boxes")
    pred_centre = predicted[:, :2] + predicted[:, 2:] / 2
    gt_centre = groundtruth[:, :2] + groundtruth[:, 2:] / 2
    error = np.hypot(*(pred_centre - gt_centre).T)
    error = np.where(np.isfinite(predicted).all(axis=1), error, np.inf)
    return np.where(np.isfinite(groundtruth).all(axis=1), error, np.nan)


def scored_frames(groundtruth) -> np.ndarray:
    """``(N,)`` bool: frames that count (not the first, ground truth present)."""
    mask = np.isfinite(_as_boxes(groundtruth)).all(axis=1)
    mask[:1] = False
    return mask


def success_curve(ious: np.ndarray, thresholds: np.ndarray = SUCCESS_THRESHOLDS) -> np.ndarray:
    """Fraction of ``ious`` strictly above each threshold (``ious`` already restricted to scored frames)."""
    ious = np.asarray(ious, dtype=np.float64)
    if ious.size == 0:
        return np.full(len(thresholds), np.nan)
    return (ious[:, None] > thresholds[None, :]).mean(axis=0)


def precision_curve(errors: np.ndarray, thresholds: np.ndarray = PRECISION_THRESHOLDS) -> np.ndarray:
    """Fraction of centre ``errors`` at or below each threshold (``errors`` restricted to scored frames)."""
    errors = np.asarray(errors, dtype=np.float64)
    if errors.size == 0:
        return np.full(len(thresholds), np.nan)
    return (errors[:, None] <= thresholds[None, :]).mean(axis=0)


@dataclass(frozen=True)
class SequenceScore:
    """Scores of one tracker on one sequence."""

    tracker: str
    sequence: str
    num_frames: int
    num_scored: int
    auc: float
    precision: float              # at PRECISION_AT_PX
    mean_iou: float
    fps: float
    num_failures: int             # scored frames without a box from the tracker
    success: np.ndarray           # over SUCCESS_THRESHOLDS
    precision_curve: np.ndarray   # over PRECISION_THRESHOLDS

    def as_row(self) -> dict:
        return {"tracker": self.tracker, "sequence": self.sequence, "frames": self.num_frames,
                "scored_frames": self.num_scored, "auc": self.auc, "precision_20px": self.precision,
                "mean_iou": self.mean_iou, "fps": self.fps, "failures": self.num_failures}


def score_sequence(predicted, groundtruth, tracker: str = "", sequence: str = "",
                   seconds: float | None = None) -> SequenceScore:
    """
    Score one run.

    ``predicted`` and ``groundtruth`` are ``(N, 4)``; ``seconds`` is the tracking time of all N frames (init
    included) for the FPS figure.
    """
    predicted, groundtruth = _as_boxes(predicted), _as_boxes(groundtruth)
    mask = scored_frames(groundtruth)
    ious = box_iou(predicted, groundtruth)[mask]
    errors = centre_error(predicted, groundtruth)[mask]
    success = success_curve(ious)
    precision = precision_curve(errors)
    failures = int((~np.isfinite(predicted).all(axis=1))[mask].sum())
    fps = len(groundtruth) / seconds if seconds else float("nan")
    return SequenceScore(tracker=tracker, sequence=sequence, num_frames=len(groundtruth),
                         num_scored=int(mask.sum()), auc=float(np.mean(success)),
                         precision=float(precision[int(np.searchsorted(PRECISION_THRESHOLDS, PRECISION_AT_PX))]),
                         mean_iou=float(np.mean(ious)) if ious.size else float("nan"), fps=fps,
                         num_failures=failures, success=success, precision_curve=precision)


@dataclass(frozen=True)
class MeanScore:
    """
    A tracker's scores averaged over sequences, each sequence weighing the same (as OTB averages).

    With restarted sequences every run (a start frame) is a sequence here: a video with fewer usable start frames
    weighs less (``mean_over_starts`` gives each video's own mean).
    """

    tracker: str
    num_sequences: int
    auc: float
    precision: float
    fps: float                    # all frames / all tracking time
    num_failures: int
    success: np.ndarray
    precision_curve: np.ndarray


def mean_score(scores: list[SequenceScore], total_seconds: float | None = None) -> MeanScore:
    """
    Average per-sequence curves (so the mean AUC is the AUC of the mean curve).

    Sequences with no scored frame are left out.
    """
    valid = [s for s in scores if s.num_scored > 0]
    if not valid:
        raise ValueError("no sequence with a scored frame")
    frames = sum(s.num_frames for s in scores)
    success = np.mean([s.success for s in valid], axis=0)
    precision = np.mean([s.precision_curve for s in valid], axis=0)
    return MeanScore(tracker=valid[0].tracker, num_sequences=len(valid), auc=float(np.mean(success)),
                     precision=float(np.mean([s.precision for s in valid])),
                     fps=frames / total_seconds if total_seconds else float("nan"),
                     num_failures=sum(s.num_failures for s in scores), success=success, precision_curve=precision)


def balanced_accuracy_text(value: float) -> str:
    """Return a balanced accuracy for a table: three decimals, or ``-`` where it is NaN (one kind of frame absent)."""
    return "-" if math.isnan(value) else f"{value:.3f}"


@dataclass(frozen=True)
class StatusCounts:
    """
    How far a tracker's status can be trusted over some runs (frame 1 not counted).

    A frame is *on target* when the box overlaps the true box (IoU > 0, VOT's failure rule) and *off target* when
    it does not or the target is absent. A status that can be trusted says TRACKING on the first and LOST on the
    second.
    """

    on_target: int = 0
    lost_on_target: int = 0
    off_target: int = 0
    tracking_off_target: int = 0

    def __add__(self, other: "StatusCounts") -> "StatusCounts":
        return StatusCounts(*(a + b for a, b in zip(astuple(self), astuple(other))))

    @property
    def balanced_accuracy(self) -> float:
        """
        Return the mean of the share of on-target frames said TRACKING and of off-target frames said LOST.

        NaN when either kind is missing. The rare off-target frames weigh as much as the many on-target ones.
        """
        if not self.on_target or not self.off_target:
            return float("nan")
        return 0.5 * (1 - self.lost_on_target / self.on_target + 1 - self.tracking_off_target / self.off_target)

    def as_dict(self) -> dict:
        return {"on_target": self.on_target, "lost_on_target": self.lost_on_target, "off_target": self.off_target,
                "tracking_off_target": self.tracking_off_target,
                "balanced_accuracy": round(self.balanced_accuracy, 4)}


def status_counts(predicted, groundtruth, tracking) -> StatusCounts:
    """``tracking (N,)`` bool: the tracker said TRACKING in that frame (INITIALIZING or LOST: False)."""
    predicted, groundtruth = _as_boxes(predicted), _as_boxes(groundtruth)
    tracking = np.asarray(tracking, dtype=bool)
    if len(tracking) != len(groundtruth):
        raise ValueError(f"{len(tracking)} statuses for {len(groundtruth)} frames")
    counted = np.ones(len(groundtruth), dtype=bool)
    counted[:1] = False
    iou = box_iou(predicted, groundtruth)
    on = counted & (np.nan_to_num(iou, nan=0.0) > 0)
    off = counted & ~on
    return StatusCounts(on_target=int(on.sum()), lost_on_target=int((on & ~tracking).sum()),
                        off_target=int(off.sum()), tracking_off_target=int((off & tracking).sum()))
