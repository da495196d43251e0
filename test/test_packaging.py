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
"""
What `pip install .` (the README's library and command line) installs, read from the wheel setup.py builds.

The wheel is built here without network or build isolation, from a copy of the files git tracks.
"""
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from conftest import tracked_files

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    pytest.importorskip("setuptools", reason="building the wheel needs setuptools (setup.py)")
    files = tracked_files("setup.py", "viltrack_ros")
    if not files:
        pytest.skip("not a git checkout: the wheel is built from the files git tracks")
    # A copy of the tracked sources: setuptools writes build/ and *.egg-info beside setup.py, and in the checkout
    # build/ is colcon's, where a stale build/lib would also put deleted modules into the wheel.
    source = tmp_path_factory.mktemp("source")
    for name in files:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    # --no-build-isolation --no-index: setuptools from this environment, nothing downloaded.
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                             "-w", str(out), str(source)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = out.glob("viltrack_ros-*.whl")
    with zipfile.ZipFile(built) as archive:
        yield archive


def _metadata(archive: zipfile.ZipFile):
    (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    return Parser().parsestr(archive.read(name).decode())


def test_the_wheel_carries_the_shipped_weights_and_their_card(wheel):
    names = set(wheel.namelist())
    assert "viltrack_ros/weights/viltrack_default.pt" in names
    assert "viltrack_ros/weights/MODEL_CARD.md" in names
    packed = wheel.getinfo("viltrack_ros/weights/viltrack_default.pt").file_size
    assert packed == (ROOT / "viltrack_ros" / "weights" / "viltrack_default.pt").stat().st_size


def test_the_wheel_is_the_ros_free_core_with_the_command(wheel):
    names = set(wheel.namelist())
    assert {"viltrack_ros/tracking/tracker.py", "viltrack_ros/model/network.py", "viltrack_ros/cli.py"} <= names
    assert not [n for n in names if n.startswith("viltrack_ros/ros/")], "the ROS node is built by colcon, not pip"
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    assert "viltrack = viltrack_ros.cli:main" in wheel.read(entry_points).decode()


def test_the_wheel_requires_the_default_cpu_backend(wheel):
    # Without onnxruntime the library falls back to PyTorch on a CPU (about 1.5x slower a frame).
    required = {line.split(";")[0].split(">")[0].split("=")[0].split("<")[0].strip()
                for line in _metadata(wheel).get_all("Requires-Dist")}
    assert {"torch", "numpy", "onnxruntime", "onnx", "opencv-contrib-python-headless"} <= required
