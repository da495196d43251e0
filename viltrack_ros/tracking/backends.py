"""Inference backends: who runs the network's template encoding and tracking step (``model.export``).

* ``torch``: PyTorch eager, on CPU or CUDA; the reference.
* ``onnxruntime``: the same two functions exported to ONNX (in memory, cached on disk by checkpoint) and run
  by onnxruntime's CPU engine: the same outputs within float32 rounding (``ONNX_TOLERANCE``), at a fraction of
  PyTorch's per-operator overhead on small models, and without OpenMP threads that spin while other processes
  want the cores.
* ``auto``: onnxruntime on CPU when it is installed, torch otherwise (and always torch on CUDA).

Backends take and return numpy arrays (float32; ``active`` bool), so the tracker's decoding is the same whichever
runs and no small PyTorch operation sits on the per-frame path outside the network.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch

from ..model.export import STEP_INPUTS, TemplateEncoder, TrackingStep, context_tokens, export_onnx
from ..model.network import ViLTrackNet

BACKENDS = ("auto", "torch", "onnxruntime")
# Largest absolute difference between the backends' head outputs (logits, offsets, sizes) measured on real
# frames by the tests: float32 rounding in a different operator order.
ONNX_TOLERANCE = 1e-3


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
    name = "torch"

    def __init__(self, model: ViLTrackNet, device: torch.device):
        self.device = device
        self.encoder = TemplateEncoder(model)
        self.step_module = TrackingStep(model)
        self.context_tokens = context_tokens(model)

    @torch.inference_mode()
    def encode_templates(self, images: np.ndarray) -> np.ndarray:
        return self.encoder(self._tensor(images)).float().cpu().numpy()

    @torch.inference_mode()
    def step(self, templates, searches, template_boxes, context, active) -> tuple[np.ndarray, ...]:
        outputs = self.step_module(*(self._tensor(a) for a in (templates, searches, template_boxes, context, active)))
        return tuple(o.float().cpu().numpy() for o in outputs)

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.asarray(array)).to(self.device)


def onnx_cache_dir() -> Path:
    """``$VILTRACK_ONNX_CACHE``, else ``$XDG_CACHE_HOME/viltrack_ros/onnx`` (``~/.cache/...``)."""
    if os.environ.get("VILTRACK_ONNX_CACHE"):
        return Path(os.environ["VILTRACK_ONNX_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "viltrack_ros" / "onnx"


def _model_digest(model: ViLTrackNet) -> str:
    """Identifies an export: the weights, the model configuration and the exporting torch version."""
    digest = hashlib.sha256(repr(model.config).encode() + torch.__version__.encode())
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:20]


def onnx_models(model: ViLTrackNet, cache: bool = True, refresh: bool = False) -> tuple[bytes, bytes]:
    """The two ONNX models of ``model``: read from the cache when this checkpoint was exported before (a few
    seconds saved at every start), else exported and cached. The cache is only an accelerator: any failure to
    read or write it falls back to exporting in memory; ``refresh`` exports again whatever the cache holds."""
    folder = onnx_cache_dir() / _model_digest(model) if cache else None
    if folder is not None and not refresh:
        try:
            return (folder / "template_encoder.onnx").read_bytes(), (folder / "tracking_step.onnx").read_bytes()
        except OSError:
            pass
    encoder, step = export_onnx(model)
    if folder is not None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for name, data in (("template_encoder.onnx", encoder), ("tracking_step.onnx", step)):
                tmp = folder / f"{name}.{os.getpid()}.tmp"   # written whole, then renamed: readers never see half
                tmp.write_bytes(data)
                tmp.replace(folder / name)
        except OSError:
            pass
    return encoder, step


class OnnxRuntimeBackend:
    name = "onnxruntime"

    def __init__(self, model: ViLTrackNet, threads: int | None = None, cache: bool = True):
        import onnxruntime as ort
        self.device = torch.device("cpu")
        self.context_tokens = context_tokens(model)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        # Idle worker threads sleep instead of spinning: on a robot other processes share the cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        for refresh in (False, True):
            try:
                encoder_bytes, step_bytes = onnx_models(model, cache=cache, refresh=refresh)
                self.encoder, self.session = (ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
                                              for data in (encoder_bytes, step_bytes))
                break
            except Exception:   # a damaged cache entry (onnxruntime raises its own types): export afresh, once
                if refresh:
                    raise
        # An input the graph does not use (e.g. template_boxes of a centre-kernel model) is not in the graph.
        self._step_inputs = [i.name for i in self.session.get_inputs()]

    def encode_templates(self, images: np.ndarray) -> np.ndarray:
        (features,) = self.encoder.run(None, {"template_images": _contiguous(images)})
        return features

    def step(self, templates, searches, template_boxes, context, active) -> tuple[np.ndarray, ...]:
        values = dict(zip(STEP_INPUTS, (templates, searches, template_boxes, context, active)))
        return tuple(self.session.run(None, {name: _contiguous(values[name]) for name in self._step_inputs}))


def _contiguous(array) -> np.ndarray:
    array = np.asarray(array)
    return array if array.dtype == np.bool_ else np.ascontiguousarray(array, dtype=np.float32)


def create_backend(name: str, model: ViLTrackNet, device: torch.device):
    name = resolve_backend(name, device)
    if name == "onnxruntime":
        return OnnxRuntimeBackend(model)
    return TorchBackend(model, device)
