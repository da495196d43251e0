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
"""One-file checkpoints: weights + model config + format version + whether (and how) the weights were trained."""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import torch

from ..files import write_atomically
from .config import ModelConfig
from .network import ViLTrackNet

FORMAT_NAME = "viltrack-checkpoint"
FORMAT_VERSION = 1
DEFAULT_WEIGHTS_NAME = "viltrack_default.pt"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: missing, corrupt, of another format, or not matching its config."""


def default_weights_path() -> Path:
    """Return the checkpoint shipped with the package (installed next to this module's package)."""
    return Path(__file__).resolve().parent.parent / "weights" / DEFAULT_WEIGHTS_NAME


def save_checkpoint(path: str | os.PathLike, model: ViLTrackNet, trained: bool, training: dict | None = None,
                    half_precision: bool = False) -> Path:
    """
    Write ``model`` to ``path`` atomically (a crash mid-write never leaves a half file under the name).

    ``training`` records data, steps, hardware, wall time and metrics; ``trained=False`` marks a freshly
    initialised network so that nobody mistakes it for a tracker. ``half_precision`` stores float weights as
    fp16 (half the file size; they are cast back to fp32 on load).
    """
    path = Path(path)
    state = {name: (t.half() if half_precision and t.is_floating_point() else t).detach().cpu().contiguous()
             for name, t in model.state_dict().items()}
    payload = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "model_config": model.config.to_dict(),
        "trained": bool(trained),
        "training": dict(training or {}),
        "state_dict": state,
    }
    return write_atomically(path, lambda partial: torch.save(payload, partial))


def load_failure(exc: Exception) -> str:
    """
    Say in one line why ``torch.load`` failed.

    The weights-only unpickler's message is a paragraph about PyTorch 2.6's defaults around one line that says what
    it met; other failures (a text file's first bytes read as a pickle opcode) are a bare ``KeyError: '101'``.
    """
    text = str(exc)
    marker = "WeightsUnpickler error:"
    if marker in text:
        reason = text.split(marker, 1)[1].strip().splitlines()[0].strip()
        return f"the weights-only unpickler refused it: {reason}"
    first_line = text.strip().splitlines()[0] if text.strip() else ""
    return f"{type(exc).__name__}: {first_line}"[:200] if first_line else type(exc).__name__


def read_checkpoint(path: str | os.PathLike) -> dict:
    """Load and validate the checkpoint's envelope (not the weights' shapes)."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint not found: {path}")
    if not path.is_file():
        raise CheckpointError(f"checkpoint path is not a file: {path}")
    if path.stat().st_size == 0:
        raise CheckpointError(f"checkpoint {path} is empty (an interrupted copy or download?)")
    try:
        with warnings.catch_warnings():
            # A foreign pickle makes torch warn about its protocol before it fails; the error below says it all.
            warnings.simplefilter("ignore", UserWarning)
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - a damaged file fails inside the unpickler in many ways
        raise CheckpointError(f"checkpoint {path} is corrupt or not a PyTorch file ({load_failure(exc)})") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_NAME:
        raise CheckpointError(f"{path} is not a {FORMAT_NAME} file (no 'format': '{FORMAT_NAME}' entry)")
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(f"{path} has format version {version}; this build reads version {FORMAT_VERSION}")
    for key in ("model_config", "state_dict", "trained"):
        if key not in payload:
            raise CheckpointError(f"{path} lacks the '{key}' entry")
    return payload


def load_checkpoint(path: str | os.PathLike | None = None, device: str | torch.device = "cpu",
                    config_overrides: dict | None = None) -> tuple[ViLTrackNet, dict]:
    """
    Build the network from the checkpoint's own config and load its weights (``None``: default weights).

    ``config_overrides`` may change run-time-only settings (e.g. ``cell_form``), never shapes.
    Returns ``(model in eval mode, info)`` where ``info`` holds ``path``, ``trained``, ``training`` and
    ``model_config``. Raises :class:`CheckpointError` with a clear message on any problem.
    """
    path = Path(path) if path is not None else default_weights_path()
    payload = read_checkpoint(path)
    try:
        config = ModelConfig.from_dict({**payload["model_config"], **(config_overrides or {})})
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: invalid model config: {exc}") from exc
    model = ViLTrackNet(config, pretrained_stem=False)   # the file holds the stem's weights too
    expected = model.state_dict()
    state = payload["state_dict"]
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: 'state_dict' is a {type(state).__name__}, not a mapping of names to tensors")
    not_tensors = sorted(k for k, v in state.items() if not isinstance(v, torch.Tensor))
    if not_tensors:
        raise CheckpointError(f"{path}: {len(not_tensors)} weights are not tensors (e.g. {not_tensors[:3]})")
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    mismatched = [f"{k}: file {tuple(state[k].shape)} vs config {tuple(v.shape)}"
                  for k, v in expected.items() if k in state and tuple(state[k].shape) != tuple(v.shape)]
    if missing or unexpected or mismatched:
        details = []
        if missing:
            details.append(f"{len(missing)} missing (e.g. {missing[:3]})")
        if unexpected:
            details.append(f"{len(unexpected)} unexpected (e.g. {unexpected[:3]})")
        if mismatched:
            details.append(f"{len(mismatched)} with other shapes (e.g. {mismatched[:3]})")
        raise CheckpointError(f"{path}: weights do not match the config '{config.name}': " + "; ".join(details))
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()})
    model.to(device).eval()
    info = {"path": str(path), "trained": bool(payload["trained"]), "training": payload.get("training", {}),
            "model_config": config.to_dict(), "format_version": payload["format_version"]}
    return model, info
