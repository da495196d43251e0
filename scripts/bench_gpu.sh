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
# The GPU figures of issue 10, prepared on the CPU so that a lent GPU's few minutes go to measuring.
#
# Here, once (the research-use frames and NanoTrack travel in an ignored folder, never committed):
#   scripts/bench_gpu.sh --stage          # copies ../shared's vot2015_bag and nanotrack_v2 into .gpu_bench/
# Then on the lent machine (the device tool's `run`, carry [".gpu_bench"]; its python3 holds CUDA PyTorch,
# OpenCV, onnxruntime, einops, PyYAML and tqdm):
#   scripts/bench_gpu.sh                  # writes $OUT/bench_gpu.md (or outputs/bench_gpu.md)
#
# Times the shipped network and ViL-S with float32, bfloat16 and compiled bfloat16 (CUDA graphs) at batch 1 and
# for 1 / 16 / 64 targets, both again with the mLSTM cell in NX-AI's Triton kernels (cell_form 'kernels'), CSRT and
# NanoTrack on the same machine's CPU for the ratios. Each GPU row that fails
# (a compiler, a driver) is skipped with its reason, so one failure does not cost the others.
set -euo pipefail
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then sed -n '15,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0; fi
cd "$(dirname "$0")/.."
STAGE=.gpu_bench
if [[ "${1:-}" == "--stage" ]]; then
    grep -qx "/$STAGE/" .git/info/exclude 2>/dev/null || echo "/$STAGE/" >> .git/info/exclude
    mkdir -p "$STAGE/sequences"
    cp -r ../shared/data/sequences/vot2015_bag "$STAGE/sequences/"
    cp -r ../shared/models/nanotrack_v2 "$STAGE/"
    # NX-AI's mLSTM kernels (pure Python + Triton sources; the GPU machine's CUDA PyTorch brings Triton) for the
    # cell_form 'kernels' rows, as a wheel: that machine reaches no package registry.
    "${PYTHON:-.venv/bin/python}" -m pip download -q --no-deps -d "$STAGE/wheels" "$(grep -oE '^mlstm-kernels==[0-9.]+' requirements.txt)"
    du -sh "$STAGE"
    exit 0
fi
[[ -d "$STAGE/sequences/vot2015_bag" ]] || { echo "run scripts/bench_gpu.sh --stage here first" >&2; exit 2; }
PYTHON=${PYTHON:-python3}
REPORT="${OUT:-outputs}/bench_gpu.md"
mkdir -p "$(dirname "$REPORT")"
export VILTRACK_SEQUENCES="$PWD/$STAGE/sequences" PYTHONUNBUFFERED=1
KERNEL_VARIANTS=()
if compgen -G "$STAGE/wheels/*.whl" >/dev/null \
    && "$PYTHON" -m pip install -q --no-index --no-deps --target /tmp/viltrack_site "$STAGE"/wheels/*.whl; then
    export PYTHONPATH="/tmp/viltrack_site${PYTHONPATH:+:$PYTHONPATH}"
    # The same networks with the mLSTM cell in NX-AI's Triton kernels (untrained presets: speed only); chunks of
    # 16 leave the hybrid's 100 search tokens 4 to the step kernel, 64 leave ViL-S's 256 none.
    KERNEL_VARIANTS=(--variant vil_hybrid:cell_form=kernels,chunk_size=16 --variant vil_s:cell_form=kernels,chunk_size=64)
else
    echo "mlstm_kernels not staged (scripts/bench_gpu.sh --stage): its rows are skipped"
fi
{
    echo "# viltrack bench on $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null || echo 'no GPU'), $(date -u +%F)"
    "$PYTHON" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"
    "$PYTHON" -m viltrack_ros.cli bench --gpu-only --presets vil_s --frames 300 --warmup 20 \
        --gpu-backends torch torch-bf16 torch-compile-bf16 --targets 1 16 64 --threads 2 \
        --nanotrack "$STAGE/nanotrack_v2" "${KERNEL_VARIANTS[@]}" "$@"
} 2>&1 | tee "$REPORT"
