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
Run the demo-truth count with the distractor-memory prototype's patches in place.

The same environment settings as ``distractor_memory_proto.py``; ``DEBUG=1`` prints every frame's peaks:

    DEBUG=1 python docs/experiments/tried/distractor_memory_demo.py --no-peers
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "demo_truth"))
import distractor_memory_proto  # noqa: E402  (patches the tracker)
import demo_truth  # noqa: E402

if __name__ == "__main__":
    demo_truth.main()
    print("distractor memory:", distractor_memory_proto.COUNTS)
