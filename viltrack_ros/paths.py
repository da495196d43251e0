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
Where the project's own files are: the source checkout (``config/``, ``outputs/``) and the data beside it.

One home for these folders, because the package runs from more places than its checkout: ``scripts/setup.sh``
colcon-builds a copy into ``install/`` inside the checkout (the ``viltrack`` command on the path runs that copy),
and ``pip install .`` puts one in a virtual environment. A path computed from the module's own file would point into
those copies, where there is no ``config/`` and no ``../shared``.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def is_checkout(folder: Path) -> bool:
    """Whether ``folder`` is this project's source checkout (its package.xml and its split file)."""
    return (folder / "package.xml").is_file() and (folder / "config" / "data_splits.yaml").is_file()


@functools.cache
def project_root() -> Path:
    """
    Return the source checkout the package runs from.

    The first checkout among the folders above the package (a checkout itself, or a colcon install inside one),
    else among the working directory and the folders above it (a command run in a checkout with the package
    installed elsewhere), else the folder above the package: its default paths then name folders that do not exist,
    and the commands that need them say which.
    """
    for start in (PACKAGE_DIR, Path.cwd().resolve()):
        for folder in (start, *start.parents):
            if is_checkout(folder):
                return folder
    return PACKAGE_DIR.parent


def shared_root() -> Path:
    """Return ``../shared`` beside the checkout: the research-use data and models, never committed."""
    return project_root().parent / "shared"


def default_sequences_root() -> Path:
    """Return the real validation sequences (``$VILTRACK_SEQUENCES`` overrides ``../shared/data/sequences``)."""
    return Path(os.environ.get("VILTRACK_SEQUENCES", shared_root() / "data" / "sequences"))
