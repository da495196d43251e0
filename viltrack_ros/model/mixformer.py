"""MixFormer's mixed-attention backbone (SEEDS.md section 4), the comparison to the ViL backbone.

The same stem, positional/type embeddings and token segments as :class:`~.vil.ViLBackbone` (both derive from
:class:`~.vil.StemTokens`); only the blocks differ. Each block: LN -> mixed attention -> residual, LN -> MLP ->
residual. Mixed attention computes queries, keys and values per image from its 2-D token grid with depthwise
convolutions (frozen batch norm after each; keys and values at stride ``mix_kv_stride``, a quarter of the tokens for
stride 2), then a linear map per role. It is asymmetric: the queries of the template segments (the initial and the
online template) attend only to the template segments' keys, the search queries attend to all keys. Template
features therefore never depend on the search region, exactly (tests check it).

Several search frames ``(B, K, ...)`` are tracked as K independent template+search sets: each frame attends to the
templates and to itself.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig
from .film import NoTemporalState
from .layers import DropPath, SwiGLU, layer_norm
from .tmoe import TMoE
from .vil import StemTokens


class FrozenBatchNorm2d(nn.Module):
    """Batch norm with fixed statistics and affine map: all four are buffers, so no optimizer step, no training-mode
    forward and no ``train()`` call changes them; only loading a state dict does (MixFormer's convention, because
    tracking batches are too small and correlated for batch statistics)."""

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
        """``count`` images of ``grid x grid`` tokens side by side ``(B, count*grid*grid, D)`` -> q, k, v, each
        ``(B, count*n, D)`` (n: tokens per image after the projection's stride)."""
        B, _, D = tokens.shape
        images = tokens.reshape(B * count, grid, grid, D).permute(0, 3, 1, 2)
        q, k, v = (self.conv_q(images), self.conv_k(images), self.conv_v(images))
        return tuple(t.reshape(B, -1, D) for t in (q, k, v))

    def forward(self, x: torch.Tensor, template_grid: int, num_templates: int, search_grid: int) -> torch.Tensor:
        num_template_tokens = num_templates * template_grid ** 2
        templates, search = x[:, :num_template_tokens], x[:, num_template_tokens:]
        q_t, k_t, v_t = self._project(templates, template_grid, num_templates)
        q_s, k_s, v_s = self._project(search, search_grid, 1)
        q_t, k_t, v_t = self._heads(self.q(q_t)), self._heads(self.k(k_t)), self._heads(self.v(v_t))
        q_s, k_s, v_s = self._heads(self.q(q_s)), self._heads(self.k(k_s)), self._heads(self.v(v_s))
        # Asymmetric: templates read templates only; the search reads templates and itself.
        out_t = F.scaled_dot_product_attention(q_t, k_t, v_t)
        out_s = F.scaled_dot_product_attention(q_s, torch.cat([k_t, k_s], dim=2), torch.cat([v_t, v_s], dim=2))
        out = torch.cat([out_t, out_s], dim=2).transpose(1, 2).flatten(2)
        return self.proj(out)


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


class MixFormerBackbone(StemTokens):
    """Templates ``(B, T, 3, h, h)`` (T = 2: the initial and the online template) and search frames
    ``(B, K, 3, s, s)`` -> ``(template_features (B, T*Nt, dim), search_features (B, K, Ns, dim))``, as
    :class:`~.vil.ViLBackbone`. No temporal state: ``film`` is a stand-in that carries nothing."""

    def __init__(self, config: ModelConfig, pretrained_stem: bool = True):
        super().__init__(config, pretrained_stem)
        rates = torch.linspace(0, config.drop_path_rate, config.depth).tolist()
        first_tmoe = config.depth - config.tmoe_blocks
        self.blocks = nn.ModuleList(MixFormerBlock(config, rates[i], use_tmoe=i >= first_tmoe)
                                    for i in range(config.depth))
        self.norm = layer_norm(config.dim)
        self.film = NoTemporalState()

    def forward_with_stem(self, templates: torch.Tensor, searches: torch.Tensor, update_context: bool = True,
                          given_stem_features: bool = False, template_stem_given: bool | None = None):
        """As ``forward``, plus the stem features (see :meth:`StemTokens.embed`). ``update_context`` has no
        effect (nothing is carried between frames)."""
        single_frame = searches.ndim == 4
        if single_frame:
            searches = searches.unsqueeze(1)
        if templates.ndim == 4:
            templates = templates.unsqueeze(1)
        B, T, K = templates.shape[0], templates.shape[1], searches.shape[1]
        x, segments, stem_features = self.embed(templates, searches, given_stem_features, template_stem_given)
        nt, ns = segments[0], segments[-1]
        if K > 1:          # each search frame with its own copy of the templates
            template_tokens = x[:, :T * nt].repeat_interleave(K, dim=0)
            x = torch.cat([template_tokens, x[:, T * nt:].reshape(B * K, ns, -1)], dim=1)
        grid_t, grid_s = self.config.template_grid, self.config.search_grid
        for block in self.blocks:
            x = block(x, grid_t, T, grid_s)
        x = self.norm(x)
        # (no batch-size arithmetic on the one-frame path: a traced export keeps its batch axis dynamic)
        if K > 1:
            template_features = x[:, :T * nt].unflatten(0, (B, K))[:, 0]
            search_features = x[:, T * nt:].unflatten(0, (B, K))
        else:
            template_features, search_features = x[:, :T * nt], x[:, T * nt:].unsqueeze(1)
        if single_frame:
            search_features = search_features[:, 0]
        return template_features, search_features, stem_features
