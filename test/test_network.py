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
"""ViL backbone, TMoE, head, presets and parameter counts."""
import pytest
import torch

from viltrack_ros.model import PRESETS, ModelConfig, build_model, count_parameters, get_preset
from viltrack_ros.model.tmoe import TMoE
from viltrack_ros.model.vil import ViLBackbone

TINY = ModelConfig(name="tiny", dim=32, depth=4, patch_size=16, template_size=32, search_size=64,
                   film_interval=2, tmoe_blocks=1, num_experts=2, mlp_ratio=2.0, head_channels=16,
                   drop_path_rate=0.1)


def inputs(config, batch=2, frames=None):
    t = torch.randn(batch, config.num_templates, 3, config.template_size, config.template_size)
    shape = (batch, 3, config.search_size, config.search_size) if frames is None else \
        (batch, frames, 3, config.search_size, config.search_size)
    return t, torch.randn(*shape)


def test_backbone_shapes_single_frame_and_k_frames():
    torch.manual_seed(0)
    backbone = ViLBackbone(TINY).eval()
    t, s = inputs(TINY)
    template_features, search_features = backbone(t, s)
    assert template_features.shape == (2, 4, 32) and search_features.shape == (2, 16, 32)
    t, s = inputs(TINY, frames=3)
    backbone.reset_temporal_state()
    template_features, search_features = backbone(t, s)
    assert search_features.shape == (2, 3, 16, 32)


def test_k_frame_memory_runs_across_frames():
    """Frame 2's features depend on frame 1 (one token sequence), in the template-first scan order too."""
    torch.manual_seed(0)
    for scan in ("template_first", "alternate_full"):
        backbone = ViLBackbone(TINY.replace(scan_order=scan)).eval()
        t, s = inputs(TINY, batch=1, frames=2)
        s2 = s.clone()
        s2[:, 0] += 1.0
        with torch.no_grad():
            a = backbone(t, s, update_context=False)[1][:, 1]
            b = backbone(t, s2, update_context=False)[1][:, 1]
        assert (a - b).abs().max() > 1e-4, scan


def test_template_first_scan_keeps_template_independent_of_search():
    """With the template first in every block, template tokens never read search tokens."""
    torch.manual_seed(0)
    for scan, independent in (("template_first", True), ("alternate_full", False)):
        backbone = ViLBackbone(TINY.replace(scan_order=scan, film_interval=0)).eval()
        t, s = inputs(TINY, batch=1)
        with torch.no_grad():
            a = backbone(t, s, update_context=False)[0]
            b = backbone(t, s + 1.0, update_context=False)[0]
        assert torch.allclose(a, b, atol=1e-6) == independent, scan


def test_film_state_changes_the_second_step_and_reset_restores_the_first():
    torch.manual_seed(0)
    model = build_model(TINY).eval()
    for layer in model.backbone.film.layers:
        torch.nn.init.normal_(layer.gamma[-1].weight, std=0.5)
    t, s = inputs(TINY, batch=1)
    with torch.no_grad():
        first = model(t, s)["score_logits"]
        second = model(t, s)["score_logits"]
        model.reset_temporal_state()
        again = model(t, s)["score_logits"]
    assert not torch.allclose(first, second)
    assert torch.allclose(first, again)


def test_tmoe_output_and_freeze_shared_experts():
    torch.manual_seed(0)
    moe = TMoE(16, mlp_ratio=2.0, num_experts=3)
    x = torch.randn(2, 5, 16)
    gates = torch.softmax(moe.router(x), -1)
    expected = moe.shared_expert(x) + sum(gates[..., i:i + 1] * moe.experts[i](x) for i in range(3))
    assert torch.allclose(moe(x), expected, atol=1e-6)
    model = build_model(TINY)
    model.freeze_shared_experts()
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    assert frozen and all("shared_expert" in n for n in frozen)
    assert all(p.requires_grad for n, p in model.named_parameters() if "experts." in n and "shared" not in n)


def test_head_outputs_have_the_grid_shape_and_range():
    torch.manual_seed(0)
    model = build_model(TINY).eval()
    t, s = inputs(TINY)
    with torch.no_grad():
        out = model(t, s)
    g = TINY.search_grid
    assert out["score_logits"].shape == (2, 1, g, g)
    assert out["offset"].shape == (2, 2, g, g) and out["size"].shape == (2, 2, g, g)
    # Offsets within their cell and sizes as fractions of the crop (decoded in tracking.decode, test_decode.py).
    assert 0.0 <= out["offset"].min() and out["offset"].max() <= 1.0
    assert 0.0 < out["size"].min() and out["size"].max() <= 1.0


def test_presets_and_parameter_counts():
    assert {"vil_t", "vil_s", "vil_cpu"} <= set(PRESETS)
    assert (get_preset("vil_t").dim, get_preset("vil_t").depth) == (192, 12)
    assert (get_preset("vil_s").dim, get_preset("vil_s").depth) == (384, 24)
    vil_s = build_model("vil_s")
    without_mlp = count_parameters(vil_s.backbone, exclude_mlp=True)
    assert 21e6 < without_mlp < 25e6          # the seed's "about 23M backbone parameters"
    assert count_parameters(vil_s) > 2 * without_mlp   # the per-block MLPs more than double it
    with pytest.raises(ValueError, match="unknown preset"):
        get_preset("vil_xxl")


def test_invalid_configs_are_refused():
    with pytest.raises(ValueError, match="not a multiple of patch_size"):
        ModelConfig(template_size=100)
    with pytest.raises(ValueError, match="scan_order"):
        ModelConfig(scan_order="zigzag")
    with pytest.raises(ValueError, match="depthwise_correlation=8 must be"):
        ModelConfig(depthwise_correlation=8)                     # no correlation prior to sit beside
    with pytest.raises(ValueError, match="depthwise_correlation=8 must be"):
        get_preset("vil_hybrid").replace(depthwise_correlation=8, correlation_kernel="target_box")


def test_the_depthwise_correlation_responds_where_the_template_s_cells_match():
    """
    The depthwise correlation responds where the template's cells match.

    The template's central cells are planted in an otherwise different search map: each channel's response peaks
    where they are (with the adjustments fixed to the identity and no mixing), which is what the head reads.
    """
    from viltrack_ros.model.network import DepthwiseCorrelation
    torch.manual_seed(0)
    layer = DepthwiseCorrelation(stem_channels=4, channels=4, cells=3).eval()
    with torch.no_grad():
        for adjust in (layer.template_adjust, layer.search_adjust, layer.mix):
            adjust[0].weight.copy_(torch.eye(4).view(4, 4, 1, 1))
        template = torch.rand(1, 4, 5, 5) + 1.0
        search = torch.rand(1, 4, 10, 10) * 0.1
        search[:, :, 5:8, 2:5] = template[:, :, 1:4, 1:4]           # centred at row 6, column 3
        response = layer(layer.kernel(template), search)
    assert response.shape == (1, 4, 10, 10)
    assert all(int(response[0, c].flatten().argmax()) == 6 * 10 + 3 for c in range(4))


def test_training_mode_forward_backward_with_drop_path():
    torch.manual_seed(0)
    model = build_model(TINY).train()
    t, s = inputs(TINY, frames=2)
    out = model(t, s)
    (out["score_logits"].mean() + out["size"].mean()).backward()
    assert model.backbone.patch_embed.proj.weight.grad is not None


def test_box_kernel_samples_the_target_box_cells():
    from viltrack_ros.model.network import sample_box_cells
    features = torch.randn(2, 7, 5, 5)
    # A centred box 3/5 of the side wide: its 3x3 cell centres are the central stem cells exactly.
    central = sample_box_cells(features, torch.tensor([[0.5, 0.5, 0.6, 0.6]] * 2), 3)
    torch.testing.assert_close(central, features[:, :, 1:4, 1:4].flatten(2), atol=1e-5, rtol=0)
    # A tall thin box reads one column of cells, top to bottom, not its background.
    column = sample_box_cells(features, torch.tensor([[0.3, 0.5, 0.0, 0.6]] * 2), 3)
    torch.testing.assert_close(column.view(2, 7, 3, 3)[..., 0], features[:, :, 1:4, 1], atol=1e-5, rtol=0)


def test_box_kernel_model_needs_template_boxes_and_uses_them():
    from viltrack_ros.model import ModelConfig, build_model
    config = ModelConfig(name="box", dim=32, depth=2, stem="efficientnet_lite0", patch_size=16, template_size=80,
                         search_size=96, film_interval=2, tmoe_blocks=1, head_channels=16, correlation_cells=3,
                         correlation_kernel="target_box")
    model = build_model(config, pretrained_stem=False).eval()
    torch.manual_seed(1)
    templates, search = torch.randn(1, 1, 3, 80, 80), torch.randn(1, 3, 96, 96)
    with torch.no_grad(), pytest.raises(ValueError, match="needs template_boxes"):
        model(templates, search, update_context=False)
    with torch.no_grad():
        wide = model(templates, search, update_context=False, template_boxes=torch.tensor([[0.5, 0.5, 0.8, 0.3]]))
        tall = model(templates, search, update_context=False, template_boxes=torch.tensor([[0.5, 0.5, 0.3, 0.8]]))
    assert not torch.allclose(wide["score_logits"], tall["score_logits"])
