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
NanoTrack v2's backbone as a frozen pretrained stem for the hybrid ViL, in place of ImageNet EfficientNet-Lite0.

The backbone (Apache-2.0) is a MobileNetV3 trained end to end for tracking on large video sets, 48 channels at
stride 16.

Why it is worth a stem: its features were trained to match a target across frames, which is what the correlation
prior and the online classifier compare; ImageNet features were trained to name a class. The training-free Siamese
floor on it scored 0.402 / 0.446 on val / dev against EfficientNet-Lite0's 0.435 / 0.405
(docs/experiments/tried/nanotrack_backbone_floor.md): stronger on dev's full frames of other sources, which is what
the held-out sequences are.

The backbone is read from NanoTrack's own ONNX file (``nanotrack_backbone_sim.onnx``), found in
``$VILTRACK_NANOTRACK_DIR`` or ``../shared/models/nanotrack_v2`` beside the checkout. Knows tensors only.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from ..paths import shared_root
from .inputs import STEM_MEAN_255, STEM_STD_255
from .layers import layer_norm
from .onnx_graph import OnnxGraphModule

NANOTRACK_FILES = ("nanotrack_backbone_sim.onnx", "nanotrack_head_sim.onnx")
# Beside the checkout on every developer machine and in CI (../shared); a flag or the environment may point elsewhere.
DEFAULT_NANOTRACK_DIR = shared_root() / "models" / "nanotrack_v2"
NANOTRACK_CHANNELS = 48


def nanotrack_folders(folder: str | Path | None = None) -> list[Path]:
    """
    Return the folders where NanoTrack v2's files are looked for, in order.

    They are ``folder``, else ``$VILTRACK_NANOTRACK_DIR``, else ``../shared/models/nanotrack_v2`` beside the
    checkout (``paths.shared_root``).
    """
    given = folder or os.environ.get("VILTRACK_NANOTRACK_DIR")
    return [Path(given)] if given else [DEFAULT_NANOTRACK_DIR]


def nanotrack_backbone_file(folder: str | Path | None = None) -> Path:
    """
    Return the backbone's ONNX file in the first of :func:`nanotrack_folders` that holds it.

    Raises a clear error when none does (the stem's structure is that graph, so a checkpoint alone cannot rebuild
    it).
    """
    candidates = nanotrack_folders(folder)
    for candidate in candidates:
        if (candidate / NANOTRACK_FILES[0]).is_file():
            return candidate / NANOTRACK_FILES[0]
    raise FileNotFoundError(f"the nanotrack_v2 stem needs {NANOTRACK_FILES[0]} in "
                            f"{' or '.join(str(c) for c in candidates)} (set VILTRACK_NANOTRACK_DIR)")


class NanoTrackStem(nn.Module):
    """
    NanoTrack v2's backbone (frozen), then a 1x1 conv to ``dim`` and a bias-free LN.

    The same interface as ``vil.PretrainedStem`` with nothing of the body trained: ``forward(images) -> (tokens
    (B, N, dim), stem features (B, 48, g, g))``; :meth:`frozen_features` is what training caches.
    """

    has_stem_features = True

    def __init__(self, dim: int, folder: str | Path | None = None):
        super().__init__()
        self.body = OnnxGraphModule(nanotrack_backbone_file(folder)).eval()
        self.channels = NANOTRACK_CHANNELS
        # ImageNet-normalised RGB -> BGR 0-255 (NanoTrack reads pysot's BGR pixels): x * std + mean per channel,
        # with the channel order reversed.
        self.register_buffer("input_scale", torch.tensor(STEM_STD_255[::-1]).view(1, 3, 1, 1),
                             persistent=False)
        self.register_buffer("input_shift", torch.tensor(STEM_MEAN_255[::-1]).view(1, 3, 1, 1),
                             persistent=False)
        self.proj = nn.Conv2d(NANOTRACK_CHANNELS, dim, 1)
        self.norm = layer_norm(dim)

    def train(self, mode: bool = True):
        super().train(mode)
        self.body.eval()
        return self

    def frozen_features(self, images: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.body(images.flip(1) * self.input_scale + self.input_shift)

    def trained_features(self, frozen_features: torch.Tensor) -> torch.Tensor:
        return frozen_features

    def stem_features(self, images: torch.Tensor) -> torch.Tensor:
        return self.frozen_features(images)

    def embed_features(self, features: torch.Tensor) -> torch.Tensor:
        return self.norm(self.proj(features).flatten(2).transpose(1, 2))

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.stem_features(images)
        return self.embed_features(features), features
