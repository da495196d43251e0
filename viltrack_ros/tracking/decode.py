"""From the head's maps to one box per target, with the tracker's priors: a Hann window on position and a
bounded, penalised, damped change of size (SiamRPN-style). A network can predict any size at any cell; a tracker
must not let one frame's odd size prediction swell the box towards the whole frame.

All sizes here are fractions of the search crop. Knows tensors, not images or ROS.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class SizePrior:
    penalty_k: float = 0.1        # strength of the score penalty on size/aspect change (0 = none)
    damping: float = 0.4          # how much of a confident new size is taken in one frame (1 = all of it)
    max_step: float = 1.25        # largest size change in one frame, as a factor (>= 1)


def _change(ratio: torch.Tensor) -> torch.Tensor:
    return torch.maximum(ratio, 1.0 / ratio)


def _padded_size(w: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    pad = (w + h) / 2
    return torch.sqrt((w + pad) * (h + pad))


def size_penalty(size: torch.Tensor, previous_wh: torch.Tensor, penalty_k: float) -> torch.Tensor:
    """``size (B, 2, g, g)`` predicted w,h per cell, ``previous_wh (B, 2)`` -> ``(B, g, g)`` in (0, 1]:
    ``exp(-k * (scale_change * aspect_change - 1))`` (1 where the size is unchanged)."""
    eps = 1e-6
    w, h = size[:, 0].clamp(min=eps), size[:, 1].clamp(min=eps)
    pw, ph = previous_wh[:, 0, None, None].clamp(min=eps), previous_wh[:, 1, None, None].clamp(min=eps)
    scale_change = _change(_padded_size(w, h) / _padded_size(pw, ph))
    aspect_change = _change((pw / ph) / (w / h))
    return torch.exp(-(scale_change * aspect_change - 1.0) * penalty_k)


def select_boxes(score: torch.Tensor, offset: torch.Tensor, size: torch.Tensor, window: torch.Tensor,
                 window_influence: float, previous_wh: torch.Tensor, prior: SizePrior
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Pick each target's cell and box.

    ``score (B, 1, g, g)`` probabilities, ``offset``/``size (B, 2, g, g)`` in [0, 1], ``window (g, g)``,
    ``previous_wh (B, 2)`` the last box's size in this crop. Returns ``boxes (B, 4)`` normalised ``(cx, cy, w, h)``
    and ``confidence (B,)``: the unpenalised score at the chosen cell.
    """
    B, _, g, _ = score.shape
    raw = score[:, 0]
    penalty = size_penalty(size, previous_wh, prior.penalty_k)
    ranked = raw * penalty
    ranked = (1.0 - window_influence) * ranked + window_influence * window
    index = ranked.flatten(1).argmax(dim=1)
    row, col = index // g, index % g
    batch = torch.arange(B, device=score.device)
    off = offset[batch, :, row, col]
    predicted_wh = size[batch, :, row, col]
    confidence = raw[batch, row, col]
    # Damping: a confident, plausible size moves the box further; then one frame's change is bounded.
    rate = (prior.damping * penalty[batch, row, col] * confidence).unsqueeze(1)
    wh = previous_wh * (1.0 - rate) + predicted_wh * rate
    wh = torch.minimum(torch.maximum(wh, previous_wh / prior.max_step), previous_wh * prior.max_step)
    cx = (col.to(off.dtype) + off[:, 0]) / g
    cy = (row.to(off.dtype) + off[:, 1]) / g
    return torch.stack([cx, cy, wh[:, 0], wh[:, 1]], dim=1), confidence
