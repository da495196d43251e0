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
Per-sequence means of several `viltrack experiment --tune ... --restarts N` runs, side by side.

The means are over the start frames; the mean of val and dev is added: the table of this folder's README.

    python docs/experiments/weight_average/compare.py NAME=outputs/.../tuning.json NAME=PATH#ROW ...

Each run's row is its ``defaults`` settings unless ``#ROW`` names another (a row label of that tuning.json).
"""
import argparse
import json
from collections import defaultdict

from viltrack_ros.data.sequences import source_sequence_name


def per_sequence_means(per_start: dict[str, float]) -> dict[str, float]:
    groups = defaultdict(list)
    for name, auc in per_start.items():
        groups[source_sequence_name(name)].append(auc)
    return {name: sum(v) / len(v) for name, v in groups.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("runs", nargs="+", help="NAME=tuning.json or NAME=tuning.json#ROW")
    args = parser.parse_args()
    runs = {}
    for item in args.runs:
        name, path = item.split("=", 1)
        path, _, row = path.partition("#")
        runs[name] = json.load(open(path))["settings"][row or "defaults"]
    names = list(runs)
    print("| sequence | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for split in ("val", "dev"):
        means = {n: per_sequence_means(runs[n][split]["per_sequence"]) for n in names}
        for sequence in means[names[0]]:
            print(f"| {sequence} ({split}) | " + " | ".join(f"{means[n][sequence]:.3f}" for n in names) + " |")
    for split in ("val", "dev"):
        print(f"| **{split} AUC** | " + " | ".join(f"**{runs[n][split]['auc']:.3f}**" for n in names) + " |")
    print("| **mean of val and dev** | " + " | ".join(
        f"**{(runs[n]['val']['auc'] + runs[n]['dev']['auc']) / 2:.4f}**" for n in names) + " |")


if __name__ == "__main__":
    main()
