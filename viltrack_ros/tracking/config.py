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
"""Tracker settings: the one home of their names, defaults, ranges and meaning (the ROS node maps onto it)."""
from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from ..model.inputs import SEARCH_FACTOR, TEMPLATE_FACTOR
from ..settings import dataclass_from_dict


def _setting(default, description: str, low=None, high=None):
    return field(default=default, metadata={"description": description, "low": low, "high": high})


@dataclass(frozen=True)
class TrackerConfig:
    # Defaults: the crop geometry the network was trained with (model.inputs).
    # Bounded near the geometry the network was trained on (search crops of 4 box sizes times e^+-0.25, so 3.1-5.1;
    # templates of exactly 2): a target filling much more of its crop than ever in training is sized smaller every
    # frame, and at search_factor 1.5 or 2 a box shrank to a few pixels and never recovered (measured on vtest.avi).
    template_factor: float = _setting(TEMPLATE_FACTOR, "template crop side as a multiple of sqrt(w*h) of the target "
                                      "box (the network was trained at 2)", 1.5, 3.0)
    search_factor: float = _setting(SEARCH_FACTOR, "search crop side as a multiple of sqrt(w*h) of the previous box "
                                    "(the network was trained at 4, scaled by up to e^0.25 either way)", 3.0, 6.0)
    # Mixed additively, (1 - w) x score + w x window, so w = 1 would leave the window alone to pick the cell (always
    # the centre, whatever the network says): bounded below 1.
    window_influence: float = _setting(
        0.5, "weight of the Hann-window motion prior when picking the peak: (1 - w) x score + w x window (0 = none)",
        0.0, 0.95)
    # The search sent ahead after missed frames is centred on a guess whose error grows with the frames missed; a
    # window as strong as after one frame kept the box near that guess and off the target (val / dev, 5 starts,
    # every 3rd frame 0.583 / 0.534 at 0.5, 0.629 / 0.566 at 0.1; every 5th 0.498 / 0.338 -> 0.556 / 0.477).
    # Lower still gained more but said TRACKING on look-alikes (docs/experiments/missed_frames/).
    missed_frames_window_influence: float = _setting(
        0.1, "window_influence on an update after missed camera frames (with missed_frames_prediction): the search "
        "region went ahead by a guess that grows less sure with every frame missed, so the window centred on it "
        "weighs less; an update that follows the one before it uses window_influence", 0.0, 0.95)
    motion_prediction: float = _setting(
        0.0, "share of the target's expected motion since the last update (its smoothed velocity per camera frame, "
        "learnt while TRACKING, forgotten when LOST, times the frames since the last update) by which the search "
        "region and its window are moved ahead of the last box (0 = centred on the last box)", 0.0, 2.0)
    missed_frames_prediction: bool = _setting(
        True, "when camera frames were missed since the last update (a busy CPU, a node dropping frames: the caller "
        "says how many), move the search region ahead by the target's whole expected motion over them (as "
        "motion_prediction 1 would), for up to 5 frames; an update that follows the one before it is untouched")
    fast_motion_threshold: float = _setting(
        0.3, "expected motion since the last update, in target sizes (sqrt(w*h)), above which the search region "
        "moves ahead by all of it even when no frame was missed: a fast target, or a camera slower than its scene "
        "(0 = never)", 0.0, 5.0)
    camera_motion: bool = _setting(
        False, "move every box by the camera's jolts and shakes before searching: its motion between frames (optical "
        "flow on the scene outside the tracked boxes) beyond its smoothed motion, so that a steady pan, as of a "
        "camera following its target, moves nothing; for cameras that shake (legged robots, rough ground, hand-held)")
    scale_penalty: float = _setting(
        0.1, "penalty on a cell's score for the size/aspect change it predicts (SiamRPN-style; 0 = none)", 0.0, 1.0)
    size_damping: float = _setting(
        1.0, "share of a confident new size taken per frame (times penalty and confidence; 1 = all of it)",
        0.0, 1.0)
    max_scale_step: float = _setting(1.25, "largest change of the box size in one frame, as a factor", 1.0, 4.0)
    size_calibration: float = _setting(
        0.7, "how much of the ratio between the initial box and the network's own size for it (measured at init) "
        "corrects every later size: 0 = none, 1 = all of it", 0.0, 1.0)
    max_size_correction: float = _setting(2.0, "largest factor size_calibration may apply to a width or height",
                                          1.0, 4.0)
    classifier_weight: float = _setting(
        0.4, "weight of the target's own online classifier (fitted at init, refitted on confident frames) against the "
        "network's score when picking the peak: 0 = the network alone (a target started at 0 gets its classifier "
        "at its next init)", 0.0, 1.0)
    classifier_learn_threshold: float = _setting(
        0.5, "minimum network score (not the target confidence the classifier is part of) for a TRACKING frame "
        "to teach the target's classifier", 0.0, 1.0)
    lost_threshold: float = _setting(
        0.3, "target confidence (the network's score mixed with the target's classifier, as the peak is picked) "
        "below which a frame counts as low-confidence", 0.0, 1.0)
    lost_patience: int = _setting(3, "consecutive low-confidence frames before the status becomes LOST", 1, 1000)
    recover_threshold: float = _setting(0.4, "target confidence at which a LOST target is TRACKING again", 0.0, 1.0)
    hold_box_when_lost: bool = _setting(
        False, "while LOST, keep the last confident box (true) or follow the network's best peak (false; the status "
        "stays LOST until the confidence reaches recover_threshold)")
    online_template_update: bool = _setting(
        True, "replace the online template with a confident recent crop (MixFormer-style; models with 2 templates)")
    update_threshold: float = _setting(0.6, "minimum network score for a crop to become the online template",
                                       0.0, 1.0)
    update_interval: int = _setting(10, "frames between online template updates", 1, 10000)

    def __post_init__(self):
        problems = []
        for f in fields(self):
            value = getattr(self, f.name)
            # numpy scalars (a value read from an array) count as the numbers they are, stored as Python's own.
            is_bool = isinstance(value, (bool, np.bool_))
            if f.type in ("float", float) or isinstance(f.default, float):
                if is_bool or not isinstance(value, numbers.Real) or not math.isfinite(value):
                    problems.append(f"{f.name} must be a finite number, got {value!r}")
                    continue
                object.__setattr__(self, f.name, value := float(value))
            elif isinstance(f.default, bool):
                if not is_bool:
                    problems.append(f"{f.name} must be true or false, got {value!r}")
                else:
                    object.__setattr__(self, f.name, bool(value))
                continue
            elif isinstance(f.default, int):
                if is_bool or not isinstance(value, numbers.Integral):
                    problems.append(f"{f.name} must be an integer, got {value!r}")
                    continue
                object.__setattr__(self, f.name, value := int(value))
            low, high = f.metadata.get("low"), f.metadata.get("high")
            if (low is not None and value < low) or (high is not None and value > high):
                problems.append(f"{f.name}={value} is outside [{low}, {high}]")
        if not problems and self.recover_threshold < self.lost_threshold:
            problems.append(f"recover_threshold ({self.recover_threshold}) must be >= lost_threshold "
                            f"({self.lost_threshold})")
        if problems:
            raise ValueError("invalid tracker config: " + "; ".join(problems))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrackerConfig":
        return dataclass_from_dict(cls, data, "tracker settings")

    @classmethod
    def describe(cls) -> dict[str, dict]:
        """Name -> {default, description, low, high}: what a parameter declaration needs."""
        return {f.name: {"default": f.default, **f.metadata} for f in fields(cls)}
