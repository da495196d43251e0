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
# The demo, no camera needed: prepares the machine (fast once done), then runs the tracker node as a process, streams
# a real video as sensor_msgs/Image, starts the target through init_target and writes
#   outputs/demo/annotated.mp4  outputs/demo/tracked_objects.csv  outputs/demo/tracker_node.log
# Default input: Debian opencv-doc's vtest.avi. Other input: scripts/demo.sh --source VIDEO_OR_FOLDER --box x,y,w,h
# All options: scripts/demo.sh --help
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

bash "$REPO_ROOT/scripts/setup.sh"
# A domain of its own, so a second demo or a test run on this machine does not cross-talk (DDS stays on loopback).
export ROS_DOMAIN_ID="${ROS_DOMAIN_ID:-$(( $$ % 100 + 1 ))}"
# shellcheck source=scripts/env.sh
source "$REPO_ROOT/scripts/env.sh"
# No cd: paths given on the command line (--source, --out, --record, --weights) are the caller's, relative to where
# the demo was started. The package runs from the colcon-built copy that env.sh put on the path.
exec python -m viltrack_ros.ros.demo "$@"
