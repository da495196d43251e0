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
A small ONNX graph (a feed-forward CNN) run as a PyTorch module.

Its weights become frozen buffers and its nodes PyTorch operations, so the graph can serve as a frozen stem inside a
network that is trained, traced and exported like any other. Only the operators of MobileNet-style backbones are
supported; any other raises at load time.

Reshapes written with a batch of 1 (as exporters freeze them) keep the input's batch instead, so the module takes
any batch and any input size the convolutions allow.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

SUPPORTED_OPS = ("Conv", "Relu", "HardSwish", "HardSigmoid", "GlobalAveragePool", "Reshape", "Gemm", "Mul", "Add",
                 "Clip", "Sigmoid", "Flatten")


class OnnxGraphModule(nn.Module):
    def __init__(self, path: str | Path):
        super().__init__()
        import onnx
        from onnx import numpy_helper
        model = onnx.load(str(path))
        graph = model.graph
        unsupported = sorted({n.op_type for n in graph.node} - set(SUPPORTED_OPS))
        if unsupported:
            raise ValueError(f"{path}: operators {unsupported} are not supported (only {', '.join(SUPPORTED_OPS)})")
        self._tensor_names: dict[str, str] = {}
        for index, initializer in enumerate(graph.initializer):
            name = f"w{index}"
            self.register_buffer(name, torch.from_numpy(numpy_helper.to_array(initializer).copy()))
            self._tensor_names[initializer.name] = name
        initialised = {i.name for i in graph.initializer}
        self.input_name = next(i.name for i in graph.input if i.name not in initialised)
        self.output_name = graph.output[0].name
        self.nodes = [(n.op_type, list(n.input), list(n.output),
                       {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}) for n in graph.node]
        self.requires_grad_(False)

    def _value(self, values: dict, name: str):
        if name in values:
            return values[name]
        return getattr(self, self._tensor_names[name])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values = {self.input_name: x}
        for op, inputs, outputs, attrs in self.nodes:
            args = [self._value(values, name) if name else None for name in inputs]
            values[outputs[0]] = _run(op, args, attrs)
        return values[self.output_name]


def _run(op: str, args: list, attrs: dict) -> torch.Tensor:
    x = args[0]
    if op == "Conv":
        pads = attrs.get("pads", [0, 0, 0, 0])
        if pads[0] != pads[2] or pads[1] != pads[3]:
            x = F.pad(x, (pads[1], pads[3], pads[0], pads[2]))
            pads = [0, 0, 0, 0]
        return F.conv2d(x, args[1], args[2] if len(args) > 2 else None, stride=attrs.get("strides", [1, 1]),
                        padding=(pads[0], pads[1]), dilation=attrs.get("dilations", [1, 1]),
                        groups=attrs.get("group", 1))
    if op == "Relu":
        return F.relu(x)
    if op == "HardSwish":
        return F.hardswish(x)
    if op == "HardSigmoid":
        alpha, beta = attrs.get("alpha", 0.2), attrs.get("beta", 0.5)
        return torch.clamp(alpha * x + beta, 0.0, 1.0)
    if op == "Sigmoid":
        return torch.sigmoid(x)
    if op == "Clip":
        low = args[1] if len(args) > 1 and args[1] is not None else attrs.get("min")
        high = args[2] if len(args) > 2 and args[2] is not None else attrs.get("max")
        return torch.clamp(x, min=None if low is None else float(low), max=None if high is None else float(high))
    if op == "GlobalAveragePool":
        return x.mean(dim=(2, 3), keepdim=True)
    if op == "Reshape":
        shape = [int(v) for v in np.asarray(args[1].tolist()).reshape(-1)]
        if shape and shape[0] == 1:         # a batch frozen at 1 by the exporter: keep the input's batch
            shape[0] = x.shape[0]
        return x.reshape(shape)
    if op == "Flatten":
        return x.flatten(attrs.get("axis", 1))
    if op == "Gemm":
        a = x.transpose(-1, -2) if attrs.get("transA", 0) else x
        b = args[1].transpose(-1, -2) if attrs.get("transB", 0) else args[1]
        out = attrs.get("alpha", 1.0) * (a @ b)
        if len(args) > 2 and args[2] is not None:
            out = out + attrs.get("beta", 1.0) * args[2]
        return out
    if op == "Mul":
        return x * args[1]
    if op == "Add":
        return x + args[1]
    raise ValueError(f"unsupported operator {op}")
