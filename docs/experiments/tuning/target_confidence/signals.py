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
Which per-frame signal tells on-target frames from off-target ones, on val and dev (never held-out).

    source scripts/env.sh; PYTHONPATH=$PWD:$PYTHONPATH python docs/experiments/tuning/target_confidence/signals.py

Tracks val (canvas replay) and the development sequences from 5 start frames each with the shipped weights and the
default settings, and records per frame the network's score at the chosen cell and the target confidence (the
ranking there: the score mixed with the target's classifier). On target = the box overlaps the true box. Prints
each signal's AUROC and, for the LOST/TRACKING rule (lost_patience frames below lost_threshold -> LOST, back at
recover_threshold) replayed on each signal, the balanced accuracy at the best settings of a grid, with how often
the status drops from TRACKING to LOST. The replay equals the tracker's own status for the signal it uses (checked
against the tuning runs to the frame count).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

import viltrack_ros.tracking.tracker as tracker_module
from viltrack_ros.data.precropped import default_train_root
from viltrack_ros.data.sequences import restarted_sequences
from viltrack_ros.evaluation.metrics import box_iou
from viltrack_ros.evaluation.trackers import ViLTrackerAdapter
from viltrack_ros.training.experiment import development_sequences, validation_sequences

_last = {}
_select_boxes = tracker_module.select_boxes


def _recording_select_boxes(*args, **kwargs):
    boxes, network_scores, cells = _select_boxes(*args, **kwargs)
    _last["network_score"] = float(network_scores[0])
    return boxes, network_scores, cells


def record(sequences) -> np.ndarray:
    """Rows (run, network score, target confidence, on target) for every frame after the first."""
    tracker = ViLTrackerAdapter.from_checkpoint(None).tracker
    rows = []
    for run, sequence in enumerate(sequences):
        tracker.reset()
        tracker.init(sequence.read_frame(0), sequence.boxes[0])
        boxes, signals = [sequence.boxes[0]], []
        for index in range(1, len(sequence)):
            result = tracker.update(sequence.read_frame(index))
            boxes.append(result.box)
            signals.append((_last["network_score"], result.confidence))
        on = np.nan_to_num(box_iou(np.array(boxes), sequence.boxes), nan=0.0)[1:] > 0
        rows += [(run, network, target, float(hit)) for (network, target), hit in zip(signals, on)]
    return np.array(rows)


def auroc(signal: np.ndarray, positive: np.ndarray) -> float:
    ranks = np.empty(len(signal))
    ranks[np.argsort(signal, kind="stable")] = np.arange(1, len(signal) + 1)
    p, n = positive.sum(), (~positive).sum()
    return float((ranks[positive].sum() - p * (p + 1) / 2) / (p * n))


def replay_status(runs: np.ndarray, signal: np.ndarray, lost: float, recover: float, patience: int = 5) -> np.ndarray:
    tracking = np.zeros(len(signal), dtype=bool)
    low, is_lost, current = 0, False, None
    for i, (run, value) in enumerate(zip(runs, signal)):
        if run != current:
            low, is_lost, current = 0, False, run
        low = low + 1 if value < lost else 0
        if is_lost and value >= recover:
            is_lost = False
        elif not is_lost and low >= patience:
            is_lost = True
        tracking[i] = not is_lost
    return tracking


def balanced_accuracy(tracking: np.ndarray, on: np.ndarray) -> float:
    return 0.5 * ((tracking & on).sum() / on.sum() + (~tracking & ~on).sum() / (~on).sum())


def plot_tradeoff(splits: dict[str, np.ndarray], png: Path) -> None:
    """
    Plot the status rule's two errors for each signal and split as lost_threshold runs from 0.05 to 0.6.

    With lost_patience 3 and recover_threshold 0.05 above it, the share of on-target frames said LOST is drawn
    against the share of off-target frames said TRACKING. Closer to the corner (0, 0) is better.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(1, len(splits), figsize=(5 * len(splits), 4.2))
    thresholds = np.arange(0.05, 0.61, 0.05)
    for axis, (name, rows) in zip(np.atleast_1d(axes), splits.items()):
        on = rows[:, 3] > 0
        for column, label, colour in ((1, "network score", "tab:gray"), (2, "target confidence", "tab:blue")):
            points = []
            for lost in thresholds:
                tracking = replay_status(rows[:, 0], rows[:, column], lost, lost + 0.05, patience=3)
                points.append(((~tracking & on).sum() / on.sum(), (tracking & ~on).sum() / (~on).sum()))
            points = np.array(points)
            axis.plot(points[:, 0], points[:, 1], "o-", color=colour, label=label, markersize=3)
            for (x, y), lost in zip(points[::2], thresholds[::2]):
                axis.annotate(f"{lost:.2f}", (x, y), fontsize=7, color=colour, xytext=(3, 3),
                              textcoords="offset points")
        axis.set_title(f"{name}: {int(on.sum())} on-target, {int((~on).sum())} off-target frames")
        axis.set_xlabel("on-target frames said LOST")
        axis.set_ylabel("off-target frames said TRACKING")
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle("Status errors as lost_threshold moves (patience 3, recover = lost + 0.05), shipped weights, "
                    "5 starts")
    figure.tight_layout()
    figure.savefig(png, dpi=110)
    plt.close(figure)


def main() -> None:
    torch.set_num_threads(1)
    tracker_module.select_boxes = _recording_select_boxes
    splits = {"val": record(restarted_sequences(validation_sequences(default_train_root()), 5)),
              "dev": record(restarted_sequences(development_sequences(), 5))}
    for name, rows in splits.items():
        on = rows[:, 3] > 0
        print(f"{name}: {len(rows)} frames, {int((~on).sum())} off target; AUROC network score "
              f"{auroc(rows[:, 1], on):.3f}, target confidence {auroc(rows[:, 2], on):.3f}")
    plot_tradeoff(splits, Path(__file__).with_name("status_tradeoff.png"))
    grid = [(patience, lost, round(lost + gap, 2)) for patience in (2, 3, 5)
            for lost in (0.15, 0.2, 0.25, 0.3, 0.35, 0.4) for gap in (0.0, 0.05, 0.1, 0.15)]
    for column, signal in ((1, "network score"), (2, "target confidence")):
        results = []
        for patience, lost, recover in grid:
            per_split = []
            for rows in splits.values():
                on = rows[:, 3] > 0
                tracking = replay_status(rows[:, 0], rows[:, column], lost, recover, patience)
                same_run = rows[1:, 0] == rows[:-1, 0]
                drops = int((tracking[:-1] & ~tracking[1:] & same_run).sum())     # TRACKING -> LOST changes
                per_split.append((balanced_accuracy(tracking, on), int((tracking & ~on).sum()), int((~on).sum()),
                                  int((~tracking & on).sum()), int(on.sum()), drops))
            results.append((np.mean([split[0] for split in per_split]), patience, lost, recover, per_split))
        # the previous defaults (patience 5, 0.2 / 0.35) and this release's (patience 3, 0.3 / 0.4)
        defaults = [entry for entry in results if entry[1:4] in ((5, 0.2, 0.35), (3, 0.3, 0.4))]
        for mean, patience, lost, recover, per_split in sorted(results, key=lambda entry: -entry[0])[:4] + defaults:
            print(f"{signal}: lost_patience {patience}, lost_threshold {lost:.2f}, recover_threshold {recover:.2f}: "
                  f"mean balanced accuracy {mean:.3f}; " + "; ".join(
                      f"{name} {bal:.3f} (TRACKING off target {t_off} / {off}, LOST on target {l_on} / {on}, "
                      f"{drops} drops to LOST)"
                      for name, (bal, t_off, off, l_on, on, drops) in zip(splits, per_split)))


if __name__ == "__main__":
    main()
