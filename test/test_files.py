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
"""Files written whole (viltrack_ros.files.write_atomically)."""
from __future__ import annotations

import numpy as np
import pytest

from viltrack_ros.files import write_atomically


def test_a_file_is_written_whole_and_replaces_the_old_one(tmp_path):
    path = tmp_path / "deeper" / "state.json"
    assert write_atomically(path, lambda partial: partial.write_text("first")) == path
    seen = []

    def write(partial):
        seen.append(partial)
        assert path.read_text() == "first", "the old file stays readable while the new one is written"
        partial.write_text("second")

    write_atomically(path, write)
    assert path.read_text() == "second" and seen[0].parent == path.parent and seen[0].name.endswith(".tmp")
    assert sorted(p.name for p in path.parent.iterdir()) == ["state.json"]


def test_a_failed_write_leaves_the_old_file_and_no_partial_one(tmp_path):
    path = tmp_path / "cache.npz"
    write_atomically(path, lambda partial: np.savez(partial, values=np.arange(3)), suffix=".tmp.npz")
    assert list(np.load(path)["values"]) == [0, 1, 2]

    def fail(partial):
        partial.write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomically(path, fail)
    assert list(np.load(path)["values"]) == [0, 1, 2] and [p.name for p in tmp_path.iterdir()] == ["cache.npz"]


def test_two_writers_never_share_a_partial_file(tmp_path):
    names = []

    def write(partial):
        names.append(partial.name)
        partial.write_bytes(b"graph")

    for _ in range(2):
        write_atomically(tmp_path / "graph.onnx", write)
    assert names[0] != names[1]
