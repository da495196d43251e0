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
"""The mLSTM layer of Vision-LSTM: up-projection, causal conv, block-diagonal q/k/v, gated mLSTM cell."""
from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .layers import CausalConv1d, LinearHeadwiseExpand, MultiHeadNorm
from .mlstm import MLSTMState, mlstm_chunkwise, mlstm_kernels_form, mlstm_parallel, mlstm_recurrent

CELL_FORMS = {"parallel": mlstm_parallel, "chunkwise": mlstm_chunkwise, "recurrent": mlstm_recurrent,
              "kernels": mlstm_kernels_form}
CHUNKED_FORMS = ("chunkwise", "kernels")


class MLSTMLayerState(NamedTuple):
    """Everything the layer needs to continue a sequence: the conv's last inputs and the cell memory."""

    conv_history: torch.Tensor
    cell: MLSTMState


class _MLSTMLayerBase(nn.Module):
    """
    The layer's function around its q/k/v and gate projections (``_qkv_gates``, which subclasses define).

    That function is: up-projection, causal conv, the cell, per-head norm, skip, output gate and down-projection.
    Subclasses set ``inner, num_heads, head_dim, form, chunk_size, proj_up, conv, out_norm, learnable_skip,
    proj_down``.
    """

    def _qkv_gates(self, x_conv: torch.Tensor, x_mlstm: torch.Tensor):
        """-> ``q, k, v (B, S, inner)``, ``igate, fgate (B, NH, S)``."""
        raise NotImplementedError

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        B, S, _ = x.shape
        return x.view(B, S, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(self, x: torch.Tensor, state: MLSTMLayerState | None = None, return_state: bool = False,
                form: str | None = None):
        form = form or self.form
        x_mlstm, z = self.proj_up(x).chunk(2, dim=-1)
        x_conv, conv_history = self.conv(x_mlstm, None if state is None else state.conv_history)
        x_conv = F.silu(x_conv)
        q, k, v, igate, fgate = self._qkv_gates(x_conv, x_mlstm)
        kwargs = {"chunk_size": self.chunk_size} if form in CHUNKED_FORMS else {}
        result = CELL_FORMS[form](self._heads(q), self._heads(k), self._heads(v), igate, fgate,
                                  state=None if state is None else state.cell, return_state=return_state, **kwargs)
        h, cell = result if return_state else (result, None)
        h = self.out_norm(h) + self.learnable_skip * x_conv
        out = self.proj_down(h * F.silu(z))
        if return_state:
            return out, MLSTMLayerState(conv_history, cell)
        return out


class MLSTMLayer(_MLSTMLayerBase):
    """``(B, S, dim) -> (B, S, dim)``; inner width ``proj_factor * dim``, ``num_heads`` cell heads."""

    def __init__(self, dim: int, num_heads: int = 4, proj_factor: float = 2.0, qkv_blocksize: int = 4,
                 conv_kernel: int = 4, form: str = "parallel", chunk_size: int = 64):
        super().__init__()
        inner = int(round(dim * proj_factor))
        if inner % num_heads:
            raise ValueError(f"inner dim {inner} is not divisible by {num_heads} heads")
        self.inner, self.num_heads, self.head_dim = inner, num_heads, inner // num_heads
        self.form, self.chunk_size = form, chunk_size
        self.proj_up = nn.Linear(dim, 2 * inner, bias=False)
        self.conv = CausalConv1d(inner, conv_kernel)
        self.q_proj = LinearHeadwiseExpand(inner, qkv_blocksize)
        self.k_proj = LinearHeadwiseExpand(inner, qkv_blocksize)
        self.v_proj = LinearHeadwiseExpand(inner, qkv_blocksize)
        # Gates see q, k and v (as in xLSTM); one gate value per head and token.
        self.igate = nn.Linear(3 * inner, num_heads, bias=True)
        self.fgate = nn.Linear(3 * inner, num_heads, bias=True)
        self.out_norm = MultiHeadNorm(num_heads, self.head_dim)
        self.learnable_skip = nn.Parameter(torch.ones(inner))
        self.proj_down = nn.Linear(inner, dim, bias=False)
        self.reset_gate_parameters()

    def reset_gate_parameters(self) -> None:
        # Forget-gate bias 3..6 keeps memory long at init; input gate starts near zero (xLSTM's init).
        nn.init.zeros_(self.fgate.weight)
        with torch.no_grad():
            self.fgate.bias.copy_(torch.linspace(3.0, 6.0, self.num_heads))
        nn.init.zeros_(self.igate.weight)
        nn.init.normal_(self.igate.bias, std=0.1)

    def _qkv_gates(self, x_conv: torch.Tensor, x_mlstm: torch.Tensor):
        q, k, v = self.q_proj(x_conv), self.k_proj(x_conv), self.v_proj(x_mlstm)
        gate_in = torch.cat([q, k, v], dim=-1)
        igate = self.igate(gate_in).transpose(1, 2)               # (B, NH, S)
        fgate = self.fgate(gate_in).transpose(1, 2)
        return q, k, v, igate, fgate


class FusedMLSTMLayer(_MLSTMLayerBase):
    """
    :class:`MLSTMLayer`'s function with its projections merged for inference (model.export).

    q and k (both read the conv output) and the gates' share of them run in one GEMM, v and the gates' share of it in
    another.

    The gates are linear in ``cat(q, k, v)`` and q, k, v are linear in their inputs, so
    ``gate = W_q P_q x_conv + W_k P_k x_conv + W_v P_v x_mlstm + b`` exactly; the block-diagonal P become dense.
    Same outputs within float rounding; no training (no gradients to the original parameters).
    """

    def __init__(self, layer: MLSTMLayer):
        super().__init__()
        inner, heads = layer.inner, layer.num_heads
        self.inner, self.num_heads, self.head_dim = inner, heads, layer.head_dim
        self.form, self.chunk_size = layer.form, layer.chunk_size
        self.proj_up, self.conv, self.out_norm, self.proj_down = layer.proj_up, layer.conv, layer.out_norm, \
            layer.proj_down
        self.learnable_skip = layer.learnable_skip
        with torch.no_grad():
            P_q, P_k, P_v = (p.as_dense_linear().weight for p in (layer.q_proj, layer.k_proj, layer.v_proj))
            gates_w = torch.cat([layer.igate.weight, layer.fgate.weight])            # (2NH, 3*inner)
            gq, gk, gv = gates_w.split(inner, dim=1)
            from_conv = torch.cat([P_q, P_k, gq @ P_q + gk @ P_k])                   # (2*inner + 2NH, inner)
            from_mlstm = torch.cat([P_v, gv @ P_v])                                  # (inner + 2NH, inner)
        self.conv_proj = nn.Linear(inner, from_conv.shape[0], bias=False)
        self.conv_proj.weight.data.copy_(from_conv)
        self.mlstm_proj = nn.Linear(inner, from_mlstm.shape[0], bias=True)
        self.mlstm_proj.weight.data.copy_(from_mlstm)
        self.mlstm_proj.bias.data.zero_()
        self.mlstm_proj.bias.data[inner:] = torch.cat([layer.igate.bias, layer.fgate.bias]).detach()
        self.requires_grad_(False)

    def _qkv_gates(self, x_conv: torch.Tensor, x_mlstm: torch.Tensor):
        inner, heads = self.inner, self.num_heads
        q, k, gates_conv = self.conv_proj(x_conv).split([inner, inner, 2 * heads], dim=-1)
        v, gates_mlstm = self.mlstm_proj(x_mlstm).split([inner, 2 * heads], dim=-1)
        igate, fgate = (gates_conv + gates_mlstm).transpose(1, 2).split(heads, dim=1)   # (B, NH, S) each
        return q, k, v, igate, fgate
