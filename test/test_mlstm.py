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
"""The three mLSTM forms compute the same function (fp32, max abs error <= 1e-4), with and without carried state."""
import pytest
import torch

from viltrack_ros.model.mlstm import (empty_state, mlstm_chunkwise, mlstm_parallel, mlstm_recurrent,
                                      mlstm_recurrent_step)
from viltrack_ros.model.mlstm_layer import MLSTMLayer

TOLERANCE = 1e-4


def random_inputs(seed=0, B=2, NH=4, S=96, DH=16, scale=0.5):
    """
    q/k/v at the scale the layer's projections produce; gates around the layer's initial biases.

    At unit-scale q/k the normaliser |q . n| can cancel towards zero, where any float32 evaluation order differs
    by ~1e-5 of |h| (tens), so the absolute bound is stated at layer-typical scales.
    """
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(B, NH, S, DH, generator=g) * scale for _ in range(3))
    igate = torch.randn(B, NH, S, generator=g)
    fgate = torch.randn(B, NH, S, generator=g) + 4.0
    return q, k, v, igate, fgate


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_parallel_chunkwise_recurrent_agree(seed):
    inputs = random_inputs(seed)
    h_par, s_par = mlstm_parallel(*inputs, return_state=True)
    h_chunk, s_chunk = mlstm_chunkwise(*inputs, chunk_size=20, return_state=True)
    h_rec, s_rec = mlstm_recurrent(*inputs, return_state=True)
    assert (h_par - h_chunk).abs().max() <= TOLERANCE
    assert (h_par - h_rec).abs().max() <= TOLERANCE
    for a, b in ((s_par, s_chunk), (s_par, s_rec)):
        assert (a.C - b.C).abs().max() <= TOLERANCE
        assert (a.n - b.n).abs().max() <= TOLERANCE
        assert (a.m - b.m).abs().max() <= TOLERANCE


def test_state_carried_from_template_prefix_into_search_tokens():
    """Template tokens run once; their (C, n, m) continues into the search tokens in every form."""
    q, k, v, i, f = random_inputs(3, S=80)
    full = mlstm_parallel(q, k, v, i, f)
    n_template = 16
    prefix = [t[:, :, :n_template] for t in (q, k, v, i, f)]
    rest = [t[:, :, n_template:] for t in (q, k, v, i, f)]
    _, template_state = mlstm_parallel(*prefix, return_state=True)
    for form, kwargs in ((mlstm_parallel, {}), (mlstm_chunkwise, {"chunk_size": 24}), (mlstm_recurrent, {})):
        search = form(*rest, state=template_state, **kwargs)
        assert (search - full[:, :, n_template:]).abs().max() <= TOLERANCE, form.__name__


def test_recurrent_step_from_empty_state_matches_first_token():
    q, k, v, i, f = random_inputs(4, S=1)
    h_step, _ = mlstm_recurrent_step(q[:, :, 0], k[:, :, 0], v[:, :, 0], i[:, :, 0], f[:, :, 0],
                                     empty_state(2, 4, 16))
    assert (h_step - mlstm_parallel(q, k, v, i, f)[:, :, 0]).abs().max() <= TOLERANCE


def test_forms_differ_when_gates_differ():
    """Guard against a test that cannot fail: other forget gates give other outputs."""
    q, k, v, i, f = random_inputs(5)
    assert (mlstm_parallel(q, k, v, i, f) - mlstm_parallel(q, k, v, i, f - 3.0)).abs().max() > 1e-2


def test_layer_forms_agree_and_layer_carries_conv_and_cell_state():
    torch.manual_seed(0)
    layer = MLSTMLayer(dim=32, num_heads=4).eval()
    x = torch.randn(2, 40, 32)
    with torch.no_grad():
        ref = layer(x, form="parallel")
        assert (layer(x, form="chunkwise") - ref).abs().max() <= TOLERANCE
        assert (layer(x, form="recurrent") - ref).abs().max() <= TOLERANCE
        head, state = layer(x[:, :10], return_state=True)
        tail = layer(x[:, 10:], state=state, form="recurrent")
        assert (torch.cat([head, tail], 1) - ref).abs().max() <= TOLERANCE


def test_parallel_form_has_gradients():
    q, k, v, i, f = (t.clone().requires_grad_(True) for t in random_inputs(6, S=12))
    mlstm_parallel(q, k, v, i, f).sum().backward()
    assert all(t.grad is not None and torch.isfinite(t.grad).all() for t in (q, k, v, i, f))


@pytest.fixture(scope="module")
def kernels_installed():
    pytest.importorskip("mlstm_kernels", reason="the optional mlstm_kernels package (requirements.txt installs it)")


@pytest.mark.parametrize("length,chunk", [(96, 32), (125, 64), (100, 16)])
def test_the_kernels_form_computes_the_same_function_and_state(kernels_installed, length, chunk):
    """
    NX-AI's mlstm_kernels compute the same function and state as ours, through our state convention.

    They run as their PyTorch reference kernels here (Triton on a GPU), at lengths that are and are not whole chunks
    (125 = the hybrid's 25 template + 100 search tokens). Their empty memory starts at stabiliser 0 instead of -inf,
    which moves the normaliser's floor where |q . n| is tiny: within the same tolerance at the layer's scales.
    """
    from viltrack_ros.model.mlstm import mlstm_kernels_form
    inputs = random_inputs(7, S=length)
    h_par, s_par = mlstm_parallel(*inputs, return_state=True)
    h_kern, s_kern = mlstm_kernels_form(*inputs, chunk_size=chunk, return_state=True)
    assert (h_par - h_kern).abs().max() <= TOLERANCE
    for a, b in zip(s_par, s_kern):
        assert a.shape == b.shape and (a - b).abs().max() <= TOLERANCE


def test_the_kernels_form_continues_a_template_state_into_the_search_tokens(kernels_installed):
    """The template memory's path: the template's (C, n, m) from our parallel form, continued by the kernels."""
    from viltrack_ros.model.mlstm import mlstm_kernels_form
    q, k, v, i, f = random_inputs(8, S=125)
    full = mlstm_parallel(q, k, v, i, f)
    _, template_state = mlstm_parallel(*[t[:, :, :25] for t in (q, k, v, i, f)], return_state=True)
    search = mlstm_kernels_form(*[t[:, :, 25:] for t in (q, k, v, i, f)], chunk_size=32, state=template_state)
    assert (search - full[:, :, 25:]).abs().max() <= TOLERANCE
    other = mlstm_kernels_form(*[t[:, :, 25:] for t in (q, k, v, i, f - 3.0)], chunk_size=32, state=template_state)
    assert (other - full[:, :, 25:]).abs().max() > 1e-2          # the gates reach the kernels


def test_a_network_with_the_kernels_form_tracks_like_the_parallel_form(kernels_installed):
    """
    The hybrid's ViL blocks with cell_form 'kernels' give the same head outputs, whole sequence and template memory.

    cell_form is set as load_checkpoint's config_overrides sets it at run time.
    """
    from viltrack_ros.model import build_model, get_preset
    torch.manual_seed(0)
    config = get_preset("vil_hybrid").replace(film_tokens="search")
    plain = build_model(config).eval()
    kernels = build_model(config.replace(cell_form="kernels", chunk_size=32)).eval()
    kernels.load_state_dict(plain.state_dict())
    templates, searches = torch.randn(2, 1, 3, 80, 80), torch.randn(2, 3, 160, 160)
    with torch.no_grad():
        expected = plain(templates, searches)
        got = kernels(templates, searches)
        cached = kernels.track_with_memory(kernels.template_memory(templates), searches)
    for name in ("score_logits", "offset", "size"):
        torch.testing.assert_close(got[name], expected[name], atol=1e-4, rtol=0)
        torch.testing.assert_close(cached[name], expected[name], atol=1e-4, rtol=0)
    from viltrack_ros.model.export import export_onnx
    assert "cached_step.onnx" in export_onnx(kernels)     # exported in plain operators (the parallel form)
    assert kernels.backbone.blocks[0].mlstm.form == "kernels"   # the export changed a copy only
