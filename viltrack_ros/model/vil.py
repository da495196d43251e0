"""ViL tracking backbone (SEEDS.md sections 1-3): one mLSTM token sequence [template(s) | search_1..K]."""
from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig
from .film import TemporalFiLM
from .layers import DropPath, SwiGLU, layer_norm
from .mlstm_layer import MLSTMLayer
from .tmoe import TMoE


class PatchEmbed(nn.Module):
    """``(B, 3, H, W) -> (B, H/p * W/p, dim)``: conv with kernel = stride = patch, then a bias-free LayerNorm."""

    def __init__(self, patch_size: int, dim: int):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=patch_size, stride=patch_size)
        self.norm = layer_norm(dim)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.norm(self.proj(images).flatten(2).transpose(1, 2))


class ViLBlock(nn.Module):
    """Pre-norm residual block: LN -> mLSTM -> residual, LN -> MLP (or TMoE) -> residual."""

    def __init__(self, config: ModelConfig, drop_path: float, use_tmoe: bool):
        super().__init__()
        self.norm1 = layer_norm(config.dim)
        self.mlstm = MLSTMLayer(config.dim, num_heads=config.num_heads, proj_factor=config.proj_factor,
                                qkv_blocksize=config.qkv_blocksize, conv_kernel=config.conv_kernel,
                                form=config.cell_form, chunk_size=config.chunk_size)
        self.norm2 = layer_norm(config.dim)
        self.mlp = TMoE(config.dim, config.mlp_ratio, config.num_experts) if use_tmoe \
            else SwiGLU(config.dim, config.mlp_ratio)
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.mlstm(self.norm1(x)))
        return x + self.drop_path(self.mlp(self.norm2(x)))


class ViLBackbone(nn.Module):
    """Templates ``(B, T, 3, h, h)`` and search frames ``(B, K, 3, s, s)`` -> features.

    Returns ``(template_features (B, T*Nt, dim), search_features (B, K, Ns, dim))``.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        dim = config.dim
        self.patch_embed = PatchEmbed(config.patch_size, dim)
        self.template_pos = nn.Parameter(torch.empty(1, config.template_grid ** 2, dim))
        self.search_pos = nn.Parameter(torch.empty(1, config.search_grid ** 2, dim))
        self.template_type = nn.Parameter(torch.empty(1, 1, dim))
        self.search_type = nn.Parameter(torch.empty(1, 1, dim))
        for p in (self.template_pos, self.search_pos, self.template_type, self.search_type):
            nn.init.normal_(p, std=0.02)
        rates = torch.linspace(0, config.drop_path_rate, config.depth).tolist()
        first_tmoe = config.depth - config.tmoe_blocks
        self.blocks = nn.ModuleList(ViLBlock(config, rates[i], use_tmoe=i >= first_tmoe)
                                    for i in range(config.depth))
        self.film = TemporalFiLM(dim, config.depth, config.film_interval)
        self.norm = layer_norm(dim)

    # --- scan order -------------------------------------------------------------------------------------
    def _reverse(self, x: torch.Tensor, segment_lengths: list[int]) -> torch.Tensor:
        """Reverse the token order for a right-to-left block (an involution: applying it twice is identity)."""
        if self.config.scan_order == "alternate_full":
            return x.flip(1)
        return torch.cat([segment.flip(1) for segment in x.split(segment_lengths, dim=1)], dim=1)

    # --- forward ----------------------------------------------------------------------------------------
    def embed(self, templates: torch.Tensor, searches: torch.Tensor) -> tuple[torch.Tensor, list[int]]:
        B, T = templates.shape[:2]
        K = searches.shape[1]
        template_tokens = self.patch_embed(templates.flatten(0, 1)) + self.template_pos + self.template_type
        search_tokens = self.patch_embed(searches.flatten(0, 1)) + self.search_pos + self.search_type
        nt, ns = template_tokens.shape[1], search_tokens.shape[1]
        tokens = torch.cat([template_tokens.view(B, T * nt, -1), search_tokens.view(B, K * ns, -1)], dim=1)
        return tokens, [nt] * T + [ns] * K

    def forward(self, templates: torch.Tensor, searches: torch.Tensor, update_context: bool = True):
        single_frame = searches.ndim == 4
        if single_frame:
            searches = searches.unsqueeze(1)
        if templates.ndim == 4:
            templates = templates.unsqueeze(1)
        x, segments = self.embed(templates, searches)
        for index, block in enumerate(self.blocks):
            if index % 2 == 1:           # odd blocks scan right-to-left
                x = self._reverse(block(self._reverse(x, segments)), segments)
            else:
                x = block(x)
            film_index = self.film.layer_after_block(index)
            if film_index is not None:
                x = self.film.modulate(film_index, x)
        x = self.norm(x)
        if update_context:
            self.film.update_context(x)
        num_template_tokens = sum(segments[:templates.shape[1]])
        template_features = x[:, :num_template_tokens]
        search_features = x[:, num_template_tokens:].reshape(x.shape[0], searches.shape[1], segments[-1], -1)
        if single_frame:
            search_features = search_features[:, 0]
        return template_features, search_features

    def freeze_shared_experts(self) -> None:
        """Phase 2 of training: the TMoE shared experts stop learning, the routed experts go on."""
        for block in self.blocks:
            if isinstance(block.mlp, TMoE):
                block.mlp.freeze_shared_expert()

    def reset_temporal_state(self) -> None:
        self.film.reset()
