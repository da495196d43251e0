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
FiLM temporal modulation (SEEDS.md section 3).

A running temporal context (an EMA of projected output features from earlier steps) modulates the token
features after every ``interval``-th block: ``out = gamma' * x + beta'`` with ``gamma' = r*gamma + (1-r)``,
``beta' = r*beta`` and a per-token reliability ``r``. The context is *state*, not a parameter: it is detached
every time it is stored, so no gradient flows from one step into the next. A consequence, kept on purpose
because the design fixed a real bug this way: ``context_proj`` is never trained (its output is always
detached); it acts as a fixed random projection of the features.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

CONTEXT_MOMENTUM = 0.7   # weight of the old context in the EMA; 0.3 goes to the new step


def _bottleneck_mlp(dim: int, out_dim: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dim, dim // 4), nn.GELU(), nn.Linear(dim // 4, out_dim))


class FiLMLayer(nn.Module):
    """One modulation: ``x (B, S, dim)`` and ``context (B, S, dim)`` -> modulated ``x``."""

    def __init__(self, dim: int):
        super().__init__()
        self.gamma = _bottleneck_mlp(dim, dim)
        self.beta = _bottleneck_mlp(dim, dim)
        self.reliability = nn.Sequential(_bottleneck_mlp(dim, 1), nn.Sigmoid())
        # Identity at init: gamma == 1 and beta == 0 whatever the context.
        nn.init.zeros_(self.gamma[-1].weight)
        nn.init.ones_(self.gamma[-1].bias)
        nn.init.zeros_(self.beta[-1].weight)
        nn.init.zeros_(self.beta[-1].bias)

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        r = self.reliability(context)
        gamma = r * self.gamma(context) + (1.0 - r)
        beta = r * self.beta(context)
        return gamma * x + beta


@dataclass
class FiLMState:
    """
    The temporal context of a batch: ``context (B, S_ctx, dim)``, or None before the first step.

    ``active (B,)`` marks the samples that have a context (a batch of targets can mix a just-initialised
    target, which must not be modulated yet, with running ones); None means all.
    """

    context: torch.Tensor | None = None
    active: torch.Tensor | None = None


def match_token_count(context: torch.Tensor, num_tokens: int) -> torch.Tensor:
    """Linearly interpolate ``(B, S_ctx, dim)`` along the token axis to ``num_tokens`` tokens."""
    if context.shape[1] == num_tokens:
        return context
    resized = F.interpolate(context.transpose(1, 2), size=num_tokens, mode="linear", align_corners=True)
    return resized.transpose(1, 2)


class TemporalFiLM(nn.Module):
    """``depth // interval`` FiLM layers plus the context projection and the context state."""

    def __init__(self, dim: int, depth: int, interval: int, momentum: float = CONTEXT_MOMENTUM):
        super().__init__()
        self.interval = interval
        self.momentum = momentum
        num_layers = depth // interval if interval > 0 else 0
        self.layers = nn.ModuleList(FiLMLayer(dim) for _ in range(num_layers))
        self.context_proj = nn.Linear(dim, dim)
        self.state = FiLMState()

    def layer_after_block(self, block_index: int) -> int | None:
        """Index of the FiLM layer applied after ``block_index``, or None (blocks 5, 11, ... for interval 6)."""
        if self.interval <= 0 or (block_index + 1) % self.interval:
            return None
        index = (block_index + 1) // self.interval - 1
        return index if index < len(self.layers) else None

    def modulate(self, layer_index: int, x: torch.Tensor) -> torch.Tensor:
        context = self.state.context
        if context is None:                  # first step after init/reset: nothing to modulate with
            return x
        if context.shape[0] != x.shape[0]:
            raise ValueError(f"FiLM context holds {context.shape[0]} targets but the batch has {x.shape[0]}; "
                             "call reset() or set the state for this batch")
        modulated = self.layers[layer_index](x, match_token_count(context, x.shape[1]).to(x.dtype))
        if self.state.active is None:
            return modulated
        return torch.where(self.state.active.view(-1, 1, 1), modulated, x)

    @torch.no_grad()
    def update_context(self, features: torch.Tensor) -> None:
        """Fold this step's final features ``(B, S, dim)`` into the context (EMA 0.7 old / 0.3 new)."""
        new = self.context_proj(features.detach()).detach()
        old = self.state.context
        if old is None or old.shape[0] != new.shape[0]:
            self.state = FiLMState(new)
            return
        blended = self.momentum * match_token_count(old, new.shape[1]) + (1 - self.momentum) * new
        if self.state.active is not None:        # samples without a context start from this step's value
            blended = torch.where(self.state.active.view(-1, 1, 1), blended, new)
        self.state = FiLMState(blended)

    def reset(self) -> None:
        self.state = FiLMState()

    def get_state(self) -> FiLMState:
        return FiLMState(self.state.context, self.state.active)

    def set_state(self, state: FiLMState) -> None:
        self.state = FiLMState(state.context, state.active)


class NoTemporalState:
    """
    :class:`TemporalFiLM`'s state interface for a backbone that carries nothing from frame to frame (MixFormer).

    The tracker and the trainers save, restore and reset it the same way, and it stays empty.
    """

    def reset(self) -> None:
        pass

    def get_state(self) -> FiLMState:
        return FiLMState()

    def set_state(self, state: FiLMState) -> None:
        pass

    def update_context(self, features: torch.Tensor) -> None:
        pass
