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
Measure whether the network finds a target off the search crop's centre (the centre bias of a set of weights).

For frames of the development sequences (full frames, so real context all around), cut the search crop the
tracker would cut but with its centre moved ``d`` box sizes from the target in a random direction, run one network
step (template: the sequence's first frame, no temporal context), and count how often the score map's peak cell
lies inside the true box: raw, and after the tracker's cosine window (``window_influence``).

    .venv/bin/python docs/experiments/wide_shift/centre_bias.py --weights A.pt B.pt [--out table.md]

Uses the tracker's internals (one network step on a hand-cut crop): an experiment tool, not an API.
"""
import argparse
import math
from pathlib import Path

import numpy as np

from viltrack_ros.data.sequences import load_sequence_folders
from viltrack_ros.data.splits import load_data_splits
from viltrack_ros.tracking.crop import as_rgb, crop_and_resize
from viltrack_ros.tracking.decode import sigmoid
from viltrack_ros.tracking.tracker import MultiTracker, normalised_chw

ROOT = Path(__file__).resolve().parents[3]


def peak_hits(weights: str, sequences, shifts, frames_per_sequence: int, window_influence: float, seed: int):
    tracker = MultiTracker.from_checkpoint(weights, backend="onnxruntime")
    size, grid = tracker.model_config.search_size, tracker.model_config.search_grid
    rng = np.random.default_rng(seed)   # the same directions for every set of weights
    hits = {d: np.zeros(2) for d in shifts}
    count = 0
    for sequence in sequences:
        tracker.init(0, sequence.read_frame(0), sequence.boxes[0])
        target = tracker._targets[0]
        for index in np.linspace(3, len(sequence) - 1, frames_per_sequence).astype(int):
            x, y, w, h = box = sequence.boxes[index]
            if not np.all(np.isfinite(box)) or w <= 1 or h <= 1:
                continue
            image, side = as_rgb(sequence.read_frame(index)), math.sqrt(w * h)
            count += 1
            for d in shifts:
                angle = rng.uniform(0, 2 * math.pi)
                centre = (x + w / 2 + d * side * math.cos(angle), y + h / 2 + d * side * math.sin(angle))
                crop, transform = crop_and_resize(image, box, tracker.config.search_factor, size, center=centre,
                                                  crop_side=tracker.config.search_factor * side)
                target.film_context = None
                score = sigmoid(tracker._network_step([target], normalised_chw(crop)[None])[0][0, 0])
                windowed = (1 - window_influence) * score + window_influence * tracker._window
                for k, response in enumerate((score, windowed)):
                    row, col = np.unravel_index(np.argmax(response), response.shape)
                    px = transform.origin[0] + (col + 0.5) / grid * size / transform.scale
                    py = transform.origin[1] + (row + 0.5) / grid * size / transform.scale
                    hits[d][k] += x <= px <= x + w and y <= py <= y + h
    return {d: hits[d] / count for d in shifts}, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip(), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", nargs="+", required=True)
    parser.add_argument("--sequences", default=str(ROOT.parent / "shared" / "data" / "sequences"))
    parser.add_argument("--shifts", type=float, nargs="+", default=[0.0, 0.5, 1.0, 1.5])
    parser.add_argument("--frames", type=int, default=40, help="frames per sequence")
    parser.add_argument("--window-influence", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="also write the table (markdown) here, and its plot beside it (.png)")
    args = parser.parse_args()
    names = load_data_splits(ROOT / "config" / "data_splits.yaml").names("dev")
    sequences = load_sequence_folders(args.sequences, names)
    lines = ["| weights | " + " | ".join(f"{d:g}" for d in args.shifts) + " | frames |",
             "|---|" + "---:|" * (len(args.shifts) + 1)]
    curves = {}
    for weights in args.weights:
        rates, count = peak_hits(weights, sequences, args.shifts, args.frames, args.window_influence, args.seed)
        curves[weights] = rates
        cells = " | ".join(f"{rates[d][0]:.2f} ({rates[d][1]:.2f})" for d in args.shifts)
        lines.append(f"| `{weights}` | {cells} | {count} |")
        print(lines[-1], flush=True)
    table = "\n".join(lines)
    print(f"\nScore peak on the target, by the target's distance from the crop centre (box sizes); in brackets after "
          f"the cosine window (influence {args.window_influence:g}). Dev sequences: {', '.join(names)}.\n\n{table}")
    if args.out:
        Path(args.out).write_text(table + "\n")
        plot(curves, args.shifts, args.window_influence, Path(args.out).with_suffix(".png"))


def label_of(weights: str) -> str:
    """Return an arm's folder name for ``<arm>/model.pt``, else the file's name."""
    path = Path(weights)
    return path.parent.name if path.name == "model.pt" else path.stem


def plot(curves: dict, shifts: list[float], window_influence: float, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for weights, rates in curves.items():
        for k, axis in enumerate(axes):
            axis.plot(shifts, [rates[d][k] for d in shifts], marker="o", label=label_of(weights))
    axes[0].set_title("network's score peak")
    axes[1].set_title(f"after the cosine window ({window_influence:g})")
    for axis in axes:
        axis.set_xlabel("target's distance from the search crop's centre (box sizes)")
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("peak on the target (fraction of dev crops)")
    axes[1].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


if __name__ == "__main__":
    main()
