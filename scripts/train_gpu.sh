#!/usr/bin/env bash
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
# Training on a lent GPU (issue 7: "and on the GPU whenever one is lent"), prepared and tested on the CPU so that
# the machine's few minutes go to training: config/train/stem_trained_gpu.yaml, the shipped weights continued with
# the whole stem trained, for TIME_BUDGET_S seconds of steps (its learning-rate schedule runs over that time).
#
# Here, once (the research-use frames travel in an ignored folder, never committed):
#   scripts/train_gpu.sh --stage          # .gpu_train/train: every second stored train frame, JPEG 75 (about 30 MiB)
# Then on the lent machine (the device tool's `run`, carry [".gpu_train"], timeout_s 600):
#   TIME_BUDGET_S=300 scripts/train_gpu.sh
# It cuts the pair cache there (about 10 s), trains, and leaves in $OUT/gpu_train/stem_trained_gpu/ the weights
# (model.pt, with steps, samples, hardware and wall time in its record), log.csv, loss_curve.png, and train.log
# beside them; the optimiser's state (too large to come back) is removed. Back here, score them as every arm is:
#   viltrack experiment --tune <files_at>/gpu_train/stem_trained_gpu/model.pt --restarts 5 --threads 1
# Leave about 3 minutes of the command's 600 s for Python's start, the cache and the copies. DEVICE=cpu PYTHON=...
# runs the same on this machine (the test of this script: TIME_BUDGET_S=20 DEVICE=cpu PYTHON=.venv/bin/python).
set -euo pipefail
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then sed -n '15,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0; fi
cd "$(dirname "$0")/.."
STAGE=.gpu_train
if [[ "${1:-}" == "--stage" ]]; then
    grep -qx "/$STAGE/" .git/info/exclude 2>/dev/null || echo "/$STAGE/" >> .git/info/exclude
    rm -rf "$STAGE/train"
    "${PYTHON:-.venv/bin/python}" -c '
import sys
from viltrack_ros.data.precropped import default_train_root, write_compact_copy
sequences, frames = write_compact_copy(default_train_root(), sys.argv[1], "train", frame_step=2, jpeg_quality=75)
print(f"{sequences} sequences, {frames} frames in {sys.argv[1]}")' "$STAGE/train"
    du -sh "$STAGE"
    exit 0
fi
[[ -f "$STAGE/train/splits.yaml" ]] || {
    echo "no $STAGE/train: run scripts/train_gpu.sh --stage here first, and name \"$STAGE\" in the run's carry" >&2
    exit 2; }
PYTHON=${PYTHON:-python3}
RUN_DIR="${OUT:-outputs}/gpu_train"
mkdir -p "$RUN_DIR"
export PYTHONUNBUFFERED=1
"$PYTHON" -c "import torch; print('torch', torch.__version__, 'on', torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU')" \
    | tee "$RUN_DIR/train.log"
"$PYTHON" -m viltrack_ros.training.experiment --config config/train/stem_trained_gpu.yaml --out "$RUN_DIR" \
    --device "${DEVICE:-cuda}" --threads "${THREADS:-8}" --train-only --time-budget-s "${TIME_BUDGET_S:-300}" \
    2>&1 | tee -a "$RUN_DIR/train.log"
rm -f "$RUN_DIR"/*/state.pt
ls -la "$RUN_DIR" "$RUN_DIR"/*/
