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
r"""
Prototype: a memory of the look-alikes around each target, so that the pick does not jump onto one of them.

KeepTrack's idea (Mayer et al., ICCV 2021) without its learnt association: every frame, the score map's other peaks
(local maxima of the ranking without the window) are remembered, in image pixels, as distractors. When the usual pick
lands on a remembered distractor (nearer to one than to where the target was), the tracker takes instead the peak
that continues the target (nearer to its last centre than to any distractor), or, with none, holds the box where it
was (``HOLD=1``) or takes the pick anyway (``HOLD=0``).

Environment: ``MEMORY=0`` runs the shipped decoding (the reference). ``REL`` / ``ABS``: a peak counts from this
share of the map's maximum / this ranking; ``MIN_SEP``: a distractor is at least this many target sizes from the
pick; ``GATE``: a pick within this many target sizes of a distractor (and nearer to it than to the target) is taken
for it; ``AGE``: frames a distractor is remembered unseen. Takes ``viltrack experiment --tune``'s arguments:

    MEMORY=1 python docs/experiments/tried/distractor_memory_proto.py \
        --tune viltrack_ros/weights/viltrack_default.pt --restarts 5 --threads 1 --out OUT

A prototype that patches the tracker at run time, not product code.
"""
import os
import sys

import cv2
import numpy as np

import viltrack_ros.tracking.decode as decode
import viltrack_ros.tracking.tracker as tracker_module
from viltrack_ros.tracking.tracker import TrackStatus

MEMORY = os.environ.get("MEMORY", "1") == "1"
REL = float(os.environ.get("REL", "0.3"))
ABS = float(os.environ.get("ABS", "0.1"))
MIN_SEP = float(os.environ.get("MIN_SEP", "0.8"))
GATE = float(os.environ.get("GATE", "0.6"))
AGE = int(os.environ.get("AGE", "3"))
HOLD = os.environ.get("HOLD", "1") == "1"
DEBUG = os.environ.get("DEBUG", "0") == "1"
ONLY_TRACKING = os.environ.get("ONLY_TRACKING", "1") == "1"

COUNTS = {"frames": 0, "remembering": 0, "on_distractor": 0, "continued": 0, "held": 0}
_context = {"active": False, "targets": [], "transforms": []}
_select_boxes = decode.select_boxes
_crop_and_resize = tracker_module.crop_and_resize
_update = tracker_module.MultiTracker.update


def update(self, image, *args, **kwargs):
    _context.update(active=True, targets=list(self._targets.values()), transforms=[])
    try:
        return _update(self, image, *args, **kwargs)
    finally:
        _context["active"] = False


def crop_and_resize(*args, **kwargs):
    crop, transform = _crop_and_resize(*args, **kwargs)
    if _context["active"]:
        _context["transforms"].append(transform)
    return crop, transform


def _peaks(local: np.ndarray) -> list[tuple[int, int]]:
    dilated = cv2.dilate(local, np.ones((3, 3), np.uint8))
    floor = max(ABS, REL * float(local.max()))
    rows, cols = np.nonzero((local >= dilated) & (local >= floor))
    order = np.argsort(-local[rows, cols])
    return [(int(rows[i]), int(cols[i])) for i in order[:6]]


def select_boxes(score, offset, size, window, window_influence, previous_wh, limits, ranking=None):
    boxes, confidence, index = _select_boxes(score, offset, size, window, window_influence, previous_wh, limits,
                                             ranking=ranking)
    if not (_context["active"] and MEMORY):
        return boxes, confidence, index
    score, offset, size = (np.asarray(a, dtype=np.float32) for a in (score, offset, size))
    previous_wh = np.asarray(previous_wh, dtype=np.float32)
    g = score.shape[-1]
    penalty = decode.size_penalty(size, previous_wh, limits.penalty_k)
    rank = score[:, 0] if ranking is None else np.asarray(ranking, dtype=np.float32)[:, 0]
    local = rank * penalty
    index = index.copy()
    held = []
    for b, (target, transform) in enumerate(zip(_context["targets"], _context["transforms"])):
        crop_side = transform.output_size

        def image_position(row, col, b=b, transform=transform, crop_side=crop_side):
            cx = (col + offset[b, 0, row, col]) / g * crop_side / transform.scale + transform.origin[0]
            cy = (row + offset[b, 1, row, col]) / g * crop_side / transform.scale + transform.origin[1]
            return np.array([cx, cy])

        x, y, w, h = target.box
        target_centre, target_size = np.array([x + w / 2, y + h / 2]), float(np.sqrt(w * h))
        remembered = getattr(target, "distractors", [])
        peaks = _peaks(local[b])
        positions = [image_position(r, c) for r, c in peaks]
        COUNTS["frames"] += 1
        row, col = divmod(int(index[b]), g)
        pick = image_position(row, col)
        hold = False
        if DEBUG:
            print(f"f{COUNTS['frames']:3d} {target.status.name[:4]} T=({target_centre[0]:.0f},{target_centre[1]:.0f}) "
                  f"s={target_size:.0f} pick=({pick[0]:.0f},{pick[1]:.0f}) peaks="
                  + " ".join(f"({p[0]:.0f},{p[1]:.0f}):{local[b][r, c]:.2f}" for (r, c), p in zip(peaks, positions))
                  + " D=" + " ".join(f"({d[0]:.0f},{d[1]:.0f})/{a}" for d, a in remembered), file=sys.stderr)
        COUNTS["remembering"] += bool(remembered)
        if remembered and (target.status == TrackStatus.TRACKING or not ONLY_TRACKING):
            to_distractor = min(np.linalg.norm(pick - d) for d, _ in remembered)
            to_target = np.linalg.norm(pick - target_centre)
            if to_distractor < GATE * target_size and to_distractor < to_target:
                COUNTS["on_distractor"] += 1
                continuing = [(r, c) for (r, c), p in zip(peaks, positions)
                              if np.linalg.norm(p - target_centre) < min(np.linalg.norm(p - d) for d, _ in remembered)
                              and np.linalg.norm(p - target_centre) < GATE * target_size]
                if continuing:
                    COUNTS["continued"] += 1
                    row, col = continuing[0]
                    index[b] = row * g + col
                    pick = image_position(row, col)
                elif HOLD:
                    COUNTS["held"] += 1
                    hold = True
                    index[b] = (g // 2) * g + g // 2   # its confidence: the ranking where the target was
        # The new memory: this frame's other peaks, and the old ones not seen again for up to AGE frames.
        seen = [(p, 0) for p, in zip(positions) if np.linalg.norm(p - pick) >= MIN_SEP * target_size]
        kept = [(d, age + 1) for d, age in remembered
                if age + 1 < AGE and all(np.linalg.norm(d - p) >= GATE * target_size for p, _ in seen)
                and np.linalg.norm(d - pick) >= MIN_SEP * target_size]
        target.distractors = seen + kept
        held.append(hold)
    boxes, confidence = decode.boxes_at_cells(index, score, offset, size, penalty, previous_wh, limits)
    for b, hold in enumerate(held):
        if hold:   # the box stays where it was: the crop's centre (no motion prediction), its previous size
            boxes[b] = (0.5, 0.5, previous_wh[b, 0], previous_wh[b, 1])
    return boxes, confidence, index


tracker_module.MultiTracker.update = update
tracker_module.crop_and_resize = crop_and_resize
tracker_module.select_boxes = select_boxes

if __name__ == "__main__":
    from viltrack_ros.training.experiment import main
    try:
        sys.exit(main(sys.argv[1:]))
    finally:
        print("distractor memory:", COUNTS, file=sys.stderr)
