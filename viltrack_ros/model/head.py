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
Centre head (OSTrack-style): score map + sub-cell offset + box size on the search token grid.

Why a centre head rather than a corner head: its score map is a calibrated per-cell target probability
(trained with a focal loss against a Gaussian), which gives the tracker a confidence for free (the peak) and
lets a Hann window express the motion prior; a corner head has no such confidence and costs two soft-argmax
maps of the same size.
"""
from __future__ import annotations

import math

import torch
from torch import nn


def _branch(in_channels: int, channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(inplace=True),
        nn.Conv2d(channels, channels // 2, 3, padding=1, bias=False), nn.BatchNorm2d(channels // 2),
        nn.ReLU(inplace=True),
        nn.Conv2d(channels // 2, out_channels, 1),
    )


class CenterHead(nn.Module):
    """
    ``(B, g*g, dim)`` search features -> ``score_logits (B,1,g,g)``, ``offset (B,2,g,g)``, ``size (B,2,g,g)``.

    ``offset`` is the target centre's position relative to its cell's top-left corner, in cells: in [0, 1] (inside
    the cell), or in [-r, 1 + r] with ``offset_reach`` r; ``size`` the box width/height as a fraction of the search
    crop, in [0, 1]. With ``relative_size`` the size is ``size_prior (B, 2)`` (the given box's
    width and height in the template) times ``exp`` of the size branch, bounded to [e^-3, e^3] times the prior.
    """

    def __init__(self, dim: int, grid: int, channels: int = 128, relative_size: bool = False,
                 offset_reach: float = 0.0):
        super().__init__()
        self.grid = grid
        self.offset_reach = offset_reach
        self.relative_size = relative_size
        self.score = _branch(dim, channels, 1)
        self.offset = _branch(dim, channels, 2)
        self.size = _branch(dim, channels, 2)
        # Start the score map at a low probability (focal-loss practice) so early training is stable.
        nn.init.constant_(self.score[-1].bias, -4.6)
        if relative_size:
            # Start at the given box's shape: the search crop's side is twice the template crop's in training and
            # tracking (model.inputs: SEARCH_FACTOR / TEMPLATE_FACTOR), so the box is half as large a fraction there.
            nn.init.zeros_(self.size[-1].weight)
            nn.init.constant_(self.size[-1].bias, -math.log(2.0))

    def forward(self, features: torch.Tensor, size_prior: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        # (no batch-size arithmetic: a traced export keeps its batch axis dynamic)
        grid = features.transpose(1, 2).unflatten(2, (self.grid, self.grid))
        raw_size = self.size(grid)
        if self.relative_size:
            if size_prior is None:
                raise ValueError("a relative-size head needs the template boxes (size_prior)")
            size = (size_prior[:, :, None, None] * torch.exp(raw_size.clamp(-3.0, 3.0))).clamp(max=1.0)
        else:
            size = torch.sigmoid(raw_size)
        offset = torch.sigmoid(self.offset(grid))
        if self.offset_reach:
            offset = offset * (1.0 + 2.0 * self.offset_reach) - self.offset_reach
        return {"score_logits": self.score(grid), "offset": offset, "size": size}
