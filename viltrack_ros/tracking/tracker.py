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
"""Single- and multi-target ViL trackers: crops, network, decoding, target-lost logic. No ROS here."""
from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field
from typing import NamedTuple

import cv2
import numpy as np
import torch

from ..model.checkpoint import load_checkpoint
from ..model.inputs import IMAGENET_MEAN_255, IMAGENET_STD_255
from ..model.network import ViLTrackNet
from ..settings import MAX_THREADS, is_whole_number
from .backends import create_backend, resolve_backend
from .camera_motion import CameraMotion, centre_shift, move_box, with_centre_shift
from .config import TrackerConfig
from .crop import MeanColour, as_rgb, clamp_box, crop_and_resize, keep_centre_inside, validate_box
from .decode import SizeChangeLimits, select_boxes, sigmoid
from .discriminative import TargetClassifier


class TrackStatus(enum.IntEnum):
    INITIALIZING = 0   # target given, no frame tracked yet
    TRACKING = 1
    LOST = 2


class TrackResult(NamedTuple):
    box: tuple[float, float, float, float]   # (x, y, w, h) in image pixels, inside the image
    confidence: float                         # target confidence in [0, 1] (see MultiTracker.update)
    status: TrackStatus


def resolve_device(device: str | torch.device) -> torch.device:
    """Return the torch device for ``auto``, ``cpu``, ``cuda`` or ``cuda:N``; ``ValueError`` for anything else."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"unknown device {device!r}: use 'auto', 'cpu' or 'cuda'") from error
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"device {str(device)!r} is not supported: use 'auto', 'cpu' or 'cuda'")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but no CUDA GPU is available (use 'cpu' or 'auto')")
    return device


def normalised_chw(crop: np.ndarray) -> np.ndarray:
    """``uint8 (H, W, 3)`` RGB -> normalised ``float32 (3, H, W)``, the network's input layout."""
    return np.ascontiguousarray(((crop.astype(np.float32) - IMAGENET_MEAN_255) / IMAGENET_STD_255).transpose(2, 0, 1))


def hann_window(grid: int) -> np.ndarray:
    hann = np.hanning(grid + 2)[1:-1].astype(np.float32)      # strictly positive at the border
    return hann[:, None] * hann[None, :]


# Weight of the newest frame's motion in a target's smoothed velocity (motion_prediction).
VELOCITY_SMOOTHING = 0.5
# Most camera frames of motion a search region is moved ahead by (missed_frames_prediction, motion_prediction).
# Measured on val and dev at every 2nd, 3rd and 5th frame: the prediction gains most at 3 and nothing at 5
# (docs/experiments/tuning/frame_rate/); after a stall of a second a straight-line guess is worth nothing.
MAX_PREDICTED_FRAMES = 5

# Largest number of targets in one network call (see MultiTracker.update).
MAX_BATCH = 16

# Share of each frame's camera shift taken into the camera's smoothed shift (_follow_camera, camera_motion). Smaller:
# a steady pan is learnt more slowly (its first frames move the boxes); larger: a shake is learnt as if it were a pan.
CAMERA_SMOOTHING = 0.3

# A search crop with nothing in it (a dropped-out camera's black frame, a grey test pattern, an overexposed white, a
# covered lens or a lens cap showing only the sensor's noise) holds no sighting of the target: the network's peak
# there is its own bias (on black frames the box ran to the image's top edge within 5 frames; on noise it wandered
# and grew, 88 -> 166 px wide in 30 frames). Such a frame counts as confidence 0 (LOST after lost_patience) and
# leaves the target's box, temporal state and velocity as they were. Noise varies from pixel to pixel but not from
# place to place, so the crop is judged averaged over cells of 32x32 pixels (5x5 cells of the shipped model's 160-px
# crop; the bound holds for that cell size, whatever the preset's crop): a uniform crop gives 0 there, a dark
# sensor's noise of 8 grey levels at most 0.28 (of 16: 0.45, taken as seen). The bound is far below what real
# content keeps: the least varied crop around a target in the 67 sequences of the training set
# (every third frame) has 2.7 (davis_soapbox), in the 5 development sequences 6.2 (Diving), and dim or few-level
# scenes still carry what the network can follow: Dudek read as 14-bit counts over the whole 16-bit range (8 grey
# levels) 0.94, mean IoU 0.6; vot2015_bag the same way 0.62, and at 5% brightness 1.1. Of the cells tried (40, 32,
# 20 and 16 pixels a side), 32 keeps those scenes furthest from such noise.
FEATURELESS_CELL_SIDE = 32   # pixels of the search crop averaged into one cell
FEATURELESS_STD = 0.4        # standard deviation per colour channel over those cells, grey levels 0-255


def is_featureless(crop: np.ndarray) -> bool:
    """Say whether every colour channel of ``crop``, averaged over its cells, varies by less than FEATURELESS_STD."""
    # At least 2 cells a side: one cell has no spread at all.
    cells_x, cells_y = (max(2, round(side / FEATURELESS_CELL_SIDE)) for side in (crop.shape[1], crop.shape[0]))
    cells = cv2.resize(crop.astype(np.float32), (cells_x, cells_y), interpolation=cv2.INTER_AREA)
    return bool(np.all(cv2.meanStdDev(cells)[1] < FEATURELESS_STD))


# Where the first frame is looked at around a new target, by the size calibration and the target's classifier
# (shifts of its box, as fractions of its width and height): centred, and a quarter of the box each way, so one
# crop's odd peak does not set the size for the whole track, and the classifier learns the target away from the
# crop's centre too.
FIRST_FRAME_SHIFTS = ((0.0, 0.0), (-0.25, 0.0), (0.25, 0.0), (0.0, -0.25), (0.0, 0.25))


@dataclass
class _Target:
    box: np.ndarray                         # last box (x, y, w, h)
    templates: np.ndarray                   # (T, ...) encoded templates (images, or their stem features)
    template_box: np.ndarray                # (4,) the target's (cx, cy, w, h) in the first template, fractions
    film_context: np.ndarray | None = None  # (S, dim) the temporal context; None until the first frame
    memory: tuple[np.ndarray, ...] | None = None   # the templates' per-block states (batch 1), when the model has them
    status: TrackStatus = TrackStatus.INITIALIZING
    low_confidence_frames: int = 0
    frames_tracked: int = 0
    update_candidate: tuple[float, np.ndarray] | None = field(default=None)   # (network score, normalised crop)
    size_correction: np.ndarray = field(default_factory=lambda: np.ones(2, dtype=np.float32))   # (w, h) factors
    classifier: TargetClassifier | None = None
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))   # smoothed centre motion, pixels per frame


class MultiTracker:
    """Tracks several targets on one camera; every ``update`` runs all of them in one batched forward pass."""

    def __init__(self, model: ViLTrackNet, config: TrackerConfig | None = None, device: str = "cpu",
                 backend: str = "auto", template_memory: bool = True, threads: int | None = None):
        """
        Create a tracker running ``model`` on ``device``.

        ``backend``: who runs the network (``tracking.backends``): ``torch``, ``onnxruntime`` (CPU) or
        ``auto`` (onnxruntime on CPU when installed). ``template_memory``: for a model that supports it, compute
        the templates' per-block states once per template and only the search tokens per frame (the same boxes
        within float rounding; False runs the whole sequence every frame, the reference). ``threads``: CPU
        threads of the network; it sets PyTorch's count, which is process-wide, and onnxruntime's session.
        ``None`` keeps PyTorch's current count (``torch.get_num_threads()``), which onnxruntime then takes too.
        """
        if threads is not None:
            if not (is_whole_number(threads) and 1 <= threads <= MAX_THREADS):
                raise ValueError(f"threads must be a whole number from 1 to {MAX_THREADS}, or None; got {threads!r}")
            threads = int(threads)
        if isinstance(config, dict):   # the settings as a mapping, as read from YAML or JSON
            config = TrackerConfig.from_dict(config)
        if not isinstance(config, (TrackerConfig, type(None))):
            raise TypeError(f"config must be a TrackerConfig or a dict of its settings, got {type(config).__name__}")
        self.config = config or TrackerConfig()
        self.device = resolve_device(device)
        resolve_backend(backend, self.device)   # an unknown or impossible backend fails here, before any change
        if threads is not None:     # process-wide: only once the arguments above were found valid
            torch.set_num_threads(threads)
        self.model = model.to(self.device).eval()
        self.model_config = model.config
        self.backend = create_backend(backend, self.model, self.device, template_memory=template_memory,
                                      threads=threads)
        self._window = hann_window(self.model_config.search_grid)   # decoding runs on the CPU
        self._camera_motion = CameraMotion()
        self._camera_shift = np.zeros(2)   # the camera's smoothed shift per frame (image pixels, at the centre)
        self._targets: dict[int, _Target] = {}
        self.model_info: dict = {}
        # Target updates whose network output held NaN or inf (each set its target LOST); a running count, so a
        # caller can tell a broken model (or a numerical fault) from a target that merely left the view.
        self.invalid_outputs = 0
        # The targets whose output held NaN or inf in the last update, so a caller can name them.
        self.last_invalid_ids: list[int] = []
        # The image size (h, w) the targets' boxes are pixels of. An image of another size drops them all (their
        # boxes mean nothing there); last_dropped_ids names those the last init or update dropped.
        self._image_size: tuple[int, int] | None = None
        self.last_dropped_ids: list[int] = []

    @classmethod
    def from_checkpoint(cls, weights: str | os.PathLike | None = None, device: str = "cpu",
                        config: TrackerConfig | None = None, backend: str = "auto", template_memory: bool = True,
                        threads: int | None = None):
        """Load weights (``None``: the package's default checkpoint). Raises ``CheckpointError``."""
        resolved = resolve_device(device)
        model, info = load_checkpoint(weights, device=resolved)
        tracker = cls(model, config, device=str(resolved), backend=backend, template_memory=template_memory,
                      threads=threads)
        tracker.model_info = info
        return tracker

    # --- targets ---------------------------------------------------------------------------------------
    @property
    def target_ids(self) -> list[int]:
        return list(self._targets)

    @property
    def image_size(self) -> tuple[int, int] | None:
        """Return the (height, width) of the images the targets' boxes are pixels of (None before the first init)."""
        return self._image_size

    def status(self, target_id: int) -> TrackStatus:
        return self._target(target_id).status

    def init(self, target_id: int, image: np.ndarray, box) -> None:
        """Start (or restart) ``target_id`` on ``image`` at ``box`` (x, y, w, h); its temporal state starts clean."""
        image = as_rgb(image)
        box = clamp_box(validate_box(box, image.shape), image.shape)
        self._drop_targets_of_another_size(image)
        starts_anew = not (self._targets.keys() - {target_id})
        self._targets[target_id] = self._new_target(image, box)
        # A first target (or the only one, restarted) starts a new track, perhaps in another scene: the camera's
        # motion is followed from this frame. Beside other targets the frame kept stays: their boxes are on it, and
        # a box drawn on an older frame (init_target with a stamp) would otherwise move them by the frames between.
        if starts_anew:
            self._forget_camera()
            if self.config.camera_motion:
                self._camera_motion.remember(image)

    def size_correction(self, target_id: int) -> tuple[float, float]:
        """Return the (width, height) factors the size calibration applies to ``target_id``'s sizes (1, 1 when off)."""
        return tuple(float(v) for v in self._target(target_id).size_correction)

    def _target(self, target_id: int) -> _Target:
        """Return the target ``target_id``; a ``KeyError`` that names the ids there are, if it is not one."""
        try:
            return self._targets[target_id]
        except KeyError:
            raise KeyError(f"no target {target_id!r}; tracked: {sorted(self._targets) or 'none'}") from None

    def warm_up(self) -> None:
        """
        Run the network once, so that the first real frame does not pay one-off costs.

        It runs for a target of its own on a blank frame (the tracked targets are not touched). The one-off costs are
        onnxruntime's first allocations, and with a ``torch-compile`` backend the compilation of the batch-1 step and
        of init's size calibration batch (about a minute).
        """
        size = self.model_config.search_size
        blank = np.full((2 * size, 2 * size, 3), 114, dtype=np.uint8)
        box = np.array([size * 0.75, size * 0.75, size / 2, size / 2])
        search, _ = crop_and_resize(blank, box, self.config.search_factor, size)
        self._network_step([self._new_target(blank, box)], normalised_chw(search)[None])

    def remove(self, target_id: int) -> bool:
        return self._targets.pop(target_id, None) is not None

    def clear(self) -> None:
        self._targets.clear()
        self._forget_camera()

    def _forget_camera(self) -> None:
        self._camera_motion.reset()
        self._camera_shift = np.zeros(2)

    def _drop_targets_of_another_size(self, image: np.ndarray) -> None:
        """Drop every target when ``image`` is not the size their boxes were given in (a camera changed mode)."""
        size = image.shape[:2]
        self.last_dropped_ids = []
        if self._targets and size != self._image_size:
            self.last_dropped_ids = list(self._targets)
            self._targets.clear()
        self._image_size = size

    # --- tracking --------------------------------------------------------------------------------------
    def update(self, image: np.ndarray, frames_elapsed: int = 1) -> dict[int, TrackResult]:
        """
        Track every target in ``image``; returns ``{target_id: TrackResult}`` (empty with no targets).

        ``frames_elapsed``: camera frames since the last update, 1 when none was missed (a node that drops frames
        knows how many from the middleware); targets moved that many frames' worth (``missed_frames_prediction``).
        An image of another size than the one the targets were given on drops them all (``last_dropped_ids``).
        """
        if not (is_whole_number(frames_elapsed) and frames_elapsed >= 1):
            raise ValueError(f"frames_elapsed must be a whole number >= 1, got {frames_elapsed!r}")
        frames_elapsed = int(frames_elapsed)
        self.last_invalid_ids, self.last_dropped_ids = [], []
        if not self._targets:
            return {}
        image = as_rgb(image)
        self._drop_targets_of_another_size(image)
        if not self._targets:
            return {}
        ids = list(self._targets)
        targets = [self._targets[i] for i in ids]
        self._follow_camera(image, targets)
        search_crops, transforms, blank = [], [], []
        mean_colour = MeanColour(image)
        for target in targets:
            # The search region is centred where the target should be now, not where it was: the network finds a
            # target far from the crop's centre poorly, and the window weighs such a peak down, so a target moving
            # about its own size per update (fast, or a node dropping frames) was lost when searched for behind it.
            x, y, w, h = target.box
            ahead = self._search_lead(target, frames_elapsed) * target.velocity
            crop, transform = crop_and_resize(image, target.box, self.config.search_factor,
                                              self.model_config.search_size,
                                              center=(x + w / 2 + ahead[0], y + h / 2 + ahead[1]),
                                              mean_colour=mean_colour)
            search_crops.append(normalised_chw(crop))
            transforms.append(transform)
            blank.append(is_featureless(crop))
        searches = np.stack(search_crops)
        # Many targets go through the network in batches of at most MAX_BATCH: a batch keeps most of the batching
        # gain, and the calling thread returns to Python between batches (a stop signal waits for one batch, not
        # for all 64 targets).
        chunks = [self._network_step(targets[i:i + MAX_BATCH], searches[i:i + MAX_BATCH])
                  for i in range(0, len(targets), MAX_BATCH)]
        score_logits, offset, box_size, next_context, appearance = (np.concatenate(parts) for parts in zip(*chunks))
        # Each target's sizes in the convention of its given box (see _size_correction).
        box_size = box_size * np.stack([t.size_correction for t in targets])[:, :, None, None]
        for index, target in enumerate(targets):
            if not blank[index]:   # a crop with nothing in it leaves the temporal state as it was
                target.film_context = next_context[index]
        # The carried FiLM context too: a NaN only there would fault the target a frame late, on the next update.
        finite = np.all([np.isfinite(output).reshape(len(targets), -1).all(axis=1)
                         for output in (score_logits, offset, box_size, appearance, next_context)],
                        axis=0).tolist()
        size = self.model_config.search_size
        previous_wh = np.array([[t.box[2] * tr.scale / size, t.box[3] * tr.scale / size]
                                for t, tr in zip(targets, transforms)], dtype=np.float32)
        cfg = self.config
        limits = SizeChangeLimits.from_config(cfg)
        scores = sigmoid(score_logits)
        ranking = self._ranking(targets, scores, appearance, finite)
        boxes, network_scores, cells = select_boxes(scores, offset, box_size, self._window,
                                                    self._window_influence(frames_elapsed), previous_wh, limits,
                                                    ranking=ranking)
        # The target confidence is what picked the cell: the network's score there, mixed with the target's own
        # classifier where it has one. On val and dev it tells on-target frames from off-target ones better than
        # the network's score alone (AUROC 0.94 against 0.88 on dev): a look-alike can match the template well, but
        # the classifier has learnt this target against its surroundings. Status and the reported confidence use it.
        confidences = network_scores if ranking is None else ranking.reshape(len(targets), -1)[
            np.arange(len(targets)), cells]
        results = {}
        for target_id, target, transform, box, confidence, network_score, valid, nothing_seen in zip(
                ids, targets, transforms, boxes, confidences.tolist(), network_scores.tolist(), finite, blank):
            cx, cy, w, h = box * size
            image_box = transform.crop_to_image_box((cx - w / 2, cy - h / 2, w, h))
            if nothing_seen:   # no sighting: the box stays, the confidence is nil
                image_box, confidence, network_score = target.box, 0.0, 0.0
            faults_before = self.invalid_outputs
            if valid:
                results[target_id] = self._advance(target, image, image_box, float(confidence), float(network_score),
                                                   nothing_seen, frames_elapsed)
            else:
                results[target_id] = self._fault(target, image.shape)
            if self.invalid_outputs != faults_before:   # here, or in _advance (a non-finite box or confidence)
                self.last_invalid_ids.append(target_id)
                continue
            # A frame teaches the classifier when it is TRACKING and the network's own score reaches the threshold:
            # the classifier's answer alone never admits a frame (a classifier that taught itself from frames only
            # it vouched for would lock onto its own mistakes).
            if (target.classifier is not None and cfg.classifier_weight > 0 and not nothing_seen
                    and results[target_id].status == TrackStatus.TRACKING
                    and network_score >= cfg.classifier_learn_threshold):
                target.classifier.learn(box)        # from the crop _ranking just had it score
        return results

    def _sent_ahead_for_missed_frames(self, frames_elapsed: int) -> bool:
        """Whether this update's searches go ahead by the frames missed (and so its window weighs less)."""
        return frames_elapsed > 1 and self.config.missed_frames_prediction

    def _window_influence(self, frames_elapsed: int) -> float:
        """Return the motion prior's weight for an update ``frames_elapsed`` camera frames after the last one."""
        if self._sent_ahead_for_missed_frames(frames_elapsed):
            return self.config.missed_frames_window_influence
        return self.config.window_influence

    def _search_lead(self, target: _Target, frames_elapsed: int) -> float:
        """
        Return how many frames of ``target``'s velocity its search region is moved ahead of its last box.

        A target that moves little between two updates is searched for around its last box (``motion_prediction``
        0): a search carried by a noisy velocity keeps a wrong object centred and confident (on dev, off-target
        frames said TRACKING went from 4 to 37 with every search moved ahead). One that moved far is found poorly
        that far from the crop's centre, so its search goes to where it should be: after missed frames
        (``missed_frames_prediction``; on val / dev at every 3rd frame, told, 0.530 / 0.387 -> 0.583 / 0.534; 2/3
        or 1.25 times the expected motion gave 0.551 / 0.452 and 0.565 / 0.482), or when its expected motion is
        over ``fast_motion_threshold`` of its size (every 3rd frame, not told: -> 0.586 / 0.462; every frame a tie).
        """
        cfg = self.config
        share = cfg.motion_prediction
        missed = self._sent_ahead_for_missed_frames(frames_elapsed)
        expected_motion = float(np.hypot(*target.velocity)) * frames_elapsed
        fast = cfg.fast_motion_threshold > 0 and expected_motion > cfg.fast_motion_threshold * float(
            np.sqrt(target.box[2] * target.box[3]))
        if missed or fast:
            share = max(share, 1.0)
        return share * min(frames_elapsed, MAX_PREDICTED_FRAMES)

    def _follow_camera(self, image: np.ndarray, targets: list[_Target]) -> None:
        """Move every target's box as the camera's motion since the last frame moved the scene (``camera_motion``)."""
        if not self.config.camera_motion:
            self._forget_camera()    # turned on later, it starts from that frame, not from a stale one
            return
        motion = self._camera_motion.update(image, [t.box for t in targets])
        if motion is None:
            # No estimate (a blank or wholly new view): search where the boxes are, and let the frame count as a shift
            # unknown, so a pan seen before a covered lens is not taken back once the view returns.
            self._camera_shift = (1 - CAMERA_SMOOTHING) * self._camera_shift
            return
        # A camera that turns to follow its target (a drone, a pan-tilt unit, a person filming) moves the scene
        # steadily while the target stays put in the image: moving the boxes with the scene would move them off it
        # (on the development sequences Skiing fell from 0.58 to 0.26, 5 start frames). A steady pan is already how
        # the image has been moving; a jolt or a shake is not. So the boxes move by the shift of the image's centre
        # beyond the camera's smoothed shift, and by the scale and rotation in full; a move under the estimate's
        # noise bound moves nothing (once a camera has kept still a while its tracks are those without the estimate).
        shift = centre_shift(motion, image.shape)
        expected = self._camera_shift
        self._camera_shift = (1 - CAMERA_SMOOTHING) * expected + CAMERA_SMOOTHING * shift
        surprise = with_centre_shift(motion, image.shape, shift - expected)
        if not self._camera_motion.moves(surprise, image.shape):
            return
        for target in targets:
            target.box = keep_centre_inside(move_box(target.box, surprise), image.shape)

    def _ranking(self, targets: list[_Target], scores: np.ndarray, appearance: np.ndarray, finite: list[bool]
                 ) -> np.ndarray | None:
        """
        Return what picks each target's cell: the network's score, mixed with the target's own classifier's answer.

        The classifier's answer is weighted by ``classifier_weight``, where the target has a classifier. ``None``:
        the score alone.
        """
        weight = self.config.classifier_weight
        if weight == 0 or all(t.classifier is None for t in targets):
            return None
        ranking = scores.copy()
        for index, target in enumerate(targets):
            if target.classifier is not None and finite[index]:
                learnt = np.clip(target.classifier.score(appearance[index]), 0.0, 1.0)
                ranking[index, 0] = (1 - weight) * scores[index, 0] + weight * learnt
        return ranking

    def _network_step(self, targets: list[_Target], searches: np.ndarray) -> tuple[np.ndarray, ...]:
        context, active = self._film_contexts(targets)
        if self.backend.uses_template_memory:
            memory = tuple(np.concatenate(parts) for parts in zip(*(t.memory for t in targets)))
            return self.backend.step_with_memory(memory, searches, context, active)
        templates = np.stack([t.templates for t in targets])
        template_boxes = np.stack([t.template_box for t in targets])
        return self.backend.step(templates, searches, template_boxes, context, active)

    def _fault(self, target: _Target, image_shape: tuple[int, ...]) -> TrackResult:
        """
        Set a target LOST at once because the network gave NaN or inf for it.

        It never gets a NaN box, nor a silent jump: it keeps its last box, and its temporal state starts clean so one
        bad frame does not poison the next.
        """
        self.invalid_outputs += 1
        target.frames_tracked += 1
        target.low_confidence_frames += 1
        target.status = TrackStatus.LOST
        target.film_context = None
        target.update_candidate = None
        target.velocity = np.zeros(2)
        target.box = keep_centre_inside(target.box, image_shape)
        return TrackResult(tuple(float(v) for v in clamp_box(target.box, image_shape)), 0.0, target.status)

    def _advance(self, target: _Target, image: np.ndarray, predicted_box, confidence: float,
                 network_score: float, nothing_seen: bool = False, frames_elapsed: int = 1) -> TrackResult:
        """
        Advance ``target`` by one frame, given its ``predicted_box`` and confidences.

        ``confidence``: the target confidence (status, result); ``network_score``: the network's own score at
        the chosen cell (what the online template update is gated on, like the classifier's learning).
        ``nothing_seen``: the search crop held nothing (``is_featureless``): the frame counts, nothing is learnt from
        it. ``frames_elapsed``: camera frames since the last update (the velocity is learnt per frame).
        """
        cfg = self.config
        predicted_box = np.asarray(predicted_box, dtype=np.float64)
        if not (np.all(np.isfinite(predicted_box)) and np.isfinite(confidence) and np.isfinite(network_score)):
            return self._fault(target, image.shape)
        confidence = float(np.clip(confidence, 0.0, 1.0))
        target.frames_tracked += 1
        if confidence < cfg.lost_threshold:
            target.low_confidence_frames += 1
        else:
            target.low_confidence_frames = 0
        was_lost = target.status == TrackStatus.LOST
        if target.status == TrackStatus.LOST:
            if confidence >= cfg.recover_threshold:
                target.status = TrackStatus.TRACKING
        elif target.low_confidence_frames >= cfg.lost_patience:
            target.status = TrackStatus.LOST
        else:
            target.status = TrackStatus.TRACKING
        # Holding: a lost target keeps its last confident box, so low-confidence peaks on clutter do not drag it
        # away, but a target that moved while lost is never found again. Following: the search region goes where
        # the best peak is, as Siamese trackers do. The online template only ever learns from TRACKING frames.
        previous_centre = target.box[:2] + target.box[2:] / 2
        if target.status == TrackStatus.TRACKING or not cfg.hold_box_when_lost:
            target.box = predicted_box
        # A predicted box may reach past the image edge: the track keeps its size and centre (inside the image), so
        # its search region does not shrink with the visible part; the result is the part inside the image.
        target.box = keep_centre_inside(target.box, image.shape)
        # The velocity is learnt from TRACKING frames only; a LOST target's peak may be anywhere, and a search
        # carried on by a stale velocity would run away from where the target was last seen.
        # Nor from the frame that recovers a lost target: its step is the jump from where the search was to where
        # the target was found again, not a motion, and it would throw the next search region ahead by half of it.
        if nothing_seen:
            pass   # no motion was seen, nor its absence: the velocity stays for when the scene is back
        elif target.status == TrackStatus.TRACKING:
            if not was_lost:
                moved = (target.box[:2] + target.box[2:] / 2 - previous_centre) / frames_elapsed
                target.velocity = (1 - VELOCITY_SMOOTHING) * target.velocity + VELOCITY_SMOOTHING * moved
            self._consider_template_update(target, image, network_score)
        else:
            target.velocity = np.zeros(2)
        box = tuple(float(v) for v in clamp_box(target.box, image.shape))
        return TrackResult(box, confidence, target.status)

    def _consider_template_update(self, target: _Target, image: np.ndarray, network_score: float) -> None:
        cfg = self.config
        if not cfg.online_template_update or self.model_config.num_templates < 2:
            return
        if network_score >= cfg.update_threshold and (target.update_candidate is None
                                                      or network_score > target.update_candidate[0]):
            crop, _ = crop_and_resize(image, target.box, cfg.template_factor, self.model_config.template_size)
            target.update_candidate = (network_score, normalised_chw(crop))
        if target.frames_tracked % cfg.update_interval == 0 and target.update_candidate is not None:
            target.templates = target.templates.copy()
            target.templates[1] = self._template_input(target.update_candidate[1])
            target.update_candidate = None
            self._encode_memory(target)

    # --- helpers ---------------------------------------------------------------------------------------
    def _new_target(self, image: np.ndarray, box: np.ndarray) -> _Target:
        """
        Create a target at ``box`` (valid, inside the RGB ``image``).

        Its templates are cut and encoded, its size calibration measured, and it has no context yet.
        """
        size = self.model_config.template_size
        mean_colour = MeanColour(image)   # one frame, six crops
        crop, transform = crop_and_resize(image, box, self.config.template_factor, size, mean_colour=mean_colour)
        x, y, w, h = transform.image_to_crop_box(box) / size
        template_box = np.array([x + w / 2, y + h / 2, w, h], dtype=np.float32)
        templates = np.repeat(self._template_input(normalised_chw(crop))[None], self.model_config.num_templates,
                              axis=0)
        target = _Target(box=box, templates=templates, template_box=template_box)
        self._encode_memory(target)
        if self.config.size_calibration > 0 or self.config.classifier_weight > 0:
            outputs, boxes = self._first_frame_views(target, image, mean_colour)
            if self.config.size_calibration > 0:
                target.size_correction = self._size_correction(outputs, boxes[0, 2:])
            if self.config.classifier_weight > 0:
                target.classifier = self._fit_classifier(outputs[4], boxes)
        return target

    def _first_frame_views(self, target: _Target, image: np.ndarray,
                           mean_colour: MeanColour) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
        """
        Return the network's outputs for crops of the first frame around a new target, and its box in each crop.

        The crops are shifted by ``FIRST_FRAME_SHIFTS`` and run as one batch, the target's temporal state untouched.
        The boxes are ``(N, 4)`` normalised ``(cx, cy, w, h)``, the same size in all of them: the shifts move the
        crops, not their scale.
        """
        size = self.model_config.search_size
        x, y, w, h = target.box
        crops, boxes = [], []
        for dx, dy in FIRST_FRAME_SHIFTS:
            crop, transform = crop_and_resize(image, target.box, self.config.search_factor, size,
                                              center=(x + (0.5 + dx) * w, y + (0.5 + dy) * h),
                                              mean_colour=mean_colour)
            crops.append(normalised_chw(crop))
            bx, by, bw, bh = transform.image_to_crop_box(target.box) / size
            boxes.append((bx + bw / 2, by + bh / 2))
        wh = np.array([w, h], dtype=np.float32) * transform.scale / size
        boxes = np.concatenate([np.array(boxes, dtype=np.float32), np.repeat(wh[None], len(boxes), axis=0)], axis=1)
        return self._network_step([target] * len(crops), np.stack(crops)), boxes

    def _size_correction(self, outputs: tuple[np.ndarray, ...], given: np.ndarray) -> np.ndarray:
        """
        Return the ``(w, h)`` factors for the network's sizes of this target.

        Where a network puts an object's edges differs from where one annotation (or one user's box) puts them, and
        that difference holds for the whole track: on development video the tracked boxes were too wide or too narrow
        by a factor that stayed nearly constant per sequence. So the geometric mean of given over predicted width and
        height in the first frame's views (``_first_frame_views``; ``given`` the box's normalised ``(w, h)``), raised
        to ``size_calibration`` and bounded by ``max_size_correction``, scales every size the network predicts for
        this target.
        """
        score_logits, _offset, box_size = outputs[:3]
        if not all(np.isfinite(a).all() for a in (score_logits, box_size)):
            return np.ones(2, dtype=np.float32)
        # Each crop's peak under the motion prior alone (a new target has no size history to penalise against).
        views = len(score_logits)
        ranked = (sigmoid(score_logits[:, 0]) * self._window).reshape(views, -1)
        rows, cols = np.unravel_index(ranked.argmax(axis=1), self._window.shape)
        predicted = np.maximum(box_size[np.arange(views), :, rows, cols], 1e-3)           # (views, 2)
        ratios = np.log(given[None] / predicted)
        correction = np.exp(self.config.size_calibration * ratios.mean(axis=0))
        limit = self.config.max_size_correction
        return np.clip(correction, 1.0 / limit, limit).astype(np.float32)

    def _fit_classifier(self, appearance: np.ndarray, boxes: np.ndarray) -> TargetClassifier | None:
        """Fit the target's own classifier on the first frame's views (``None`` if the network gave NaN)."""
        if not np.isfinite(appearance).all():
            return None
        classifier = TargetClassifier()
        classifier.fit(appearance, boxes)
        return classifier

    def _template_input(self, template: np.ndarray) -> np.ndarray:
        """
        Return a template as the network takes it.

        With a frozen pretrained stem, that is its stem features, computed once here instead of at every frame.
        """
        return self.backend.encode_templates(template[None])[0]

    def _encode_memory(self, target: _Target) -> None:
        """Encode the target's template memory; it is recomputed whenever its templates change."""
        if self.backend.uses_template_memory:
            target.memory = self.backend.encode_memory(target.templates[None], target.template_box[None])

    def _film_contexts(self, targets: list[_Target]) -> tuple[np.ndarray, np.ndarray]:
        """``(B, S, dim)`` contexts and ``(B,)`` which targets have one (a just-initialised target has none)."""
        empty = np.zeros((self.backend.context_tokens, self.model_config.dim), dtype=np.float32)
        active = np.array([t.film_context is not None for t in targets])
        contexts = np.stack([empty if t.film_context is None else t.film_context for t in targets])
        return contexts, active


class ViLTracker:
    """One target: ``init(image, box)``, ``update(image) -> TrackResult``, ``reset()``."""

    TARGET_ID = 0

    def __init__(self, model: ViLTrackNet, config: TrackerConfig | None = None, device: str = "cpu",
                 backend: str = "auto", template_memory: bool = True, threads: int | None = None):
        self._multi = MultiTracker(model, config, device, backend, template_memory, threads)

    @classmethod
    def from_checkpoint(cls, weights: str | os.PathLike | None = None, device: str = "cpu",
                        config: TrackerConfig | None = None, backend: str = "auto",
                        template_memory: bool = True, threads: int | None = None) -> "ViLTracker":
        tracker = cls.__new__(cls)
        tracker._multi = MultiTracker.from_checkpoint(weights, device, config, backend, template_memory, threads)
        return tracker

    @property
    def config(self) -> TrackerConfig:
        return self._multi.config

    @property
    def model(self) -> ViLTrackNet:
        return self._multi.model

    @property
    def model_info(self) -> dict:
        return self._multi.model_info

    @property
    def device(self) -> torch.device:
        return self._multi.device

    @property
    def backend(self) -> str:
        return self._multi.backend.name

    @property
    def initialized(self) -> bool:
        return self.TARGET_ID in self._multi.target_ids

    def init(self, image: np.ndarray, box) -> None:
        self._multi.init(self.TARGET_ID, image, box)

    def update(self, image: np.ndarray, frames_elapsed: int = 1) -> TrackResult:
        """Track the target in this image; ``frames_elapsed``: camera frames since the previous call (MultiTracker)."""
        if not self.initialized:
            raise RuntimeError("update() called before init(): give the tracker a target box first")
        given_on = self._multi.image_size
        results = self._multi.update(image, frames_elapsed)
        if self._multi.last_dropped_ids:
            now = np.shape(image)
            raise ValueError(f"the image is {now[1]}x{now[0]}, the target was given on {given_on[1]}x{given_on[0]} "
                             "images: its box means nothing here; call init() again")
        return results[self.TARGET_ID]

    def reset(self) -> None:
        self._multi.clear()
