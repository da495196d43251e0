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
# OpenCV, onnxruntime, einops, PyYAML and tqdm), one command each, the first the one that matters most:
#   scripts/bench_gpu.sh                  # part 1, the shipped network: float32, bfloat16 and compiled bfloat16
#                                         #   (CUDA graphs) at batch 1 and for 1 / 16 / 64 targets, peers beside
#   scripts/bench_gpu.sh presets          # part 2: ViL-S, and both networks with the mLSTM cell in NX-AI's Triton
#                                         #   kernels (cell_form 'kernels'; untrained presets: speed only)
# Each writes $OUT/bench_gpu_<part>.md (or outputs/) and $OUT/bench_gpu_<part>_errors.log. Every row is printed as
# soon as it is measured; a row that fails (a compiler, a driver) says so in one line and the others go on; no row
# starts after BUDGET_S seconds (default 480: a command may run 600), so the table always comes back. CSRT and KCF
# need OpenCV's contrib build: without it they are skipped with that reason and NanoTrack is the reference.
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
[[ -d "$STAGE/sequences/vot2015_bag" ]] || {
    echo "no $STAGE/sequences: run scripts/bench_gpu.sh --stage here first, and name \"$STAGE\" in the run's carry" >&2
    exit 2; }
PART=${1:-shipped}
case "$PART" in shipped|presets) shift || true ;; -*) PART=shipped ;; *) echo "unknown part '$PART' (shipped, presets)" >&2; exit 2 ;; esac
PYTHON=${PYTHON:-python3}
REPORT="${OUT:-outputs}/bench_gpu_$PART.md"
ERRORS="${OUT:-outputs}/bench_gpu_${PART}_errors.log"
mkdir -p "$(dirname "$REPORT")"
# The classifier's BLAS calls on one thread (threadpoolctl, which pins them, may be missing there), like the
# network's two: the lent machine has 16 cores, the figures are for a robot's few.
export VILTRACK_SEQUENCES="$PWD/$STAGE/sequences" PYTHONUNBUFFERED=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=2
GPU_BACKENDS=(torch torch-bf16 torch-compile-bf16)
# A compiler that cannot work there (no C compiler or Python headers for Triton's launcher) fails every compiled
# row after its own long trace: ten seconds find it out first.
if ! timeout 120 "$PYTHON" -c "import torch; f = torch.compile(lambda x: x * 2 + 1); f(torch.ones(8, device='cuda'))" \
        >/dev/null 2>"${ERRORS%.log}_compile_check.log"; then
    echo "torch.compile does not work on this machine (${ERRORS%.log}_compile_check.log): compiled rows skipped"
    GPU_BACKENDS=(torch torch-bf16)
fi
{
    echo "# viltrack bench, part $PART, on $("$PYTHON" -c "import torch; print(torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU')"), $(date -u +%F)"
    "$PYTHON" -c "import sys, torch; print('python', sys.version.split()[0], 'torch', torch.__version__, 'cuda', torch.version.cuda)"
    COMMON=(--gpu-only --frames 150 --warmup 20 --threads 2 --budget-s "${BUDGET_S:-480}" --error-log "$ERRORS"
            --nanotrack "$STAGE/nanotrack_v2")
    if [[ "$PART" == shipped ]]; then
        "$PYTHON" -m viltrack_ros.cli bench "${COMMON[@]}" --presets --gpu-backends "${GPU_BACKENDS[@]}" \
            --targets 1 16 64 "$@"
    else
        VARIANTS=()
        WHEEL=$(compgen -G "$STAGE/wheels/mlstm_kernels-*.whl" | head -1 || true)
        # A wheel is a zip: unpacked without pip, which that machine's python3 may lack.
        if [[ -n "$WHEEL" ]] && "$PYTHON" -m zipfile -e "$WHEEL" /tmp/viltrack_site; then
            export PYTHONPATH="/tmp/viltrack_site${PYTHONPATH:+:$PYTHONPATH}"
            # Chunks of 16 for the hybrid's 100 search tokens, of 64 for ViL-S's 256 (the kernels pad the last one).
            VARIANTS=(--variant vil_hybrid:cell_form=kernels,chunk_size=16 --variant vil_s:cell_form=kernels,chunk_size=64)
        else
            echo "mlstm_kernels is not in $STAGE/wheels (scripts/bench_gpu.sh --stage): its rows are skipped"
        fi
        "$PYTHON" -m viltrack_ros.cli bench "${COMMON[@]}" --no-shipped --presets vil_s \
            --gpu-backends "${GPU_BACKENDS[@]}" "${VARIANTS[@]}" "$@"
    fi
} 2>&1 | tee "$REPORT"
