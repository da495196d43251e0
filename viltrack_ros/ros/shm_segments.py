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
Fast DDS shared-memory segments left behind by processes that died without closing DDS (SIGKILL, a crash).

Every DDS participant of a process maps a segment file in ``/dev/shm`` (``fastdds_<16 hex digits>``, 64 MB with
``config/fastdds_localhost.xml``, its pages written as samples pass) and holds an exclusive ``flock`` on its lock
file (``<segment>_el``) while it lives. A process that ends without shutting rclpy down never removes them, and the
memory stays used until someone does: on this project's machine 870 such segments of test runs held 14 GB of RAM
and got a training run killed for lack of memory. A lock file nobody holds marks a dead owner; this is how Fast DDS's
own ``fastdds shm clean`` finds them. Here the same check, limited to segments created after a given time, lets a
tool that kills processes on purpose (the load benchmark's camera) clean up after itself and lets tests check that
the node leaves nothing behind.
"""
from __future__ import annotations

import fcntl
import os
import re
import time
from pathlib import Path

SHM_DIR = Path("/dev/shm")
_SEGMENT_LOCK = re.compile(r"^(fastdds|fastrtps)_[0-9a-f]{16}_el$")
# A participant creates its lock file and locks it right away; a lock file younger than this may be one that is
# about to be locked, not one whose owner died.
MIN_AGE_S = 2.0


def _owner_alive(lock_file: Path) -> bool:
    try:
        with open(lock_file, "ab") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)   # released when the file is closed
        return False
    except OSError:
        return True


def _segment_locks(shm_dir: Path):
    """``(lock file, its stat)`` of every participant segment in ``shm_dir`` (none if it is not there)."""
    if not shm_dir.is_dir():
        return
    for lock_file in sorted(shm_dir.iterdir()):
        if not _SEGMENT_LOCK.match(lock_file.name):
            continue
        try:
            yield lock_file, lock_file.stat()
        except FileNotFoundError:   # removed meanwhile by its owner
            continue


def _segment_of(lock_file: Path) -> Path:
    return lock_file.with_name(lock_file.name[:-len("_el")])


def stale_segments(since: float = 0.0, shm_dir: Path = SHM_DIR) -> list[Path]:
    """Segment files (``/dev/shm/fastdds_*``) whose owner is gone, created at or after ``since`` (a ``time.time()``)."""
    now = time.time()
    return [_segment_of(lock_file) for lock_file, info in _segment_locks(shm_dir)
            if info.st_mtime >= since and now - info.st_mtime >= MIN_AGE_S and not _owner_alive(lock_file)]


def remove_stale_segments(since: float = 0.0, shm_dir: Path = SHM_DIR) -> int:
    """Remove the stale segments of :func:`stale_segments` (segment and lock file); returns how many."""
    return _remove(stale_segments(since, shm_dir))


def _remove(segments: list[Path]) -> int:
    """Remove each segment and its lock file; returns how many segments."""
    for segment in segments:
        for path in (segment, segment.with_name(segment.name + "_el")):
            try:
                os.remove(path)
            except FileNotFoundError:
                pass
    return len(segments)


def _locked_by(pid: int, locks_path: Path = Path("/proc/locks")) -> set[tuple[int, int, int]]:
    """
    Return ``(major, minor, inode)`` of every file ``pid`` holds a lock on.

    They are read from ``/proc/locks``: ``1: FLOCK ADVISORY WRITE <pid> <major>:<minor>:<inode> ...``, device numbers
    in hex; waiting entries carry a ``->``.
    """
    held = set()
    try:
        lines = locks_path.read_text().splitlines()
    except OSError:
        return held
    for line in lines:
        fields = [f for f in line.split() if f != "->"]
        if len(fields) < 6 or fields[4] != str(pid):
            continue
        try:
            major, minor, inode = fields[5].split(":")
            held.add((int(major, 16), int(minor, 16), int(inode)))
        except ValueError:
            continue
    return held


def own_segments(shm_dir: Path = SHM_DIR, pid: int | None = None) -> list[Path]:
    """
    Return the participant segments of the running process ``pid`` (default: this one).

    These are the segments whose lock file it holds: ``fastdds_<16 hex digits>``, not the shared port segments.
    """
    held = _locked_by(os.getpid() if pid is None else pid)
    return [_segment_of(lock_file) for lock_file, info in _segment_locks(shm_dir)
            if (os.major(info.st_dev), os.minor(info.st_dev), info.st_ino) in held]


def remove_own_segments(shm_dir: Path = SHM_DIR) -> int:
    """
    Remove this process's own participant segments (:func:`own_segments`); return how many.

    This is for a process about to end without closing DDS: the names go now, the memory when the process's mappings
    do.
    """
    return _remove(own_segments(shm_dir))
