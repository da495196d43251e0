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
The pre-cropped training set (``../shared/data/train``, see its README).

It holds square 224-px crops around each frame's target, the crop geometry in the original frame, and a fixed
``train``/``val`` split.

Two views of one sequence:
- :func:`load_precropped` gives the stored crops with their boxes (training pairs are cut from them);
- :func:`canvas_sequence` pastes every stored crop back at its place in a canvas of the original frame's extent
  (mean colour elsewhere), so a tracker can run on it with the target moving as in the source video. The
  validation score (choosing arms, checkpoints and settings) is tracking on these canvases.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import yaml

from ..paths import shared_root
from .sequences import Sequence, list_frames, read_boxes, read_image_rgb

SPLITS_FILE = "splits.yaml"
STORED_SIZE = 224


def default_train_root() -> Path:
    """``../shared/data/train`` beside the checkout (the layout of every developer machine and CI)."""
    return shared_root() / "data" / "train"


def source_video(name: str) -> str:
    """
    Return the video a stored sequence was cut from.

    Sub-sequences of one video are separate folders (the data's README, "Known issues"): UAV123 splits a long
    video into ``<video>_1``, ``<video>_2``, ... that follow the same target, and OTB stores two targets of the same
    frames as ``<video>-1`` and ``<video>-2``. A negative pair or a distractor drawn from "another video" must not
    come from a sibling, where the template's own object is in the frame (LaSOT's ``<class>-<n>`` are different
    videos and keep their names).
    """
    if name.startswith("uav_"):
        return re.sub(r"_\d+$", "", name)
    if name.startswith("otb_"):
        return re.sub(r"-\d+$", "", name)
    return name


def read_split(root: str | Path, split: str) -> list[str]:
    """Sequence names of ``split`` (``train``, ``val`` or ``unused``) from the set's ``splits.yaml``."""
    path = Path(root) / SPLITS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: is {root} the pre-cropped training set?")
    splits = yaml.safe_load(path.read_text())
    if split not in splits:
        raise ValueError(f"{path} has no split {split!r}; it has {sorted(splits)}")
    return list(splits[split])


@dataclass(frozen=True, eq=False)
class PrecroppedSequence(Sequence):
    """
    A pre-cropped sequence: stored crops, their boxes, and where each crop lies in the original frame.

    Stored crops (``frame_paths``), boxes in the stored 224-px crops (``boxes``) and ``crops (N, 3)`` =
    ``(x0, y0, side)`` of each crop in the original frame.
    """

    crops: np.ndarray = None

    def original_boxes(self) -> np.ndarray:
        scale = self.crops[:, 2:3] / STORED_SIZE
        return np.concatenate([self.crops[:, :2] + self.boxes[:, :2] * scale, self.boxes[:, 2:] * scale], axis=1)


def load_precropped(root: str | Path, names: list[str] | None = None, split: str | None = None
                    ) -> list[PrecroppedSequence]:
    root = Path(root)
    if names is None:
        names = read_split(root, split or "train")
    sequences = []
    for name in names:
        folder = root / name
        boxes = read_boxes(folder / "groundtruth.txt")
        crops = np.loadtxt(folder / "crops.txt", delimiter=",", ndmin=2)[:, 1:4]
        frames = list_frames(folder)
        if not (len(frames) == len(boxes) == len(crops)):
            raise ValueError(f"{folder}: {len(frames)} frames, {len(boxes)} boxes, {len(crops)} crop lines")
        sequences.append(PrecroppedSequence(name=name, frame_paths=tuple(frames), boxes=boxes,
                                            dataset="precropped", crops=crops))
    return sequences


class CanvasSequence(Sequence):
    """
    A pre-cropped sequence replayed in original-frame coordinates (see the module docstring).

    The canvas spans the union of all stored crops (shifted to start at 0); the part of the frame that no crop of
    this frame covers is the crop's mean colour, as a tracker pads outside an image.
    """

    def __init__(self, source: PrecroppedSequence, max_canvas_side: int = 1280):
        x0, y0 = source.crops[:, 0].min(), source.crops[:, 1].min()
        x1 = (source.crops[:, 0] + source.crops[:, 2]).max()
        y1 = (source.crops[:, 1] + source.crops[:, 2]).max()
        # Large targets give crops of thousands of pixels: shrink the whole canvas so its long side fits.
        scale = min(1.0, max_canvas_side / max(x1 - x0, y1 - y0))
        origin = np.array([x0, y0])
        boxes = source.original_boxes()
        boxes[:, :2] -= origin
        super().__init__(name=source.name, frame_paths=source.frame_paths, boxes=boxes * scale,
                         dataset="precropped-canvas")
        # A frozen dataclass: its own fields are set once above, these private ones the same way.
        object.__setattr__(self, "_scale", scale)
        object.__setattr__(self, "_origin", origin)
        object.__setattr__(self, "_size", (int(np.ceil((x1 - x0) * scale)), int(np.ceil((y1 - y0) * scale))))
        object.__setattr__(self, "_source", source)

    def read_frame(self, index: int) -> np.ndarray:
        crop = read_image_rgb(self.frame_paths[index])
        x0, y0, side = self._source.crops[index]
        scale = side * self._scale / STORED_SIZE
        tx, ty = (x0 - self._origin[0]) * self._scale, (y0 - self._origin[1]) * self._scale
        matrix = np.array([[scale, 0.0, tx], [0.0, scale, ty]])
        fill = cv2.mean(crop)[:3]
        return cv2.warpAffine(crop, matrix, self._size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=fill)


def canvas_sequence(source: PrecroppedSequence) -> CanvasSequence:
    return CanvasSequence(source)


def write_compact_copy(root: str | Path, out: str | Path, split: str = "train", frame_step: int = 2,
                       jpeg_quality: int = 75) -> tuple[int, int]:
    """
    Write every ``frame_step``-th stored frame of ``split`` to ``out`` in the same layout, re-encoded as JPEG.

    For a machine that the whole set cannot travel to (a lent GPU takes 64 MiB of files per call): neighbouring
    stored frames are near-duplicates, so every second one keeps each video's appearances, and JPEG quality 75
    (the stored frames are 88) halves the rest. ``out`` gets a ``splits.yaml`` naming only ``split``, each
    sequence's kept frames under their own file names, and the matching lines of ``groundtruth.txt`` and
    ``crops.txt``. Research-use frames: ``out`` must stay out of every repository. Returns (sequences, frames).
    """
    if frame_step < 1 or not 1 <= jpeg_quality <= 100:
        raise ValueError(f"frame_step must be >= 1 and jpeg_quality in [1, 100], got {frame_step}, {jpeg_quality}")
    root, out = Path(root), Path(out)
    names = read_split(root, split)
    written = 0
    for name in names:
        folder, target = root / name, out / name
        target.mkdir(parents=True, exist_ok=True)
        frames = list_frames(folder)
        kept = range(0, len(frames), frame_step)
        for label in ("groundtruth.txt", "crops.txt"):
            lines = (folder / label).read_text().splitlines()
            if len(lines) != len(frames):
                raise ValueError(f"{folder / label}: {len(lines)} lines for {len(frames)} frames")
            (target / label).write_text("".join(lines[i] + "\n" for i in kept))
        for i in kept:
            image = cv2.imread(str(frames[i]), cv2.IMREAD_COLOR)
            if image is None:
                raise ValueError(f"cannot read {frames[i]}")
            cv2.imwrite(str(target / frames[i].with_suffix(".jpg").name), image,
                        [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
            written += 1
    (out / SPLITS_FILE).write_text(yaml.safe_dump({split: names}))
    return len(names), written
