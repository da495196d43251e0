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
# Load benchmark of the tracker node: a 200 Hz 1280x720 camera for 60 s (depth-1 QoS), the camera stopping and
# coming back, a slow subscriber on the outputs. Prints p50/p99 latency, RSS at start and end, images dropped.
# Options: scripts/bench_load.sh --help (e.g. --duration 10 --rate 100 --json load.json)
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$REPO_ROOT/scripts/setup.sh"
export ROS_DOMAIN_ID="${ROS_DOMAIN_ID:-$(( $$ % 100 + 1 ))}"   # its own domain; DDS on loopback (env.sh)
# shellcheck source=scripts/env.sh
source "$REPO_ROOT/scripts/env.sh"
exec python -m viltrack_ros.ros.load_benchmark "$@"
