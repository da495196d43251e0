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
"""The ViL with mixed-attention blocks between its mLSTM blocks (``ModelConfig.mixed_attention_every``)."""
import pytest
import torch

from viltrack_ros.model import ModelConfig, build_model, get_preset
from viltrack_ros.model.mixed_attention import MixFormerBlock
from viltrack_ros.model.vil import ViLBlock

TINY_MIX = ModelConfig(name="tiny_vil_mix", dim=32, depth=4, num_heads=2, patch_size=16, template_size=32,
                       search_size=64, mlp_ratio=2.0, film_interval=2, tmoe_blocks=1, num_experts=2,
                       head_channels=16, drop_path_rate=0.0, mixed_attention_every=2)


def _model(config=TINY_MIX, seed=0):
    torch.manual_seed(seed)
    return build_model(config, pretrained_stem=False).eval()


def test_layout_puts_mixed_attention_every_nth_block_and_keeps_the_mlstm_scans_alternating():
    model = _model(TINY_MIX.replace(depth=6, mixed_attention_every=3))
    kinds = ["m" if isinstance(b, MixFormerBlock) else "v" for b in model.backbone.blocks]
    assert kinds == ["v", "v", "m", "v", "v", "m"]
    # the 2nd and 4th mLSTM blocks (indices 1 and 4) scan right-to-left
    assert model.backbone._right_to_left == {1, 4}
    assert all(isinstance(b, ViLBlock) for b in _model(TINY_MIX.replace(mixed_attention_every=0)).backbone.blocks)
    shipped = build_model("vil_mix_hybrid", pretrained_stem=False).backbone
    assert [type(b) for b in shipped.blocks] == [ViLBlock, MixFormerBlock, ViLBlock, MixFormerBlock]
    assert shipped._right_to_left == {2}


def test_the_seeds_layout_keeps_its_scan_directions():
    plain = build_model(get_preset("vil_hybrid"), pretrained_stem=False).backbone
    assert plain._right_to_left == {1, 3}


@pytest.mark.parametrize("bad", [dict(mixed_attention_every=-1),
                                 dict(mixed_attention_every=2, backbone="mixformer", film_interval=0),
                                 dict(mixed_attention_every=2, num_heads=3)])
def test_invalid_layouts_are_refused(bad):
    with pytest.raises(ValueError, match="invalid model config"):
        TINY_MIX.replace(**bad)


def test_search_reads_the_template_and_never_the_other_way():
    model = _model()
    torch.manual_seed(1)
    templates, search = torch.randn(2, 1, 3, 32, 32), torch.randn(2, 3, 64, 64)
    other_search = search.clone()
    other_search[:, :, 8:40, 8:56] = torch.randn(2, 3, 32, 48)
    with torch.no_grad():
        template_a, search_a = model.backbone(templates, search, update_context=False)
        template_b, search_b = model.backbone(templates, other_search, update_context=False)
        _, search_c = model.backbone(templates + 1.0, search, update_context=False)
    assert torch.equal(template_a, template_b)
    assert not torch.allclose(search_a, search_b)
    assert not torch.allclose(search_a, search_c)


def test_several_search_frames_match_one_frame_at_a_time_for_the_first():
    """
    K frames in one sequence: frame 1 is processed exactly as alone.

    Later frames read it through the mLSTM memory; each frame's mixed attention sees the templates and itself only.
    """
    model = _model()
    torch.manual_seed(2)
    templates, searches = torch.randn(2, 1, 3, 32, 32), torch.randn(2, 3, 3, 64, 64)
    with torch.no_grad():
        template_k, search_k = model.backbone(templates, searches, update_context=False)
        template_1, search_1 = model.backbone(templates, searches[:, 0], update_context=False)
    assert search_k.shape == (2, 3, 16, 32)
    torch.testing.assert_close(template_k, template_1)
    torch.testing.assert_close(search_k[:, 0], search_1, atol=1e-5, rtol=1e-5)


def test_film_state_modulates_the_mixed_attention_layout():
    model = _model()
    torch.manual_seed(3)
    templates, search = torch.randn(1, 1, 3, 32, 32), torch.randn(1, 3, 64, 64)
    # a non-identity FiLM, so a context can change the output
    for layer in model.backbone.film.layers:
        for p in layer.parameters():
            torch.nn.init.normal_(p, std=0.2)
    with torch.no_grad():
        model.reset_temporal_state()
        first = model(templates, search)["score_logits"]
        second = model(templates, search)["score_logits"]
    assert not torch.allclose(first, second)
