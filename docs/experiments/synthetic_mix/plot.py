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
Synthetic sequences beside the real ones, against the same continuation without them: mean success AUC per set.

    python docs/experiments/synthetic_mix/plot.py

Reads this folder's val_dev_synthetic_mix.json (`viltrack experiment --tune ... --restarts 5`) and
fresh_synthetic_mix.json (`docs/experiments/peer_gap/fresh_set.py`); the start weights, the frozen control and
NanoTrack come from ../stem_trained/ and ../peer_gap/ (the same machine, the same protocol). Writes synthetic_mix.png.
"""
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "stem_trained"))
from plot import SETS, bar_chart, continuation_bars  # noqa: E402


def main() -> None:
    val_dev = json.loads((HERE / "val_dev_synthetic_mix.json").read_text())["settings"]["defaults"]
    fresh = json.loads((HERE / "fresh_synthetic_mix.json").read_text())["scores"]
    bars = continuation_bars("continued, 100 synthetic sequences added", val_dev, fresh)
    bar_chart(bars, SETS, "Synthetic sequences beside the real ones (640 steps, stem frozen) against the same "
              "without them", HERE / "synthetic_mix.png")


if __name__ == "__main__":
    main()
