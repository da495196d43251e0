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
"""Run trackers over sequences on the same frames, score them (OTB protocol) and write tables and plots."""
from __future__ import annotations

import collections.abc
import csv
import json
import math
import os
import platform
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence as SequenceType

import numpy as np
from tqdm import tqdm

from viltrack_ros.data.sequences import Sequence
from viltrack_ros.evaluation.metrics import (PRECISION_AT_PX, PRECISION_THRESHOLDS, SUCCESS_THRESHOLDS,
                                             MeanScore, SequenceScore, StatusCounts, balanced_accuracy_text,
                                             mean_score, score_sequence, status_counts)
from viltrack_ros.evaluation.trackers import EvaluatedTracker
from viltrack_ros.log import get_logger
from viltrack_ros.machine import cpu_description

LOGGER = get_logger(__name__)


@dataclass
class TrackerRun:
    """
    What one tracker produced on one sequence.

    Boxes ``(N, 4)`` (row 0 = the init box, NaN = no box) and the time spent inside ``init``/``update`` (image
    decoding excluded); ``tracking (N,)`` whether the tracker said TRACKING in each frame, for trackers that report
    a status (``None`` for the others).
    """

    tracker: str
    sequence: str
    boxes: np.ndarray
    seconds: float
    errors: list[str] = field(default_factory=list)
    tracking: np.ndarray | None = None
    status: StatusCounts | None = None        # set by evaluate() from ``tracking`` and the ground truth


# Decoded frames kept in memory for all trackers of one sequence, at most (bytes): the shared sequences take 0.3 GB at
# most, while a 3000-frame 1080p folder would take 18 GB. Longer ones are decoded again for each tracker instead.
FRAME_MEMORY_LIMIT = 2 * 1024 ** 3


class LazyFrames(collections.abc.Sequence):
    """A sequence's first ``count`` frames, each read when indexed (for one too long to hold decoded)."""

    def __init__(self, sequence: Sequence, count: int):
        self.sequence, self.count = sequence, count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> np.ndarray:
        if not -self.count <= index < self.count:
            raise IndexError(f"frame {index} of {self.count}")
        return self.sequence.read_frame(index % self.count)


def decoded_frames(sequence: Sequence, count: int) -> SequenceType[np.ndarray]:
    """
    Return the sequence's first ``count`` frames, decoded once for every tracker when they fit in memory.

    Otherwise (more than ``FRAME_MEMORY_LIMIT`` bytes as estimated from the first frame) return a ``LazyFrames``.
    """
    first = sequence.read_frame(0)
    if first.nbytes * count <= FRAME_MEMORY_LIMIT:
        return [first] + [sequence.read_frame(i) for i in range(1, count)]
    LOGGER.info("%s: %d frames of %s would take %.1f GB decoded; each tracker reads them again", sequence.name,
                count, "x".join(map(str, first.shape)), first.nbytes * count / 1e9)
    return LazyFrames(sequence, count)


def run_tracker(tracker: EvaluatedTracker, frames: SequenceType[np.ndarray], groundtruth: np.ndarray,
                sequence_name: str = "", frames_elapsed: SequenceType[int] | None = None) -> TrackerRun:
    """
    Initialise on frame 1 with its ground truth and track the rest.

    ``frames_elapsed``: for each of ``frames``, the camera frames since the one before (``Sequence.frames_elapsed``;
    None: 1 each), told to a tracker that takes it (``EvaluatedTracker``).

    An exception or an invalid box in a frame gives no box for that frame (scored IoU 0) and is logged; an
    exception in ``init`` leaves every frame without a box.
    """
    boxes = np.full((len(frames), 4), np.nan)
    # A tracker with a status says after each update whether it is TRACKING (``last_tracking``; ours does).
    tracking = np.zeros(len(frames), dtype=bool) if hasattr(tracker, "last_tracking") else None
    errors: list[str] = []
    seconds = 0.0
    # Each frame is read before its timer starts and outside the tracker's guard: a long sequence's frames are decoded
    # on demand (LazyFrames), and neither that time nor an unreadable file belongs to the tracker.
    first = frames[0]
    start = time.perf_counter()
    try:
        tracker.init(first, groundtruth[0])
    except Exception as exc:  # noqa: BLE001 - a tracker bug must cost its score, not the whole evaluation
        seconds += time.perf_counter() - start
        errors.append(f"init: {type(exc).__name__}: {exc}")
        LOGGER.warning("%s failed to initialise on %s: %s\n%s", tracker.name, sequence_name, exc,
                       traceback.format_exc())
        return TrackerRun(tracker.name, sequence_name, boxes, seconds, errors)
    seconds += time.perf_counter() - start
    boxes[0] = groundtruth[0]
    told_frames = frames_elapsed is not None and getattr(tracker, "takes_frames_elapsed", False)
    for index in range(1, len(frames)):
        frame = frames[index]
        start = time.perf_counter()
        try:
            if told_frames:
                box = tracker.update(frame, frames_elapsed=int(frames_elapsed[index]))
            else:
                box = tracker.update(frame)
        except Exception as exc:  # noqa: BLE001
            box = None
            errors.append(f"frame {index + 1}: {type(exc).__name__}: {exc}")
            if len(errors) == 1:
                LOGGER.warning("%s raised on %s frame %d: %s\n%s", tracker.name, sequence_name, index + 1, exc,
                               traceback.format_exc())
        seconds += time.perf_counter() - start
        if tracking is not None:
            tracking[index] = box is not None and bool(tracker.last_tracking)
        if box is not None:
            box = np.asarray(box, dtype=np.float64).reshape(-1)
            if box.size == 4 and np.isfinite(box).all():
                boxes[index] = box
    missing = int((~np.isfinite(boxes[1:]).all(axis=1)).sum())
    if missing:
        LOGGER.info("%s gave no box for %d of %d frames of %s (scored as IoU 0)", tracker.name, missing,
                    len(frames) - 1, sequence_name)
    return TrackerRun(tracker.name, sequence_name, boxes, seconds, errors, tracking)


@dataclass
class EvaluationReport:
    """Every run and score of one evaluation, in tracker order then sequence order."""

    trackers: list[str]
    sequences: list[str]
    runs: dict[tuple[str, str], TrackerRun]
    scores: dict[tuple[str, str], SequenceScore]
    means: dict[str, MeanScore]
    metadata: dict

    def status_counts(self, name: str) -> StatusCounts | None:
        """How far ``name``'s status can be trusted over all sequences (``None``: it reports no status)."""
        runs = [self.runs[(name, sequence)] for sequence in self.sequences]
        if any(run.status is None for run in runs):
            return None
        return sum((run.status for run in runs), StatusCounts())

    def markdown_table(self) -> str:
        lines = [f"Mean over {len(self.sequences)} sequences ({', '.join(self.sequences)}); OTB protocol, frame 1 "
                 f"not scored.", "",
                 "| tracker | success AUC | precision @20px | FPS | frames without a box |",
                 "|---|---:|---:|---:|---:|"]
        for name in self.trackers:
            mean = self.means[name]
            lines.append(f"| {name} | {mean.auc:.3f} | {mean.precision:.3f} | {mean.fps:.1f} | "
                         f"{mean.num_failures} |")
        lines += ["", "Per sequence: success AUC / precision @20px / FPS", "",
                  "| sequence | " + " | ".join(self.trackers) + " |",
                  "|---|" + "---:|" * len(self.trackers)]
        for sequence in self.sequences:
            cells = []
            for name in self.trackers:
                score = self.scores[(name, sequence)]
                cells.append(f"{score.auc:.3f} / {score.precision:.3f} / {score.fps:.0f}")
            lines.append(f"| {sequence} | " + " | ".join(cells) + " |")
        with_status = [(name, self.status_counts(name)) for name in self.trackers]
        with_status = [(name, counts) for name, counts in with_status if counts is not None]
        if with_status:
            lines += ["", "Status, for the trackers that report one (on target: the box overlaps the true box; an "
                      "absent target is off target):", "",
                      "| tracker | on-target frames said LOST | off-target frames said TRACKING | balanced accuracy |",
                      "|---|---:|---:|---:|"]
            for name, counts in with_status:
                lines.append(f"| {name} | {counts.lost_on_target} / {counts.on_target} | "
                             f"{counts.tracking_off_target} / {counts.off_target} | "
                             f"{balanced_accuracy_text(counts.balanced_accuracy)} |")
        return "\n".join(lines) + "\n"


def evaluate(trackers: SequenceType[EvaluatedTracker], sequences: SequenceType[Sequence],
             max_frames: int | None = None, progress: bool = True,
             metadata: dict | None = None) -> EvaluationReport:
    """
    Run every tracker over every sequence.

    Each sequence's frames are decoded once and given to all trackers, so that they see identical input and
    decoding time is not charged to anyone.
    """
    if not trackers:
        raise ValueError("no tracker to evaluate")
    names = [t.name for t in trackers]
    if len(set(names)) != len(names):
        raise ValueError(f"tracker names must be unique, got {names}")
    runs: dict[tuple[str, str], TrackerRun] = {}
    scores: dict[tuple[str, str], SequenceScore] = {}
    total_frames = sum(min(len(s), max_frames or len(s)) for s in sequences)
    bar = tqdm(total=total_frames * len(trackers), desc="eval", unit="frame", disable=not progress,
               dynamic_ncols=True)
    for sequence in sequences:
        count = min(len(sequence), max_frames or len(sequence))
        frames = decoded_frames(sequence, count)
        groundtruth = sequence.boxes[:count]
        elapsed = [sequence.frames_elapsed(i) for i in range(count)]
        for tracker in trackers:
            bar.set_postfix_str(f"{tracker.name} on {sequence.name}")
            run = run_tracker(tracker, frames, groundtruth, sequence.name, elapsed)
            if run.tracking is not None:
                run.status = status_counts(run.boxes, groundtruth, run.tracking)
            runs[(tracker.name, sequence.name)] = run
            score = score_sequence(run.boxes, groundtruth, tracker.name, sequence.name, run.seconds)
            scores[(tracker.name, sequence.name)] = score
            LOGGER.info("%-22s %-20s AUC %.3f  P@20 %.3f  %.1f FPS", tracker.name, sequence.name, score.auc,
                        score.precision, score.fps)
            bar.update(count)
        del frames
    bar.close()
    sequence_names = [s.name for s in sequences]
    means = {name: mean_score([scores[(name, s)] for s in sequence_names],
                              sum(runs[(name, s)].seconds for s in sequence_names)) for name in names}
    info = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": platform.machine(),
            "processor": cpu_description(), "cpu_count": os.cpu_count(), "python": platform.python_version(),
            **(metadata or {})}
    return EvaluationReport(trackers=names, sequences=sequence_names, runs=runs, scores=scores, means=means,
                            metadata=info)


# ----------------------------------------------------------------------------------------------------------------
# output files

def write_report(report: EvaluationReport, out_dir: str | Path, plots: bool = True) -> list[Path]:
    """
    Write the tables, predicted boxes and plots of an evaluation; return the files written.

    The files: ``table.md``, ``results.csv``, ``results.json``, predicted boxes per tracker and sequence, and
    success/precision plots (mean and per sequence).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []

    table = out_dir / "table.md"
    table.write_text(report.markdown_table())
    written.append(table)

    results_csv = out_dir / "results.csv"
    with open(results_csv, "w", newline="") as handle:
        columns = ["tracker", "sequence", "frames", "scored_frames", "auc", "precision_20px", "mean_iou", "fps",
                   "failures"]
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for name in report.trackers:
            for sequence in report.sequences:
                writer.writerow(_rounded(report.scores[(name, sequence)].as_row()))
            mean = report.means[name]
            writer.writerow(_rounded({"tracker": name, "sequence": "MEAN",
                                      "frames": sum(report.scores[(name, s)].num_frames for s in report.sequences),
                                      "scored_frames": sum(report.scores[(name, s)].num_scored
                                                           for s in report.sequences),
                                      "auc": mean.auc, "precision_20px": mean.precision, "mean_iou": "",
                                      "fps": mean.fps, "failures": mean.num_failures}))
    written.append(results_csv)

    results_json = out_dir / "results.json"
    status = {name: report.status_counts(name) for name in report.trackers}
    payload = {
        "protocol": {"success_thresholds": SUCCESS_THRESHOLDS.tolist(), "success_rule": "IoU > threshold",
                     "precision_thresholds_px": PRECISION_THRESHOLDS.tolist(), "precision_rule": "error <= threshold",
                     "precision_reported_at_px": PRECISION_AT_PX, "first_frame_scored": False,
                     "absent_frames_scored": False, "frame_without_box": "IoU 0, infinite centre error",
                     "fps": "frames / seconds inside init+update (decoding excluded)"},
        "metadata": report.metadata,
        "sequences": report.sequences,
        "mean": {name: {"auc": m.auc, "precision_20px": m.precision, "fps": m.fps, "failures": m.num_failures,
                        "sequences": m.num_sequences, "success_curve": m.success.tolist(),
                        "precision_curve": m.precision_curve.tolist(),
                        **({"status": status[name].as_dict()} if status[name] is not None else {})}
                 for name, m in report.means.items()},
        "per_sequence": [{**score.as_row(), "success_curve": score.success.tolist(),
                          "precision_curve": score.precision_curve.tolist(),
                          "errors": report.runs[key].errors[:20]} for key, score in report.scores.items()],
    }
    results_json.write_text(json.dumps(finite_or_null(payload), indent=1, allow_nan=False))
    written.append(results_json)

    for (name, sequence), run in report.runs.items():
        path = out_dir / "boxes" / _safe(name) / f"{_safe(sequence)}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savetxt(path, run.boxes, fmt="%.2f", delimiter=",")
        written.append(path)

    if plots:
        from viltrack_ros.evaluation.plots import plot_curves
        written += plot_curves(
            {name: (m.success, m.precision_curve) for name, m in report.means.items()},
            out_dir, f"mean over {len(report.sequences)} sequences", "mean")
        for sequence in report.sequences:
            written += plot_curves(
                {name: (report.scores[(name, sequence)].success, report.scores[(name, sequence)].precision_curve)
                 for name in report.trackers}, out_dir / "per_sequence", sequence, _safe(sequence))
    return written


def _rounded(row: dict) -> dict:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


TrackerFactory = Callable[[], EvaluatedTracker]


def finite_or_null(value):
    """
    Return ``value`` with every NaN or infinite float replaced by ``None``, through dicts, lists and tuples.

    JSON has no NaN: Python writes it as a bare ``NaN`` that strict parsers (jq, JavaScript, ``parse_constant``)
    reject. An undefined figure (a balanced accuracy without off-target frames, the FPS of a run with no update)
    becomes ``null``.
    """
    if isinstance(value, dict):
        return {key: finite_or_null(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_null(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
