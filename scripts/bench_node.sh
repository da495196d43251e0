#!/usr/bin/env bash
# Benchmark: the node's end-to-end latency (image stamp -> TrackedObject received) and FPS at 640x480, next to the
# bare tracker's latency in the same run. Options: scripts/bench_node.sh --help
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$REPO_ROOT/scripts/setup.sh"
export ROS_DOMAIN_ID="${ROS_DOMAIN_ID:-$(( $$ % 100 + 1 ))}"   # its own domain; DDS on loopback (env.sh)
# shellcheck source=scripts/env.sh
source "$REPO_ROOT/scripts/env.sh"
cd "$REPO_ROOT"
exec python -m viltrack_ros.ros.benchmark "$@"
