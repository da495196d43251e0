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
Where the gap to NanoTrack lies on val and dev: losing the target, or a loose box while on it.

Runs the shipped tracker and NanoTrack v2 on val (canvas replay) and the development sequences from 5 start frames
each (the tuning protocol; no held-out sequence) and splits each tracker's frames into on target (IoU > 0.1) and
off, with the mean IoU of the on-target frames. Writes ``gap_breakdown.json`` and prints a table.

    python docs/experiments/tuning/frame_rate/gap_breakdown.py --out outputs/gap [--frame-step 3]
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch
import yaml

from viltrack_ros.data.precropped import default_train_root
from viltrack_ros.data.sequences import frame_step_sequences, restarted_sequences, source_sequence_name
from viltrack_ros.evaluation.metrics import box_iou as iou
from viltrack_ros.evaluation.runner import evaluate
from viltrack_ros.evaluation.trackers import NanoTrackTracker, ViLTrackerAdapter, find_nanotrack
from viltrack_ros.training.experiment import development_sequences, validation_sequences


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", default="viltrack_ros/weights/viltrack_default.pt")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--frame-step", type=int, default=1, help="keep every N-th frame (1: all)")
    parser.add_argument("--settings", nargs="*", default=[], metavar="NAME=VALUE", help="our tracker settings")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    folder, reason = find_nanotrack()
    if folder is None:
        raise SystemExit(reason)
    settings = {k: yaml.safe_load(v) for k, v in (s.split("=", 1) for s in args.settings)}
    trackers = [ViLTrackerAdapter.from_checkpoint(args.weights, name="ViLTrack", settings=settings),
                NanoTrackTracker(folder)]
    rows = {}
    for split, sequences in (("val", validation_sequences(default_train_root())), ("dev", development_sequences())):
        sequences = restarted_sequences(frame_step_sequences(sequences, args.frame_step), 5)
        report = evaluate(trackers, sequences)
        per_video = defaultdict(lambda: defaultdict(list))
        for (name, sequence), run in report.runs.items():
            truth = next(s for s in sequences if s.name == sequence).boxes
            visible = np.isfinite(truth[1:]).all(axis=1)
            overlaps = np.nan_to_num(iou(run.boxes[1:][visible], truth[1:][visible]))
            per_video[source_sequence_name(sequence)][name].append(overlaps)
        for video, by_tracker in per_video.items():
            row = {}
            for name, runs in by_tracker.items():
                overlaps = np.concatenate(runs)
                on = overlaps > 0.1
                row[name] = {"mean_iou": float(overlaps.mean()), "on_target": float(on.mean()),
                             "iou_on_target": float(overlaps[on].mean()) if on.any() else 0.0}
            rows[f"{split}/{video}"] = row
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gap_breakdown.json").write_text(json.dumps(rows, indent=1))
    for name in ("ViLTrack", "NanoTrack v2"):
        for split in ("val", "dev"):
            values = [row[name]["mean_iou"] for key, row in rows.items() if key.startswith(split)]
            print(f"{name} {split}: mean IoU {np.mean(values):.3f}")
    print("| sequence | ours mean IoU | Nano mean IoU | ours on target | Nano on target | ours IoU on target | "
          "Nano IoU on target |")
    for key, row in rows.items():
        a, b = row["ViLTrack"], row["NanoTrack v2"]
        print(f"| {key} | {a['mean_iou']:.3f} | {b['mean_iou']:.3f} | {a['on_target']:.3f} | {b['on_target']:.3f} | "
              f"{a['iou_on_target']:.3f} | {b['iou_on_target']:.3f} |")


if __name__ == "__main__":
    main()
