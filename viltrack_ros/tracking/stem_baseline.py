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
The training-free Siamese baseline (arm 0 of the recipe experiments): the floor a trained network must clear.

Cosine cross-correlation of per-location L2-normalised EfficientNet-Lite0 features (ImageNet weights, stride 16,
112 channels) between the target's cells of a template crop and a search crop; three scales with a SiamFC scale
penalty and damping; a Hann window; no template update. No ROS, no training.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..model.efficientnet_lite import INPUT_MEAN, INPUT_STD, STRIDE_CUTS, EfficientNetLite0, load_imagenet_weights
from .crop import MeanColour, as_rgb, clamp_box, crop_and_resize, validate_box


class SiameseStemTracker:
    STRIDE = 16

    def __init__(self, template_factor: float = 2.0, template_size: int = 128, search_factor: float = 4.0,
                 search_size: int = 256, scales: tuple[float, ...] = (1 / 1.04, 1.0, 1.04),
                 scale_penalty: float = 0.97, scale_lr: float = 0.5, window_influence: float = 0.3,
                 upsample: int = 8):
        num_blocks, _ = STRIDE_CUTS[self.STRIDE]
        self.net = EfficientNetLite0(num_blocks=num_blocks, with_head=False)
        load_imagenet_weights(self.net)
        self.net.eval()
        self.template_factor, self.template_size = template_factor, template_size
        self.search_factor, self.search_size = search_factor, search_size
        self.scales, self.scale_penalty, self.scale_lr = scales, scale_penalty, scale_lr
        self.window_influence, self.upsample = window_influence, upsample
        self.kernel: torch.Tensor | None = None
        self.box: np.ndarray | None = None

    @torch.inference_mode()
    def _features(self, crops: list[np.ndarray]) -> torch.Tensor:
        x = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float()
        return F.normalize(self.net.features((x - INPUT_MEAN) / INPUT_STD), dim=1)

    def init(self, image: np.ndarray, box) -> None:
        image = as_rgb(image)
        box = clamp_box(validate_box(box, image.shape), image.shape)
        crop, transform = crop_and_resize(image, box, self.template_factor, self.template_size)
        features = self._features([crop])[0]
        grid = features.shape[-1]
        x, y, w, h = transform.image_to_crop_box(box) / self.STRIDE
        # The cells the target covers (at least one), centred on the grid.
        kw, kh = max(1, min(grid, round(w))), max(1, min(grid, round(h)))
        c0, r0 = (grid - kw) // 2, (grid - kh) // 2
        self.kernel = features[:, r0:r0 + kh, c0:c0 + kw].unsqueeze(0) / (kw * kh)
        self.box = box

    @torch.inference_mode()
    def update(self, image: np.ndarray) -> np.ndarray:
        image = as_rgb(image)
        x, y, w, h = self.box
        base_side = self.search_factor * math.sqrt(w * h)
        crops, transforms = [], []
        mean_colour = MeanColour(image)
        for scale in self.scales:
            crop, transform = crop_and_resize(image, self.box, self.search_factor, self.search_size,
                                              crop_side=base_side * scale, mean_colour=mean_colour)
            crops.append(crop)
            transforms.append(transform)
        response = F.conv2d(self._features(crops), self.kernel)[:, 0]          # (S, r, r)
        size = response.shape[-1] * self.upsample
        response = F.interpolate(response[:, None], size=(size, size), mode="bicubic", align_corners=True)[:, 0]
        response = response.numpy()
        penalties = np.array([1.0 if s == 1.0 else self.scale_penalty for s in self.scales])
        best_scale = int(np.argmax(response.reshape(len(self.scales), -1).max(axis=1) * penalties))
        r = response[best_scale]
        r = (r - r.min()) / max(r.max() - r.min(), 1e-9)
        hann = np.outer(np.hanning(size), np.hanning(size))
        r = (1 - self.window_influence) * r + self.window_influence * hann
        row, col = np.unravel_index(np.argmax(r), r.shape)
        # A response cell i (valid correlation) is centred at crop pixel (i + k/2) * stride.
        kh, kw = self.kernel.shape[-2:]
        n = size // self.upsample                     # response side in cells (before upsampling)
        to_cell = (n - 1) / max(size - 1, 1)          # align_corners=True: pixel p sits at cell p * to_cell
        cx_cell, cy_cell = col * to_cell + kw / 2, row * to_cell + kh / 2
        transform = transforms[best_scale]
        cx, cy = cx_cell * self.STRIDE / transform.scale + transform.origin[0], \
            cy_cell * self.STRIDE / transform.scale + transform.origin[1]
        lr = self.scale_lr
        factor = (1 - lr) + lr * self.scales[best_scale]
        w, h = w * factor, h * factor
        self.box = clamp_box((cx - w / 2, cy - h / 2, w, h), image.shape)
        return self.box.copy()
