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
# Source me (bash): the environment every viltrack_ros script, test and demo runs in, on a machine set up by
# scripts/setup.sh (ROS 2 Kilted from pip wheels in .venv, this package built into install/).
#
# Network rule: DDS discovery stays on the loopback interface and each run picks its domain. These are set here,
# in the scripts' environment, and never inside the node: on a robot, discovery must reach the network.
# Scripts that start ROS processes set their own ROS_DOMAIN_ID before sourcing this file; the default below is
# for an interactive shell.

_viltrack_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VILTRACK_VENV="${VILTRACK_VENV:-$_viltrack_root/.venv}"

# The venv's activate script and colcon's setup.bash read variables that may be unset: relax `set -u` meanwhile.
_viltrack_had_nounset=0
case $- in *u*) _viltrack_had_nounset=1; set +u ;; esac

if [ ! -f "$VILTRACK_VENV/bin/activate" ]; then
  echo "viltrack_ros: no virtual environment at $VILTRACK_VENV: run scripts/setup.sh first" >&2
  [ "$_viltrack_had_nounset" = 1 ] && set -u
  unset _viltrack_had_nounset _viltrack_root
  return 1 2>/dev/null || exit 1
fi
# shellcheck source=/dev/null
source "$VILTRACK_VENV/bin/activate"
if [ -f "$_viltrack_root/install/setup.bash" ]; then
  # shellcheck source=/dev/null
  source "$_viltrack_root/install/setup.bash"
fi

# The wheels install ROS packages into the venv itself, which has no local_setup.* of its own: list it as an
# ament prefix so rclpy and the typesupport loaders find the message packages.
case ":${AMENT_PREFIX_PATH:-}:" in
  *":$VILTRACK_VENV:"*) ;;
  *) export AMENT_PREFIX_PATH="${AMENT_PREFIX_PATH:+$AMENT_PREFIX_PATH:}$VILTRACK_VENV" ;;
esac

export RMW_IMPLEMENTATION="${RMW_IMPLEMENTATION:-rmw_fastrtps_cpp}"
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
# Shared memory large enough for camera images, UDP on loopback only (the file says why).
export FASTDDS_DEFAULT_PROFILES_FILE="${FASTDDS_DEFAULT_PROFILES_FILE:-$_viltrack_root/config/fastdds_localhost.xml}"
export ROS_DOMAIN_ID="${ROS_DOMAIN_ID:-0}"
# Line-buffered Python output, so logs of background nodes arrive in order.
export PYTHONUNBUFFERED=1

[ "$_viltrack_had_nounset" = 1 ] && set -u
unset _viltrack_had_nounset _viltrack_root
