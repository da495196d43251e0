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
# Two trackers sharing the CPU: each `viltrack track` process alone, then two at once, per backend and thread
# setting; prints each one's update FPS and the share of its solo FPS it keeps (issue: a robot's other nodes
# always share the cores). Usage: scripts/bench_side_by_side.sh [SEQUENCE_FOLDER] [BOX]
set -euo pipefail
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then sed -n '15,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0; fi
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SEQUENCE="${1:-$REPO_ROOT/../shared/data/sequences/vot2015_bag}"
[[ -f "$SEQUENCE/groundtruth.txt" ]] || { echo "no sequence at $SEQUENCE (a folder of frames with groundtruth.txt); see --help" >&2; exit 2; }
BOX="${2:-$(head -1 "$SEQUENCE/groundtruth.txt")}"
VILTRACK="${VILTRACK_VENV:-$REPO_ROOT/.venv}/bin/viltrack"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

fps_of() { grep -o '[0-9.]* FPS' "$1" | tail -1 | cut -d' ' -f1; }
run_one() {   # backend threads logfile; a failed run shows its log (the EXIT trap removes it next)
  "$VILTRACK" track --frames "$SEQUENCE" --box "$BOX" --backend "$1" --threads "$2" >/dev/null 2>"$3" || {
    echo "viltrack track --backend $1 --threads $2 failed:" >&2; tail -5 "$3" >&2; return 1; }
}
frames="$(find "$SEQUENCE" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) | wc -l)"
echo "sequence: $SEQUENCE ($frames frames), $(nproc) cores"
echo "| backend | threads per process | solo FPS | side by side FPS (each) | kept of solo |"
echo "|---|---:|---:|---:|---:|"
for backend in torch onnxruntime; do
  for threads in 0 1; do
    run_one "$backend" "$threads" "$OUT/warm.log"   # warm-up: the ONNX export is cached after this
    run_one "$backend" "$threads" "$OUT/solo.log"
    run_one "$backend" "$threads" "$OUT/a.log" & first=$!
    run_one "$backend" "$threads" "$OUT/b.log" & second=$!
    wait "$first" "$second"
    solo="$(fps_of "$OUT/solo.log")"; a="$(fps_of "$OUT/a.log")"; b="$(fps_of "$OUT/b.log")"
    label="$threads"; [ "$threads" = 0 ] && label="default ($(nproc))"
    kept="$(python3 -c "print(f'{min($a, $b) / $solo:.0%}')")"
    echo "| $backend | $label | $solo | $a / $b | $kept |"
  done
done
