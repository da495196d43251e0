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
"""ViL tracking backbone (SEEDS.md sections 1-3): one mLSTM token sequence [template(s) | search_1..K]."""
from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig
from .efficientnet_lite import (INPUT_MEAN, INPUT_STD, STRIDE_CUTS, EfficientNetLite0, fold_batch_norm,
                                load_imagenet_weights)
from .film import TemporalFiLM
from .inputs import STEM_MEAN_255, STEM_STD_255
from .layers import DropPath, SwiGLU, layer_norm
from .mixed_attention import MixFormerBlock
from .mlstm_layer import MLSTMLayer, MLSTMLayerState
from .nanotrack_stem import NanoTrackStem
from .tmoe import TMoE


class PatchEmbed(nn.Module):
    """``(B, 3, H, W) -> (B, H/p * W/p, dim)``: conv with kernel = stride = patch, then a bias-free LayerNorm."""

    has_stem_features = False

    def __init__(self, patch_size: int, dim: int):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=patch_size, stride=patch_size)
        self.norm = layer_norm(dim)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, None]:
        return self.norm(self.proj(images).flatten(2).transpose(1, 2)), None


class PretrainedStem(nn.Module):
    """
    EfficientNet-Lite0 stages up to ``stride`` (ImageNet weights), then 1x1 conv to ``dim`` and a bias-free LN.

    ``forward(images) -> (tokens (B, N, dim), stem features (B, C, g, g))``. The body is frozen except, with
    ``trained_blocks`` n > 0, the convolutions of its last n blocks. Features of the frozen blocks
    (:meth:`frozen_features`) are what training caches and what ``given_stem_features`` inputs hold;
    :meth:`trained_features` runs the trained blocks on them (nothing when n = 0).
    """

    has_stem_features = True

    def __init__(self, stride: int, dim: int, frozen: bool = True, pretrained: bool = True, trained_blocks: int = 0):
        super().__init__()
        num_blocks, channels = STRIDE_CUTS[stride]
        self.body = EfficientNetLite0(num_blocks=num_blocks, with_head=False)
        if pretrained:
            load_imagenet_weights(self.body)
        self.channels = channels
        self.frozen = frozen
        self.first_trained_block = num_blocks - trained_blocks if frozen else 0
        if frozen:
            self.body.requires_grad_(False).eval()
            for block in self.body._blocks[self.first_trained_block:]:
                for module in block.modules():
                    if isinstance(module, nn.Conv2d):
                        module.requires_grad_(True)
        scale = torch.tensor(STEM_STD_255) / INPUT_STD
        shift = (torch.tensor(STEM_MEAN_255) - INPUT_MEAN) / INPUT_STD
        self.register_buffer("input_scale", scale.view(1, 3, 1, 1), persistent=False)
        self.register_buffer("input_shift", shift.view(1, 3, 1, 1), persistent=False)
        self.proj = nn.Conv2d(channels, dim, 1)
        self.norm = layer_norm(dim)

    @property
    def trains_blocks(self) -> bool:
        return self.frozen and self.first_trained_block < len(self.body._blocks)

    def train(self, mode: bool = True):
        was_training = self.training
        super().train(mode)
        if self.frozen:   # frozen batch-norm statistics: the body always runs as at ImageNet inference
            self.body.eval()
        if self.trains_blocks and (mode or was_training):
            # Training changes the trained blocks' weights: a fold made before or during it is stale.
            self.__dict__.pop("_folded", None)
        return self

    def stem_features(self, images: torch.Tensor) -> torch.Tensor:
        """Return the stem's output features of ``images``: ``(B, C, g, g)``."""
        if not self.frozen:
            return self.body.features(self._scaled(images))
        return self.trained_features(self.frozen_features(images))

    def frozen_features(self, images: torch.Tensor) -> torch.Tensor:
        """Features after the frozen blocks (all blocks unless some are trained), without gradients."""
        if not self.frozen:
            raise ValueError("an unfrozen stem has no frozen features to cache")
        with torch.no_grad():
            return self._inference_body(images.device).features(self._scaled(images), self.first_trained_block)

    def trained_features(self, frozen_features: torch.Tensor) -> torch.Tensor:
        """
        Apply the trained blocks to :meth:`frozen_features` (the identity when none are trained).

        The blocks use their own weights while training (gradients flow), folded batch norms of those weights in
        eval mode.
        """
        if not self.trains_blocks:
            return frozen_features
        if self.training:
            return self.body.continue_features(frozen_features, self.first_trained_block)
        with torch.no_grad():
            return self._inference_body(frozen_features.device).continue_features(frozen_features,
                                                                                  self.first_trained_block)

    def _scaled(self, images: torch.Tensor) -> torch.Tensor:
        return images * self.input_scale + self.input_shift

    def _inference_body(self, device: torch.device) -> EfficientNetLite0:
        """
        Return the frozen body with its batch norms folded.

        It is built once per device and weights, and is not in the state dict.
        """
        folded = self.__dict__.get("_folded")
        if folded is None or folded[0] != device:
            folded = (device, fold_batch_norm(self.body).to(device))
            self.__dict__["_folded"] = folded
        return folded[1]

    def _load_from_state_dict(self, *args, **kwargs):
        self.__dict__.pop("_folded", None)       # new weights: fold again
        super()._load_from_state_dict(*args, **kwargs)

    def embed_features(self, features: torch.Tensor) -> torch.Tensor:
        return self.norm(self.proj(features).flatten(2).transpose(1, 2))

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.stem_features(images)
        return self.embed_features(features), features


def build_stem(config: ModelConfig, pretrained: bool = True) -> nn.Module:
    if config.stem == "nanotrack_v2":
        return NanoTrackStem(config.dim)
    if config.stem == "efficientnet_lite0":
        return PretrainedStem(config.patch_size, config.dim, frozen=config.freeze_stem, pretrained=pretrained,
                              trained_blocks=config.stem_trained_blocks)
    return PatchEmbed(config.patch_size, config.dim)


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

    def forward_with_state(self, x: torch.Tensor, state: MLSTMLayerState | None = None):
        """
        As ``forward``, continuing the mLSTM from ``state`` (its conv history and cell memory).

        Also returns the state after the last token: a prefix and its continuation equal one call on the whole
        sequence.
        """
        y, state = self.mlstm(self.norm1(x), state=state, return_state=True)
        x = x + self.drop_path(y)
        return x + self.drop_path(self.mlp(self.norm2(x))), state


class StemTokens(nn.Module):
    """
    What every backbone shares: the stem, the embeddings and the token layout.

    That is the stem (``patch_embed``), the learned positional and token-type embeddings, and the layout of
    templates and search frames as token segments.
    """

    def __init__(self, config: ModelConfig, pretrained_stem: bool = True):
        super().__init__()
        self.config = config
        dim = config.dim
        # The name stays patch_embed for either stem: it turns image patches into tokens.
        self.patch_embed = build_stem(config, pretrained=pretrained_stem)
        self.template_pos = nn.Parameter(torch.empty(1, config.template_grid ** 2, dim))
        self.search_pos = nn.Parameter(torch.empty(1, config.search_grid ** 2, dim))
        self.template_type = nn.Parameter(torch.empty(1, 1, dim))
        self.search_type = nn.Parameter(torch.empty(1, 1, dim))
        for p in (self.template_pos, self.search_pos, self.template_type, self.search_type):
            nn.init.normal_(p, std=0.02)

    def _tokens(self, inputs: torch.Tensor, given_stem_features: bool):
        """
        Return the tokens and stem features of ``inputs``.

        ``given_stem_features``: ``inputs`` are the stem's frozen features
        (:meth:`PretrainedStem.frozen_features`).
        """
        if given_stem_features:
            features = self.patch_embed.trained_features(inputs)
            return self.patch_embed.embed_features(features), features
        return self.patch_embed(inputs)

    def embed_templates(self, templates: torch.Tensor, given_stem_features: bool = False):
        """
        ``(B, T, ...)`` template images (or their stem features) -> tokens and stem features.

        The tokens are ``(B, T*Nt, dim)``, the stem features ``(B*T, C, gt, gt)``.
        """
        B, T = templates.shape[:2]
        tokens, stem = self._tokens(templates.flatten(0, 1), given_stem_features)
        tokens = tokens + self.template_pos + self.template_type
        return tokens.reshape(B, T * tokens.shape[1], -1), stem

    def embed_search(self, searches: torch.Tensor, given_stem_features: bool = False):
        """``(B, ...)`` one search frame per sample -> tokens ``(B, Ns, dim)`` and stem features."""
        tokens, stem = self._tokens(searches, given_stem_features)
        return tokens + self.search_pos + self.search_type, stem

    def embed(self, templates: torch.Tensor, searches: torch.Tensor, given_stem_features: bool = False,
              template_stem_given: bool | None = None):
        """
        Token sequence, segment lengths and the stem features ``(B*T, C, gt, gt)``, ``(B*K, C, g, g)``.

        The stem features are None for the patch stem. With ``given_stem_features`` the inputs are those stem
        features, not images; ``template_stem_given`` says so for the templates alone (a tracker computes them once
        per template).
        """
        B, T = templates.shape[:2]
        K = searches.shape[1]
        if template_stem_given is None:
            template_stem_given = given_stem_features
        template_tokens, template_stem = self.embed_templates(templates, template_stem_given)
        search_tokens, search_stem = self.embed_search(searches.flatten(0, 1), given_stem_features)
        nt, ns = template_tokens.shape[1] // T, search_tokens.shape[1]
        tokens = torch.cat([template_tokens, search_tokens.view(B, K * ns, -1)], dim=1)
        return tokens, [nt] * T + [ns] * K, (template_stem, search_stem)

    def forward(self, templates: torch.Tensor, searches: torch.Tensor, update_context: bool = True):
        template_features, search_features, _ = self.forward_with_stem(templates, searches, update_context)
        return template_features, search_features

    def forward_with_stem(self, templates, searches, update_context=True, given_stem_features=False,
                          template_stem_given=None):
        raise NotImplementedError

    # Subclasses set ``blocks`` (each with an ``mlp``) and ``film`` (the temporal state, or a stand-in).
    def freeze_shared_experts(self) -> None:
        """Phase 2 of training: the TMoE shared experts stop learning, the routed experts go on."""
        for block in self.blocks:
            if isinstance(block.mlp, TMoE):
                block.mlp.freeze_shared_expert()

    def reset_temporal_state(self) -> None:
        self.film.reset()


class ViLBackbone(StemTokens):
    """
    Templates ``(B, T, 3, h, h)`` and search frames ``(B, K, 3, s, s)`` -> features.

    Returns ``(template_features (B, T*Nt, dim), search_features (B, K, Ns, dim))``.

    With ``config.mixed_attention_every = n`` every n-th block is a mixed-attention block
    (:class:`~.mixed_attention.MixFormerBlock`) between the mLSTM blocks; the mLSTM blocks keep alternating their
    scan direction among themselves, and FiLM and TMoE go after / into whichever block sits at their index.
    """

    def __init__(self, config: ModelConfig, pretrained_stem: bool = True):
        super().__init__(config, pretrained_stem)
        dim = config.dim
        rates = torch.linspace(0, config.drop_path_rate, config.depth).tolist()
        first_tmoe = config.depth - config.tmoe_blocks
        self.blocks = nn.ModuleList(
            (MixFormerBlock if self._is_mixed_attention(i) else ViLBlock)(config, rates[i], use_tmoe=i >= first_tmoe)
            for i in range(config.depth))
        # Scan direction per block: the mLSTM blocks alternate among themselves (a mixed-attention block has none).
        mlstm_indices = [i for i in range(config.depth) if not self._is_mixed_attention(i)]
        self._right_to_left = {index for order, index in enumerate(mlstm_indices) if order % 2 == 1}
        self.film = TemporalFiLM(dim, config.depth, config.film_interval)
        self.norm = layer_norm(dim)

    def _is_mixed_attention(self, block_index: int) -> bool:
        every = self.config.mixed_attention_every
        return every > 0 and (block_index + 1) % every == 0

    # --- scan order -------------------------------------------------------------------------------------
    def _reverse(self, x: torch.Tensor, segment_lengths: list[int]) -> torch.Tensor:
        """Reverse the token order for a right-to-left block (an involution: applying it twice is identity)."""
        if self.config.scan_order == "alternate_full":
            return x.flip(1)
        return torch.cat([segment.flip(1) for segment in x.split(segment_lengths, dim=1)], dim=1)

    # --- forward ----------------------------------------------------------------------------------------
    def forward_with_stem(self, templates: torch.Tensor, searches: torch.Tensor, update_context: bool = True,
                          given_stem_features: bool = False, template_stem_given: bool | None = None):
        """As ``forward``, plus the stem features (see ``embed``)."""
        single_frame = searches.ndim == 4
        if single_frame:
            searches = searches.unsqueeze(1)
        if templates.ndim == 4:
            templates = templates.unsqueeze(1)
        x, segments, stem_features = self.embed(templates, searches, given_stem_features, template_stem_given)
        num_templates, num_frames = templates.shape[1], searches.shape[1]
        num_template_tokens = sum(segments[:num_templates])
        x = self._final_norm(self._run_blocks(x, 0, segments, num_templates, num_frames), num_template_tokens,
                             update_context)
        template_features = x[:, :num_template_tokens]
        search_features = x[:, num_template_tokens:].reshape(x.shape[0], searches.shape[1], segments[-1], -1)
        if single_frame:
            search_features = search_features[:, 0]
        return template_features, search_features, stem_features

    def _final_norm(self, x: torch.Tensor, num_template_tokens: int, update_context: bool) -> torch.Tensor:
        """Apply the final norm, and fold the temporal context from its output (the tokens FiLM works on)."""
        x = self.norm(x)
        if update_context:
            self.film.update_context(x if self.config.film_tokens == "all" else x[:, num_template_tokens:])
        return x

    def _run_blocks(self, x: torch.Tensor, start: int, segments: list[int], num_templates: int,
                    num_frames: int) -> torch.Tensor:
        """Blocks ``start..depth-1`` (with their FiLM layers) on the whole sequence."""
        num_template_tokens = sum(segments[:num_templates])
        for index in range(start, len(self.blocks)):
            block = self.blocks[index]
            if isinstance(block, MixFormerBlock):
                x = self._mixed_attention(block, x, num_templates, num_frames)
            elif index in self._right_to_left:
                x = self._reverse(block(self._reverse(x, segments)), segments)
            else:
                x = block(x)
            film_index = self.film.layer_after_block(index)
            if film_index is not None:
                x = self._modulate(film_index, x, num_template_tokens)
        return x

    # --- template memory: the template side once per template, then the search tokens alone per frame ------
    @property
    def template_memory_blocks(self) -> int:
        """
        Return how many leading blocks see template tokens that never change after init.

        The scan must keep the templates first (``template_first``; the search then never reaches them), and the
        template tokens change only where FiLM modulates them (``film_tokens: all``: after the first FiLM layer). All
        blocks with ``film_tokens: search``; none with ``alternate_full``.
        """
        if self.config.scan_order != "template_first":
            return 0
        depth = len(self.blocks)
        if self.config.film_tokens == "search":
            return depth
        # film_tokens 'all': up to the first FiLM layer, and never the last block, whose template tokens the
        # temporal context is made of
        first_film = next((i + 1 for i in range(depth) if self.film.layer_after_block(i) is not None), depth)
        return min(first_film, depth - 1)

    @property
    def supports_template_memory(self) -> bool:
        return self.template_memory_blocks > 0

    def template_memory(self, templates: torch.Tensor, template_stem_given: bool = False):
        """
        Templates ``(B, T, ...)`` -> (memory, template stem features).

        The memory holds, for each of the
        first :attr:`template_memory_blocks` blocks, an mLSTM block's ``MLSTMLayerState`` after the template tokens
        (conv history and cell memory) or a mixed-attention block's template keys and values; when later blocks
        remain (``film_tokens: all``), also the template tokens after the last cached one ``(B, T*Nt, dim)``. With it
        :meth:`search_with_memory` gives what the whole sequence gives.
        """
        cached = self.template_memory_blocks
        if not cached:
            raise ValueError("this model's templates depend on the frame from its first block (scan_order "
                             "'alternate_full', or FiLM on all tokens in a 1-block model): it has no template memory")
        if templates.ndim == 4:
            templates = templates.unsqueeze(1)
        num_templates = templates.shape[1]
        x, template_stem = self.embed_templates(templates, template_stem_given)
        segments = [self.config.template_grid ** 2] * num_templates
        memory = []
        for index in range(cached):
            block = self.blocks[index]
            if isinstance(block, MixFormerBlock):
                x, keys_values = block.forward_templates(x, self.config.template_grid, num_templates)
                memory.append(keys_values)
            elif index in self._right_to_left:
                y, state = block.forward_with_state(self._reverse(x, segments))
                x = self._reverse(y, segments)
                memory.append(state)
            else:
                x, state = block.forward_with_state(x)
                memory.append(state)
        if cached < len(self.blocks):
            memory.append(x)
        return memory, template_stem

    def search_with_memory(self, memory, searches: torch.Tensor, given_stem_features: bool = False,
                           update_context: bool = True):
        """
        One search frame ``(B, ...)`` read against a :meth:`template_memory` -> its features and stem features.

        The search features are ``(B, Ns, dim)``; FiLM and the context as in ``forward``. The cached blocks
        run the search tokens alone; any later blocks run the whole sequence from the cached template tokens.
        """
        cached = self.template_memory_blocks
        x, search_stem = self.embed_search(searches, given_stem_features)
        for index in range(cached):
            block, block_memory = self.blocks[index], memory[index]
            if isinstance(block, MixFormerBlock):
                x = block.forward_search(x, block_memory, self.config.search_grid)
            elif index in self._right_to_left:
                x = block.forward_with_state(x.flip(1), block_memory)[0].flip(1)
            else:
                x = block.forward_with_state(x, block_memory)[0]
            film_index = self.film.layer_after_block(index)
            if film_index is not None and self.config.film_tokens == "search":
                x = self.film.modulate(film_index, x)       # the search tokens alone, as in forward
        if cached < len(self.blocks):
            template_tokens = memory[cached]
            num_template_tokens = template_tokens.shape[1]
            num_templates = num_template_tokens // self.config.template_grid ** 2
            x = torch.cat([template_tokens, x], dim=1)
            film_index = self.film.layer_after_block(cached - 1)
            if film_index is not None:          # the FiLM layer that ends the cached prefix modulates everything
                x = self._modulate(film_index, x, num_template_tokens)
            segments = [self.config.template_grid ** 2] * num_templates + [x.shape[1] - num_template_tokens]
            x = self._run_blocks(x, cached, segments, num_templates, 1)
            return self._final_norm(x, num_template_tokens, update_context)[:, num_template_tokens:], search_stem
        return self._final_norm(x, 0, update_context), search_stem

    def _modulate(self, film_index: int, x: torch.Tensor, num_template_tokens: int) -> torch.Tensor:
        if self.config.film_tokens == "all":
            return self.film.modulate(film_index, x)
        # "search": the templates pass unmodulated, so they stay what they were at init
        return torch.cat([x[:, :num_template_tokens], self.film.modulate(film_index, x[:, num_template_tokens:])],
                         dim=1)

    def _mixed_attention(self, block: MixFormerBlock, x: torch.Tensor, num_templates: int,
                         num_frames: int) -> torch.Tensor:
        """
        Run a mixed-attention block on ``[templates | search_1 .. search_K]``.

        Each search frame attends to the templates and to itself (as MixFormer tracks), the templates to themselves
        only.
        """
        grid_t, grid_s = self.config.template_grid, self.config.search_grid
        if num_frames == 1:
            return block(x, grid_t, num_templates, grid_s)
        nt = num_templates * grid_t ** 2
        B = x.shape[0]
        templates, searches = x[:, :nt], x[:, nt:].unflatten(1, (num_frames, -1))          # (B, K, Ns, D)
        pairs = torch.cat([templates.repeat_interleave(num_frames, dim=0), searches.flatten(0, 1)], dim=1)
        out = block(pairs, grid_t, num_templates, grid_s).unflatten(0, (B, num_frames))     # (B, K, nt+Ns, D)
        # The template rows are the same in every copy (they never read a search frame): keep the first.
        return torch.cat([out[:, 0, :nt], out[:, :, nt:].flatten(1, 2)], dim=1)
