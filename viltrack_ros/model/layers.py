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
"""Small building blocks: bias-free norms, SwiGLU MLP, stochastic depth, causal depthwise conv."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def layer_norm(dim: int) -> nn.LayerNorm:
    """Bias-free LayerNorm, as the ViL design uses everywhere."""
    return nn.LayerNorm(dim, bias=False)


class DropPath(nn.Module):
    """Stochastic depth: drops the whole residual branch per sample during training."""

    def __init__(self, drop_prob: float = 0.0):
        super().__init__()
        self.drop_prob = float(drop_prob)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep = 1.0 - self.drop_prob
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f"drop_prob={self.drop_prob}"


class SwiGLU(nn.Module):
    """SwiGLU MLP ``(B, S, dim) -> (B, S, dim)`` with ``hidden = dim * mlp_ratio``; bias-free."""

    def __init__(self, dim: int, mlp_ratio: float):
        super().__init__()
        hidden = max(int(round(dim * mlp_ratio)), 1)
        self.gate_up = nn.Linear(dim, 2 * hidden, bias=False)   # gate and value in one matmul
        self.down = nn.Linear(hidden, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, value = self.gate_up(x).chunk(2, dim=-1)
        return self.down(F.silu(gate) * value)


class CausalConv1d(nn.Module):
    """Depthwise causal conv over the token axis ``(B, S, C)``; can continue from the previous tokens."""

    def __init__(self, channels: int, kernel_size: int):
        super().__init__()
        self.kernel_size = kernel_size
        self.conv = nn.Conv1d(channels, channels, kernel_size, groups=channels, bias=True)

    def forward(self, x: torch.Tensor, history: torch.Tensor | None = None):
        """
        ``history``: the last ``kernel_size - 1`` inputs before ``x`` (zeros when None).

        Returns ``(y, new_history)`` so a prefix and its continuation equal one call on the whole sequence.
        """
        pad = self.kernel_size - 1
        if history is None:
            history = x.new_zeros(x.shape[0], pad, x.shape[2])
        padded = torch.cat([history, x], dim=1)
        y = self.conv(padded.transpose(1, 2)).transpose(1, 2)
        return y, padded[:, padded.shape[1] - pad:]


class LinearHeadwiseExpand(nn.Module):
    """Block-diagonal linear map: the features are split into blocks of ``blocksize``, each with its own matrix."""

    def __init__(self, dim: int, blocksize: int):
        super().__init__()
        if dim % blocksize:
            raise ValueError(f"inner dim {dim} is not divisible by qkv_proj_blocksize {blocksize}")
        self.num_blocks = dim // blocksize
        self.weight = nn.Parameter(torch.empty(self.num_blocks, blocksize, blocksize))
        nn.init.normal_(self.weight, std=(2.0 / (5 * blocksize)) ** 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        x = x.reshape(*shape[:-1], self.num_blocks, -1)
        x = torch.einsum("...hd,hod->...ho", x, self.weight)
        return x.reshape(shape)

    def as_dense_linear(self) -> nn.Linear:
        """
        Return the same map as one dense matrix (zeros off the blocks), for model.export.

        It costs more multiplications, but is a single GEMM, which deployment runtimes run far faster than a
        batched einsum over 4x4 blocks.
        """
        dim = self.num_blocks * self.weight.shape[1]
        linear = nn.Linear(dim, dim, bias=False)
        with torch.no_grad():
            linear.weight.copy_(torch.block_diag(*self.weight))
        return linear


class MultiHeadNorm(nn.Module):
    """Per-head normalisation of the cell output ``(B, NH, S, DH) -> (B, S, NH*DH)`` (group norm over heads)."""

    def __init__(self, num_heads: int, head_dim: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_heads * head_dim))
        self.num_heads, self.head_dim = num_heads, head_dim

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        B, NH, S, DH = h.shape
        h = F.layer_norm(h, (self.head_dim,))   # a constant shape, so the layer exports to ONNX
        return h.transpose(1, 2).reshape(B, S, NH * DH) * self.weight
