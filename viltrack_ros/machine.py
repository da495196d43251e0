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
Describe the CPU that a measurement ran on, as records and model cards name it.

``platform.processor()`` is empty on Linux, so records said only ``x86_64``. That is not enough: the trackers'
last bits follow the CPU's vector instructions (onnxruntime and OpenCV choose their kernels by them), and one
near-tie decided differently moves a held-out sequence by 0.3. The same code, packages and weights gave held-out
success AUC 0.566 on one machine and 0.540 on an AMD EPYC with AVX-512; a record that names the CPU says which.
"""
from __future__ import annotations

import platform
from pathlib import Path

# Widest first: the first one the CPU has names its vector level.
_VECTOR_LEVELS = (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"), ("sse4_2", "SSE4.2"), ("asimd", "NEON"))


def cpu_description(cpuinfo: str | None = None) -> str:
    """
    Return the CPU's model name, architecture and widest vector instruction set, e.g. ``AMD EPYC, x86_64, AVX-512``.

    ``cpuinfo`` is the text of ``/proc/cpuinfo`` (read when not given); where there is none (not Linux) the
    description falls back to what ``platform`` knows.
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    model = flags = ""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if not model and key in ("model name", "cpu model", "hardware"):
            model = value.strip()
        elif not flags and key in ("flags", "features"):
            flags = value
    available = set(flags.split())
    level = next((name for flag, name in _VECTOR_LEVELS if flag in available), "")
    parts = [model or platform.processor(), platform.machine(), level]
    return ", ".join(part for part in parts if part)
