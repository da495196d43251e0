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
Training samples: template and search crops with the target box, from real, synthetic and static sources.

A sample is ``num_templates`` template crops and ``num_search_frames`` (K) search crops taken from one sequence:
K = 1 gives the classic template/search pair, K > 1 a clip of consecutive-ish frames in time order, across which
the tracker's mLSTM memory is carried in sequence training. Crops follow OSTrack's recipe: a square region of
``factor * sqrt(w*h)`` around a jittered copy of the box (centre shifted by up to ``center_jitter/2 * sqrt(w*h)``
in each axis, size scaled by ``exp(N(0, scale_jitter))``), cut and resized by the tracker's own
``crop_and_resize`` so that training sees exactly what the tracker sees. Augmentations: joint horizontal flip and
grayscale, per-frame brightness/contrast/saturation jitter. Crops are float tensors ``(3, H, W)`` normalised with
the ImageNet mean/std; boxes are ``(cx, cy, w, h)`` in crop units ([0, 1], clipped to the crop).

Randomness: sample ``index`` of epoch ``epoch`` draws from ``numpy.random.default_rng([seed, epoch, index])``,
so a data set is reproducible and data-loader workers need no coordination.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Protocol, Sequence as SequenceType

import cv2
import numpy as np
import torch

from viltrack_ros.data.sequences import Sequence, load_sequence_folders
from viltrack_ros.data.splits import load_data_splits
from viltrack_ros.data.static_pairs import StaticImageClips
from viltrack_ros.data.synthetic import (PhotoLibrary, SyntheticConfig, default_photo_library,
                                         find_background_images, generate_synthetic_sequence,
                                         sequence_frame_paths)
from viltrack_ros.model.inputs import IMAGENET_MEAN_01, IMAGENET_STD_01, SEARCH_FACTOR, TEMPLATE_FACTOR
from viltrack_ros.settings import dataclass_from_dict
from viltrack_ros.tracking.crop import CropTransform, crop_and_resize
from viltrack_ros.log import get_logger

LOGGER = get_logger(__name__)


@dataclass(frozen=True)
class SampleConfig:
    """How samples are cut and augmented. Factors and jitter follow OSTrack's defaults."""

    template_size: int = 128
    search_size: int = 256
    template_factor: float = TEMPLATE_FACTOR
    search_factor: float = SEARCH_FACTOR
    num_templates: int = 1
    num_search_frames: int = 1          # K: 1 = pairs, > 1 = clips
    max_gap: int = 100                  # frames between a template and the clip's first search frame
    max_clip_stride: int = 3            # frames between consecutive search frames of a clip
    center_jitter_template: float = 0.0
    scale_jitter_template: float = 0.0
    center_jitter_search: float = 3.0
    scale_jitter_search: float = 0.25
    brightness_jitter: float = 0.2
    contrast_jitter: float = 0.1
    saturation_jitter: float = 0.1
    grayscale_probability: float = 0.05
    horizontal_flip_probability: float = 0.5
    min_box_inside_fraction: float = 0.5   # re-draw search jitter that leaves less of the target in the crop

    def __post_init__(self) -> None:
        for name in ("template_size", "search_size", "num_templates", "num_search_frames", "max_gap",
                     "max_clip_stride"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("template_factor", "search_factor"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")

    @classmethod
    def from_dict(cls, values: Mapping) -> "SampleConfig":
        return dataclass_from_dict(cls, dict(values), "sample settings")


# ----------------------------------------------------------------------------------------------------------------
# choosing frames

@dataclass(frozen=True, eq=False)
class Clip:
    """Frames chosen for one sample: images (RGB uint8) and boxes in image pixels (NaN = target absent)."""

    source: str
    template_frames: list[np.ndarray]
    template_boxes: np.ndarray          # (T, 4), all visible
    search_frames: list[np.ndarray]
    search_boxes: np.ndarray            # (K, 4), the first visible, later ones may be NaN
    frame_indices: tuple[int, ...] = ()


def choose_clip_indices(rng: np.random.Generator, visible: np.ndarray, num_templates: int, num_search: int,
                        max_gap: int, max_stride: int) -> tuple[list[int], list[int]] | None:
    """
    Frame indices ``(templates, searches)`` of one sample, or None if the sequence cannot provide them.

    The search frames are in time order with strides in ``[1, max_stride]``; the first of them and every template
    show the target. Templates come from within ``max_gap`` frames of the first search frame, before it when
    possible (as in tracking, where the template is always in the past).
    """
    count = len(visible)
    visible_indices = np.flatnonzero(visible)
    if count < num_search or len(visible_indices) == 0:
        return None
    starts = visible_indices[visible_indices <= count - num_search]
    if len(starts) == 0:
        return None
    start = int(rng.choice(starts))
    searches = [start]
    for remaining in range(num_search - 1, 0, -1):
        room = count - 1 - searches[-1] - (remaining - 1)   # leave room for the frames still to come
        searches.append(searches[-1] + int(rng.integers(1, min(max_stride, room) + 1)))
    near = visible_indices[np.abs(visible_indices - start) <= max_gap]
    earlier = near[near < start]
    pool = earlier if len(earlier) else near[~np.isin(near, searches)]
    if len(pool) == 0:
        pool = near  # a one-frame sequence: the template is the search frame itself (static-image style)
    templates = sorted(int(i) for i in rng.choice(pool, size=num_templates, replace=len(pool) < num_templates))
    return templates, searches


def _clip_from_sequence(sequence: Sequence, rng: np.random.Generator, config: SampleConfig,
                        source: str) -> Clip | None:
    chosen = choose_clip_indices(rng, sequence.visible, config.num_templates, config.num_search_frames,
                                 config.max_gap, config.max_clip_stride)
    if chosen is None:
        return None
    templates, searches = chosen
    cache: dict[int, np.ndarray] = {}

    def frame(i: int) -> np.ndarray:
        if i not in cache:
            cache[i] = sequence.read_frame(i)
        return cache[i]

    return Clip(source=f"{source}:{sequence.name}", template_frames=[frame(i) for i in templates],
                template_boxes=sequence.boxes[templates], search_frames=[frame(i) for i in searches],
                search_boxes=sequence.boxes[searches], frame_indices=tuple(templates + searches))


class ClipSource(Protocol):
    name: str

    def sample_clip(self, rng: np.random.Generator, config: SampleConfig) -> Clip | None: ...


class SequenceSource:
    """Clips from annotated sequences (real video); each sequence is equally likely unless ``weight_by_length``."""

    def __init__(self, sequences: SequenceType[Sequence], name: str = "sequences", weight_by_length: bool = False):
        self.sequences = [s for s in sequences if s.visible.any()]
        if not self.sequences:
            raise ValueError(f"source {name!r}: no sequence with a visible target")
        self.name = name
        lengths = np.array([s.visible.sum() for s in self.sequences], dtype=np.float64)
        self.probabilities = lengths / lengths.sum() if weight_by_length else None

    def sample_clip(self, rng: np.random.Generator, config: SampleConfig) -> Clip | None:
        sequence = self.sequences[int(rng.choice(len(self.sequences), p=self.probabilities))]
        return _clip_from_sequence(sequence, rng, config, self.name)


class SyntheticSource:
    """Clips from freshly generated synthetic sequences (one new scene per sample)."""

    def __init__(self, config: SyntheticConfig = SyntheticConfig(num_frames=60), photos: PhotoLibrary | None = None,
                 name: str = "synthetic"):
        self.config, self.photos, self.name = config, photos, name

    def sample_clip(self, rng: np.random.Generator, config: SampleConfig) -> Clip | None:
        sequence = generate_synthetic_sequence(int(rng.integers(2**62)), self.config, self.photos)
        return _clip_from_sequence(sequence, rng, config, self.name)


class StaticImageSource:
    """Clips made from one still photo with a random object box (COCO-style pairs)."""

    def __init__(self, image_paths: SequenceType[str | Path], name: str = "static"):
        self.clips, self.name = StaticImageClips(image_paths), name

    def sample_clip(self, rng: np.random.Generator, config: SampleConfig) -> Clip | None:
        sequence = self.clips.sample(rng, config.num_templates + config.num_search_frames)
        templates = list(range(config.num_templates))
        searches = list(range(config.num_templates, len(sequence)))
        if not sequence.visible[templates].all() or not sequence.visible[searches[0]]:
            return None   # the view drifted off the object: draw another clip
        return Clip(source=f"{self.name}:{sequence.name}",
                    template_frames=[sequence.read_frame(i) for i in templates],
                    template_boxes=sequence.boxes[templates],
                    search_frames=[sequence.read_frame(i) for i in searches],
                    search_boxes=sequence.boxes[searches], frame_indices=tuple(templates + searches))


# ----------------------------------------------------------------------------------------------------------------
# cutting crops

@dataclass(frozen=True, eq=False)
class TrainingSample:
    """
    One sample before batching.

    Images are normalised float32 ``(N, 3, H, W)``; boxes ``(N, 4)`` are ``(cx, cy, w, h)`` in crop units;
    ``*_transforms`` map crop pixels back to the source image (before the flip, which mirrors the crop about its
    vertical centre line when ``flipped``).
    """

    source: str
    template_images: np.ndarray
    template_boxes: np.ndarray
    search_images: np.ndarray
    search_boxes: np.ndarray
    search_visible: np.ndarray
    template_transforms: list[CropTransform] = field(default_factory=list)
    search_transforms: list[CropTransform] = field(default_factory=list)
    flipped: bool = False

    def as_tensors(self) -> dict:
        return {
            "template_images": torch.from_numpy(self.template_images),
            "template_boxes": torch.from_numpy(self.template_boxes.astype(np.float32)),
            "search_images": torch.from_numpy(self.search_images),
            "search_boxes": torch.from_numpy(self.search_boxes.astype(np.float32)),
            "search_visible": torch.from_numpy(self.search_visible),
            "source": self.source,
        }


def jitter_box(rng: np.random.Generator, box: np.ndarray, center_jitter: float, scale_jitter: float) -> np.ndarray:
    """
    Jitter a box as OSTrack does.

    The size is multiplied by ``exp(N(0, scale_jitter))`` per axis, and the centre moved uniformly by up to
    ``center_jitter / 2 * sqrt(jittered area)`` per axis.
    """
    size = box[2:4] * np.exp(rng.normal(0, scale_jitter, 2)) if scale_jitter > 0 else box[2:4].copy()
    offset = math.sqrt(float(size[0] * size[1])) * center_jitter * (rng.random(2) - 0.5)
    centre = box[:2] + box[2:4] / 2 + offset
    return np.concatenate([centre - size / 2, size])


def box_in_crop(box: np.ndarray, transform: CropTransform) -> tuple[np.ndarray, float]:
    """
    Return ``box`` in crop units and the fraction of its area that lies inside the crop.

    ``box`` (image pixels) is returned as ``(cx, cy, w, h)`` in crop units clipped to [0, 1].
    """
    x, y, w, h = transform.image_to_crop_box(box) / transform.output_size
    x0, y0, x1, y1 = max(x, 0.0), max(y, 0.0), min(x + w, 1.0), min(y + h, 1.0)
    inside = max(x1 - x0, 0.0) * max(y1 - y0, 0.0) / max(w * h, 1e-12)
    return np.array([(x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, 0.0), max(y1 - y0, 0.0)]), inside


def _cut(rng: np.random.Generator, image: np.ndarray, box: np.ndarray, factor: float, size: int,
         center_jitter: float, scale_jitter: float, min_inside: float, tries: int = 10):
    """Crop around a jittered box; re-draw jitter that leaves less than ``min_inside`` of the target inside."""
    for attempt in range(tries + 1):
        jittered = jitter_box(rng, box, center_jitter, scale_jitter) if attempt < tries else box
        crop, transform = crop_and_resize(image, jittered, factor, size)
        crop_box, inside = box_in_crop(box, transform)
        if inside >= min_inside or attempt == tries:
            return crop, transform, crop_box, jittered


def _photometric(rng: np.random.Generator, crop: np.ndarray, config: SampleConfig, grayscale: bool) -> np.ndarray:
    image = crop.astype(np.float32) / 255.0
    if config.saturation_jitter > 0 and not grayscale:
        gray = image @ np.array([0.299, 0.587, 0.114], np.float32)
        amount = rng.uniform(1 - config.saturation_jitter, 1 + config.saturation_jitter)
        image = gray[..., None] + amount * (image - gray[..., None])
    if config.contrast_jitter > 0:
        amount = rng.uniform(1 - config.contrast_jitter, 1 + config.contrast_jitter)
        image = image.mean() + amount * (image - image.mean())
    if config.brightness_jitter > 0:
        image = image * rng.uniform(1 - config.brightness_jitter, 1 + config.brightness_jitter)
    if grayscale:
        image = np.repeat((image @ np.array([0.299, 0.587, 0.114], np.float32))[..., None], 3, axis=2)
    return np.clip(image, 0.0, 1.0)


def normalise(image01: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` float in [0, 1] -> ``(3, H, W)`` float32 with ImageNet mean/std."""
    return np.ascontiguousarray(((image01 - IMAGENET_MEAN_01) / IMAGENET_STD_01).transpose(2, 0, 1), dtype=np.float32)


def make_training_sample(clip: Clip, rng: np.random.Generator, config: SampleConfig) -> TrainingSample:
    """Cut, augment and normalise the crops of ``clip``."""
    grayscale = rng.random() < config.grayscale_probability
    flipped = rng.random() < config.horizontal_flip_probability

    def finish(crop: np.ndarray, crop_box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        image = _photometric(rng, crop, config, grayscale)
        if flipped:
            image, crop_box = image[:, ::-1], crop_box * (-1, 1, 1, 1) + (1, 0, 0, 0)
        return normalise(image), crop_box

    template_images, template_boxes, template_transforms = [], [], []
    for image, box in zip(clip.template_frames, clip.template_boxes):
        crop, transform, crop_box, _ = _cut(rng, image, box, config.template_factor, config.template_size,
                                            config.center_jitter_template, config.scale_jitter_template, 0.0)
        tensor, crop_box = finish(crop, crop_box)
        template_images.append(tensor), template_boxes.append(crop_box), template_transforms.append(transform)

    search_images, search_boxes, search_visible, search_transforms = [], [], [], []
    last_region = clip.search_boxes[0]
    for image, box in zip(clip.search_frames, clip.search_boxes):
        visible = bool(np.isfinite(box).all())
        if visible:
            crop, transform, crop_box, last_region = _cut(
                rng, image, box, config.search_factor, config.search_size, config.center_jitter_search,
                config.scale_jitter_search, config.min_box_inside_fraction)
        else:
            # No target: crop where the tracker would look, around the last region, and mark the frame.
            crop, transform = crop_and_resize(image, last_region, config.search_factor, config.search_size)
            crop_box = np.zeros(4)
        tensor, crop_box = finish(crop, crop_box)
        if not visible:
            crop_box = np.zeros(4)
        search_images.append(tensor), search_boxes.append(crop_box)
        search_visible.append(visible), search_transforms.append(transform)

    return TrainingSample(source=clip.source, template_images=np.stack(template_images),
                          template_boxes=np.stack(template_boxes), search_images=np.stack(search_images),
                          search_boxes=np.stack(search_boxes), search_visible=np.array(search_visible),
                          template_transforms=template_transforms, search_transforms=search_transforms,
                          flipped=flipped)


# ----------------------------------------------------------------------------------------------------------------
# the data set

class TrackingSampleDataset(torch.utils.data.Dataset):
    """
    ``samples_per_epoch`` samples per epoch, each from a source drawn with probability proportional to its weight.

    Items are dicts of tensors: ``template_images`` (T, 3, Ht, Wt), ``template_boxes`` (T, 4),
    ``search_images`` (K, 3, Hs, Ws), ``search_boxes`` (K, 4), ``search_visible`` (K,) bool, and ``source``.
    """

    def __init__(self, sources: SequenceType[tuple[ClipSource, float]], config: SampleConfig = SampleConfig(),
                 samples_per_epoch: int = 10000, seed: int = 0, max_attempts: int = 20):
        if not sources:
            raise ValueError("TrackingSampleDataset needs at least one source")
        weights = np.array([float(w) for _, w in sources])
        if np.any(weights < 0) or weights.sum() <= 0:
            raise ValueError(f"source weights must be >= 0 with a positive sum, got {weights.tolist()}")
        self.sources = [s for s, _ in sources]
        self.probabilities = weights / weights.sum()
        self.config, self.samples_per_epoch, self.seed = config, samples_per_epoch, seed
        self.max_attempts = max_attempts

    def __len__(self) -> int:
        return self.samples_per_epoch

    def sample(self, index: int) -> TrainingSample:
        """Return the sample at ``index`` with its crop transforms (for inspection and tests)."""
        # Each stage's dataset has its own seed (the trainer's SeedSequence of seed, stage start and rank; a resumed
        # run reads on from the sample it reached); the 0 keeps the layout of earlier datasets' epoch counter.
        rng = np.random.default_rng([self.seed, 0, index])
        for _ in range(self.max_attempts):
            source = self.sources[int(rng.choice(len(self.sources), p=self.probabilities))]
            clip = source.sample_clip(rng, self.config)
            if clip is not None:
                return make_training_sample(clip, rng, self.config)
        raise RuntimeError(f"no valid clip after {self.max_attempts} attempts (sample {index}); the sources "
                           f"may be too short for num_search_frames={self.config.num_search_frames}")

    def __getitem__(self, index: int) -> dict:
        return self.sample(index).as_tensors()


def seed_worker(worker_id: int) -> None:
    """``DataLoader(worker_init_fn=seed_worker)``: one OpenCV thread per worker (workers are the parallelism)."""
    del worker_id
    cv2.setNumThreads(1)


def build_default_sources(sequences_root: str | Path | None, use_dev_sequences: bool = True,
                          use_synthetic: bool = True, use_static: bool = True,
                          synthetic_config: SyntheticConfig = SyntheticConfig(num_frames=60),
                          weights: Mapping[str, float] | None = None,
                          extra_sequences: SequenceType[Sequence] = ()) -> list[tuple[ClipSource, float]]:
    """
    Return the sources reachable on this machine, with their weights.

    The sources are:

    * ``dev``: the development split of ``sequences_root`` (held-out sequences are refused);
    * ``synthetic``: generated sequences over opencv-doc photos and development frames;
    * ``static``: static-image clips from the same photos and frames;
    * ``extra``: ``extra_sequences`` (GOT-10k, LaSOT, TrackingNet... loaded by the caller).
    """
    weights = {"dev": 1.0, "synthetic": 2.0, "static": 1.0, "extra": 2.0, **(weights or {})}
    splits = load_data_splits()
    dev_sequences: list[Sequence] = []
    if sequences_root is not None and Path(sequences_root).is_dir():
        dev_sequences = load_sequence_folders(sequences_root, names=splits.dev)
        splits.check_not_heldout(s.name for s in dev_sequences)
    elif use_dev_sequences:
        LOGGER.warning("sequence folder %s not found: training without real development sequences",
                       sequences_root)
    splits.check_not_heldout(s.name for s in extra_sequences)
    photo_paths = find_background_images() + sequence_frame_paths(dev_sequences)
    sources: list[tuple[ClipSource, float]] = []
    if use_dev_sequences and dev_sequences:
        sources.append((SequenceSource(dev_sequences, name="dev"), weights["dev"]))
    if use_synthetic:
        photos = PhotoLibrary(photo_paths) if photo_paths else default_photo_library()
        sources.append((SyntheticSource(synthetic_config, photos), weights["synthetic"]))
    if use_static and photo_paths:
        sources.append((StaticImageSource(photo_paths), weights["static"]))
    if extra_sequences:
        sources.append((SequenceSource(extra_sequences, name="extra"), weights["extra"]))
    if not sources:
        raise ValueError("no training source available")
    LOGGER.info("training sources: %s", ", ".join(f"{s.name} (weight {w:g})" for s, w in sources))
    return sources
