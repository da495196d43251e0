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
NanoTrack v2 as a teacher (arm c of the recipe experiments).

Its score map on the very pairs a training step samples is a soft target beside the ground truth. NanoTrack is
Apache-2.0 and runs in OpenCV's dnn module.

NanoTrack's crops match ours: its template (127 px) covers about 2x the target and its search (255 px) about 4x,
as our template_factor 2 and search_factor 4; its 16x16 score cells tile the 255-px search crop at stride 16.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ..evaluation.trackers import NANOTRACK_FILES, find_nanotrack

TEMPLATE_SIZE, SEARCH_SIZE = 127, 255


class NanoTrackTeacher:
    def __init__(self, folder: str | Path | None = None):
        folder, reason = find_nanotrack(folder)
        if folder is None:
            raise FileNotFoundError(reason)
        self.backbone = cv2.dnn.readNet(str(folder / NANOTRACK_FILES[0]))
        self.head = cv2.dnn.readNet(str(folder / NANOTRACK_FILES[1]))

    def _features(self, crop_rgb: np.ndarray, size: int) -> np.ndarray:
        # BGR, 0..255, as OpenCV's TrackerNano feeds it.
        image = cv2.resize(np.ascontiguousarray(crop_rgb[:, :, ::-1]), (size, size), interpolation=cv2.INTER_LINEAR)
        self.backbone.setInput(cv2.dnn.blobFromImage(image.astype(np.float32)))
        return self.backbone.forward().copy()

    def score_maps(self, templates: np.ndarray, searches: np.ndarray, grid: int) -> torch.Tensor:
        """
        Return the teacher's target probability at the centres of our ``grid x grid`` cells.

        ``(N, h, h, 3)`` template and ``(N, s, s, 3)`` search crops (uint8 RGB) -> the teacher's target
        probability resampled at the centres of our ``grid x grid`` cells: ``(N, 1, grid, grid)``.
        """
        maps = []
        for template, search in zip(templates, searches):
            self.head.setInput(self._features(template, TEMPLATE_SIZE), "input1")
            self.head.setInput(self._features(search, SEARCH_SIZE), "input2")
            logits = self.head.forward("output1")[0]                      # (2, 16, 16): background, target
            maps.append(torch.from_numpy(logits).float().softmax(dim=0)[1])
        stacked = torch.stack(maps).unsqueeze(1)
        return F.interpolate(stacked, size=(grid, grid), mode="bilinear", align_corners=False)


def distillation_loss(score_logits: torch.Tensor, teacher: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of our score map against the teacher's, over the pairs in ``mask (N,)``."""
    if not mask.any():
        return score_logits.sum() * 0.0
    return F.binary_cross_entropy_with_logits(score_logits[mask].float(), teacher[mask])
