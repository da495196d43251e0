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
"""Message stamps (``builtin_interfaces/Time``) as dictionary keys and as text, for the node and the demo alike."""
from __future__ import annotations


def stamp_key(stamp) -> tuple[int, int]:
    """Return a stamp as ``(sec, nanosec)``: comparable, hashable, and exact."""
    return int(stamp.sec), int(stamp.nanosec)


def stamp_nanoseconds(stamp) -> int:
    """Return a ``(sec, nanosec)`` stamp as integer nanoseconds (exact: a float of epoch seconds is not)."""
    sec, nanosec = stamp
    return sec * 1_000_000_000 + nanosec


def stamp_text(stamp) -> str:
    """
    Write a stamp (``builtin_interfaces/Time``, or a ``(sec, nanosec)`` pair) as seconds with 9 decimals, exactly.

    A nanosec field of 1e9 or more (malformed, but a message may carry it) carries into the seconds instead of
    printing as ten or more digits after the point. Integer arithmetic: a float of today's epoch seconds keeps only
    about 7 of the 9 decimals.
    """
    sec, nanosec = stamp if isinstance(stamp, tuple) else (stamp.sec, stamp.nanosec)
    extra, nanosec = divmod(nanosec, 1_000_000_000)
    return f"{sec + extra}.{nanosec:09d}"
