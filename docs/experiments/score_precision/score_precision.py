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
How precisely a val/dev score measures: the same tracker, perturbed by what no one would call a change.

Each row is the shipped weights with the default settings, scored on `val` (canvas replay) and the development
sequences; the rows differ by a perturbation far below anything a user or a camera could notice: none; the stem's
input conversion in float32 products instead of float64 ones (one ulp in green, the change that moved the held-out
mean from 0.566 to 0.588 in a reproduction run); the initial box moved by 0.01 px or widened by 0.01 px. The spread
of the rows is the score's noise floor: a difference between two settings smaller than it is not a measurement.

    source scripts/env.sh && python docs/experiments/score_precision/score_precision.py --threads 2
    ... --restarts 5     # every sequence from 5 start frames, as most of docs/MODEL.md's comparisons

Held-out sequences: never.
"""
import argparse
import json
from pathlib import Path

import numpy as np
import torch

from viltrack_ros.evaluation.trackers import ViLTrackerAdapter
from viltrack_ros.model.checkpoint import default_weights_path
from viltrack_ros.model.inputs import IMAGENET_MEAN_255, IMAGENET_STD_255
from viltrack_ros.training.experiment import (default_train_root, development_sequences, restarted_sequences,
                                              score_trackers, validation_sequences)

HERE = Path(__file__).resolve().parent


class ShiftedStart(ViLTrackerAdapter):
    """The tracker, started from the given box moved by ``shift`` (dx, dy, dw, dh) pixels."""

    def __init__(self, tracker, name: str, shift):
        super().__init__(tracker, name=name)
        self.shift = np.asarray(shift, dtype=np.float64)

    def init(self, image_rgb, box):
        super().init(image_rgb, np.asarray(box, dtype=np.float64) + self.shift)


def float32_stem_constants(adapter: ViLTrackerAdapter) -> ViLTrackerAdapter:
    """Give the stem the float32 products (model/inputs.py's crop constants) and rebuild the backend with them."""
    from viltrack_ros.model.efficientnet_lite import INPUT_MEAN, INPUT_STD
    tracker = adapter.tracker
    multi = tracker._multi   # the stem and the backend are the MultiTracker's
    stem = multi.model.backbone.patch_embed
    with torch.no_grad():
        stem.input_scale.copy_((torch.from_numpy(IMAGENET_STD_255) / INPUT_STD).view(1, 3, 1, 1))
        stem.input_shift.copy_(((torch.from_numpy(IMAGENET_MEAN_255) - INPUT_MEAN) / INPUT_STD).view(1, 3, 1, 1))
    from viltrack_ros.tracking.backends import create_backend
    multi.backend = create_backend(multi.backend.name, multi.model, multi.device, threads=torch.get_num_threads())
    return adapter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", type=Path, default=default_weights_path())
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--restarts", type=int, default=1, help="start frames per sequence (restarted_sequences)")
    parser.add_argument("--out", type=Path, default=None, help="default: this folder, restarts_<N> below it for N > 1")
    parser.add_argument("--rows", default=None, help="comma-separated row numbers to run (0: as shipped; default all)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    def shipped(name: str) -> ViLTrackerAdapter:
        return ViLTrackerAdapter.from_checkpoint(args.weights, name=name)

    rows = {"as shipped": lambda: shipped("as shipped"),
            "stem constants as float32 products": lambda: float32_stem_constants(
                shipped("stem constants as float32 products"))}
    for label, shift in [("start box +0.01 px in x", (0.01, 0, 0, 0)), ("start box +0.01 px in y", (0, 0.01, 0, 0)),
                         ("start box -0.01 px in x", (-0.01, 0, 0, 0)), ("start box 0.01 px wider", (0, 0, 0.01, 0)),
                         ("start box 0.01 px taller", (0, 0, 0, 0.01))]:
        rows[label] = lambda label=label, shift=shift: ShiftedStart(shipped(label).tracker, label, shift)
    if args.rows is not None:
        chosen = [int(i) for i in args.rows.split(",")]
        rows = {label: make for i, (label, make) in enumerate(rows.items()) if i in chosen}
    val = restarted_sequences(validation_sequences(default_train_root()), args.restarts)
    dev = restarted_sequences(development_sequences(), args.restarts)
    if args.out is None and args.weights != default_weights_path():
        parser.error("--out is required with other weights (the default folders hold the shipped weights' tables)")
    out = args.out or (HERE if args.restarts == 1 else HERE / f"restarts_{args.restarts}")
    results = {}
    for label, make in rows.items():
        results[label] = {"val": score_trackers([make()], val)[label], "dev": score_trackers([make()], dev)[label]}
        v, d = results[label]["val"]["auc"], results[label]["dev"]["auc"]
        print(f"{label}: val {v:.3f} dev {d:.3f} mean {(v + d) / 2:.3f}", flush=True)
    first = next(iter(results.values()))
    names = list(first["val"]["per_sequence"]) + list(first["dev"]["per_sequence"])
    shown = names if args.restarts == 1 else []   # restarted: one column per start would be too many to read
    weights = "shipped weights" if args.weights == default_weights_path() else f"weights `{args.weights}`"
    started = f"every sequence from {args.restarts} start frames" if args.restarts > 1 else "one start per sequence"
    lines = [f"{weights[0].upper()}{weights[1:]}, default settings, {started}; val (canvas replay) and dev AUC.", "",
             "| " + " | ".join(["perturbation", "val AUC", "dev AUC", "mean", *shown]) + " |",
             "|---|---:|---:|---:|" + "---:|" * len(shown)]
    for label, r in results.items():
        per = {**r["val"]["per_sequence"], **r["dev"]["per_sequence"]}
        mean = (r["val"]["auc"] + r["dev"]["auc"]) / 2
        cells = [label, f"{r['val']['auc']:.3f}", f"{r['dev']['auc']:.3f}", f"{mean:.3f}",
                 *(f"{per[n]:.2f}" for n in shown)]
        lines.append("| " + " | ".join(cells) + " |")
    table = np.array([[r["val"]["auc"], r["dev"]["auc"], (r["val"]["auc"] + r["dev"]["auc"]) / 2]
                      for r in results.values()])
    lines += ["", f"Mean over the rows: val {table[:, 0].mean():.4f}, dev {table[:, 1].mean():.4f}, "
              f"mean {table[:, 2].mean():.4f}."]
    per_sequence = np.array([[{**r["val"]["per_sequence"], **r["dev"]["per_sequence"]}[n] for n in names]
                             for r in results.values()])
    lines += ["", f"Spread over the {len(results)} rows (max - min; standard deviation): val "
              f"{np.ptp(table[:, 0]):.3f}; {table[:, 0].std(ddof=1):.3f}, dev {np.ptp(table[:, 1]):.3f}; "
              f"{table[:, 1].std(ddof=1):.3f}, mean {np.ptp(table[:, 2]):.3f}; {table[:, 2].std(ddof=1):.3f}. "
              f"Per sequence, the largest spread: {names[int(np.ptp(per_sequence, axis=0).argmax())]} "
              f"{np.ptp(per_sequence, axis=0).max():.2f}; the median sequence's spread "
              f"{np.median(np.ptp(per_sequence, axis=0)):.2f}."]
    out.mkdir(parents=True, exist_ok=True)
    (out / "score_precision.md").write_text("\n".join(lines) + "\n")
    (out / "score_precision.json").write_text(json.dumps(results, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
