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
The project's folders are found from every copy of the package (``viltrack_ros.paths``).

The ``viltrack`` command on a set-up machine runs the colcon-built copy in ``install/``; its data defaults once
pointed inside that copy (``install/.../site-packages/config/data_splits.yaml``), and ``viltrack eval``, ``train``
and ``experiment`` failed there while ``viltrack bench`` quietly measured another video.
"""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT

PRINT_ROOTS = "from viltrack_ros import paths; print(paths.project_root()); print(paths.shared_root())"


def make_checkout(folder: Path) -> Path:
    """Create a folder that ``paths.is_checkout`` accepts: a package.xml and a split file."""
    (folder / "config").mkdir(parents=True)
    (folder / "package.xml").write_text("<package/>\n")
    (folder / "config" / "data_splits.yaml").write_text("heldout: []\ndev: []\n")
    return folder


def copy_package(site_packages: Path) -> None:
    """Place a copy of the package's path module where an installer would put the package."""
    package = site_packages / "viltrack_ros"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    shutil.copy(REPO_ROOT / "viltrack_ros" / "paths.py", package / "paths.py")


def roots(site_packages: Path, cwd: Path) -> list[Path]:
    """Return ``[project_root, shared_root]`` as the copy in ``site_packages`` finds them, run from ``cwd``."""
    result = subprocess.run([sys.executable, "-c", PRINT_ROOTS], cwd=cwd, capture_output=True, text=True,
                            env={"PYTHONPATH": str(site_packages), "PATH": "/usr/bin:/bin"}, timeout=60, check=True)
    return [Path(line) for line in result.stdout.split()]


def test_the_checkout_itself():
    from viltrack_ros import paths
    assert paths.project_root() == REPO_ROOT
    assert paths.shared_root() == REPO_ROOT.parent / "shared"


def test_a_colcon_install_inside_the_checkout_finds_the_checkout(tmp_path):
    checkout = make_checkout(tmp_path / "work" / "viltrack_ros")
    site_packages = checkout / "install" / "viltrack_ros" / "lib" / "python3.11" / "site-packages"
    copy_package(site_packages)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert roots(site_packages, cwd=elsewhere) == [checkout, tmp_path / "work" / "shared"]


def test_a_copy_outside_any_checkout_finds_the_checkout_it_is_run_in(tmp_path):
    checkout = make_checkout(tmp_path / "ws" / "src" / "viltrack_ros")
    site_packages = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    copy_package(site_packages)
    (checkout / "docs").mkdir()
    assert roots(site_packages, cwd=checkout / "docs")[0] == checkout


def test_with_no_checkout_anywhere_the_defaults_say_where_they_looked(tmp_path):
    site_packages = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    copy_package(site_packages)
    assert roots(site_packages, cwd=tmp_path)[0] == site_packages


def test_the_set_up_viltrack_command_uses_the_checkouts_data():
    """The colcon-built ``viltrack`` (what ``scripts/setup.sh`` puts on the path): its defaults are the checkout's."""
    installed = sorted(REPO_ROOT.glob("install/viltrack_ros/lib/python3*/site-packages/viltrack_ros/paths.py"))
    if not installed:
        pytest.skip("no colcon install in this checkout (scripts/setup.sh builds one)")
    site_packages = installed[0].parents[1]
    result = subprocess.run([sys.executable, "-c", PRINT_ROOTS + "\nfrom viltrack_ros.data import splits\n"
                             "print(splits.DEFAULT_SPLITS_PATH.is_file())"],
                            cwd="/", capture_output=True, text=True, timeout=120, check=True,
                            env={"PYTHONPATH": str(site_packages), "PATH": "/usr/bin:/bin"})
    assert result.stdout.split() == [str(REPO_ROOT), str(REPO_ROOT.parent / "shared"), "True"]
