"""Lint, as ROS packages customarily test it (ament's test_flake8): flake8 over every Python file of the repository.

The settings live in `.flake8` at the repository root (lines up to 120 characters; which scripts may import late).
"""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The node's entry points carry no .py suffix, so flake8 only reads them when named.
ENTRY_POINTS = sorted(str(path.relative_to(ROOT)) for path in (ROOT / "bin").iterdir() if path.is_file())


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
