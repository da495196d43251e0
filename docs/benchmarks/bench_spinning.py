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
Why onnxruntime's idle threads sleep by default.

The shipped network's cached step (2 threads, synthetic inputs of the real shapes) with spinning threads and without,
alone and as two processes at once on the cores.

    python docs/benchmarks/bench_spinning.py            # prints FPS per setting, solo and side by side
"""
import subprocess
import sys
import time

import numpy as np

FRAMES, WARM_UP = 300, 20


def run_steps(spin: str, start_at: float | None) -> float:
    import onnxruntime as ort
    from viltrack_ros.model.checkpoint import load_checkpoint
    from viltrack_ros.tracking.backends import onnx_models
    from viltrack_ros.tracking.tracker import MultiTracker
    model, _ = load_checkpoint(None)
    tracker = MultiTracker(model, backend="onnxruntime")
    tracker.init(0, np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8), (300, 200, 40, 60))
    target = tracker._targets[0]
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 2, 1
    options.add_session_config_entry("session.intra_op.allow_spinning", spin)
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(onnx_models(model)["cached_step.onnx"], options,
                                   providers=["CPUExecutionProvider"])
    values = dict(zip(tracker.backend._memory_names, target.memory))
    context, active = tracker._film_contexts([target])
    search = np.random.default_rng(1).standard_normal((1, 3, 160, 160)).astype(np.float32)
    values.update(searches=search, context=context, active=active)
    feed = {i.name: values[i.name] if values[i.name].dtype == np.bool_
            else np.ascontiguousarray(values[i.name], np.float32) for i in session.get_inputs()}
    for _ in range(WARM_UP):
        session.run(None, feed)
    if start_at is not None:          # side by side: both processes start timing together
        time.sleep(max(0.0, start_at - time.time()))
    start = time.perf_counter()
    for _ in range(FRAMES):
        session.run(None, feed)
    return FRAMES / (time.perf_counter() - start)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(f"{run_steps(sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else None):.1f}")
        return
    child = [sys.executable, __file__, "--child"]
    print("| idle threads | solo FPS | side by side FPS (each) | kept of solo |")
    print("|---|---:|---:|---:|")
    for spin, label in (("0", "sleep (default)"), ("1", "spin")):
        solo = float(subprocess.run([*child, spin], capture_output=True, text=True, check=True).stdout)
        start_at = time.time() + 30
        pair = [subprocess.Popen([*child, spin, str(start_at)], stdout=subprocess.PIPE, text=True) for _ in range(2)]
        shared = [float(p.communicate()[0]) for p in pair]
        kept = " / ".join(f"{100 * fps / solo:.0f}%" for fps in shared)
        print(f"| {label} | {solo:.1f} | {shared[0]:.1f} / {shared[1]:.1f} | {kept} |")


if __name__ == "__main__":
    main()
