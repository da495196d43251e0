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
From the head's maps to one box per target, with the tracker's priors.

The priors are a Hann window on position and a bounded, penalised, damped change of size (SiamRPN-style). A network
can predict any size at any cell; a tracker must not let one frame's odd size prediction swell the box towards the
whole frame.

All sizes here are fractions of the search crop. Plain numpy on maps of a few hundred cells: small tensor
operations in PyTorch go through its thread pool, which costs milliseconds each when other processes share the
cores. Knows arrays, not images or ROS.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SizeChangeLimits:
    """How much a box's size may change from one frame to the next (values and defaults: TrackerConfig)."""

    penalty_k: float              # strength of the score penalty on size/aspect change (0 = none)
    damping: float                # how much of a confident new size is taken in one frame (1 = all of it)
    max_step: float               # largest size change in one frame, as a factor (>= 1)

    @classmethod
    def from_config(cls, config) -> "SizeChangeLimits":
        """Take the limits from a TrackerConfig (its scale_penalty, size_damping and max_scale_step)."""
        return cls(penalty_k=config.scale_penalty, damping=config.size_damping, max_step=config.max_scale_step)


def _change(ratio: np.ndarray) -> np.ndarray:
    return np.maximum(ratio, 1.0 / ratio)


def _padded_size(w: np.ndarray, h: np.ndarray) -> np.ndarray:
    pad = (w + h) / 2
    return np.sqrt((w + pad) * (h + pad))


def sigmoid(logits) -> np.ndarray:
    logits = np.asarray(logits, dtype=np.float32)
    return 0.5 * (1.0 + np.tanh(0.5 * logits))    # = 1 / (1 + exp(-x)), without overflow warnings


def size_penalty(size, previous_wh, penalty_k: float) -> np.ndarray:
    """
    Return each cell's score penalty for its change of size and aspect from the previous box.

    ``size (B, 2, g, g)`` predicted w,h per cell, ``previous_wh (B, 2)`` -> ``(B, g, g)`` in (0, 1]:
    ``exp(-k * (scale_change * aspect_change - 1))`` (1 where the size is unchanged).
    """
    eps = 1e-6
    size, previous_wh = np.asarray(size, dtype=np.float32), np.asarray(previous_wh, dtype=np.float32)
    w, h = np.maximum(size[:, 0], eps), np.maximum(size[:, 1], eps)
    pw, ph = np.maximum(previous_wh[:, 0, None, None], eps), np.maximum(previous_wh[:, 1, None, None], eps)
    scale_change = _change(_padded_size(w, h) / _padded_size(pw, ph))
    aspect_change = _change((pw / ph) / (w / h))
    return np.exp(-(scale_change * aspect_change - 1.0) * penalty_k)


def select_boxes(score, offset, size, window, window_influence: float, previous_wh, limits: SizeChangeLimits,
                 ranking=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """
    Pick each target's cell and box.

    ``score (B, 1, g, g)`` probabilities, ``offset (B, 2, g, g)`` the centre relative to each cell's corner in cells
    (in [0, 1], or past the cell with ``ModelConfig.offset_reach``), ``size (B, 2, g, g)`` in [0, 1], ``window (g, g)``,
    ``previous_wh (B, 2)`` the last box's size in this crop (arrays or CPU tensors); ``ranking (B, 1, g, g)``, if
    given, is what picks the cell instead of ``score`` (the score mixed with a target's own classifier). Returns
    ``boxes (B, 4)`` normalised ``(cx, cy, w, h)``, ``confidence (B,)``: the unpenalised score at the chosen cell,
    and ``cells (B,)``: the chosen cell's flat index into the ``g x g`` map.
    """
    score, offset, size = (np.asarray(a, dtype=np.float32) for a in (score, offset, size))
    window, previous_wh = np.asarray(window, dtype=np.float32), np.asarray(previous_wh, dtype=np.float32)
    B = score.shape[0]
    penalty = size_penalty(size, previous_wh, limits.penalty_k)
    rank = score[:, 0] if ranking is None else np.asarray(ranking, dtype=np.float32)[:, 0]
    ranked = (1.0 - window_influence) * rank * penalty + window_influence * window
    index = ranked.reshape(B, -1).argmax(axis=1)
    boxes, confidence = boxes_at_cells(index, score, offset, size, penalty, previous_wh, limits)
    return boxes, confidence, index


def boxes_at_cells(index: np.ndarray, score: np.ndarray, offset: np.ndarray, size: np.ndarray, penalty: np.ndarray,
                   previous_wh: np.ndarray, limits: SizeChangeLimits) -> tuple[np.ndarray, np.ndarray]:
    """
    Return the box read at each target's chosen cell, its size damped and bounded against ``previous_wh``.

    The cell is ``index (B,)``, flat into the ``g x g`` map, of the float32 maps of :func:`select_boxes`;
    ``penalty (B, g, g)`` from :func:`size_penalty`. Returns ``boxes (B, 4)`` and ``confidence (B,)`` as
    :func:`select_boxes` does.
    """
    g = score.shape[-1]
    row, col = index // g, index % g
    batch = np.arange(len(index))
    off = offset[batch, :, row, col]
    predicted_wh = size[batch, :, row, col]
    confidence = score[batch, 0, row, col]
    # Damping: a confident, plausible size moves the box further; then one frame's change is bounded.
    rate = (limits.damping * penalty[batch, row, col] * confidence)[:, None]
    wh = previous_wh * (1.0 - rate) + predicted_wh * rate
    wh = np.minimum(np.maximum(wh, previous_wh / limits.max_step), previous_wh * limits.max_step)
    cx = (col + off[:, 0]) / g
    cy = (row + off[:, 1]) / g
    return np.stack([cx, cy, wh[:, 0], wh[:, 1]], axis=1), confidence
