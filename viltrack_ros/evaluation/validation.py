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
"""Validation during training: success AUC on the development sequences (never the held-out ones)."""
from __future__ import annotations

import copy
from pathlib import Path

from ..data.sequences import load_sequence_folders
from ..data.splits import load_data_splits
from .runner import evaluate
from .trackers import ViLTrackerAdapter
from viltrack_ros.log import get_logger

LOGGER = get_logger(__name__)


def dev_auc_validator(sequences_root: str | Path, frames_per_sequence: int = 60):
    """
    Return a function ``model -> mean dev AUC`` over the first ``frames_per_sequence`` frames of each dev sequence.

    Returns None (no validation) when the sequences are not on this machine.
    """
    if not Path(sequences_root).is_dir():
        LOGGER.warning("no sequences at %s: training runs without dev validation", sequences_root)
        return None
    splits = load_data_splits()
    sequences = load_sequence_folders(sequences_root, names=splits.dev)
    splits.check_not_heldout(s.name for s in sequences)

    def validate(model) -> float:
        from ..tracking import ViLTracker
        # A copy in eval mode: the training model's FiLM state and train/eval mode stay untouched.
        tracker = ViLTracker(copy.deepcopy(model).eval(), device=str(next(model.parameters()).device))
        report = evaluate([ViLTrackerAdapter(tracker)], sequences, max_frames=frames_per_sequence, progress=False)
        return float(report.means["ViLTrack"].auc)

    return validate
