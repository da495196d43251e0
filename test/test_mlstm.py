"""The three mLSTM forms compute the same function (fp32, max abs error <= 1e-4), with and without carried state."""
import pytest
import torch

from viltrack_ros.model.mlstm import (empty_state, mlstm_chunkwise, mlstm_parallel, mlstm_recurrent,
                                      mlstm_recurrent_step)
from viltrack_ros.model.mlstm_layer import MLSTMLayer

TOLERANCE = 1e-4


def random_inputs(seed=0, B=2, NH=4, S=96, DH=16, scale=0.5):
    """q/k/v at the scale the layer's projections produce; gates around the layer's initial biases.

    At unit-scale q/k the normaliser |q . n| can cancel towards zero, where any float32 evaluation order differs
    by ~1e-5 of |h| (tens), so the absolute bound is stated at layer-typical scales."""
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
