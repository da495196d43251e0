"""The mLSTM layer of Vision-LSTM: up-projection, causal conv, block-diagonal q/k/v, gated mLSTM cell."""
from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .layers import CausalConv1d, LinearHeadwiseExpand, MultiHeadNorm
from .mlstm import MLSTMState, mlstm_chunkwise, mlstm_parallel, mlstm_recurrent

CELL_FORMS = {"parallel": mlstm_parallel, "chunkwise": mlstm_chunkwise, "recurrent": mlstm_recurrent}


class MLSTMLayerState(NamedTuple):
    """Everything the layer needs to continue a sequence: the conv's last inputs and the cell memory."""
    conv_history: torch.Tensor
    cell: MLSTMState


class MLSTMLayer(nn.Module):
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

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        B, S, _ = x.shape
        return x.view(B, S, self.num_heads, self.head_dim).transpose(1, 2)

    def forward(self, x: torch.Tensor, state: MLSTMLayerState | None = None, return_state: bool = False,
                form: str | None = None):
        form = form or self.form
        x_mlstm, z = self.proj_up(x).chunk(2, dim=-1)
        x_conv, conv_history = self.conv(x_mlstm, None if state is None else state.conv_history)
        x_conv = F.silu(x_conv)
        q, k, v = self.q_proj(x_conv), self.k_proj(x_conv), self.v_proj(x_mlstm)
        gate_in = torch.cat([q, k, v], dim=-1)
        igate = self.igate(gate_in).transpose(1, 2)               # (B, NH, S)
        fgate = self.fgate(gate_in).transpose(1, 2)
        kwargs = {"chunk_size": self.chunk_size} if form == "chunkwise" else {}
        result = CELL_FORMS[form](self._heads(q), self._heads(k), self._heads(v), igate, fgate,
                                  state=None if state is None else state.cell, return_state=return_state, **kwargs)
        h, cell = result if return_state else (result, None)
        h = self.out_norm(h) + self.learnable_skip * x_conv
        out = self.proj_down(h * F.silu(z))
        if return_state:
            return out, MLSTMLayerState(conv_history, cell)
        return out
