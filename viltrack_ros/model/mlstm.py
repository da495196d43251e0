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
mLSTM cell math (xLSTM / Vision-LSTM) with stabilised exponential gating, in three equivalent forms.

Shapes: ``q, k, v`` are ``(B, NH, S, DH)``; the gate pre-activations ``igate, fgate`` are ``(B, NH, S)``.
The memory state is ``MLSTMState(C, n, m)`` with ``C (B, NH, DH, DH)``, ``n (B, NH, DH)``, ``m (B, NH)``.

* :func:`mlstm_parallel` - the whole sequence at once (training).
* :func:`mlstm_chunkwise` - the sequence in chunks, carrying the state between them (long K-frame clips,
  memory O(S * chunk) instead of O(S^2)).
* :func:`mlstm_recurrent_step` - one token at a time with carried ``(C, n, m)``.
* :func:`mlstm_kernels_form` - the same function through NX-AI's optional ``mlstm_kernels`` package (Triton
  kernels on a CUDA GPU).

All three accept an initial state and return the final one, so a template prefix can be run once and its
state carried into the search tokens. The stabiliser ``m`` of an empty state is ``-inf``; with that choice the
three forms are exactly the same function (not just approximately: every form normalises by
``max(|q . n|, exp(-m))`` with the same ``m``).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F

EPS = 1e-6


class MLSTMState(NamedTuple):
    C: torch.Tensor  # (B, NH, DH, DH) key-value memory (keys pre-scaled by 1/sqrt(DH))
    n: torch.Tensor  # (B, NH, DH) normaliser
    m: torch.Tensor  # (B, NH) log-space stabiliser


def empty_state(batch: int, heads: int, head_dim: int, device=None, dtype=torch.float32) -> MLSTMState:
    return MLSTMState(
        C=torch.zeros(batch, heads, head_dim, head_dim, device=device, dtype=dtype),
        n=torch.zeros(batch, heads, head_dim, device=device, dtype=dtype),
        m=torch.full((batch, heads), float("-inf"), device=device, dtype=dtype),
    )


def mlstm_parallel(q, k, v, igate, fgate, state: MLSTMState | None = None,
                   return_state: bool = False):
    """Parallel (quadratic) form over the whole sequence, optionally continuing from ``state``."""
    B, NH, S, DH = q.shape
    k = k / math.sqrt(DH)
    log_f = F.logsigmoid(fgate)                                  # (B, NH, S)
    log_f_cum = torch.cumsum(log_f, dim=-1)                       # F_t = sum_{s<=t} log f_s
    # log D[t, s] = F_t - F_s + i_s for s <= t: decay from s to t plus the input gate of s.
    log_d = log_f_cum[..., :, None] - log_f_cum[..., None, :] + igate[..., None, :]
    causal = torch.ones(S, S, dtype=torch.bool, device=q.device).tril()
    log_d = log_d.masked_fill(~causal, float("-inf"))
    m_intra = log_d.amax(dim=-1)                                  # (B, NH, S)
    if state is not None:
        log_prev = log_f_cum + state.m[..., None]                 # weight of the carried memory at t
        m = torch.maximum(m_intra, log_prev)
    else:
        m = m_intra
    weights = torch.exp(log_d - m[..., None])                     # (B, NH, S, S)
    scores = (q @ k.transpose(-1, -2)) * weights
    numerator = scores @ v
    denominator = scores.sum(dim=-1)
    if state is not None:
        prev_scale = torch.exp(log_prev - m)                      # (B, NH, S)
        numerator = numerator + prev_scale[..., None] * (q @ state.C)
        denominator = denominator + prev_scale * (q * state.n[..., None, :]).sum(-1)
    normaliser = torch.maximum(denominator.abs(), torch.exp(-m))
    h = numerator / (normaliser[..., None] + EPS)
    if not return_state:
        return h
    return h, _final_state(k, v, igate, log_f_cum, state)


def _final_state(k_scaled, v, igate, log_f_cum, state: MLSTMState | None) -> MLSTMState:
    """Memory after the last token: the recurrent update folded over the sequence in closed form."""
    log_w = log_f_cum[..., -1:] - log_f_cum + igate               # (B, NH, S): weight of token s at the end
    m_new = log_w.amax(dim=-1)
    if state is not None:
        log_prev = log_f_cum[..., -1] + state.m
        m_new = torch.maximum(m_new, log_prev)
    w = torch.exp(log_w - m_new[..., None])                       # (B, NH, S)
    C = (k_scaled * w[..., None]).transpose(-1, -2) @ v           # sum_s w_s k_s v_s^T
    n = (k_scaled * w[..., None]).sum(dim=-2)
    if state is not None:
        prev = torch.exp(log_prev - m_new)
        prev = torch.where(torch.isfinite(state.m), prev, torch.zeros_like(prev))
        C = C + prev[..., None, None] * state.C
        n = n + prev[..., None] * state.n
    return MLSTMState(C, n, m_new)


def mlstm_chunkwise(q, k, v, igate, fgate, chunk_size: int = 64, state: MLSTMState | None = None,
                    return_state: bool = False):
    """Chunk the sequence and carry the memory across chunks; equals :func:`mlstm_parallel`."""
    outputs = []
    for start in range(0, q.shape[2], chunk_size):
        sl = slice(start, start + chunk_size)
        h, state = mlstm_parallel(q[:, :, sl], k[:, :, sl], v[:, :, sl], igate[:, :, sl], fgate[:, :, sl],
                                  state=state, return_state=True)
        outputs.append(h)
    h = torch.cat(outputs, dim=2)
    return (h, state) if return_state else h


def mlstm_recurrent_step(q, k, v, igate, fgate, state: MLSTMState):
    """One token: ``q, k, v (B, NH, DH)``, gates ``(B, NH)``. Returns ``(h (B, NH, DH), new_state)``."""
    DH = q.shape[-1]
    k = k / math.sqrt(DH)
    log_f = F.logsigmoid(fgate)
    m_new = torch.maximum(log_f + state.m, igate)
    f_scale = torch.exp(log_f + state.m - m_new)                  # 0 for an empty state (m = -inf)
    i_scale = torch.exp(igate - m_new)
    C = f_scale[..., None, None] * state.C + i_scale[..., None, None] * (k[..., :, None] * v[..., None, :])
    n = f_scale[..., None] * state.n + i_scale[..., None] * k
    numerator = (q[..., None, :] @ C).squeeze(-2)
    normaliser = torch.maximum((q * n).sum(-1).abs(), torch.exp(-m_new))
    h = numerator / (normaliser[..., None] + EPS)
    return h, MLSTMState(C, n, m_new)


def mlstm_recurrent(q, k, v, igate, fgate, state: MLSTMState | None = None, return_state: bool = False):
    """Token-by-token loop over :func:`mlstm_recurrent_step` (reference and streaming form)."""
    B, NH, S, DH = q.shape
    if state is None:
        state = empty_state(B, NH, DH, device=q.device, dtype=q.dtype)
    outputs = []
    for t in range(S):
        h, state = mlstm_recurrent_step(q[:, :, t], k[:, :, t], v[:, :, t], igate[:, :, t], fgate[:, :, t], state)
        outputs.append(h)
    h = torch.stack(outputs, dim=2)
    return (h, state) if return_state else h


MLSTM_KERNELS_PIN = "mlstm-kernels==2.0.6"
_KERNEL_BACKENDS: dict = {}


def mlstm_kernels_form(q, k, v, igate, fgate, chunk_size: int = 64, state: MLSTMState | None = None,
                       return_state: bool = False):
    """
    Compute the cell through NX-AI's ``mlstm_kernels`` (optional: ``pip install mlstm-kernels``, its own licence).

    It uses the Triton chunkwise kernels on a CUDA GPU, the PyTorch reference kernels elsewhere (which is how the
    CPU tests check this path). Any sequence length: whole chunks of ``chunk_size`` in the chunkwise kernel, the
    rest token by token.

    The same function as :func:`mlstm_parallel` up to float rounding and one convention: the kernels start an empty
    memory at stabiliser 0 instead of -inf, which moves the normaliser's floor ``exp(-m)`` only where ``|q . n|`` is
    below it (test/test_mlstm.py states the tolerance). Their memory holds unscaled keys; ours keys / sqrt(DH).
    """
    B, NH, S, DH = q.shape
    backend = _kernel_backend(q.device.type, chunk_size, q.dtype)
    scale = math.sqrt(DH)
    initial = {}
    if state is not None:
        initial = {"c_initial": state.C * scale, "n_initial": state.n * scale, "m_initial": state.m[..., None]}
    h, (C, n, m) = backend(q, k, v, igate, fgate, **initial, return_last_states=True, mode="inference")
    h = h.to(q.dtype)
    if not return_state:
        return h
    return h, MLSTMState(C.to(q.dtype) / scale, n.to(q.dtype) / scale, m.reshape(B, NH).to(q.dtype))


def _kernel_backend(device_type: str, chunk_size: int, dtype: torch.dtype):
    """One ``mlstm_kernels`` backend module per device kind, chunk size and input dtype (built on first use)."""
    key = (device_type, chunk_size, dtype)
    if key not in _KERNEL_BACKENDS:
        try:
            from mlstm_kernels.torch.backend_module import mLSTMBackend, mLSTMBackendConfig
        except ImportError as error:
            raise RuntimeError(f"cell_form 'kernels' needs the optional package mlstm_kernels "
                               f"(pip install {MLSTM_KERNELS_PIN}); the other cell forms need nothing") from error
        triton = device_type == "cuda"
        # The kernels compute in float32, bfloat16 or float16 (a float64 input is computed in float32).
        dtype_name = {torch.bfloat16: "bfloat16", torch.float16: "float16"}.get(dtype, "float32")
        _KERNEL_BACKENDS[key] = mLSTMBackend(mLSTMBackendConfig(
            chunkwise_kernel="chunkwise--triton_limit_chunk" if triton else "chunkwise--native_autograd",
            sequence_kernel="native_sequence__triton" if triton else "native_sequence__native",
            step_kernel="triton" if triton else "native", mode="inference", chunk_size=chunk_size,
            return_last_states=True, autocast_kernel_dtype=dtype_name, inference_state_dtype="float32", eps=EPS))
    return _KERNEL_BACKENDS[key]
