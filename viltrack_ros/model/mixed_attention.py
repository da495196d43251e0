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
MixFormer's mixed attention (SEEDS.md section 4) as a block, used by two backbones.

The two are MixFormer's own (:mod:`.mixformer`, every block) and the ViL with mixed-attention blocks between its
mLSTM blocks (``ModelConfig.mixed_attention_every``, :mod:`.vil`).

Mixed attention computes queries, keys and values per image from its 2-D token grid with depthwise convolutions
(frozen batch norm after each; keys and values at stride ``mix_kv_stride``, a quarter of the tokens for stride 2),
then a linear map per role. It is asymmetric: the queries of the template segments (the initial and the online
template) attend only to the template segments' keys, the search queries attend to all keys, so every search cell
compares itself with every template key directly (a learned multi-head correlation), and template features never
depend on the search region.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig
from .layers import DropPath, SwiGLU, layer_norm
from .tmoe import TMoE


class FrozenBatchNorm2d(nn.Module):
    """
    Batch norm with fixed statistics and affine map.

    All four are buffers, so no optimizer step, no training-mode forward and no ``train()`` call changes them; only
    loading a state dict does (MixFormer's convention, because tracking batches are too small and correlated for
    batch statistics).
    """

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.register_buffer("weight", torch.ones(channels))
        self.register_buffer("bias", torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        state_dict.pop(prefix + "num_batches_tracked", None)    # a regular BatchNorm2d's state dict loads too
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.weight * (self.running_var + self.eps).rsqrt()
        shift = self.bias - self.running_mean * scale
        return x * scale.view(1, -1, 1, 1) + shift.view(1, -1, 1, 1)

    def extra_repr(self) -> str:
        return f"{self.weight.numel()}, eps={self.eps}"


class ConvProjection(nn.Module):
    """``(N, C, g, g)`` grid -> ``(N, g' * g', C)`` tokens: depthwise conv (stride 1 or 2), frozen batch norm."""

    def __init__(self, dim: int, kernel: int, stride: int):
        super().__init__()
        self.conv = nn.Conv2d(dim, dim, kernel, stride=stride, padding=kernel // 2, groups=dim, bias=False)
        self.norm = FrozenBatchNorm2d(dim)

    def forward(self, grid: torch.Tensor) -> torch.Tensor:
        return self.norm(self.conv(grid)).flatten(2).transpose(1, 2)


class MixedAttention(nn.Module):
    """Mixed attention over token segments ``[template_1 .. template_T | search]`` of square grids."""

    def __init__(self, dim: int, num_heads: int, kernel: int = 3, kv_stride: int = 2):
        super().__init__()
        self.num_heads = num_heads
        self.conv_q = ConvProjection(dim, kernel, 1)
        self.conv_k = ConvProjection(dim, kernel, kv_stride)
        self.conv_v = ConvProjection(dim, kernel, kv_stride)
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        B, N, D = x.shape
        return x.view(B, N, self.num_heads, D // self.num_heads).transpose(1, 2)

    def _project(self, tokens: torch.Tensor, grid: int, count: int):
        """
        ``count`` images of ``grid x grid`` tokens side by side ``(B, count*grid*grid, D)`` -> q, k, v.

        Each of q, k, v is ``(B, count*n, D)`` (n: tokens per image after the projection's stride).
        """
        B, _, D = tokens.shape
        images = tokens.reshape(B * count, grid, grid, D).permute(0, 3, 1, 2)
        q, k, v = (self.conv_q(images), self.conv_k(images), self.conv_v(images))
        return tuple(t.reshape(B, -1, D) for t in (q, k, v))

    def forward(self, x: torch.Tensor, template_grid: int, num_templates: int, search_grid: int) -> torch.Tensor:
        num_template_tokens = num_templates * template_grid ** 2
        out_t, keys_values = self.templates(x[:, :num_template_tokens], template_grid, num_templates)
        return torch.cat([out_t, self.search(x[:, num_template_tokens:], keys_values, search_grid)], dim=1)

    def templates(self, templates: torch.Tensor, template_grid: int, num_templates: int):
        """
        Run the template side alone, returning its output and the keys/values the search reads.

        Those form the template memory: templates read templates only, so this part never depends on a search frame.
        """
        q_t, k_t, v_t = self._project(templates, template_grid, num_templates)
        q_t, k_t, v_t = self._heads(self.q(q_t)), self._heads(self.k(k_t)), self._heads(self.v(v_t))
        out_t = F.scaled_dot_product_attention(q_t, k_t, v_t)
        return self.proj(out_t.transpose(1, 2).flatten(2)), (k_t, v_t)

    def search(self, search: torch.Tensor, template_keys_values, search_grid: int) -> torch.Tensor:
        """Run the search side: its queries attend to the templates' keys/values and to its own."""
        k_t, v_t = template_keys_values
        q_s, k_s, v_s = self._project(search, search_grid, 1)
        q_s, k_s, v_s = self._heads(self.q(q_s)), self._heads(self.k(k_s)), self._heads(self.v(v_s))
        out_s = F.scaled_dot_product_attention(q_s, torch.cat([k_t, k_s], dim=2), torch.cat([v_t, v_s], dim=2))
        return self.proj(out_s.transpose(1, 2).flatten(2))


class MixFormerBlock(nn.Module):
    """Pre-norm residual block: LN -> mixed attention -> residual, LN -> MLP (or TMoE) -> residual."""

    def __init__(self, config: ModelConfig, drop_path: float, use_tmoe: bool):
        super().__init__()
        self.norm1 = layer_norm(config.dim)
        self.attn = MixedAttention(config.dim, config.num_heads, config.mix_kernel, config.mix_kv_stride)
        self.norm2 = layer_norm(config.dim)
        self.mlp = TMoE(config.dim, config.mlp_ratio, config.num_experts) if use_tmoe \
            else SwiGLU(config.dim, config.mlp_ratio)
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor, template_grid: int, num_templates: int, search_grid: int) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.norm1(x), template_grid, num_templates, search_grid))
        return x + self.drop_path(self.mlp(self.norm2(x)))

    def forward_templates(self, x: torch.Tensor, template_grid: int, num_templates: int):
        """Template tokens alone -> (their output, the keys/values the search side reads)."""
        out, keys_values = self.attn.templates(self.norm1(x), template_grid, num_templates)
        x = x + self.drop_path(out)
        return x + self.drop_path(self.mlp(self.norm2(x))), keys_values

    def forward_search(self, x: torch.Tensor, template_keys_values, search_grid: int) -> torch.Tensor:
        """Search tokens alone, reading the templates through their cached keys/values."""
        x = x + self.drop_path(self.attn.search(self.norm1(x), template_keys_values, search_grid))
        return x + self.drop_path(self.mlp(self.norm2(x)))
