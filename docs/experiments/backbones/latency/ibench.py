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
"""Interleaved latency: every frame is tracked by each model in turn (the machine's load hits all alike)."""
import sys
import time
import numpy as np
import torch
threads = int(sys.argv[1])
online = sys.argv[2] == "on"
paths = sys.argv[3:]
torch.set_num_threads(threads)
import cv2
cv2.setNumThreads(1)
from viltrack_ros.evaluation.benchmark_frames import benchmark_frames
from viltrack_ros.tracking import ViLTracker, TrackerConfig
frames, box, source = benchmark_frames(66)
trackers = [ViLTracker.from_checkpoint(p, config=TrackerConfig(online_template_update=online)) for p in paths]
for t in trackers:
    t.init(frames[0], box)
times = [[] for _ in trackers]
for i, frame in enumerate(frames[1:]):
    for k, t in enumerate(trackers):
        start = time.perf_counter()
        t.update(frame)
        dt = time.perf_counter() - start
        if i >= 5:
            times[k].append(dt * 1000)
print(f"interleaved, {len(times[0])} timed frames after 5 warm-up, {source}, torch threads {threads}, "
      f"online update {online}")
print("| model | p50 ms | p99 ms | mean ms |")
print("|---|---:|---:|---:|")
for p, ts in zip(paths, times):
    print(f"| {p.split('/')[-2]} | {np.percentile(ts, 50):.1f} | {np.percentile(ts, 99):.1f} | {np.mean(ts):.1f} |")
