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
"""The tracking network: ViL backbone + centre head. Knows tensors, not boxes in images."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig, get_preset
from .head import CenterHead
from .mixed_attention import MixFormerBlock
from .mixformer import MixFormerBackbone
from .mlstm import MLSTMState
from .mlstm_layer import MLSTMLayerState
from .vil import ViLBackbone


class ViLTrackNet(nn.Module):
    """
    The tracking network around either backbone (``config.backbone``: ``vil``, the product, or ``mixformer``).

    ``templates (B, T, 3, h, h)``, ``searches (B, 3, s, s)`` or ``(B, K, 3, s, s)`` -> head outputs.

    Outputs (per search frame; with K frames each tensor gains a K axis after the batch axis):
    ``score_logits (B,1,g,g)``, ``offset (B,2,g,g)``, ``size (B,2,g,g)``.
    """

    def __init__(self, config: ModelConfig, pretrained_stem: bool = True):
        """``pretrained_stem=False`` skips reading the stem's ImageNet weights (a checkpoint overwrites them)."""
        super().__init__()
        self.config = config
        self.backbone = build_backbone(config, pretrained_stem=pretrained_stem)
        prior_channels = config.correlation_cells ** 2 + config.depthwise_correlation
        self.depthwise = (DepthwiseCorrelation(self.backbone.patch_embed.channels, config.depthwise_correlation,
                                               config.correlation_cells)
                          if config.depthwise_correlation else None)
        self.head = CenterHead(config.dim + prior_channels, config.search_grid, config.head_channels,
                               relative_size=config.relative_size, offset_reach=config.offset_reach)

    @property
    def caches_template_stem(self) -> bool:
        """
        Tell whether a template's stem features can be computed once and passed instead of the image.

        True for a frozen pretrained stem; see :meth:`template_stem_features`.
        """
        return self.config.stem != "patch" and self.config.freeze_stem

    def template_stem_features(self, templates: torch.Tensor) -> torch.Tensor:
        """
        ``(N, 3, h, h)`` template images -> their frozen stem features.

        They are what ``forward(..., template_stem_given=True)`` takes.
        """
        return self.backbone.patch_embed.frozen_features(templates)

    def forward(self, templates: torch.Tensor, searches: torch.Tensor, update_context: bool = True,
                given_stem_features: bool = False, template_stem_given: bool | None = None,
                template_boxes: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """
        Compute the head's outputs and ``appearance`` for the search frames against the templates.

        ``given_stem_features``: ``templates``/``searches`` are the pretrained stem's features, not images
        (training on cached features of a frozen stem); ``template_stem_given`` says so for the templates only.
        ``template_boxes (B, 4)``: the target's box ``(cx, cy, w, h)`` in the first template, as fractions of its
        side; read when ``config.correlation_kernel == "target_box"`` or ``config.size_prior == "template_box"``
        (ignored otherwise).
        """
        _, search_features, (template_stem, search_stem) = self.backbone.forward_with_stem(
            templates, searches, update_context=update_context, given_stem_features=given_stem_features,
            template_stem_given=template_stem_given)
        multi_frame = search_features.ndim == 4
        B = search_features.shape[0]
        K = search_features.shape[1] if multi_frame else 1
        features = search_features.flatten(0, 1) if multi_frame else search_features
        appearance = self._appearance(search_stem, features)
        if self.config.correlation_cells:
            priors = [self.correlation_prior(template_stem, search_stem, B, K, template_boxes)]
            if self.depthwise is not None:
                kernel = self.depthwise.kernel(first_template(template_stem, B))
                priors.append(self.depthwise(kernel.repeat_interleave(K, dim=0), search_stem))
            features = torch.cat([features] + [prior.flatten(2).transpose(1, 2) for prior in priors], dim=2)
        outputs = self.head(features, self._size_prior(template_boxes, K))
        outputs["appearance"] = appearance
        if not multi_frame:
            return outputs
        return {name: value.unflatten(0, (B, K)) for name, value in outputs.items()}

    def _size_prior(self, template_boxes: torch.Tensor | None, frames: int = 1) -> torch.Tensor | None:
        """``(B*K, 2)`` the given box's width and height in the template, for a relative-size head."""
        if not self.config.relative_size:
            return None
        if template_boxes is None:
            raise ValueError("size_prior 'template_box' needs template_boxes (B, 4)")
        return template_boxes[:, 2:4].repeat_interleave(frames, dim=0)

    def correlation_prior(self, template_stem: torch.Tensor, search_stem: torch.Tensor, batch: int,
                          frames: int, template_boxes: torch.Tensor | None = None) -> torch.Tensor:
        """
        Cosine similarity of each search cell to k x k cells of the first template: ``(B*K, k*k, g, g)``.

        The template's cells are its central stem cells, or points over the target box (see
        ``ModelConfig.correlation_kernel``). Stem features ``(B*T, C, gt, gt)`` and ``(B*K, C, g, g)``.
        """
        kernel = self.correlation_kernel(template_stem, batch, template_boxes)
        return correlate(kernel.repeat_interleave(frames, dim=0), search_stem)

    def correlation_kernel(self, template_stem: torch.Tensor, batch: int,
                           template_boxes: torch.Tensor | None = None) -> torch.Tensor:
        """Return the prior's k x k template cells, L2-normalised: ``(B, C, k*k)``."""
        k = self.config.correlation_cells
        first = first_template(template_stem, batch)                              # (B, C, gt, gt)
        if self.config.correlation_kernel == "target_box":
            if template_boxes is None:
                raise ValueError("correlation_kernel 'target_box' needs template_boxes (B, 4)")
            kernel = sample_box_cells(first, template_boxes.to(first.dtype), k)
        else:
            start = (first.shape[-1] - k) // 2
            kernel = first[:, :, start:start + k, start:start + k].flatten(2)
        return F.normalize(kernel, dim=1)

    # --- template memory (model.export): the template side computed once per template -------------------------
    @property
    def supports_template_memory(self) -> bool:
        return bool(getattr(self.backbone, "supports_template_memory", False))

    def template_memory(self, templates: torch.Tensor, template_boxes: torch.Tensor | None = None,
                        template_stem_given: bool = False) -> list[torch.Tensor]:
        """
        Everything a frame needs from the templates ``(B, T, ...)``, as a flat list of ``(B, ...)`` tensors.

        The list holds each block's memory (see the backbone), then the correlation kernel when the model has the
        prior.
        """
        memory, template_stem = self.backbone.template_memory(templates, template_stem_given)
        flat = [tensor for block_memory in memory for tensor in _flatten_memory(block_memory)]   # blocks, tokens
        if self.config.correlation_cells:
            flat.append(self.correlation_kernel(template_stem, flat[0].shape[0], template_boxes))
        if self.depthwise is not None:
            flat.append(self.depthwise.kernel(first_template(template_stem, flat[0].shape[0])))
        if self.config.relative_size:
            flat.append(self._size_prior(template_boxes))
        return flat

    @property
    def template_memory_size(self) -> int:
        """How many tensors :meth:`template_memory` returns."""
        return (sum(self._memory_sizes()) + (1 if self.config.correlation_cells else 0)
                + (1 if self.depthwise is not None else 0)
                + (1 if self.config.relative_size else 0))

    def _memory_sizes(self) -> list[int]:
        """
        Count the tensors per entry of the backbone's memory.

        4 per cached mLSTM block (conv history, C, n, m), 2 per cached mixed-attention block (keys, values), 1 for
        the template tokens when uncached blocks follow.
        """
        cached = self.backbone.template_memory_blocks
        sizes = [2 if isinstance(block, MixFormerBlock) else 4 for block in self.backbone.blocks[:cached]]
        return sizes + ([1] if cached < len(self.backbone.blocks) else [])

    def track_with_memory(self, memory: list[torch.Tensor], searches: torch.Tensor,
                          given_stem_features: bool = False, update_context: bool = True) -> dict[str, torch.Tensor]:
        """
        ``forward`` for one search frame ``(B, ...)`` against a :meth:`template_memory`.

        The same outputs (float rounding aside), without the template tokens.
        """
        block_memory, rest = [], list(memory)
        for size in self._memory_sizes():
            chunk, rest = rest[:size], rest[size:]
            if size == 4:
                block_memory.append(MLSTMLayerState(chunk[0], MLSTMState(*chunk[1:])))
            elif size == 2:
                block_memory.append(tuple(chunk))
            else:                                       # the template tokens after the cached blocks
                block_memory.append(chunk[0])
        features, search_stem = self.backbone.search_with_memory(block_memory, searches, given_stem_features,
                                                                 update_context)
        appearance = self._appearance(search_stem, features)
        if self.config.correlation_cells:
            priors, rest = [correlate(rest[0], search_stem)], rest[1:]
            if self.depthwise is not None:
                priors.append(self.depthwise(rest[0], search_stem))
                rest = rest[1:]
            features = torch.cat([features] + [prior.flatten(2).transpose(1, 2) for prior in priors], dim=2)
        outputs = self.head(features, rest[0] if self.config.relative_size else None)
        outputs["appearance"] = appearance
        return outputs

    def _appearance(self, search_stem: torch.Tensor | None, search_tokens: torch.Tensor) -> torch.Tensor:
        """
        Describe the search crop at each cell ``(N, C, g, g)``, for a tracker's own online model of the target.

        The description is the pretrained stem's features (the same whatever the template), else the backbone's
        search tokens.
        """
        if search_stem is not None:
            return search_stem
        g = self.config.search_grid
        return search_tokens.transpose(1, 2).unflatten(2, (g, g))

    def reset_temporal_state(self) -> None:
        self.backbone.reset_temporal_state()

    def freeze_shared_experts(self) -> None:
        self.backbone.freeze_shared_experts()


class DepthwiseCorrelation(nn.Module):
    """
    A learned depthwise cross-correlation of template and search stem features (SiamRPN++'s DepthwiseXCorr).

    Each side passes its own 1x1 conv + BN + ReLU to ``channels``; the template's central ``cells x cells`` cells
    are correlated with the search map channel by channel ('same' padding), and a 1x1 conv + BN + ReLU mixes the
    responses. :meth:`kernel` is the template side alone (what a template memory keeps).
    """

    def __init__(self, stem_channels: int, channels: int, cells: int):
        super().__init__()
        self.cells = cells
        self.template_adjust = _conv_bn_relu(stem_channels, channels)
        self.search_adjust = _conv_bn_relu(stem_channels, channels)
        self.mix = _conv_bn_relu(channels, channels)

    def kernel(self, template_stem: torch.Tensor) -> torch.Tensor:
        """``(B, C, gt, gt)`` first-template stem features -> ``(B, channels, cells, cells)``."""
        adjusted = self.template_adjust(template_stem)
        start = (adjusted.shape[-1] - self.cells) // 2
        return adjusted[:, :, start:start + self.cells, start:start + self.cells]

    def forward(self, kernel: torch.Tensor, search_stem: torch.Tensor) -> torch.Tensor:
        """``kernel (N, channels, k, k)``, ``search_stem (N, C, g, g)`` -> ``(N, channels, g, g)``."""
        search = self.search_adjust(search_stem)
        g, k = search.shape[-1], self.cells
        padded = F.pad(search, (k // 2, (k - 1) // 2, k // 2, (k - 1) // 2))
        # k*k shifted products instead of a grouped convolution: the kernel is an input, one per batch item, and
        # the batch axis stays dynamic in an ONNX export.
        response = sum(kernel[:, :, i:i + 1, j:j + 1] * padded[:, :, i:i + g, j:j + g]
                       for i in range(k) for j in range(k))
        return self.mix(response)


def _conv_bn_relu(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels),
                         nn.ReLU(inplace=True))


def first_template(template_stem: torch.Tensor, batch: int) -> torch.Tensor:
    """
    Pick the first template's stem features ``(B, C, gt, gt)`` out of all templates' ``(B*T, C, gt, gt)``.

    They are what the correlation priors compare with (the given box, never the online template).
    """
    return template_stem.unflatten(0, (batch, -1))[:, 0]


def correlate(kernel: torch.Tensor, search_stem: torch.Tensor) -> torch.Tensor:
    """
    Cosine similarity of normalised kernel cells ``(N, C, k*k)`` to every search cell of ``(N, C, g, g)``.

    The result is ``(N, k*k, g, g)``.
    """
    search = F.normalize(search_stem.flatten(2), dim=1)                        # (N, C, g*g)
    similarity = torch.bmm(kernel.transpose(1, 2), search)                     # (N, k*k, g*g)
    return similarity.unflatten(2, search_stem.shape[-2:])


def _flatten_memory(block_memory) -> tuple[torch.Tensor, ...]:
    if isinstance(block_memory, MLSTMLayerState):
        return (block_memory.conv_history, *block_memory.cell)
    if isinstance(block_memory, torch.Tensor):      # template tokens
        return (block_memory,)
    return tuple(block_memory)


def build_backbone(config: ModelConfig, pretrained_stem: bool = True) -> ViLBackbone | MixFormerBackbone:
    """Build the backbone named by ``config.backbone``: the ViL (default) or MixFormer's mixed attention."""
    if config.backbone == "mixformer":
        return MixFormerBackbone(config, pretrained_stem=pretrained_stem)
    return ViLBackbone(config, pretrained_stem=pretrained_stem)


def sample_box_cells(features: torch.Tensor, boxes: torch.Tensor, cells: int) -> torch.Tensor:
    """
    Bilinear samples of ``features (B, C, g, g)`` at the centres of a ``cells x cells`` grid laid over each box.

    The boxes are ``(cx, cy, w, h)`` (fractions of the map's side); the result is ``(B, C, cells*cells)``,
    row-major.
    """
    steps = (torch.arange(cells, dtype=features.dtype, device=features.device) + 0.5) / cells - 0.5   # (k,)
    xs = boxes[:, 0:1] + boxes[:, 2:3] * steps                                       # (B, k) in [0, 1]
    ys = boxes[:, 1:2] + boxes[:, 3:4] * steps
    grid = torch.stack([xs[:, None, :].expand(-1, cells, -1), ys[:, :, None].expand(-1, -1, cells)], dim=-1)
    # grid_sample's align_corners=False maps -1 and 1 to the outer edges of the map, as fractions 0 and 1 are.
    sampled = F.grid_sample(features, grid * 2.0 - 1.0, mode="bilinear", padding_mode="border",
                            align_corners=False)                                     # (B, C, k, k)
    return sampled.flatten(2)


def build_model(config: ModelConfig | str, pretrained_stem: bool = True) -> ViLTrackNet:
    if isinstance(config, str):
        config = get_preset(config)
    return ViLTrackNet(config, pretrained_stem=pretrained_stem)


def count_parameters(module: nn.Module, exclude_mlp: bool = False) -> int:
    """Parameter count; ``exclude_mlp`` drops the per-block MLP/TMoE weights (the seed's "~23M" convention)."""
    total = 0
    for name, p in module.named_parameters():
        if exclude_mlp and ".mlp." in f".{name}":
            continue
        total += p.numel()
    return total
