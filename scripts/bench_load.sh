#!/usr/bin/env bash
# Load benchmark of the tracker node: a 200 Hz 1280x720 camera for 60 s (depth-1 QoS), the camera stopping and
# coming back, a slow subscriber on the outputs. Prints p50/p99 latency, RSS at start and end, images dropped.
# Options: scripts/bench_load.sh --help (e.g. --duration 10 --rate 100 --json load.json)
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$REPO_ROOT/scripts/setup.sh"
export ROS_DOMAIN_ID="${ROS_DOMAIN_ID:-$(( $$ % 100 + 1 ))}"   # its own domain; DDS on loopback (env.sh)
# shellcheck source=scripts/env.sh
source "$REPO_ROOT/scripts/env.sh"
cd "$REPO_ROOT"
exec python -m viltrack_ros.ros.load_benchmark "$@"
