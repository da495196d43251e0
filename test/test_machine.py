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
"""The CPU description that records and model cards carry (the trackers' last bits follow the CPU)."""
import platform

from viltrack_ros.machine import cpu_description

INTEL_AVX2 = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Core(TM) i7-8550U CPU @ 1.80GHz
flags\t\t: fpu vme sse4_2 avx avx2 fma

processor\t: 1
model name\t: Intel(R) Core(TM) i7-8550U CPU @ 1.80GHz
flags\t\t: fpu vme sse4_2 avx avx2 fma
"""


def test_names_the_model_and_the_widest_vector_level_once():
    assert cpu_description(INTEL_AVX2) == f"Intel(R) Core(TM) i7-8550U CPU @ 1.80GHz, {platform.machine()}, AVX2"
    with_512 = INTEL_AVX2.replace("avx2 fma", "avx2 avx512f avx512bw fma")
    assert cpu_description(with_512).endswith("AVX-512")


def test_an_arm_board_and_no_cpuinfo_still_give_a_description():
    assert cpu_description("Hardware\t: BCM2835\nFeatures\t: fp asimd evtstrm\n").startswith("BCM2835")
    assert "NEON" in cpu_description("Features\t: fp asimd\n")
    assert cpu_description("") == ", ".join(p for p in (platform.processor(), platform.machine()) if p)


def test_this_machine_is_described():
    description = cpu_description()
    assert platform.machine() in description and description.strip(", ") == description
