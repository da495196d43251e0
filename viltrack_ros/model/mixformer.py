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
MixFormer's mixed-attention backbone (SEEDS.md section 4), the comparison to the ViL backbone.

The same stem, positional/type embeddings and token segments as :class:`~.vil.ViLBackbone` (both derive from
:class:`~.vil.StemTokens`); only the blocks differ: every block is a :class:`~.mixed_attention.MixFormerBlock`.
Template features never depend on the search region, exactly (tests check it).

Several search frames ``(B, K, ...)`` are tracked as K independent template+search sets: each frame attends to the
templates and to itself.
"""
from __future__ import annotations

import torch
from torch import nn

from .config import ModelConfig
from .film import NoTemporalState
from .layers import layer_norm
from .mixed_attention import MixFormerBlock
from .vil import StemTokens


class MixFormerBackbone(StemTokens):
    """
    Templates and search frames -> their features, as :class:`~.vil.ViLBackbone`, with MixFormer's blocks.

    Templates ``(B, T, 3, h, h)`` (T = 2: the initial and the online template) and search frames
    ``(B, K, 3, s, s)`` -> ``(template_features (B, T*Nt, dim), search_features (B, K, Ns, dim))``. No temporal
    state: ``film`` is a stand-in that carries nothing.
    """

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
        """
        As ``forward``, plus the stem features (see :meth:`StemTokens.embed`).

        ``update_context`` has no effect (nothing is carried between frames).
        """
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
