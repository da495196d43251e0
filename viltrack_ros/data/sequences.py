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
Tracking sequences and loaders for the dataset layouts the project reads.

A :class:`Sequence` is a list of frames plus one ground-truth box ``(x, y, w, h)`` per frame, top-left corner, in
pixels; a row of NaN marks a frame where the target is absent (out of view, fully occluded, or unlabelled).
Loaders check what they read and raise ``ValueError`` naming the file and the line at fault, because a silently
shifted or truncated annotation file trains and scores a tracker on the wrong boxes without any visible symptom.

Layouts:

* plain folders (``../shared/data/sequences``): ``<name>/00000001.jpg ...`` and ``<name>/groundtruth.txt``;
* GOT-10k: ``<root>/train/list.txt``, ``<root>/train/<seq>/00000001.jpg``, ``groundtruth.txt``, ``absence.label``;
* LaSOT: ``<root>/<class>/<class>-<n>/img/00000001.jpg``, ``groundtruth.txt``, ``full_occlusion.txt``,
  ``out_of_view.txt``;
* TrackingNet: ``<root>/TRAIN_<k>/anno/<seq>.txt`` and ``<root>/TRAIN_<k>/frames/<seq>/0.jpg ...``.
"""
from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import cv2
import numpy as np

# Every still-image format OpenCV reads here: a frame folder from another tool (ffmpeg, a camera driver) should not
# come back empty for its choice of format.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp")
# OTB files mix commas, tabs and spaces between the four numbers; all are accepted.
_BOX_SEPARATOR = re.compile(r"[,\s]+")


# ----------------------------------------------------------------------------------------------------------------
# images

def read_image_rgb(path: str | Path) -> np.ndarray:
    """Read an image file as RGB ``uint8`` ``(H, W, 3)``, whatever its channel count on disk."""
    path = Path(path)
    # IMREAD_COLOR expands single-channel JPEGs (some OTB frames) to 3 channels and drops alpha.
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        if not path.is_file():
            raise FileNotFoundError(f"image not found: {path}")
        raise ValueError(f"cannot decode image: {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


# ----------------------------------------------------------------------------------------------------------------
# the sequence type

@dataclass(frozen=True, eq=False)
class Sequence:
    """
    Frames of one tracked target and its ground truth.

    ``boxes`` is ``(N, 4)`` float64 ``(x, y, w, h)``; a NaN row means the target is absent in that frame.
    Frames are read lazily through :meth:`read_frame` so that a loader can list thousands of sequences cheaply.
    """

    name: str
    frame_paths: tuple[Path, ...]
    boxes: np.ndarray
    dataset: str = "folder"

    def __post_init__(self) -> None:
        boxes = np.asarray(self.boxes, dtype=np.float64)
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ValueError(f"sequence {self.name!r}: boxes must have shape (N, 4), got {boxes.shape}")
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "frame_paths", tuple(Path(p) for p in self.frame_paths))
        if self.frame_paths and len(self.frame_paths) != len(boxes):
            raise ValueError(f"sequence {self.name!r}: {len(self.frame_paths)} frames but {len(boxes)} boxes")

    def __len__(self) -> int:
        return len(self.boxes)

    @property
    def visible(self) -> np.ndarray:
        """``(N,)`` bool: the target is present (the ground-truth row is finite)."""
        return np.all(np.isfinite(self.boxes), axis=1)

    def frames_elapsed(self, index: int) -> int:
        """Return the camera frames from frame ``index - 1`` of this sequence to frame ``index`` (1: the next one)."""
        return 1

    def read_frame(self, index: int) -> np.ndarray:
        """Frame ``index`` (0-based) as RGB ``uint8`` ``(H, W, 3)``."""
        return read_image_rgb(self.frame_paths[index])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dataset={self.dataset!r}, frames={len(self)})"


@dataclass(frozen=True, eq=False)
class InMemorySequence(Sequence):
    """A sequence whose frames are arrays already in memory (static-image clips, tests)."""

    frames: tuple[np.ndarray, ...] = field(default=())

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.frames) != len(self.boxes):
            raise ValueError(f"sequence {self.name!r}: {len(self.frames)} frames but {len(self.boxes)} boxes")

    def read_frame(self, index: int) -> np.ndarray:
        return self.frames[index]


# ----------------------------------------------------------------------------------------------------------------
# annotation parsing

def _numbered_lines(path: Path) -> list[tuple[int, str]]:
    """
    Return the lines of ``path`` with their 1-based numbers.

    Trailing blank lines are dropped (many files end with one), blank lines inside the file are kept so that they
    are reported instead of shifting every later frame.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise FileNotFoundError(f"annotation file not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a text file ({exc})") from None
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return [(number, line.strip()) for number, line in enumerate(lines, start=1)]


def parse_box_line(line: str, path: Path | str, line_number: int) -> np.ndarray:
    """
    Parse ``x,y,w,h`` (commas, tabs or spaces); ``nan`` in all four fields means absent.

    A zero width or height also means absent (GOT-10k, LaSOT and TrackingNet write ``0,0,0,0`` for frames without
    the target); a negative size or a partly-NaN row is a malformed file.
    """
    fields = [f for f in _BOX_SEPARATOR.split(line) if f]
    where = f"{path} line {line_number}"
    if len(fields) != 4:
        raise ValueError(f"{where}: expected 4 comma-separated numbers, got {line!r}")
    try:
        values = np.array([float(f) for f in fields], dtype=np.float64)
    except ValueError:
        raise ValueError(f"{where}: expected 4 comma-separated numbers, got {line!r}") from None
    finite = np.isfinite(values)
    if not finite.any() and np.isnan(values).all():
        return np.full(4, np.nan)
    if not finite.all():
        raise ValueError(f"{where}: a box must be all numbers or all 'nan', got {line!r}")
    if values[2] < 0 or values[3] < 0:
        raise ValueError(f"{where}: negative box size in {line!r}")
    if values[2] == 0 or values[3] == 0:
        return np.full(4, np.nan)
    return values


def read_boxes(path: str | Path) -> np.ndarray:
    """Read a ground-truth file, one box per line, into ``(N, 4)`` float64 with NaN rows for absent frames."""
    path = Path(path)
    rows = [parse_box_line(line, path, number) for number, line in _numbered_lines(path)]
    if not rows:
        raise ValueError(f"{path}: no boxes (empty file)")
    return np.stack(rows)


def read_flags(path: str | Path, expected_count: int) -> np.ndarray:
    """
    Read 0/1 per-frame flags and check there is one per frame.

    The flags are one per line (GOT-10k ``absence.label``) or comma-separated on one line (LaSOT
    ``full_occlusion.txt``).
    """
    path = Path(path)
    flags: list[bool] = []
    for number, line in _numbered_lines(path):
        for token in (t for t in _BOX_SEPARATOR.split(line) if t):
            if token not in ("0", "1"):
                raise ValueError(f"{path} line {number}: expected 0 or 1 flags, got {token!r}")
            flags.append(token == "1")
    if len(flags) != expected_count:
        raise ValueError(f"{path}: {len(flags)} flags for {expected_count} frames")
    return np.array(flags, dtype=bool)


def _frame_sort_key(path: Path) -> tuple:
    # Numbers inside names sort as numbers: TrackingNet's 0.jpg, 1.jpg, ..., 10.jpg and ffmpeg's frame_%d.png carry
    # no padding, and in text order frame 10 would come before frame 2. re.split with a group alternates text and
    # digit runs, so keys compare text with text and number with number.
    parts = re.split(r"(\d+)", path.stem)
    return tuple(int(part) if index % 2 else part for index, part in enumerate(parts)), path.name


def list_frames(folder: str | Path) -> list[Path]:
    """Image files in ``folder``, in frame order (numeric file names sorted as numbers)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"frame folder not found: {folder}")
    frames = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    return sorted(frames, key=_frame_sort_key)


def _check_counts(frames: list[Path], boxes: np.ndarray, gt_path: Path, frame_folder: Path) -> None:
    if not frames:
        raise ValueError(f"{frame_folder}: no image frames ({', '.join(IMAGE_SUFFIXES)})")
    if len(frames) != len(boxes):
        raise ValueError(f"{gt_path}: {len(boxes)} boxes but {len(frames)} frames in {frame_folder}; "
                         "the annotation must have exactly one line per frame")


# ----------------------------------------------------------------------------------------------------------------
# plain folders

def load_sequence_folder(folder: str | Path, groundtruth_name: str = "groundtruth.txt") -> Sequence:
    """One ``<name>/0000000k.jpg + groundtruth.txt`` folder (the layout of ``../shared/data/sequences``)."""
    folder = Path(folder)
    gt_path = folder / groundtruth_name
    boxes = read_boxes(gt_path)
    frames = list_frames(folder)
    _check_counts(frames, boxes, gt_path, folder)
    if not np.isfinite(boxes[0]).all():
        raise ValueError(f"{gt_path} line 1: the first frame initialises the tracker and needs a box, got NaN")
    return Sequence(name=folder.name, frame_paths=tuple(frames), boxes=boxes, dataset="folder")


def load_sequence_folders(root: str | Path, names: Iterable[str] | None = None) -> list[Sequence]:
    """
    Load all sequence folders under ``root``, or only those in ``names``.

    All folders are sub-folders holding ``groundtruth.txt``, sorted by name; ``names`` are loaded in the order
    given, and a requested name that is missing is an error.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"sequence folder not found: {root}")
    if names is None:
        folders = sorted((p for p in root.iterdir() if (p / "groundtruth.txt").is_file()),
                         key=lambda p: p.name.lower())
        if not folders:
            raise ValueError(f"{root}: no sequence folders (sub-folders with a groundtruth.txt)")
    else:
        folders = [root / name for name in names]
        missing = [p.name for p in folders if not p.is_dir()]
        if missing:
            raise FileNotFoundError(f"{root}: no sequence folder named {', '.join(missing)}")
    return [load_sequence_folder(folder) for folder in folders]


# ----------------------------------------------------------------------------------------------------------------
# GOT-10k

def load_got10k(root: str | Path, split: str = "train", names: Iterable[str] | None = None) -> list[Sequence]:
    """
    GOT-10k sequences of ``split`` (``train``/``val``; ``root`` may also be the split folder itself).

    Sequences come from ``list.txt`` when present (else every sub-folder with a ``groundtruth.txt``); frames
    flagged in ``absence.label`` get NaN boxes.
    """
    root = Path(root)
    split_dir = root / split if (root / split).is_dir() else root
    if not split_dir.is_dir():
        raise FileNotFoundError(f"GOT-10k folder not found: {split_dir}")
    list_path = split_dir / "list.txt"
    if names is not None:
        entries = [(name, None) for name in names]
    elif list_path.is_file():
        entries = [(line, number) for number, line in _numbered_lines(list_path)]
    else:
        entries = [(p.name, None) for p in sorted(split_dir.iterdir()) if (p / "groundtruth.txt").is_file()]
    sequences = []
    for name, line_number in entries:
        folder = split_dir / name
        if not name or not folder.is_dir():
            where = f"{list_path} line {line_number}" if line_number else str(split_dir)
            raise ValueError(f"{where}: sequence folder {name!r} not found in {split_dir}")
        gt_path = folder / "groundtruth.txt"
        boxes = read_boxes(gt_path)
        frames = list_frames(folder)
        _check_counts(frames, boxes, gt_path, folder)
        absence_path = folder / "absence.label"
        if absence_path.is_file():
            boxes[read_flags(absence_path, len(boxes))] = np.nan
        sequences.append(Sequence(name=name, frame_paths=tuple(frames), boxes=boxes, dataset="got10k"))
    return sequences


# ----------------------------------------------------------------------------------------------------------------
# LaSOT

def load_lasot(root: str | Path, names: Iterable[str] | None = None) -> list[Sequence]:
    """
    Load LaSOT sequences ``<root>/<class>/<class>-<n>``, all of them or the ``names`` given (``airplane-1``, ...).

    Frames flagged in ``full_occlusion.txt`` or ``out_of_view.txt`` get NaN boxes.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"LaSOT folder not found: {root}")
    if names is None:
        folders = sorted(p for class_dir in root.iterdir() if class_dir.is_dir()
                         for p in class_dir.iterdir() if (p / "groundtruth.txt").is_file())
        if not folders:
            raise ValueError(f"{root}: no LaSOT sequences (<class>/<class>-<n>/groundtruth.txt)")
    else:
        folders = [root / name.rsplit("-", 1)[0] / name for name in names]
    sequences = []
    for folder in folders:
        if not folder.is_dir():
            raise FileNotFoundError(f"LaSOT sequence folder not found: {folder}")
        gt_path = folder / "groundtruth.txt"
        boxes = read_boxes(gt_path)
        frames = list_frames(folder / "img")
        _check_counts(frames, boxes, gt_path, folder / "img")
        for flag_name in ("full_occlusion.txt", "out_of_view.txt"):
            flag_path = folder / flag_name
            if flag_path.is_file():
                boxes[read_flags(flag_path, len(boxes))] = np.nan
        sequences.append(Sequence(name=folder.name, frame_paths=tuple(frames), boxes=boxes, dataset="lasot"))
    return sequences


# ----------------------------------------------------------------------------------------------------------------
# TrackingNet

def load_trackingnet(root: str | Path, chunks: Iterable[str] | None = None,
                     names: Iterable[str] | None = None) -> list[Sequence]:
    """
    Load TrackingNet sequences from ``<root>/<chunk>/anno/<seq>.txt`` + ``<root>/<chunk>/frames/<seq>/<k>.jpg``.

    ``chunks`` defaults to every ``TRAIN_<k>`` folder; sequence names are ``<chunk>/<seq>`` so that they stay
    unique across chunks. ``names`` keeps only those ``<seq>`` names.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"TrackingNet folder not found: {root}")
    if chunks is None:
        chunk_dirs = sorted((p for p in root.iterdir() if p.is_dir() and re.fullmatch(r"TRAIN_\d+", p.name)),
                            key=lambda p: int(p.name.split("_")[1]))
        if not chunk_dirs:
            raise ValueError(f"{root}: no TrackingNet chunks (TRAIN_<k> folders)")
    else:
        chunk_dirs = [root / chunk for chunk in chunks]
    wanted = None if names is None else set(names)
    sequences = []
    for chunk_dir in chunk_dirs:
        anno_dir = chunk_dir / "anno"
        if not anno_dir.is_dir():
            raise FileNotFoundError(f"TrackingNet annotation folder not found: {anno_dir}")
        for gt_path in sorted(anno_dir.glob("*.txt")):
            if wanted is not None and gt_path.stem not in wanted:
                continue
            boxes = read_boxes(gt_path)
            frame_dir = chunk_dir / "frames" / gt_path.stem
            frames = list_frames(frame_dir)
            _check_counts(frames, boxes, gt_path, frame_dir)
            sequences.append(Sequence(name=f"{chunk_dir.name}/{gt_path.stem}", frame_paths=tuple(frames),
                                      boxes=boxes, dataset="trackingnet"))
    return sequences


LOADERS: dict[str, Callable[..., list[Sequence]]] = {
    "folder": load_sequence_folders,
    "got10k": load_got10k,
    "lasot": load_lasot,
    "trackingnet": load_trackingnet,
}


def load_dataset(kind: str, root: str | Path, **options) -> list[Sequence]:
    """Load sequences of a dataset ``kind`` (one of :data:`LOADERS`) from ``root``."""
    try:
        loader = LOADERS[kind]
    except KeyError:
        raise ValueError(f"unknown dataset kind {kind!r}; expected one of {', '.join(LOADERS)}") from None
    return loader(root, **options)


class _SelectedFrames(Sequence):
    """
    Some frames of ``source`` (``kept``: their indices, in order) with their boxes, read through ``source``.

    ``source`` may itself hold its frames in memory or select them from another sequence.
    """

    def __init__(self, source: Sequence, kept: np.ndarray, name: str):
        paths = tuple(source.frame_paths[i] for i in kept) if source.frame_paths else ()
        super().__init__(name=name, frame_paths=paths, boxes=source.boxes[kept], dataset=source.dataset)
        object.__setattr__(self, "_source", source)
        object.__setattr__(self, "_kept", kept)

    def read_frame(self, index: int) -> np.ndarray:
        return self._source.read_frame(int(self._kept[index]))

    def frames_elapsed(self, index: int) -> int:
        """Return the source's camera frames from the kept frame before ``index`` to it (1 for the first)."""
        if index == 0:
            return 1
        between = range(int(self._kept[index - 1]) + 1, int(self._kept[index]) + 1)
        return sum(self._source.frames_elapsed(j) for j in between)


class RestartedSequence(_SelectedFrames):
    """
    ``source`` from frame ``start`` on, initialised there from its ground truth.

    This is OTB's temporal robustness evaluation (TRE): one run per start point, so a tracker that flips to a
    distractor once in a short sequence is not scored on that flip alone.
    """

    def __init__(self, source: Sequence, start: int):
        if not 0 <= start < len(source) or not source.visible[start]:
            raise ValueError(f"{source.name}: frame {start} has no visible target to start from")
        super().__init__(source, np.arange(start, len(source)), f"{source.name}@{start}")


class FrameStepSequence(_SelectedFrames):
    """
    Every ``step``-th frame of ``source``, from its first: the same video at 1/step of its frame rate.

    Targets move ``step`` times as far between two updates, as they do for a node that drops frames while its CPU
    is busy, or for a fast target; the name gains ``/step{step}``.
    """

    def __init__(self, source: Sequence, step: int):
        if step < 1:
            raise ValueError(f"frame step must be >= 1, got {step}")
        super().__init__(source, np.arange(0, len(source), step), f"{source.name}/step{step}")


class IrregularStepSequence(_SelectedFrames):
    """
    ``source`` with frames dropped irregularly: from each kept frame to the next, ``low`` to ``high`` frames.

    Each gap is drawn uniformly (``seed`` makes them repeatable): a node that drops frames when its CPU is busy does so
    irregularly, not every N-th; the name gains ``/step{low}-{high}``.
    """

    def __init__(self, source: Sequence, low: int, high: int, seed: int = 0):
        if not 1 <= low <= high:
            raise ValueError(f"frame steps must satisfy 1 <= low <= high, got {low}-{high}")
        gaps = np.random.default_rng(seed).integers(low, high + 1, size=len(source))
        kept = np.concatenate([[0], np.cumsum(gaps)])
        super().__init__(source, kept[kept < len(source)], f"{source.name}/step{low}-{high}")


class ShakenSequence(Sequence):
    """
    ``source`` seen through a shaking camera: every frame after the first shifted by its own random offset.

    The offsets are drawn uniformly up to ``amplitude`` pixels either way in x and y (``seed`` makes them
    repeatable), and the truth moves with them; the edges a shift uncovers mirror the frame, as a wider sensor would
    show more scene. A camera on a robot driving over rough ground, a legged robot, a hand-held camera; the name gains
    ``/shake{amplitude}``.
    """

    def __init__(self, source: Sequence, amplitude: float, seed: int = 0):
        if not amplitude >= 0:
            raise ValueError(f"shake amplitude must be >= 0 pixels, got {amplitude}")
        offsets = np.random.default_rng(seed).uniform(-amplitude, amplitude, size=(len(source), 2))
        offsets[0] = 0.0      # the first frame as recorded: the tracker starts on the source's own first box
        boxes = source.boxes.copy()
        boxes[:, :2] += offsets
        super().__init__(name=f"{source.name}/shake{amplitude:g}", frame_paths=source.frame_paths, boxes=boxes,
                         dataset=source.dataset)
        object.__setattr__(self, "_source", source)
        object.__setattr__(self, "offsets", offsets)

    def frames_elapsed(self, index: int) -> int:
        return self._source.frames_elapsed(index)

    def read_frame(self, index: int) -> np.ndarray:
        frame = self._source.read_frame(index)
        dx, dy = self.offsets[index]
        shift = np.float32([[1, 0, dx], [0, 1, dy]])
        return cv2.warpAffine(frame, shift, (frame.shape[1], frame.shape[0]), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REFLECT)


def source_sequence_name(run_name: str) -> str:
    """
    Return the name of the stored sequence a run was cut from, so per-run scores group by video.

    That is ``run_name`` without the ``@start`` of a ``RestartedSequence``, the ``/step{N}`` of a
    ``FrameStepSequence`` (``/step{A}-{B}`` of an ``IrregularStepSequence``) and the ``/shake{A}`` of a
    ``ShakenSequence`` (in any order).
    """
    return re.sub(r"(?:@\d+|/step\d+(?:-\d+)?|/shake[\d.]+)+$", "", run_name)


def parse_frame_step(text) -> tuple[int, int]:
    """Read ``N`` (every N-th frame) or ``A-B`` (each step A to B frames, drawn per step) as ``(low, high)``."""
    if isinstance(text, (int, np.integer)) and not isinstance(text, bool):
        text = str(int(text))
    low, separator, high = str(text).strip().partition("-")
    try:
        low, high = int(low), int(high if separator else low)
    except ValueError:
        raise ValueError(f"a frame step is N or A-B (whole numbers), got {text!r}") from None
    if not 1 <= low <= high:
        raise ValueError(f"a frame step needs 1 <= A <= B, got {text!r}")
    return low, high


def frame_step_argument(text: str) -> int | str:
    """Return a command line's frame step as given, ``N`` as an int (checked by :func:`frame_step_sequences`)."""
    text = text.strip()
    return int(text) if text.isdigit() else text


def frame_step_sequences(sequences, step) -> list[Sequence]:
    """
    Return ``sequences`` with frames dropped: every N-th kept (``step`` N) or irregularly (``step`` "A-B").

    ``step`` as :func:`parse_frame_step` reads it. Unchanged for step 1. Irregular steps are drawn with a seed from
    each sequence's name (the same for every tracker and run).
    """
    low, high = parse_frame_step(step)
    if high == 1:
        return list(sequences)
    if low == high:
        return [FrameStepSequence(s, low) for s in sequences]
    return [IrregularStepSequence(s, low, high, seed=zlib.crc32(s.name.encode())) for s in sequences]


def restart_source(name: str) -> str:
    """Return the name of the sequence a run was started from (a later start is named ``<sequence>@<frame>``)."""
    return name.split("@", 1)[0]


def mean_over_starts(per_run: dict[str, float]) -> dict[str, float]:
    """Average per-run values (keyed by run name) over each sequence's start frames, in first-seen order."""
    grouped: dict[str, list[float]] = {}
    for run, value in per_run.items():
        grouped.setdefault(restart_source(run), []).append(value)
    return {sequence: sum(values) / len(values) for sequence, values in grouped.items()}


def restarted_sequences(sequences, starts: int) -> list[Sequence]:
    """
    Return each sequence run from ``starts`` evenly spaced start frames.

    The start frames are its first frame and ``starts - 1`` more within its first two thirds, each moved to the
    next frame with a visible target.
    """
    restarted = []
    for sequence in sequences:
        if starts <= 1:
            restarted.append(sequence)
            continue
        visible = np.flatnonzero(sequence.visible)
        chosen = []
        for k in range(starts):
            wanted = int(round(k * (2 * len(sequence) / 3) / (starts - 1)))
            later = visible[visible >= wanted]
            if len(later) and len(sequence) - later[0] >= 10 and later[0] not in chosen:
                chosen.append(int(later[0]))
        restarted.extend(sequence if s == 0 else RestartedSequence(sequence, s) for s in chosen)
    return restarted
