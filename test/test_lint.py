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
Lint, as ROS packages customarily test it (ament's flake8, pep257 and copyright tests), over the whole repository.

flake8's settings live in `.flake8` at the repository root (lines up to 120 characters; which scripts may import
late). The files are those git tracks, so a copy of the sources outside a git checkout skips the pep257 and copyright
checks with that reason.
"""
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import tracked_files

ROOT = Path(__file__).resolve().parents[1]
# The node's entry points carry no .py suffix, so flake8 only reads them when named.
ENTRY_POINTS = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "bin").iterdir() if path.is_file())


def _require_git_checkout() -> None:
    if not TRACKED_FILES:
        pytest.skip("not a git checkout: the lint tests read the files git tracks")


# What ament's linters read: ament_pep257 the .py files; the copyright check those, the entry points and the shell and
# CMake files. From git, so that build outputs, the virtual environment and untracked scratch files are not read.
TRACKED_FILES = tracked_files()
PYTHON_FILES = [name for name in TRACKED_FILES if name.endswith(".py")]
SOURCE_FILES = PYTHON_FILES + ENTRY_POINTS + [name for name in TRACKED_FILES
                                              if name.endswith(".sh") or name in (".ci/run", "CMakeLists.txt")]


def _flake8(*paths: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flake8", *paths], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def test_flake8_finds_nothing():
    pytest.importorskip("flake8", reason="flake8 is not installed (requirements.txt; rosdep: python3-flake8)")
    result = _flake8(".", *ENTRY_POINTS)
    assert result.returncode == 0, f"flake8 found problems:\n{result.stdout}{result.stderr}"


def test_flake8_reads_the_entry_points_and_the_settings(tmp_path):
    # The check above passes vacuously if flake8 reads nothing or ignores the settings: it must flag a real problem
    # in a file laid out like ours, and accept a line longer than flake8's default 79 (and ament's 99) columns.
    pytest.importorskip("flake8", reason="flake8 is not installed (requirements.txt; rosdep: python3-flake8)")
    assert "bin/tracker_node" in ENTRY_POINTS
    probe = tmp_path / "probe.py"   # flake8 reads its settings from the working directory, the repository root
    probe.write_text("import os\n" + "x = '" + "a" * 110 + "'\n")   # an unused import; a 116-character line
    result = _flake8(str(probe))
    assert "F401 'os' imported but unused" in result.stdout
    assert "E501" not in result.stdout


# ament_pep257 itself, with its default ("ament") convention, as `ros2 pkg create`'s test_pep257.py runs it: where there
# is a docstring, its summary is one line of its own (on the line after the quotes), then a blank line. It reads the
# .py files, so the entry points in bin/ (flake8 reads them) are not among them.
AMENT_PEP257_MISSING = "ament_pep257 is not installed (requirements.txt: ros-ament-pep257; rosdep: ament_pep257)"


def _ament_pep257(*paths: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ament_pep257.main", *paths], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


def test_pep257_finds_nothing():
    pytest.importorskip("ament_pep257", reason=AMENT_PEP257_MISSING)
    _require_git_checkout()
    result = _ament_pep257(*PYTHON_FILES)
    assert result.returncode == 0, f"ament_pep257 found problems:\n{result.stderr}"


def test_pep257_flags_a_summary_run_on_into_its_description(tmp_path):
    # The check above passes vacuously if ament_pep257 reads nothing: it must flag the commonest slip, and accept
    # the layout the package uses.
    pytest.importorskip("ament_pep257", reason=AMENT_PEP257_MISSING)
    run_on = tmp_path / "run_on.py"
    run_on.write_text('def f():\n    """\n    A summary that runs on\n    into the description.\n    """\n')
    result = _ament_pep257(str(run_on))
    assert result.returncode != 0 and "D205" in result.stderr
    laid_out = tmp_path / "laid_out.py"
    laid_out.write_text('def f():\n    """\n    Say what f does.\n\n    Then why.\n    """\n')
    assert _ament_pep257(str(laid_out)).returncode == 0


# ament_copyright, as ROS packages customarily run it: every source file starts with its copyright and licence
# (after a shebang line); empty files (the package's empty __init__.py) need none.
LICENCE_HEADER = """\
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


def _licence_header_missing(path: Path) -> bool:
    text = path.read_text()
    if not text.strip():
        return False
    if text.startswith("#!"):
        text = text.split("\n", 1)[1]
    # The year may differ from file to file; the rest is the Apache-2.0 header word for word.
    body = LICENCE_HEADER.split("\n", 1)[1]
    first, _, rest = text.partition("\n")
    return not (first.startswith("# Copyright ") and rest.startswith(body))


def test_every_source_file_carries_the_licence_header():
    _require_git_checkout()
    missing = [name for name in SOURCE_FILES if _licence_header_missing(ROOT / name)]
    assert not missing, (
        f"{len(missing)} source files lack the Apache-2.0 header; start each with:\n{LICENCE_HEADER}\n"
        + "\n".join(missing))


def test_the_licence_check_flags_a_file_without_it(tmp_path):
    bare = tmp_path / "bare.py"
    bare.write_text('"""A module."""\n')
    headed = tmp_path / "headed.sh"
    headed.write_text("#!/usr/bin/env bash\n" + LICENCE_HEADER.replace("2026", "2027") + "set -e\n")
    assert _licence_header_missing(bare) and not _licence_header_missing(headed)
