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
Finding the Fast DDS shared-memory segments of dead processes (viltrack_ros.ros.shm_segments).

Tested on real files and real locks: a segment whose lock file another live process holds is in use, one nobody holds is
stale.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

from viltrack_ros.ros.shm_segments import MIN_AGE_S, remove_stale_segments, stale_segments

LOCK_AND_WAIT = ("import fcntl, sys, time; f = open(sys.argv[1], 'ab'); fcntl.flock(f, fcntl.LOCK_EX); "
                 "print('locked', flush=True); time.sleep(60)")


def _segment(folder, name: str, age_s: float):
    segment, lock = folder / name, folder / f"{name}_el"
    segment.write_bytes(b"\0" * 4096)
    lock.write_bytes(b"")
    then = time.time() - age_s
    os.utime(lock, (then, then))
    return segment


def test_only_segments_whose_lock_nobody_holds_are_stale_and_removed(tmp_path):
    dead = _segment(tmp_path, "fastdds_00112233445566aa", age_s=60)
    alive = _segment(tmp_path, "fastdds_00112233445566bb", age_s=60)
    young = _segment(tmp_path, "fastdds_00112233445566cc", age_s=0)     # may be about to be locked
    old = _segment(tmp_path, "fastdds_00112233445566dd", age_s=3600)
    (tmp_path / "fastdds_port7000").write_bytes(b"")                     # ports are not segments
    (tmp_path / "fastdds_port7000_el").write_bytes(b"")
    holder = subprocess.Popen([sys.executable, "-c", LOCK_AND_WAIT, str(alive) + "_el"], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert stale_segments(shm_dir=tmp_path) == [dead, old]
        assert stale_segments(since=time.time() - 600, shm_dir=tmp_path) == [dead]
        assert remove_stale_segments(since=time.time() - 600, shm_dir=tmp_path) == 1
        assert not dead.exists() and not (tmp_path / f"{dead.name}_el").exists()
        assert alive.exists() and young.exists() and old.exists()
    finally:
        holder.kill()
        holder.wait()
    # The holder died without unlocking: the kernel released its lock, its segment is now stale.
    assert stale_segments(since=time.time() - 600, shm_dir=tmp_path) == [alive]
    assert young.exists() and MIN_AGE_S > 0


def test_own_segments_are_those_whose_lock_this_process_holds_and_only_those_are_removed(tmp_path):
    import fcntl
    from viltrack_ros.ros.shm_segments import own_segments, remove_own_segments
    mine = _segment(tmp_path, "fastdds_00112233445566ee", age_s=0)
    others = _segment(tmp_path, "fastdds_00112233445566ff", age_s=0)
    nobody = _segment(tmp_path, "fastdds_0011223344556600", age_s=60)
    (tmp_path / "fastdds_port7000").write_bytes(b"")                     # a shared port segment, even if held
    (tmp_path / "fastdds_port7000_el").write_bytes(b"")
    holder = subprocess.Popen([sys.executable, "-c", LOCK_AND_WAIT, str(others) + "_el"], stdout=subprocess.PIPE,
                              text=True)
    with open(f"{mine}_el", "ab") as own_lock, open(tmp_path / "fastdds_port7000_el", "ab") as port_lock:
        fcntl.flock(own_lock, fcntl.LOCK_EX)
        fcntl.flock(port_lock, fcntl.LOCK_EX)
        try:
            assert holder.stdout.readline().strip() == "locked"
            assert own_segments(shm_dir=tmp_path) == [mine]
            assert own_segments(shm_dir=tmp_path, pid=holder.pid) == [others]
            assert remove_own_segments(shm_dir=tmp_path) == 1
            assert not mine.exists() and not (tmp_path / f"{mine.name}_el").exists()
            assert others.exists() and nobody.exists() and (tmp_path / "fastdds_port7000").exists()
        finally:
            holder.kill()
            holder.wait()
