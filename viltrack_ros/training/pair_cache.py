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
Training pairs from the pre-cropped set, cut once and kept as arrays (the experiments' data).

For every frame with a visible target: one template crop (centred on the box, side ``template_factor *
sqrt(w*h)``) and ``jitters`` search crops (side ``search_factor * sqrt(w*h) * exp(U(-scale_jitter, scale_jitter))``,
centre moved by up to ``shift_jitter`` box sizes), with the box normalised ``(cx, cy, w, h)`` in each search crop.
Cut at the largest size any arm needs; arms resize on the fly. With a frozen pretrained stem the stem's features of
these crops are computed once per input size (:func:`stem_feature_cache`), so a training step runs only the ViL
blocks and the head: what makes training on a 2-core CPU worth doing.
"""
from __future__ import annotations

import functools
import hashlib
import json
import math
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ..data.precropped import load_precropped, source_video
from ..data.sequences import read_image_rgb
from ..data.synthetic import SyntheticConfig, default_photo_library, generate_synthetic_sequence
from ..files import write_atomically
from ..tracking.crop import crop_and_resize
from ..model.export import update_with_tensors
from ..model.inputs import IMAGENET_MEAN_255, IMAGENET_STD_255, SEARCH_FACTOR, TEMPLATE_FACTOR
from viltrack_ros.log import get_logger

log = get_logger("viltrack.pairs")
MIRROR_SUFFIX = "~mirror"   # the name of a sequence's mirrored copy: <name>~mirror
CONTEXT_FILLS = ("mean", "other_videos")
# The stored context kept around the target with context_fill "other_videos": each side of the kept rectangle lies
# U(KEPT_CONTEXT) box sizes from the target's centre (the stored square reaches 2.5), and never inside the box.
KEPT_CONTEXT = (1.0, 2.5)


def settings_digest(settings: dict, length: int) -> str:
    """Name a cache file after the settings it was cut with: the first ``length`` hex digits of their hash."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:length]


@dataclass(frozen=True)
class PairCacheSpec:
    split: str = "train"
    template_size: int = 96
    search_size: int = 192
    template_factor: float = TEMPLATE_FACTOR
    search_factor: float = SEARCH_FACTOR
    jitters: int = 2
    shift_jitter: float = 0.6      # largest centre shift per axis, in units of sqrt(w*h)
    scale_jitter: float = 0.25     # log-scale jitter of the search crop side
    seed: int = 0
    sequences: tuple[str, ...] = ()   # a subset of the split by name (tests); empty: the whole split
    # Each sequence also mirrored left-right, as a sequence of its own: a mirrored video is as real a video as the
    # original, and with a frozen stem whose features are cut once this is the augmentation that adds appearance.
    mirror: bool = False
    # What a search crop shows beyond the stored context (5 box sizes around the target): "mean", the image's mean
    # colour (what a crop past a frame border shows), or "other_videos", frames of other videos around a part of the
    # stored image of random extent (see _context_canvas). With "mean" a shift beyond about 0.5 box sizes shows
    # the stored square's edge at a fixed distance from the target, a cue to where the target is that real video
    # never gives; other videos let shift_jitter reach the displacements of fast targets without it.
    context_fill: str = "mean"
    # Of the `jitters` search crops of a frame, the last `wide_jitters` are cut with the centre moved up to
    # `wide_shift_jitter` box sizes, on the other-videos canvas: a few fast-motion crops among the usual ones.
    wide_jitters: int = 0
    wide_shift_jitter: float = 1.2

    def __post_init__(self) -> None:
        if self.context_fill not in CONTEXT_FILLS:
            raise ValueError(f"context_fill must be one of {CONTEXT_FILLS}, got {self.context_fill!r}")
        if not 0 <= self.wide_jitters <= self.jitters:
            raise ValueError(f"wide_jitters must be between 0 and jitters ({self.jitters}), got {self.wide_jitters}")

    def key(self) -> str:
        settings = asdict(self)
        if self.sequences:
            settings["sequences"] = list(self.sequences)
        else:   # the whole split: the key of caches cut before this field existed
            del settings["sequences"]
        if not self.mirror:   # likewise: caches cut before mirroring keep their key
            del settings["mirror"]
        if self.context_fill == "mean":   # and before the context fill
            del settings["context_fill"]
        if not self.wide_jitters:         # and before the wide crops
            del settings["wide_jitters"], settings["wide_shift_jitter"]
        return settings_digest(settings, 12)


@dataclass
class PairCache:
    """
    Template crops, jittered search crops and their boxes for each kept frame.

    ``templates (F, t, t, 3) uint8``; ``searches (F, J, s, s, 3) uint8``; ``boxes (F, J, 4)`` normalised
    cx,cy,w,h; ``sequence_index (F,)`` and ``frame_index (F,)`` of each kept frame.
    """

    templates: np.ndarray
    searches: np.ndarray
    boxes: np.ndarray
    sequence_index: np.ndarray
    frame_index: np.ndarray
    sequence_names: list[str]

    def __len__(self) -> int:
        return len(self.templates)

    def fingerprint(self, length: int = 10) -> str:
        """
        Digest of what the rows are: each row's sequence, frame and boxes (not the pixels: cheap, and the same).

        A cache named by its settings alone is cut again from other frames under the same name (a thinned copy of
        the train split, say); whatever is derived from its rows must be named by this too.
        """
        digest = hashlib.sha256()
        digest.update(json.dumps(self.sequence_names).encode())
        for array in (self.sequence_index, self.frame_index, self.boxes):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()[:length]

    @functools.cached_property
    def video_of_row(self) -> np.ndarray:
        """
        Return an index of each row's source video, ``(F,)``.

        A sequence, its mirrored copy and its sibling sub-sequences (``data.precropped.source_video``) share one, so
        a negative or a distractor drawn from "another video" never shows the template's object.
        """
        videos = [source_video(name.removesuffix(MIRROR_SUFFIX)) for name in self.sequence_names]
        return np.unique(videos, return_inverse=True)[1][self.sequence_index]


def _frame_searches(image: np.ndarray, box, spec: PairCacheSpec, sequences, s_index: int,
                    rng: np.random.Generator) -> tuple[np.ndarray, list]:
    """
    Cut one frame's ``spec.jitters`` search crops ``(J, s, s, 3)`` and the box in each, normalised.

    The boxes are ``(cx, cy, w, h)``. The usual crops are shifted up to ``shift_jitter``, then ``wide_jitters``
    shifted up to ``wide_shift_jitter`` on the other-videos canvas (on which the usual ones are cut too with
    ``context_fill: other_videos``).
    """
    parts = [(image, box, spec.jitters - spec.wide_jitters, spec.shift_jitter)]
    if spec.context_fill == "other_videos" or spec.wide_jitters:
        canvas, canvas_box = _context_canvas(image, box, _donor_frames(sequences, s_index, rng), rng)
        if spec.context_fill == "other_videos":
            parts[0] = (canvas, canvas_box, *parts[0][2:])
        parts.append((canvas, canvas_box, spec.wide_jitters, spec.wide_shift_jitter))
    crops, crop_boxes = [], []
    for source, source_box, count, shift_jitter in parts:
        if count:
            part_crops, part_boxes = _cut_searches(source, source_box, spec, rng, count, shift_jitter)
            crops.append(part_crops)
            crop_boxes += part_boxes
    return np.concatenate(crops), crop_boxes


def _cut_searches(image: np.ndarray, box, spec: PairCacheSpec, rng: np.random.Generator, count: int,
                  shift_jitter: float) -> tuple[np.ndarray, list]:
    """
    Cut ``count`` jittered search crops ``(count, s, s, 3)`` of ``image`` and the box in each.

    The centre is moved up to ``shift_jitter`` box sizes; the boxes are normalised ``(cx, cy, w, h)``.
    """
    size = math.sqrt(box[2] * box[3])
    centre = np.array([box[0] + box[2] / 2, box[1] + box[3] / 2])
    searches, boxes = [], []
    for _ in range(count):
        side = spec.search_factor * size * math.exp(rng.uniform(-spec.scale_jitter, spec.scale_jitter))
        shifted = centre + rng.uniform(-shift_jitter, shift_jitter, 2) * size
        crop, transform = crop_and_resize(image, box, spec.search_factor, spec.search_size,
                                          center=tuple(shifted), crop_side=side)
        x, y, w, h = transform.image_to_crop_box(box) / spec.search_size
        searches.append(crop)
        boxes.append((x + w / 2, y + h / 2, w, h))
    return np.stack(searches), boxes


def _context_canvas(image: np.ndarray, box, donors: list[np.ndarray], rng: np.random.Generator
                    ) -> tuple[np.ndarray, np.ndarray]:
    """
    Paste a rectangle of ``image`` around ``box`` over the centre tile of a canvas of 3x3 ``donors``.

    The donors are stored frames of other videos, the image's size. Returns the canvas and the box in it.

    The rectangle's four sides lie at independent random distances from the target (``KEPT_CONTEXT`` box sizes,
    never cutting the box), so the seam where real context ends says nothing about where the target is.
    """
    side = image.shape[0]
    canvas = np.concatenate([np.concatenate(donors[row * 3:row * 3 + 3], axis=1) for row in range(3)], axis=0)
    x, y, w, h = (float(v) for v in box)
    size = math.sqrt(w * h)
    cx, cy = x + w / 2, y + h / 2
    left, right, top, bottom = rng.uniform(*KEPT_CONTEXT, 4) * size
    x0 = int(np.clip(math.floor(cx - max(left, w / 2)), 0, side))
    x1 = int(np.clip(math.ceil(cx + max(right, w / 2)), 0, side))
    y0 = int(np.clip(math.floor(cy - max(top, h / 2)), 0, side))
    y1 = int(np.clip(math.ceil(cy + max(bottom, h / 2)), 0, side))
    canvas[side + y0:side + y1, side + x0:side + x1] = image[y0:y1, x0:x1]
    return canvas, np.array([x + side, y + side, w, h])


def _donor_frames(sequences, s_index: int, rng: np.random.Generator, count: int = 9) -> list[np.ndarray]:
    """
    ``count`` random stored frames of sequences other than ``sequences[s_index]``.

    Another cut of the same video (uav_group1_1 beside uav_group1_2) may be drawn: its target then stands at the
    centre of its tile, 5 box sizes from this target, beyond the reach of a search crop (at most 2.6 + 1.2).
    """
    video = sequences[s_index].name
    others = [s for s in sequences if s.name != video]
    if not others:
        raise ValueError(f"context_fill 'other_videos' (and wide_jitters) needs frames of other sequences than "
                         f"{video}: give pairs more than one sequence")
    picks = rng.integers(0, len(others), count)
    return [read_image_rgb(others[i].frame_paths[rng.integers(0, len(others[i]))]) for i in picks]


def build_pair_cache(root: str | Path, spec: PairCacheSpec, cache_dir: str | Path | None = None) -> PairCache:
    """Cut (or load from ``cache_dir``) the crops of ``spec.split`` of the pre-cropped set at ``root``."""
    path = Path(cache_dir) / f"pairs_{spec.split}_{spec.key()}.npz" if cache_dir else None
    sequences = load_precropped(root, split=spec.split)
    if spec.sequences:
        unknown = set(spec.sequences) - {s.name for s in sequences}
        if unknown:
            raise ValueError(f"not in split {spec.split!r}: {sorted(unknown)}")
        sequences = [s for s in sequences if s.name in spec.sequences]
    if path is not None and path.is_file():
        cache = _load_pair_cache(path)
        if _cut_from(cache, sequences, spec.mirror):
            return cache
        # The key holds the settings, not the frames: the same settings on another copy of the data (the thinned
        # copy a lent GPU trains on) name the same file.
        log.warning("%s was cut from other frames than %s holds: cutting it again", path, root)
    rng = np.random.default_rng(spec.seed)
    templates, searches, boxes, seq_idx, frame_idx = [], [], [], [], []
    copies = (False, True) if spec.mirror else (False,)
    for s_index, sequence in enumerate(tqdm(sequences, desc=f"cutting {spec.split} pairs", unit="seq")):
        for f_index in np.flatnonzero(sequence.visible):
            original = read_image_rgb(sequence.frame_paths[f_index])   # read once, cut for each copy
            for mirrored in copies:
                image, box = original, sequence.boxes[f_index]
                if mirrored:
                    image = np.ascontiguousarray(original[:, ::-1])
                    box = np.array([image.shape[1] - box[0] - box[2], box[1], box[2], box[3]])
                template, _ = crop_and_resize(image, box, spec.template_factor, spec.template_size)
                frame_searches, frame_boxes = _frame_searches(image, box, spec, sequences, s_index, rng)
                templates.append(template)
                searches.append(frame_searches)
                boxes.append(frame_boxes)
                seq_idx.append(s_index + (len(sequences) if mirrored else 0))
                frame_idx.append(f_index)
    names = [s.name for s in sequences] + ([s.name + MIRROR_SUFFIX for s in sequences] if spec.mirror else [])
    if not templates:
        raise ValueError(f"no visible target in the {len(sequences)} sequences of split {spec.split!r} at {root}"
                         f"{' (pairs.sequences: ' + ', '.join(spec.sequences) + ')' if spec.sequences else ''}")
    cache = PairCache(np.stack(templates), np.stack(searches), np.asarray(boxes, dtype=np.float32),
                      np.asarray(seq_idx), np.asarray(frame_idx), names)
    if path is not None:
        _save_pair_cache(cache, path)
    log.info("%d frames of %d sequences, %d search crops", len(cache), len(names),
             cache.searches.shape[0] * cache.searches.shape[1])
    return cache


@dataclass(frozen=True)
class SyntheticPairsSpec:
    """
    Synthetic sequences (``data.synthetic``) cut into pairs as the real frames are, to train beside them.

    Each is ``frames`` long, seeded from ``seed``: textured objects of any shape over real photos, with look-alike
    distractors, occluders, blur and light change, and exact boxes; the full rendered frame gives every search crop
    real context (no padding). ``sequences`` of them.
    """

    sequences: int = 100
    frames: int = 50
    seed: int = 0

    def key(self) -> str:
        return settings_digest(asdict(self), 8)


def build_synthetic_pair_cache(spec: PairCacheSpec, synthetic: SyntheticPairsSpec,
                               cache_dir: str | Path | None = None) -> PairCache:
    """
    Cut (or load from ``cache_dir``) the crops of ``synthetic``'s sequences with ``spec``'s sizes and jitter.

    Named ``synthetic-<seed>`` each, their own videos. Only the plain crops: the other-videos canvas, wide crops and
    mirroring are settings for stored crops with little context.
    """
    if spec.context_fill != "mean" or spec.wide_jitters or spec.mirror:
        raise ValueError("synthetic pairs take the plain crops only: context_fill 'mean', no wide_jitters, no mirror")
    crops_key = replace(spec, sequences=()).key()    # which real sequences are beside them does not matter
    photos = default_photo_library()
    path = (Path(cache_dir) / f"pairs_synthetic_{crops_key}_{synthetic.key()}_photos-{photos.fingerprint()}.npz"
            if cache_dir else None)
    if path is not None and path.is_file():
        return _load_pair_cache(path)
    rng = np.random.default_rng([spec.seed, synthetic.seed])
    config = SyntheticConfig(num_frames=synthetic.frames)
    templates, searches, boxes, seq_idx, frame_idx, names = [], [], [], [], [], []
    for s_index in tqdm(range(synthetic.sequences), desc="cutting synthetic pairs", unit="seq"):
        sequence = generate_synthetic_sequence(synthetic.seed * 1_000_000 + s_index, config, photos)
        names.append(sequence.name)
        for f_index in np.flatnonzero(np.isfinite(sequence.boxes).all(axis=1)):
            image, box = sequence.read_frame(f_index), sequence.boxes[f_index]
            template, _ = crop_and_resize(image, box, spec.template_factor, spec.template_size)
            frame_searches, frame_boxes = _cut_searches(image, box, spec, rng, spec.jitters, spec.shift_jitter)
            templates.append(template)
            searches.append(frame_searches)
            boxes.append(frame_boxes)
            seq_idx.append(s_index)
            frame_idx.append(f_index)
    cache = PairCache(np.stack(templates), np.stack(searches), np.asarray(boxes, dtype=np.float32),
                      np.asarray(seq_idx), np.asarray(frame_idx), names)
    if path is not None:
        _save_pair_cache(cache, path)
    log.info("%d synthetic frames of %d sequences", len(cache), len(names))
    return cache


def concatenate_pair_caches(first: PairCache, second: PairCache) -> PairCache:
    """One cache of both: ``second``'s sequences numbered after ``first``'s."""
    return PairCache(np.concatenate([first.templates, second.templates]),
                     np.concatenate([first.searches, second.searches]),
                     np.concatenate([first.boxes, second.boxes]),
                     np.concatenate([first.sequence_index, second.sequence_index + len(first.sequence_names)]),
                     np.concatenate([first.frame_index, second.frame_index]),
                     first.sequence_names + second.sequence_names)


def _load_pair_cache(path: Path) -> PairCache:
    """Read a cache that ``_save_pair_cache`` wrote."""
    data = np.load(path, allow_pickle=False)
    return PairCache(data["templates"], data["searches"], data["boxes"], data["sequence_index"],
                     data["frame_index"], [str(n) for n in data["sequence_names"]])


def _save_pair_cache(cache: PairCache, path: Path) -> None:
    """Write ``cache`` whole (``write_atomically``: a reader never sees half a file)."""
    # numpy.savez appends .npz to a name without it: the partial file's name ends in it.
    write_atomically(path, lambda partial: np.savez(
        partial, templates=cache.templates, searches=cache.searches, boxes=cache.boxes,
        sequence_index=cache.sequence_index, frame_index=cache.frame_index,
        sequence_names=np.asarray(cache.sequence_names)), suffix=".tmp.npz")


def _cut_from(cache: PairCache, sequences, mirror: bool) -> bool:
    """Whether ``cache`` holds the visible frames of ``sequences`` (and their mirrored copies), in that order."""
    names = [s.name for s in sequences] + ([s.name + MIRROR_SUFFIX for s in sequences] if mirror else [])
    if cache.sequence_names != names:
        return False
    visible = [np.flatnonzero(s.visible) for s in sequences] * (2 if mirror else 1)
    return all(np.array_equal(cache.frame_index[cache.sequence_index == index], frames)
               for index, frames in enumerate(visible))


def to_normalised_tensor(crops_uint8: np.ndarray, size: int | None = None) -> torch.Tensor:
    """``(N, h, w, 3) uint8`` -> ``(N, 3, size, size) float32`` normalised as the tracker does."""
    x = torch.from_numpy(np.ascontiguousarray(crops_uint8)).permute(0, 3, 1, 2).float()
    if size is not None and size != x.shape[-1]:
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    mean = torch.tensor(IMAGENET_MEAN_255, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD_255, dtype=torch.float32).view(1, 3, 1, 1)
    return (x - mean) / std


@torch.no_grad()
def stem_features(stem, crops_uint8: np.ndarray, size: int, batch: int = 64, desc: str = "stem") -> torch.Tensor:
    """
    Compute frozen-stem features of ``(N, h, w, 3)`` crops resized to ``size``: ``(N, C, g, g) float16``.

    The features are taken after the frozen blocks when the stem's last blocks are trained; an unfrozen stem gives
    its whole output as it is now (in eval mode).
    """
    stem.eval()
    features = stem.frozen_features if getattr(stem, "frozen", True) else stem.stem_features
    out = []
    for start in tqdm(range(0, len(crops_uint8), batch), desc=desc, unit="batch", leave=False):
        out.append(features(to_normalised_tensor(crops_uint8[start:start + batch], size)).half())
    return torch.cat(out)


def stem_feature_cache(stem, cache: PairCache, template_size: int, search_size: int,
                       cache_file: str | Path | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """
    ``(templates (F, C, gt, gt), searches (F, J, C, g, g))`` float16, loaded from ``cache_file`` if there.

    A file whose row counts are not the pair cache's is computed again (its name should already tell them apart:
    ``stem_weights_digest`` and ``PairCache.fingerprint``).
    """
    if cache_file is not None and Path(cache_file).is_file():
        data = torch.load(cache_file, weights_only=True)
        if len(data["templates"]) == len(cache) and tuple(data["searches"].shape[:2]) == cache.searches.shape[:2]:
            return data["templates"], data["searches"]
        log.warning("%s holds features of %d rows, the pair cache has %d: computing them again", cache_file,
                    len(data["templates"]), len(cache))
    templates = stem_features(stem, cache.templates, template_size, desc="template features")
    F_, J = cache.searches.shape[:2]
    searches = stem_features(stem, cache.searches.reshape(F_ * J, *cache.searches.shape[2:]), search_size,
                             desc="search features")
    searches = searches.unflatten(0, (F_, J))
    if cache_file is not None:
        # Written whole: a run killed while writing leaves no truncated file that every later run would fail to load.
        write_atomically(cache_file, lambda partial: torch.save({"templates": templates, "searches": searches},
                                                                partial))
    return templates, searches


def stem_weights_digest(stem: torch.nn.Module, length: int = 8) -> str:
    """Digest of a stem's weights and buffers: features cut by one stem are not another's (a trained or fp16 one)."""
    digest = hashlib.sha256()
    update_with_tensors(digest, sorted(stem.state_dict().items()))
    return digest.hexdigest()[:length]
