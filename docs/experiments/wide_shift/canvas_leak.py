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
Check whether `val`'s canvas replay gives away where the target is.

Scored by replaying the development sequences the way `val` is replayed.

`val` exists only as stored crops (5 box sizes around the true box, ../shared/data/train), so `viltrack experiment`
replays it on a canvas: each frame is its stored crop at its place, the rest the crop's mean colour
(`data.precropped.CanvasSequence`). In such a frame the true target is always at the centre of the one square of real
content. This script cuts the development sequences (full frames) into the same crops, replays them the same way,
and scores each tracker on both: a tracker that gains much more from the replay than another uses the square.

    .venv/bin/python docs/experiments/wide_shift/canvas_leak.py --weights A.pt B.pt [--floor] [--restarts 3]
"""
import argparse
import math
import tempfile
from pathlib import Path

import cv2
import numpy as np

from viltrack_ros.data.precropped import STORED_SIZE, canvas_sequence, load_precropped
from viltrack_ros.data.sequences import restarted_sequences, source_sequence_name
from viltrack_ros.evaluation.trackers import SiameseStemBaseline, ViLTrackerAdapter
from viltrack_ros.training.experiment import development_sequences, score_trackers


def store_as_crops(sequence, root: Path) -> None:
    """
    Store the sequence as ../shared/data/train stores one (its README).

    Per frame a square of side 5*sqrt(w*h) centred on the box, resized to 224 px, JPEG quality 88, the box in crop
    pixels and the crop's place in crops.txt.
    """
    folder = root / sequence.name
    folder.mkdir(parents=True)
    boxes, crops, last = [], [], sequence.boxes[0]
    for index in range(len(sequence)):
        box = sequence.boxes[index]
        visible = np.all(np.isfinite(box)) and box[2] > 0 and box[3] > 0
        x, y, w, h = box if visible else last
        last = (x, y, w, h)
        side = round(5 * math.sqrt(w * h))
        x0, y0 = round(x + w / 2 - side / 2), round(y + h / 2 - side / 2)
        image = sequence.read_frame(index)
        scale = STORED_SIZE / side
        matrix = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]])
        crop = cv2.warpAffine(image, matrix, (STORED_SIZE, STORED_SIZE),
                              flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=cv2.mean(image)[:3])
        cv2.imwrite(str(folder / f"{index + 1:08d}.jpg"), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, 88])
        boxes.append(f"{(x - x0) * scale:.2f},{(y - y0) * scale:.2f},{w * scale:.2f},{h * scale:.2f}" if visible
                     else "nan,nan,nan,nan")
        crops.append(f"{index + 1},{x0},{y0},{side}")
    (folder / "groundtruth.txt").write_text("\n".join(boxes) + "\n")
    (folder / "crops.txt").write_text("\n".join(crops) + "\n")


def sequence_auc(scores: dict, name: str) -> float:
    """Return a sequence's mean AUC over its start frames (``name``, ``name@k``)."""
    runs = [auc for run, auc in scores["per_sequence"].items() if source_sequence_name(run) == name]
    return sum(runs) / len(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip(), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", nargs="+", required=True)
    parser.add_argument("--floor", action="store_true", help="also the training-free Siamese floor")
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--out", help="also write the table (markdown) here")
    args = parser.parse_args()
    dev = development_sequences()
    with tempfile.TemporaryDirectory() as tmp:
        for sequence in dev:
            store_as_crops(sequence, Path(tmp))
        replayed = [canvas_sequence(s) for s in load_precropped(tmp, names=[s.name for s in dev])]
        real, canvas = (restarted_sequences(s, args.restarts) for s in (dev, replayed))
        trackers = [ViLTrackerAdapter.from_checkpoint(w, name=w) for w in args.weights]
        if args.floor:
            trackers.append(SiameseStemBaseline(name="training-free floor"))
        names = [s.name for s in dev]
        lines = ["| tracker | dev, real frames | dev, canvas replay | gain from the replay | gain per sequence ("
                 + ", ".join(names) + ") |", "|---|---:|---:|---:|---|"]
        for tracker in trackers:
            on_real = score_trackers([tracker], real)[tracker.name]
            on_canvas = score_trackers([tracker], canvas)[tracker.name]
            per_sequence = ", ".join(f"{sequence_auc(on_canvas, name) - sequence_auc(on_real, name):+.2f}"
                                     for name in names)
            lines.append(f"| `{tracker.name}` | {on_real['auc']:.3f} | {on_canvas['auc']:.3f} | "
                         f"{on_canvas['auc'] - on_real['auc']:+.3f} | {per_sequence} |")
            print(lines[-1], flush=True)
    table = "\n".join(lines)
    print(f"\nSuccess AUC on the development sequences from {args.restarts} start frames each:\n\n{table}")
    if args.out:
        Path(args.out).write_text(table + "\n")


if __name__ == "__main__":
    main()
