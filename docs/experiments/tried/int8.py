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
Probe whether onnxruntime's int8 quantization is worth a backend on this CPU (docs/experiments/tried/int8.md).

The shipped network's per-frame graph (the cached step) quantized three ways with onnxruntime.quantization:
  * ``int8 MatMul (dynamic)``: the mLSTM blocks' projections, weights int8, activations quantized per call;
  * ``int8 Conv (static)``: the stem's and head's convolutions, activations calibrated on this sequence's crops;
  * both.
Each tracks the benchmark frames (vot2015_bag at 640x480, `viltrack bench`'s) from the same init as float32, in
lock-step, so the box difference is one step's rounding compounded over the run; the network call alone is timed,
the variants interleaved frame by frame so that a busy machine slows them alike.

    source scripts/env.sh; export PYTHONPATH=$PWD:$PYTHONPATH
    python docs/experiments/tried/int8.py --frames 100 --threads 2 [--batch 16]
"""
from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic,
                                      quantize_static)
from onnxruntime.quantization.shape_inference import quant_pre_process

from viltrack_ros.evaluation.benchmark_frames import benchmark_frames
from viltrack_ros.tracking.backends import onnx_models
from viltrack_ros.tracking.tracker import ViLTracker


def session(path: Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class RecordingSession:
    """
    Stands in for the backend's step session.

    It runs float32 and keeps every frame's inputs (the calibration data and the replay of the variants).
    """

    def __init__(self, inner):
        self.inner, self.feeds = inner, []

    def get_inputs(self):
        return self.inner.get_inputs()

    def run(self, names, feeds):
        self.feeds.append({k: np.array(v) for k, v in feeds.items()})
        return self.inner.run(names, feeds)


class Feeds(CalibrationDataReader):
    def __init__(self, feeds):
        self.items = iter(feeds)

    def get_next(self):
        return next(self.items, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip(), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=1, help="time the step on this many copies of each frame's "
                        "inputs (many targets at once)")
    args = parser.parse_args()
    logging.getLogger().setLevel(logging.ERROR)    # the quantizer's pre-processing advice, once per model

    torch.set_num_threads(args.threads)         # the tracker's own session runs on as many threads as the variants
    frames, box, origin = benchmark_frames(args.frames)
    tracker = ViLTracker.from_checkpoint(backend="onnxruntime")
    backend = tracker._multi.backend     # a probe: reaches into the tracker to swap its session
    recorder = RecordingSession(backend.session)
    backend.session = recorder
    tracker.init(frames[0], box)
    reference_boxes = [np.asarray(tracker.update(frame).box) for frame in frames[1:]]
    feeds = recorder.feeds

    work = Path(tempfile.mkdtemp(prefix="viltrack_int8_"))
    fp32 = work / "cached_step.onnx"
    fp32.write_bytes(onnx_models(tracker._multi.model)["cached_step.onnx"])
    prepared = work / "prepared.onnx"
    quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
    variants = {"float32": fp32}
    variants["int8 MatMul (dynamic)"] = work / "matmul.onnx"
    quantize_dynamic(str(prepared), str(variants["int8 MatMul (dynamic)"]), op_types_to_quantize=["MatMul"],
                     weight_type=QuantType.QInt8)
    variants["int8 Conv (static)"] = work / "conv.onnx"
    quantize_static(str(prepared), str(variants["int8 Conv (static)"]), Feeds(feeds[::5]),
                    op_types_to_quantize=["Conv"], quant_format=QuantFormat.QOperator, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8, per_channel=True)
    variants["int8 both"] = work / "both.onnx"
    quantize_dynamic(str(variants["int8 Conv (static)"]), str(variants["int8 both"]),
                     op_types_to_quantize=["MatMul"], weight_type=QuantType.QInt8)

    sessions = {name: session(path, args.threads) for name, path in variants.items()}
    timed = [{k: (np.repeat(v, args.batch, axis=0)) for k, v in f.items()} for f in feeds]
    for s in sessions.values():                      # first-call allocations out of the timing
        s.run(None, timed[0])
    times = {name: [] for name in sessions}
    for f in timed:
        for name, s in sessions.items():
            start = time.perf_counter()
            s.run(None, f)
            times[name].append(time.perf_counter() - start)

    # Tracking with each variant: the tracker's own step session swapped for it.
    rows = []
    for name, s in sessions.items():
        backend.session = s
        tracker.init(frames[0], box)
        boxes = [np.asarray(tracker.update(frame).box) for frame in frames[1:]]
        drift = [float(np.abs(b - r).max() / max(r[2], r[3])) for b, r in zip(boxes, reference_boxes)]
        step_outputs = s.run(None, feeds[1])
        reference_outputs = sessions["float32"].run(None, feeds[1])
        worst_logit = float(np.abs(step_outputs[0] - reference_outputs[0]).max())
        p50 = float(np.median(times[name])) * 1e3
        rows.append((name, p50, worst_logit, float(np.median(drift)), max(drift)))

    base = rows[0][1]
    print(f"{len(frames)} frames of {origin}, {args.threads} threads, batch {args.batch}; "
          f"onnxruntime {ort.__version__}")
    print("| cached step | p50 ms | vs float32 | largest score-logit difference, one step | box difference over "
          "the run, median / largest (share of the box's larger side) |")
    print("|---|---:|---:|---:|---:|")
    for name, p50, logit, median_drift, worst_drift in rows:
        print(f"| {name} | {p50:.2f} | {p50 / base:.2f}x | {logit:.4f} | {median_drift:.3f} / {worst_drift:.3f} |")


if __name__ == "__main__":
    main()
