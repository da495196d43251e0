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
Inference backends: who runs the network's template encoding and tracking step (``model.export``).

* ``torch``: PyTorch eager, float32, on CPU or CUDA; the reference.
* ``torch-bf16``, ``torch-compile``, ``torch-compile-bf16``: the same modules under bfloat16 autocast
  (``BF16_BOX_TOLERANCE``) and/or ``torch.compile`` (on CUDA with CUDA graphs, ``mode="reduce-overhead"``: a small
  network's frame is otherwise bound by kernel launches). Meant for a GPU: on a CPU onnxruntime stays faster (the
  compiled cached step took 11.6 ms against onnxruntime's 9.0 ms on one thread) and the first frame of every new
  batch size pays the compilation (about a minute on a CPU). Only the per-frame step is compiled; the template
  encoding runs once per template, eagerly.
* ``onnxruntime``: the same two functions exported to ONNX (in memory, cached on disk by checkpoint) and run
  by onnxruntime's CPU engine: the same outputs within float32 rounding (``ONNX_TOLERANCE``), at a fraction of
  PyTorch's per-operator overhead on small models, and without OpenMP threads that spin while other processes
  want the cores.
* ``auto``: onnxruntime on CPU when it is installed, torch otherwise (and always torch on CUDA).

Backends take and return numpy arrays (float32; ``active`` bool), so the tracker's decoding is the same whichever
runs and no small PyTorch operation sits on the per-frame path outside the network.

A model whose template side never depends on the frame (``ViLTrackNet.supports_template_memory``) is run with its
template memory: ``encode_memory`` once per template set, then ``step_with_memory`` per frame, which computes only
the search tokens (``uses_template_memory``; ``template_memory=False`` runs the whole sequence every frame).
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import threading
import time
import weakref
from pathlib import Path

import numpy as np
import torch

from ..files import PARTIAL_SUFFIX, write_atomically
from ..model.export import (EXPORT_GRAPH_NAMES, STEP_INPUTS, CachedTrackingStep, TemplateEncoder, TemplateMemory,
                            TrackingStep, context_tokens, export_onnx, memory_names, model_code_digest,
                            update_with_tensors)
from ..model.network import ViLTrackNet

TORCH_BACKENDS = ("torch", "torch-bf16", "torch-compile", "torch-compile-bf16")
BACKENDS = ("auto", *TORCH_BACKENDS, "onnxruntime")
# torch.compile's variants of one function (one per batch size) before it falls back to eager code (see TorchBackend).
COMPILED_SHAPES_LIMIT = 64
# Largest absolute difference between the backends' head outputs (logits, offsets, sizes) measured on real
# frames by the tests: float32 rounding in a different operator order.
ONNX_TOLERANCE = 1e-3
# bfloat16 keeps 8 bits of mantissa: one step's box moves against float32 by up to this fraction of the box's
# larger side, its confidence by up to BF16_CONFIDENCE_TOLERANCE (teacher-forced on real frames,
# test_torch_backends.py; measured 0.01-0.02 of the side and 0.012-0.018 of confidence on vot2015_bag and Dudek).
# Where two cells nearly tie, bfloat16's rounding may pick the other one: a jump of a cell, not a drift (seen on
# Dudek's face on a CPU with native bfloat16, AVX-512 BF16), so the tracked box is checked on a distinct object.
BF16_BOX_TOLERANCE = 0.05
BF16_CONFIDENCE_TOLERANCE = 0.05


def onnxruntime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_backend(name: str, device: torch.device) -> str:
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if name == "auto":
        return "onnxruntime" if device.type == "cpu" and onnxruntime_available() else "torch"
    if name == "onnxruntime":
        if device.type != "cpu":
            raise ValueError(f"the onnxruntime backend runs on the CPU; device {device} needs backend 'torch'")
        if not onnxruntime_available():
            raise ValueError("backend 'onnxruntime' requested but onnxruntime is not installed "
                             "(pip install onnxruntime, or use backend 'torch')")
    return name


class TorchBackend:
    """
    PyTorch runs the modules of ``model.export``.

    It runs them in eager float32 (``torch``, the reference), or with one of the other ``TORCH_BACKENDS``
    (bfloat16 autocast, ``torch.compile``).
    """

    def __init__(self, model: ViLTrackNet, device: torch.device, template_memory: bool = True,
                 name: str = "torch"):
        if name not in TORCH_BACKENDS:
            raise ValueError(f"unknown PyTorch backend {name!r}; choose one of {', '.join(TORCH_BACKENDS)}")
        self.name = name
        self.device = device
        self._bfloat16 = name.endswith("-bf16")
        self._lock = _model_lock(model)
        self.encoder = TemplateEncoder(model)
        self.step_module = TrackingStep(model)
        self.context_tokens = context_tokens(model)
        self.uses_template_memory = template_memory and model.supports_template_memory
        if self.uses_template_memory:
            self.memory_module, self.cached_step_module = TemplateMemory(model), CachedTrackingStep(model)
        if name.startswith("torch-compile"):
            # dynamic=False: one graph per batch size, each as fast as a fixed-shape graph can be; the graph of a
            # new target count is compiled on its first frame. Each batch size is one more compiled variant of the
            # same forward(), and every tracker in the process shares dynamo's limit on those (8 by default): past
            # it, a new size would run eagerly without a word. A tracker meets a handful of sizes (init's views,
            # 1 to MAX_BATCH targets), so the limit is raised well above what a process of trackers needs.
            torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, COMPILED_SHAPES_LIMIT)
            mode = "reduce-overhead" if device.type == "cuda" else None
            self.step_module = torch.compile(self.step_module, mode=mode, dynamic=False)
            if self.uses_template_memory:
                self.cached_step_module = torch.compile(self.cached_step_module, mode=mode, dynamic=False)

    def encode_templates(self, images: np.ndarray) -> np.ndarray:
        return self._run(self.encoder, images)[0]

    def step(self, templates, searches, template_boxes, context, active) -> tuple[np.ndarray, ...]:
        return self._run(self.step_module, templates, searches, template_boxes, context, active)

    def encode_memory(self, templates, template_boxes) -> tuple[np.ndarray, ...]:
        return self._run(self.memory_module, templates, template_boxes)

    def step_with_memory(self, memory, searches, context, active) -> tuple[np.ndarray, ...]:
        return self._run(self.cached_step_module, *memory, searches, context, active)

    def _run(self, module, *arrays) -> tuple[np.ndarray, ...]:
        """
        Run ``module`` on numpy arrays and return numpy arrays.

        Inputs and outputs are float32 numpy whatever the precision inside, so the tracker and the carried FiLM
        context never see bfloat16.
        """
        # One pass at a time per model: the step modules hand the FiLM context to the network as its modules' state
        # (set, run, reset), so two trackers sharing a model in two threads read each other's context.
        with self._lock, torch.inference_mode(), torch.autocast(self.device.type, dtype=torch.bfloat16,
                                                                enabled=self._bfloat16):
            outputs = module(*(torch.from_numpy(np.asarray(a)).to(self.device) for a in arrays))
        if isinstance(outputs, torch.Tensor):
            outputs = (outputs,)
        return tuple(o.float().cpu().numpy() for o in outputs)


_MODEL_LOCKS: "weakref.WeakKeyDictionary[torch.nn.Module, threading.Lock]" = weakref.WeakKeyDictionary()
_MODEL_LOCKS_GUARD = threading.Lock()


def _model_lock(model: torch.nn.Module) -> threading.Lock:
    """Return the one lock of ``model``, shared by every backend that runs it (dropped with the model)."""
    with _MODEL_LOCKS_GUARD:
        return _MODEL_LOCKS.setdefault(model, threading.Lock())


# How many checkpoints' exports the cache keeps (the most recently used); see prune_onnx_cache.
ONNX_CACHE_ENTRIES = 8
_DIGEST_NAME = re.compile(r"[0-9a-f]{20}")


def onnx_cache_dir() -> Path:
    """``$VILTRACK_ONNX_CACHE``, else ``$XDG_CACHE_HOME/viltrack_ros/onnx`` (``~/.cache/...``)."""
    if os.environ.get("VILTRACK_ONNX_CACHE"):
        return Path(os.environ["VILTRACK_ONNX_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "viltrack_ros" / "onnx"


def _model_digest(model: ViLTrackNet) -> str:
    """Identify an export: the model's code, configuration and tensors, and the torch version that traced it."""
    digest = hashlib.sha256(repr(model.config).encode() + torch.__version__.encode() + model_code_digest().encode())
    # Every tensor, also the buffers a checkpoint does not hold (the stems' input conversion is one).
    update_with_tensors(digest, [*model.named_parameters(), *model.named_buffers()])
    return digest.hexdigest()[:20]


def onnx_graph_names(model: ViLTrackNet) -> tuple[str, ...]:
    """Name the graphs an export of ``model`` holds: the memory graphs (the last two) only with template memory."""
    return EXPORT_GRAPH_NAMES if model.supports_template_memory else EXPORT_GRAPH_NAMES[:2]


def onnx_models(model: ViLTrackNet, cache: bool = True, refresh: bool = False) -> dict[str, bytes]:
    """
    Return the ONNX models of ``model`` (``{file name: bytes}``, see ``export_onnx``).

    They are read from the cache when this checkpoint was exported before (a few seconds saved at every start), else
    exported and cached. The cache is only an accelerator: any failure to read or write it falls back to exporting
    in memory; ``refresh`` exports again whatever the cache holds.
    """
    folder = onnx_cache_dir() / _model_digest(model) if cache else None
    if folder is not None and not refresh:
        try:
            graphs = {name: (folder / name).read_bytes() for name in onnx_graph_names(model)}
            os.utime(folder)        # used now: the pruning below keeps the entries used last
            return graphs
        except OSError:
            pass
    graphs = export_onnx(model)
    if folder is not None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            remove_stale_partial_files(folder)
            for name, data in graphs.items():
                write_atomically(folder / name, lambda partial, data=data: partial.write_bytes(data))
            prune_onnx_cache(folder.parent)
        except OSError:
            pass
    return graphs


# A partial file older than this is a killed writer's (an export is written in seconds).
STALE_PARTIAL_S = 3600.0


def remove_stale_partial_files(folder: Path, older_than_s: float = STALE_PARTIAL_S) -> None:
    """Remove the ``*.tmp`` files a killed writer left in a cache entry (a live writer's are seconds old)."""
    now = time.time()
    for partial in folder.glob(f"*{PARTIAL_SUFFIX}"):
        try:
            if now - partial.stat().st_mtime > older_than_s:
                partial.unlink()
        except OSError:
            pass


def prune_onnx_cache(cache_dir: Path, keep: int = ONNX_CACHE_ENTRIES) -> list[Path]:
    """
    Remove all but the ``keep`` most recently used exports in ``cache_dir``; return the removed folders.

    Every checkpoint (and every version of the model's code) gets its own export of about 30 MB, so without a
    bound the cache grows with each set of weights a user ever tracked with. Only folders named as this module
    names them are touched. A process still reading a removed export falls back to exporting in memory.
    """
    entries = [p for p in cache_dir.iterdir() if p.is_dir() and _DIGEST_NAME.fullmatch(p.name)]
    entries.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    removed = entries[keep:]
    for stale in removed:
        shutil.rmtree(stale, ignore_errors=True)
    return removed


class OnnxRuntimeBackend:
    name = "onnxruntime"

    def __init__(self, model: ViLTrackNet, threads: int | None = None, cache: bool = True,
                 template_memory: bool = True):
        import onnxruntime as ort
        self.device = torch.device("cpu")
        self.context_tokens = context_tokens(model)
        self.uses_template_memory = template_memory and model.supports_template_memory
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        # Idle worker threads sleep instead of spinning: on a robot other processes share the cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        wanted = ("template_encoder.onnx", "template_memory.onnx", "cached_step.onnx") if self.uses_template_memory \
            else ("template_encoder.onnx", "tracking_step.onnx")
        for refresh in (False, True):
            try:
                graphs = onnx_models(model, cache=cache, refresh=refresh)
                sessions = {name: ort.InferenceSession(graphs[name], options, providers=["CPUExecutionProvider"])
                            for name in wanted}
                break
            except Exception:   # a damaged cache entry (onnxruntime raises its own types): export afresh, once
                if refresh:
                    raise
        self.encoder = sessions["template_encoder.onnx"]
        if self.uses_template_memory:
            self.memory_session, self.session = sessions["template_memory.onnx"], sessions["cached_step.onnx"]
            self._memory_names = memory_names(model)
        else:
            self.session = sessions["tracking_step.onnx"]
        # An input the graph does not use (e.g. template_boxes of a centre-kernel model) is not in the graph.
        self._step_inputs = [i.name for i in self.session.get_inputs()]

    def encode_templates(self, images: np.ndarray) -> np.ndarray:
        (features,) = self.encoder.run(None, {"template_images": _contiguous(images)})
        return features

    def step(self, templates, searches, template_boxes, context, active) -> tuple[np.ndarray, ...]:
        if self.uses_template_memory:
            raise RuntimeError("this backend runs the template memory: use encode_memory and step_with_memory")
        values = dict(zip(STEP_INPUTS, (templates, searches, template_boxes, context, active)))
        return tuple(self.session.run(None, {name: _contiguous(values[name]) for name in self._step_inputs}))

    def encode_memory(self, templates, template_boxes) -> tuple[np.ndarray, ...]:
        values = {"templates": templates, "template_boxes": template_boxes}
        return tuple(self.memory_session.run(None, {i.name: _contiguous(values[i.name])
                                                    for i in self.memory_session.get_inputs()}))

    def step_with_memory(self, memory, searches, context, active) -> tuple[np.ndarray, ...]:
        values = dict(zip(self._memory_names, memory))
        values.update(searches=searches, context=context, active=active)
        return tuple(self.session.run(None, {name: _contiguous(values[name]) for name in self._step_inputs}))


def _contiguous(array) -> np.ndarray:
    array = np.asarray(array)
    return array if array.dtype == np.bool_ else np.ascontiguousarray(array, dtype=np.float32)


def create_backend(name: str, model: ViLTrackNet, device: torch.device, template_memory: bool = True,
                   threads: int | None = None):
    name = resolve_backend(name, device)
    if name == "onnxruntime":
        return OnnxRuntimeBackend(model, threads=threads, template_memory=template_memory)
    return TorchBackend(model, device, template_memory=template_memory, name=name)
