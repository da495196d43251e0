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
FiLM temporal modulation.

Tested here: identity at init, no modulation without context, EMA 0.7/0.3, detached state, token-count interpolation,
reset.
"""
import torch

from viltrack_ros.model.film import FiLMLayer, FiLMState, TemporalFiLM, match_token_count


def test_film_layer_is_identity_at_init():
    torch.manual_seed(0)
    layer = FiLMLayer(32)
    x, context = torch.randn(2, 10, 32), torch.randn(2, 10, 32) * 5
    assert torch.allclose(layer(x, context), x, atol=1e-6)


def test_film_layer_modulates_after_training_changes_it():
    torch.manual_seed(0)
    layer = FiLMLayer(32)
    torch.nn.init.normal_(layer.gamma[-1].weight, std=0.5)
    x, context = torch.randn(2, 10, 32), torch.randn(2, 10, 32)
    assert (layer(x, context) - x).abs().max() > 1e-3


def test_no_modulation_before_a_context_exists_and_after_reset():
    torch.manual_seed(0)
    film = TemporalFiLM(dim=16, depth=12, interval=6)
    for layer in film.layers:                       # make modulation visible if it happened
        torch.nn.init.normal_(layer.gamma[-1].weight, std=1.0)
    x = torch.randn(1, 8, 16)
    assert torch.equal(film.modulate(0, x), x)
    film.update_context(torch.randn(1, 8, 16))
    assert not torch.allclose(film.modulate(0, x), x)
    film.reset()
    assert film.state.context is None
    assert torch.equal(film.modulate(0, x), x)


def test_layers_follow_the_interval():
    film = TemporalFiLM(dim=16, depth=24, interval=6)
    assert len(film.layers) == 4
    applied = {b: film.layer_after_block(b) for b in range(24) if film.layer_after_block(b) is not None}
    assert applied == {5: 0, 11: 1, 17: 2, 23: 3}


def test_context_is_an_ema_of_projected_features():
    torch.manual_seed(0)
    film = TemporalFiLM(dim=8, depth=6, interval=6)
    a, b = torch.randn(1, 4, 8), torch.randn(1, 4, 8)
    film.update_context(a)
    first = film.context_proj(a)
    assert torch.allclose(film.state.context, first, atol=1e-6)
    film.update_context(b)
    assert torch.allclose(film.state.context, 0.7 * first + 0.3 * film.context_proj(b), atol=1e-6)


def test_no_gradient_flows_from_one_step_into_the_next():
    torch.manual_seed(0)
    film = TemporalFiLM(dim=8, depth=6, interval=6)
    features = torch.randn(1, 4, 8, requires_grad=True)
    film.update_context(features * 2)
    assert not film.state.context.requires_grad
    x = torch.randn(1, 4, 8, requires_grad=True)
    film.modulate(0, x).sum().backward()
    assert features.grad is None          # step 1's graph is never reached from step 2's loss
    assert x.grad is not None


def test_context_is_interpolated_when_token_counts_differ():
    context = torch.arange(5, dtype=torch.float32).view(1, 5, 1).repeat(1, 1, 3)
    resized = match_token_count(context, 9)
    assert resized.shape == (1, 9, 3)
    assert torch.allclose(resized[0, :, 0], torch.linspace(0, 4, 9))
    film = TemporalFiLM(dim=3 * 4, depth=6, interval=6)
    film.update_context(torch.randn(2, 7, 12))
    assert film.modulate(0, torch.randn(2, 11, 12)).shape == (2, 11, 12)


def test_per_sample_active_mask_leaves_new_targets_unmodulated():
    torch.manual_seed(0)
    film = TemporalFiLM(dim=8, depth=6, interval=6)
    torch.nn.init.normal_(film.layers[0].gamma[-1].weight, std=1.0)
    film.set_state(FiLMState(torch.randn(2, 4, 8), active=torch.tensor([True, False])))
    x = torch.randn(2, 4, 8)
    out = film.modulate(0, x)
    assert torch.equal(out[1], x[1]) and not torch.allclose(out[0], x[0])
