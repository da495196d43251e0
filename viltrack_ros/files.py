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
Files written whole: a reader never sees half of one, and a writer killed half-way leaves the old file (or none).

Checkpoints, training states, pair and feature caches, ONNX graphs and benchmark statistics all go through
``write_atomically``.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Callable

PARTIAL_SUFFIX = ".tmp"


def write_atomically(path: str | Path, write: Callable[[Path], object], suffix: str = PARTIAL_SUFFIX) -> Path:
    """
    Write ``path`` through ``write(partial)`` into a file beside it, then rename that file over ``path``.

    The partial file's name is random and ends in ``suffix`` (``.tmp``; a writer that appends its own extension, as
    ``numpy.savez`` does ``.npz``, needs it in the suffix): writers in processes that share a folder never write into
    each other's file (containers on one cache volume may even share a pid). It is removed when ``write`` fails.
    Returns ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{uuid.uuid4().hex}{suffix}")
    try:
        write(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)   # only after a failure: once renamed it is gone
    return path
