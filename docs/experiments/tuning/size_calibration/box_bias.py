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
How far the tracked box's width and height are from the ground truth's, per sequence.

Measured on `val` (canvas replay) and the development sequences (held-out sequences: never), on the frames where the
tracker is on target.

    python docs/experiments/tuning/size_calibration/box_bias.py [NAME=VALUE ...]     # tracker settings

A frame is "on target" when the box centre is within a quarter of the true box's side of the true centre. For those
frames it prints the mean and spread of log(predicted / true) width and height: a mean far from 0 with a small
spread is a bias that holds for the whole sequence, which is what the tracker's size calibration takes out.
"""
from __future__ import annotations

import sys

import numpy as np
import torch
import yaml

from viltrack_ros.data.precropped import default_train_root
from viltrack_ros.evaluation.metrics import box_iou, centre_error
from viltrack_ros.evaluation.runner import run_tracker
from viltrack_ros.evaluation.trackers import ViLTrackerAdapter
from viltrack_ros.training.experiment import development_sequences, validation_sequences


def main(argv: list[str]) -> None:
    torch.set_num_threads(1)
    settings = {name: yaml.safe_load(value) for name, value in (item.split("=", 1) for item in argv)}
    sequences = validation_sequences(default_train_root()) + development_sequences()
    tracker = ViLTrackerAdapter.from_checkpoint(None, settings=settings)
    print(f"settings {settings or 'default'}")
    print("| sequence | on target | IoU (all frames) | IoU (on target) | log w ratio | log h ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    all_w, all_h, all_iou = [], [], []
    for sequence in sequences:
        frames = [sequence.read_frame(i) for i in range(len(sequence))]
        run = run_tracker(tracker, frames, sequence.boxes, sequence.name)
        truth, boxes = sequence.boxes[1:], run.boxes[1:]
        scored = np.isfinite(truth).all(axis=1) & np.isfinite(boxes).all(axis=1)
        truth, boxes = truth[scored], boxes[scored]
        iou = box_iou(boxes, truth)
        on = centre_error(boxes, truth) < 0.25 * np.sqrt(truth[:, 2] * truth[:, 3])
        log_w, log_h = np.log(boxes[on, 2] / truth[on, 2]), np.log(boxes[on, 3] / truth[on, 3])
        all_w += log_w.tolist()
        all_h += log_h.tolist()
        all_iou.append(iou.mean())
        print(f"| {sequence.name} | {on.mean():.2f} | {iou.mean():.3f} | {iou[on].mean():.3f} | "
              f"{log_w.mean():+.3f} ± {log_w.std():.3f} | {log_h.mean():+.3f} ± {log_h.std():.3f} |", flush=True)
    all_w, all_h = np.array(all_w), np.array(all_h)
    print(f"| mean of sequences | | {np.mean(all_iou):.3f} | | |log w| {np.abs(all_w).mean():.3f} | "
          f"|log h| {np.abs(all_h).mean():.3f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
