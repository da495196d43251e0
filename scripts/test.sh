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
# THE test command (README and CI): prepares the machine (fast once done), then runs the whole pytest suite in the
# ROS environment. Extra arguments go to pytest, e.g. scripts/test.sh -k image_conversion -x
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

bash "$REPO_ROOT/scripts/setup.sh"
# shellcheck source=scripts/env.sh
source "$REPO_ROOT/scripts/env.sh"
# The ROS tests must run here, not skip: a missing build is an error. Each pytest process picks its own
# ROS_DOMAIN_ID (test/ros/conftest.py); discovery stays on loopback (env.sh).
export VILTRACK_REQUIRE_ROS=1
cd "$REPO_ROOT"
exec python -m pytest test/ "$@"
