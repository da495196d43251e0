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
"""Interleaved timing: the shipped tracker with and without the template memory, frame by frame in turn."""
import time
import numpy as np
import torch
torch.set_num_threads(2)
from viltrack_ros.evaluation.benchmark_frames import benchmark_frames
from viltrack_ros.tracking import MultiTracker
frames, box, source = benchmark_frames(206)
trackers = {m: MultiTracker.from_checkpoint(None, backend="onnxruntime", template_memory=m) for m in (True, False)}
times = {m: [] for m in trackers}
for t in trackers.values():
    t.init(0, frames[0], box)
for i, frame in enumerate(frames[1:]):
    for m, t in trackers.items():
        s = time.perf_counter()
        t.update(frame)
        e = time.perf_counter() - s
        if i >= 5:
            times[m].append(e * 1000)
for m, v in times.items():
    print(f"template memory {m}: p50 {np.percentile(v, 50):.1f} ms, p99 {np.percentile(v, 99):.1f} ms, "
          f"{1000 / np.mean(v):.1f} FPS")
print(f"ratio p50 {np.percentile(times[True], 50) / np.percentile(times[False], 50):.3f}")
