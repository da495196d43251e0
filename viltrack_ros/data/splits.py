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
"""The held-out / development split of the real sequences, read from its one home ``config/data_splits.yaml``."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import yaml

from ..paths import default_sequences_root, project_root

REPO_ROOT = project_root()
DEFAULT_SPLITS_PATH = REPO_ROOT / "config" / "data_splits.yaml"
SPLIT_NAMES = ("heldout", "dev", "all")
# The real sequences live beside the project (research-use data, never committed); VILTRACK_SEQUENCES overrides.
DEFAULT_SEQUENCES_ROOT = default_sequences_root()


@dataclass(frozen=True)
class DataSplits:
    heldout: tuple[str, ...]
    dev: tuple[str, ...]

    def names(self, split: str) -> list[str]:
        """Sequence names of ``split``: ``heldout``, ``dev`` or ``all`` (both, sorted as the rule sorts them)."""
        if split == "heldout":
            return list(self.heldout)
        if split == "dev":
            return list(self.dev)
        if split == "all":
            return sorted(self.heldout + self.dev, key=str.lower)
        raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLIT_NAMES)}")

    def check_not_heldout(self, names: Iterable[str]) -> None:
        """Raise ``ValueError`` if any of ``names`` is held out: training data must never include them."""
        leaked = sorted(set(names) & set(self.heldout))
        if leaked:
            raise ValueError(f"held-out sequences must not be used for training or model selection: "
                             f"{', '.join(leaked)}")


def holdout_rule(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """
    Apply the split rule: sort case-insensitively, hold out every other name starting with the first.

    Returns ``(heldout, dev)``.
    """
    ordered = sorted(names, key=str.lower)
    return ordered[0::2], ordered[1::2]


def load_data_splits(path: str | Path | None = None) -> DataSplits:
    """Read the split file (default ``config/data_splits.yaml``) and check that the two lists are disjoint."""
    path = Path(path) if path is not None else DEFAULT_SPLITS_PATH
    if not path.is_file():
        # An installed (non-editable) package has no config/ folder: say so instead of failing obscurely.
        raise FileNotFoundError(f"split file not found: {path} (it is config/data_splits.yaml of a source "
                                f"checkout; without it, name sequences explicitly, e.g. 'viltrack eval --only')")
    with open(path, encoding="utf-8") as handle:
        content = yaml.safe_load(handle) or {}
    try:
        heldout, dev = tuple(content["heldout"]), tuple(content["dev"])
    except (KeyError, TypeError):
        raise ValueError(f"{path}: expected lists 'heldout' and 'dev'") from None
    overlap = sorted(set(heldout) & set(dev))
    if overlap:
        raise ValueError(f"{path}: sequences in both 'heldout' and 'dev': {', '.join(overlap)}")
    return DataSplits(heldout=heldout, dev=dev)
