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
The network as two pure functions, for deployment runtimes (ONNX) and for the tracker's PyTorch path alike.

A tracker needs two computations: once per template, its encoding (the frozen stem's features, or the image
itself for a stem that trains); then, every frame, one *tracking step* from the templates, the search crops and
the temporal (FiLM) context to the head's maps and the next context. ``TrackingStep`` makes the FiLM context an
explicit input and output instead of module state, so the step is a pure function that exports to ONNX and
runs the same in onnxruntime.

Knows tensors and the network, nothing of boxes in images or of tracking logic.
"""
from __future__ import annotations

import copy
import hashlib
import io
import os
from pathlib import Path

import torch
from torch import nn

from .film import FiLMState
from .mlstm_layer import FusedMLSTMLayer, MLSTMLayer
from .network import ViLTrackNet

STEP_INPUTS = ("templates", "searches", "template_boxes", "context", "active")
STEP_OUTPUTS = ("score_logits", "offset", "size", "next_context", "appearance")
ONNX_OPSET = 17
MODEL_CODE = Path(__file__).resolve().parent   # this package: every module the exported graphs are traced from


def model_code_digest(folder: str | os.PathLike = MODEL_CODE) -> str:
    """
    Identify the code the graphs are traced from (the ``.py`` files of ``folder``), for keying cached exports.

    A version number bumped by hand once missed a change: one float32 ulp in a stem constant kept a stale cached
    graph in use, whose boxes differed from a fresh export's by pixels within ten frames.
    """
    digest = hashlib.sha256()
    for path in sorted(Path(folder).glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def update_with_tensors(digest, named_tensors) -> None:
    """
    Feed each ``(name, tensor)`` into ``digest``: its name, dtype and bytes.

    As bytes whatever the dtype (numpy has no bfloat16), so weights cast to another precision identify otherwise.
    """
    for name, tensor in named_tensors:
        digest.update(name.encode())
        digest.update(str(tensor.dtype).encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())


def context_tokens(model: ViLTrackNet) -> int:
    """
    Token count of the FiLM context.

    The context is the whole sequence (``T`` templates then one search frame), or the search frame alone
    (``film_tokens: search``).
    """
    cfg = model.config
    if cfg.film_tokens == "search":
        return cfg.search_grid ** 2
    return cfg.num_templates * cfg.template_grid ** 2 + cfg.search_grid ** 2


class TemplateEncoder(nn.Module):
    """
    ``(N, 3, h, h)`` normalised template images -> what the step takes as a template.

    That is the frozen stem's features (computed once per template instead of every frame), or the images themselves.
    """

    def __init__(self, model: ViLTrackNet):
        super().__init__()
        self.model = model

    def forward(self, templates: torch.Tensor) -> torch.Tensor:
        if self.model.caches_template_stem:
            return self.model.template_stem_features(templates)
        return templates


class TrackingStep(nn.Module):
    """
    One frame for ``B`` targets, the FiLM context passed in and out.

    Inputs: ``templates (B, T, ...)`` (``TemplateEncoder`` outputs), ``searches (B, 3, s, s)``, ``template_boxes
    (B, 4)``, ``context (B, S, dim)`` and ``active (B,)`` bool: False for a target without a context yet (its
    first frame after init; ``context`` is then ignored). Outputs: ``score_logits (B, 1, g, g)``, ``offset``,
    ``size (B, 2, g, g)``, ``next_context (B, S, dim)`` and ``appearance (B, C, g, g)`` (the search crop's
    features, ``ViLTrackNet._appearance``).
    """

    def __init__(self, model: ViLTrackNet):
        super().__init__()
        self.model = model

    def forward(self, templates: torch.Tensor, searches: torch.Tensor, template_boxes: torch.Tensor,
                context: torch.Tensor, active: torch.Tensor):
        film = self.model.backbone.film
        film.set_state(FiLMState(context, active))
        try:
            out = self.model(templates, searches, template_stem_given=self.model.caches_template_stem,
                             template_boxes=template_boxes)
            next_context = film.get_state().context
            if next_context is None:        # a backbone without temporal state (MixFormer): nothing to carry
                next_context = torch.zeros_like(context)
        finally:
            film.reset()   # the module keeps no state between calls: the caller owns the context
        return out["score_logits"], out["offset"], out["size"], next_context, out["appearance"]


class TemplateMemory(nn.Module):
    """
    ``templates (B, T, ...)`` (``TemplateEncoder`` outputs) and ``template_boxes (B, 4)`` -> the template memory.

    The template memory (``ViLTrackNet.template_memory``) is computed once per template and read by every
    :class:`CachedTrackingStep`.
    """

    def __init__(self, model: ViLTrackNet):
        super().__init__()
        self.model = model

    def forward(self, templates: torch.Tensor, template_boxes: torch.Tensor):
        return tuple(self.model.template_memory(templates, template_boxes,
                                                template_stem_given=self.model.caches_template_stem))


class CachedTrackingStep(nn.Module):
    """
    :class:`TrackingStep` for a model with a template memory, computing only the search tokens.

    Inputs: ``*memory`` (the :class:`TemplateMemory` outputs), ``searches``, ``context``, ``active``; the same
    outputs as :class:`TrackingStep`.
    """

    def __init__(self, model: ViLTrackNet):
        super().__init__()
        self.model = model

    def forward(self, *inputs: torch.Tensor):
        *memory, searches, context, active = inputs
        film = self.model.backbone.film
        film.set_state(FiLMState(context, active))
        try:
            out = self.model.track_with_memory(list(memory), searches)
            next_context = film.get_state().context
        finally:
            film.reset()
        return out["score_logits"], out["offset"], out["size"], next_context, out["appearance"]


def memory_names(model: ViLTrackNet) -> list[str]:
    """Names of the template memory's tensors, in order (ONNX input/output names)."""
    return [f"memory_{i}" for i in range(model.template_memory_size)]


def example_step_inputs(model: ViLTrackNet, batch: int = 1) -> tuple[torch.Tensor, ...]:
    cfg = model.config
    template_images = torch.zeros(batch * cfg.num_templates, 3, cfg.template_size, cfg.template_size)
    with torch.no_grad():
        encoded = TemplateEncoder(model)(template_images)
    templates = encoded.unflatten(0, (batch, cfg.num_templates))
    searches = torch.zeros(batch, 3, cfg.search_size, cfg.search_size)
    boxes = torch.tensor([[0.5, 0.5, 0.5, 0.5]] * batch)
    context = torch.zeros(batch, context_tokens(model), cfg.dim)
    active = torch.zeros(batch, dtype=torch.bool)
    return templates, searches, boxes, context, active


def _export_copy(model: ViLTrackNet) -> ViLTrackNet:
    """
    Return a CPU float32 eval copy of ``model`` to trace.

    Its derived caches (the stem with batch norm folded) are rebuilt outside inference mode and before tracing, so
    the tracer records their use and not their construction; the mLSTM layers' projections are merged
    (FusedMLSTMLayer).
    """
    clone = copy.deepcopy(model).cpu().float().eval()
    for module in clone.modules():
        module.__dict__.pop("_folded", None)
        if getattr(module, "form", None) == "kernels":   # the same function in plain operators, which ONNX has
            module.form = "parallel"
        for name, child in list(module.named_children()):
            if isinstance(child, MLSTMLayer):       # the same function in two GEMMs (see FusedMLSTMLayer)
                setattr(module, name, FusedMLSTMLayer(child))
    cfg = clone.config
    with torch.no_grad():
        TemplateEncoder(clone)(torch.zeros(1, 3, cfg.template_size, cfg.template_size))
    return clone


# Every graph file an export may write (the memory graphs only for models that support template memory).
EXPORT_GRAPH_NAMES = ("template_encoder.onnx", "tracking_step.onnx", "template_memory.onnx", "cached_step.onnx")


def export_onnx(model: ViLTrackNet, directory: str | os.PathLike | None = None) -> dict[str, bytes]:
    """
    Export ``TemplateEncoder`` and ``TrackingStep`` to ONNX (batch axes dynamic).

    For a model with a template memory, also export ``TemplateMemory`` and ``CachedTrackingStep``. Returns ``{file
    name: bytes}`` and, with ``directory``, writes the files there (``template_encoder.onnx``,
    ``tracking_step.onnx``, ``template_memory.onnx``, ``cached_step.onnx``).
    """
    import warnings
    model = _export_copy(model)
    cfg = model.config
    template_images = torch.zeros(1, 3, cfg.template_size, cfg.template_size)
    encoder_buffer, step_buffer = io.BytesIO(), io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the tracer's notes on Python-side shape checks: shapes are fixed here
        encoder, step = TemplateEncoder(model).eval(), TrackingStep(model).eval()
        torch.onnx.export(encoder, (template_images,), encoder_buffer, dynamo=False,
                          opset_version=ONNX_OPSET, input_names=["template_images"], output_names=["templates"],
                          dynamic_axes={"template_images": {0: "n"}, "templates": {0: "n"}})
        torch.onnx.export(step, example_step_inputs(model), step_buffer, dynamo=False,
                          opset_version=ONNX_OPSET, input_names=list(STEP_INPUTS), output_names=list(STEP_OUTPUTS),
                          dynamic_axes={name: {0: "batch"} for name in STEP_INPUTS + STEP_OUTPUTS})
        graphs = {"template_encoder.onnx": declare_output_shapes(encoder_buffer.getvalue(), [encoder(template_images)],
                                                                 "n"),
                  "tracking_step.onnx": declare_output_shapes(step_buffer.getvalue(),
                                                              step(*example_step_inputs(model)), "batch")}
        if model.supports_template_memory:
            graphs.update(_export_memory_graphs(model))
    if directory is not None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name, data in graphs.items():
            (directory / name).write_bytes(data)
        # A graph an earlier export left that this model has none of (a model without template memory after one
        # with it) would sit beside the new ones as if it belonged to them.
        for name in set(EXPORT_GRAPH_NAMES) - set(graphs):
            (directory / name).unlink(missing_ok=True)
    return graphs


def _export_memory_graphs(model: ViLTrackNet) -> dict[str, bytes]:
    """``template_memory.onnx`` and ``cached_step.onnx`` (see :class:`TemplateMemory`)."""
    templates, searches, boxes, context, active = example_step_inputs(model)
    names = memory_names(model)
    memory = TemplateMemory(model)(templates, boxes)
    memory_buffer, step_buffer = io.BytesIO(), io.BytesIO()
    torch.onnx.export(TemplateMemory(model).eval(), (templates, boxes), memory_buffer, dynamo=False,
                      opset_version=ONNX_OPSET, input_names=["templates", "template_boxes"], output_names=names,
                      dynamic_axes={name: {0: "batch"} for name in ["templates", "template_boxes", *names]})
    step_inputs = [*names, "searches", "context", "active"]
    cached_step = CachedTrackingStep(model).eval()
    torch.onnx.export(cached_step, (*memory, searches, context, active), step_buffer,
                      dynamo=False, opset_version=ONNX_OPSET, input_names=step_inputs, output_names=list(STEP_OUTPUTS),
                      dynamic_axes={name: {0: "batch"} for name in step_inputs + list(STEP_OUTPUTS)})
    return {"template_memory.onnx": declare_output_shapes(memory_buffer.getvalue(), memory, "batch"),
            "cached_step.onnx": declare_output_shapes(step_buffer.getvalue(),
                                                      cached_step(*memory, searches, context, active), "batch")}


def declare_output_shapes(graph: bytes, outputs, batch_axis: str) -> bytes:
    """
    Return ``graph`` with each output declared as ``(batch_axis, fixed sizes...)`` from an example run.

    The tracer's shape inference names some fixed output sizes after the operator that made them
    ('Wherenext_context_dim_1', or even 'batch' for the appearance map's height), and a runtime that plans memory
    from the declared shapes (TensorRT's optimisation profiles, for one) would then treat them as free axes.
    """
    import onnx
    proto = onnx.load_from_string(graph)
    outputs = list(outputs)
    if len(outputs) != len(proto.graph.output):
        raise ValueError(f"{len(outputs)} example outputs for {len(proto.graph.output)} graph outputs")
    for declared, example in zip(proto.graph.output, outputs):
        dims = declared.type.tensor_type.shape.dim
        del dims[:]
        for axis, size in enumerate(example.shape):
            dim = dims.add()
            if axis == 0:
                dim.dim_param = batch_axis
            else:
                dim.dim_value = int(size)
    return proto.SerializeToString()
