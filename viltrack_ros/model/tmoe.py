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
"""Temporal mixture of experts (SEEDS.md section 2): a shared SwiGLU expert plus softly routed experts."""
from __future__ import annotations

import torch
from torch import nn

from .layers import SwiGLU


class TMoE(nn.Module):
    """``out = shared(x) + sum_k softmax(router(x))_k * expert_k(x)``, computed densely per token."""

    def __init__(self, dim: int, mlp_ratio: float, num_experts: int = 4):
        super().__init__()
        self.shared_expert = SwiGLU(dim, mlp_ratio)
        self.experts = nn.ModuleList(SwiGLU(dim, mlp_ratio / 2) for _ in range(num_experts))
        self.router = nn.Linear(dim, num_experts, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gates = torch.softmax(self.router(x), dim=-1)                        # (B, S, E)
        expert_out = torch.stack([expert(x) for expert in self.experts], dim=-1)  # (B, S, dim, E)
        return self.shared_expert(x) + (expert_out * gates.unsqueeze(-2)).sum(dim=-1)

    def freeze_shared_expert(self) -> None:
        for p in self.shared_expert.parameters():
            p.requires_grad_(False)
