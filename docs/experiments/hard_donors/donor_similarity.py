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
How template-like the mosaics' donors are with 8 and with 64 candidates (ArmConfig.distractor_candidates).

    source scripts/env.sh; PYTHONPATH=$PWD:$PYTHONPATH python docs/experiments/hard_donors/donor_similarity.py

Reads the cached training pairs and stem features of `config/train/hard_donors.yaml` (built by its first run), draws
the same 2000 random template rows for each setting and prints the cosine similarity (pooled stem features, what
`ArmInputs._hard_donor` ranks by) of the template with the chosen donor's template, how many donors came from the
template's own video (a sibling sub-sequence: the same object, labelled a distractor), and the most frequent
(template sequence -> donor sequence) pairs: names only, the crops are research-use frames and stay in ../shared.
Each setting twice: with the sequence name as the video (before `data.precropped.source_video`) and as now.
"""
from collections import Counter
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import yaml

from viltrack_ros.data.precropped import default_train_root, source_video
from viltrack_ros.model.network import ViLTrackNet
from viltrack_ros.settings import dataclass_from_dict
from viltrack_ros.training.experiment import ArmConfig, ArmInputs
from viltrack_ros.training.pair_cache import MIRROR_SUFFIX, PairCacheSpec, build_pair_cache

REPO = Path(__file__).resolve().parents[3]


def main() -> None:
    config = yaml.safe_load((REPO / "config/train/hard_donors.yaml").read_text())
    spec = dataclass_from_dict(PairCacheSpec, config["pairs"], "pair cache settings")
    cache = build_pair_cache(default_train_root(), spec, REPO / config["cache_dir"])
    arm = dataclass_from_dict(ArmConfig, config["arms"][0], "arm settings")
    inputs = ArmInputs(ViLTrackNet(arm.model_config()), cache, REPO / config["cache_dir"], spec.key(),
                       spec.template_factor)
    pooled = F.normalize(inputs.templates.float().mean((2, 3)), dim=1)
    names = np.asarray(cache.sequence_names)[cache.sequence_index]
    rows = np.random.default_rng(0).integers(len(cache), size=2000)
    print(f"{len(rows)} random template rows of {len(cache)} cached frames ({len(cache.sequence_names)} sequences)")
    videos = {"sequence name (before)": np.unique(
                  [n.removesuffix(MIRROR_SUFFIX) for n in cache.sequence_names], return_inverse=True)[1],
              "source video (now)": np.unique(
                  [source_video(n.removesuffix(MIRROR_SUFFIX)) for n in cache.sequence_names], return_inverse=True)[1]}
    own_video = np.asarray([source_video(n.removesuffix(MIRROR_SUFFIX)) for n in cache.sequence_names]
                           )[cache.sequence_index]
    print("| other video by | candidates | mean cosine, template and donor | median | share >= 0.8 | "
          "donors of the template's own video | distinct donor sequences |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    pairs = {}
    for grouping, video_of_sequence in videos.items():
        cache.__dict__["video_of_row"] = video_of_sequence[cache.sequence_index]   # what _hard_donor reads
        for candidates in (1, 8, 64):
            rng = np.random.default_rng(1)
            donors = [inputs._hard_donor(int(row), candidates, rng) for row in rows]
            kept = [(int(row), d[0]) for row, d in zip(rows, donors) if d is not None]
            cosine = torch.stack([pooled[t] @ pooled[d] for t, d in kept]).numpy()
            same = np.mean([own_video[t] == own_video[d] for t, d in kept])
            pairs[grouping, candidates] = Counter((names[t], names[d]) for t, d in kept)
            print(f"| {grouping} | {candidates} | {cosine.mean():.3f} | {np.median(cosine):.3f} | "
                  f"{(cosine >= 0.8).mean():.0%} | {same:.1%} | {len({names[d] for _, d in kept})} |")
    for key in ((g, c) for g in videos for c in (8, 64)):
        print(f"\nmost frequent template -> donor sequences, other video by {key[0]}, {key[1]} candidates:")
        for (template, donor), count in pairs[key].most_common(8):
            print(f"  {count:3d}  {template} -> {donor}")


if __name__ == "__main__":
    main()
