"""The tracking network: ViL backbone + centre head. Knows tensors, not boxes in images."""
from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig, get_preset
from .head import CenterHead
from .vil import ViLBackbone


class ViLTrackNet(nn.Module):
    """``templates (B, T, 3, h, h)``, ``searches (B, 3, s, s)`` or ``(B, K, 3, s, s)`` -> head outputs.

    Outputs (per search frame; with K frames each tensor gains a K axis after the batch axis):
    ``score_logits (B,1,g,g)``, ``offset (B,2,g,g)``, ``size (B,2,g,g)``.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.backbone = ViLBackbone(config)
        self.head = CenterHead(config.dim, config.search_grid, config.head_channels)

    def forward(self, templates: torch.Tensor, searches: torch.Tensor,
                update_context: bool = True) -> dict[str, torch.Tensor]:
        _, search_features = self.backbone(templates, searches, update_context=update_context)
        if search_features.ndim == 3:
            return self.head(search_features)
        B, K = search_features.shape[:2]
        outputs = self.head(search_features.flatten(0, 1))
        return {name: value.unflatten(0, (B, K)) for name, value in outputs.items()}

    def reset_temporal_state(self) -> None:
        self.backbone.reset_temporal_state()

    def freeze_shared_experts(self) -> None:
        self.backbone.freeze_shared_experts()


def build_model(config: ModelConfig | str) -> ViLTrackNet:
    if isinstance(config, str):
        config = get_preset(config)
    return ViLTrackNet(config)


def count_parameters(module: nn.Module, exclude_mlp: bool = False) -> int:
    """Parameter count; ``exclude_mlp`` drops the per-block MLP/TMoE weights (the seed's "~23M" convention)."""
    total = 0
    for name, p in module.named_parameters():
        if exclude_mlp and ".mlp." in f".{name}":
            continue
        total += p.numel()
    return total
