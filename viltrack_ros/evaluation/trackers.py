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
"""Trackers under one small interface for evaluation: ours (``ViLTracker``) and OpenCV's CSRT and KCF."""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
from viltrack_ros.log import get_logger
from viltrack_ros.model.nanotrack_stem import NANOTRACK_FILES, nanotrack_folders

LOGGER = get_logger(__name__)


class EvaluatedTracker(Protocol):
    """
    ``init`` on the first frame, then ``update`` per frame: a box ``(x, y, w, h)`` or None for no box.

    A tracker with ``takes_frames_elapsed`` true is also told, as ``update(image, frames_elapsed=N)``, how many
    camera frames passed since its last update (N > 1 on a sequence of every N-th frame), as the ROS node tells ours
    from the middleware's sequence numbers when it drops frames. Peers are not told: they have no use for it.
    """

    name: str

    def init(self, image_rgb: np.ndarray, box: np.ndarray) -> None: ...

    def update(self, image_rgb: np.ndarray) -> np.ndarray | None: ...


_OPENCV_FACTORIES = {"CSRT": "TrackerCSRT_create", "KCF": "TrackerKCF_create"}


def opencv_tracker_factory(kind: str):
    """
    Return the constructor of OpenCV tracker ``kind`` (``CSRT`` or ``KCF``).

    ``cv2.Tracker*_create`` in current opencv-contrib, ``cv2.legacy.Tracker*_create`` where only the legacy API
    has it.
    """
    kind = kind.upper()
    if kind not in _OPENCV_FACTORIES:
        raise ValueError(f"unknown OpenCV tracker {kind!r}; expected one of {', '.join(_OPENCV_FACTORIES)}")
    name = _OPENCV_FACTORIES[kind]
    for module in (cv2, getattr(cv2, "legacy", None)):
        factory = getattr(module, name, None) if module is not None else None
        if factory is not None:
            return factory
    raise RuntimeError(f"OpenCV {cv2.__version__} has no {name}: install opencv-contrib-python(-headless)")


def opencv_rect(box) -> tuple[int, int, int, int]:
    """
    Round ``box`` to the integer rectangle that OpenCV trackers' init takes.

    Rounding moves it by at most half a pixel.
    """
    x, y, w, h = (float(v) for v in box)
    return int(round(x)), int(round(y)), max(int(round(w)), 1), max(int(round(h)), 1)


class OpenCVTracker:
    """
    An OpenCV tracker fed BGR frames.

    When OpenCV reports failure (``ok`` False; KCF then returns ``(0, 0, 0, 0)`` and, in practice, never recovers)
    the frame gets no box and is scored IoU 0: that is what a user of the tracker receives. With
    ``hold_last_box`` the last successful box is reported instead (named ``<KIND>+hold``), the policy our tracker
    follows while its target is lost, for a like-for-like comparison.
    """

    def __init__(self, kind: str, hold_last_box: bool = False):
        self.kind = kind.upper()
        self.hold_last_box = hold_last_box
        self.name = f"{self.kind}+hold" if hold_last_box else self.kind
        self._factory = opencv_tracker_factory(kind)
        self._tracker = None
        self._last_box: np.ndarray | None = None

    def init(self, image_rgb: np.ndarray, box: np.ndarray) -> None:
        self._tracker = self._factory()
        rect = opencv_rect(box)
        self._tracker.init(cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR), rect)
        self._last_box = np.asarray(rect, dtype=np.float64)

    def update(self, image_rgb: np.ndarray) -> np.ndarray | None:
        ok, rect = self._tracker.update(cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR))
        if ok:
            self._last_box = np.asarray(rect, dtype=np.float64)
            return self._last_box
        return self._last_box if self.hold_last_box else None


def find_nanotrack(folder: str | Path | None = None) -> tuple[Path | None, str]:
    """
    Find NanoTrack v2's two ONNX files.

    Returns ``(folder, "")`` when they are in ``folder`` (default: ``../shared/models/nanotrack_v2``, or
    ``$VILTRACK_NANOTRACK_DIR``), else ``(None, reason)`` for a printed skip.
    """
    candidates = nanotrack_folders(folder)
    found = next((c for c in candidates if all((c / name).is_file() for name in NANOTRACK_FILES)), None)
    if found is None:
        missing = [name for name in NANOTRACK_FILES if not (candidates[0] / name).is_file()]
        places = " or ".join(str(c) for c in candidates)
        return None, f"NanoTrack v2 skipped: {', '.join(missing)} not found in {places} (pass --nanotrack DIR)"
    if not hasattr(cv2, "TrackerNano_create"):
        return None, f"NanoTrack v2 skipped: OpenCV {cv2.__version__} has no TrackerNano"
    return found, ""


class NanoTrackTracker:
    """
    NanoTrack v2 (ONNX, Apache-2.0) in OpenCV's ``TrackerNano``: the peer a user would pick instead.

    Like the OpenCV trackers above, a frame where it reports failure gets no box (scored IoU 0).
    """

    name = "NanoTrack v2"

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self._tracker = None

    def _create(self):
        params = cv2.TrackerNano_Params()
        params.backbone = str(self.folder / NANOTRACK_FILES[0])
        params.neckhead = str(self.folder / NANOTRACK_FILES[1])
        # OpenCV warns on every creation that its DNN target setting does not apply to this CPU build: noise in
        # a benchmark's output, so its log level is raised for the call and put back.
        level = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
        try:
            return cv2.TrackerNano_create(params)
        finally:
            cv2.utils.logging.setLogLevel(level)

    def init(self, image_rgb: np.ndarray, box: np.ndarray) -> None:
        self._tracker = self._create()
        self._tracker.init(cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR), opencv_rect(box))

    def update(self, image_rgb: np.ndarray) -> np.ndarray | None:
        ok, rect = self._tracker.update(cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR))
        return np.asarray(rect, dtype=np.float64) if ok else None


def peer_trackers(kinds: str = "CSRT,KCF,NanoTrack", nanotrack_dir: str | Path | None = None,
                  hold_last_box: bool = False) -> tuple[list, list[str]]:
    """
    Return the reference trackers named in ``kinds`` and the printed reasons for any skipped.

    A tracker is skipped when its files are absent (NanoTrack's) or this OpenCV lacks it (CSRT and KCF are in the
    contrib build only). Unknown names raise ``ValueError``.
    """
    trackers, skipped = [], []
    for kind in (k.strip() for k in kinds.split(",") if k.strip()):
        if kind.lower() in ("nanotrack", "nano"):
            folder, reason = find_nanotrack(nanotrack_dir)
            if folder is None:
                skipped.append(reason)
            else:
                trackers.append(NanoTrackTracker(folder))
            continue
        if kind.upper() not in _OPENCV_FACTORIES:
            raise ValueError(f"unknown peer tracker {kind!r}; expected one of "
                             f"{', '.join([*_OPENCV_FACTORIES, 'NanoTrack'])}")
        try:
            opencv_tracker_factory(kind)
        except RuntimeError as error:
            skipped.append(f"{kind.upper()} skipped: {error}")
            continue
        trackers.append(OpenCVTracker(kind))
        if hold_last_box:
            trackers.append(OpenCVTracker(kind, hold_last_box=True))
    return trackers, skipped


class ViLTrackerAdapter:
    """Our tracker through its public API (``viltrack_ros.tracking.ViLTracker``)."""

    takes_frames_elapsed = True

    def __init__(self, tracker, name: str = "ViLTrack"):
        self.tracker = tracker
        self.last_tracking = False
        info = getattr(tracker, "model_info", {}) or {}
        # An untrained checkpoint must never pass for a tracker in a results table.
        self.name = name if info.get("trained", True) else f"{name} (untrained)"
        self.info = info

    @classmethod
    def from_checkpoint(cls, weights=None, device: str = "cpu", name: str = "ViLTrack",
                        settings: dict | None = None, backend: str = "auto") -> "ViLTrackerAdapter":
        """Load the tracker from a checkpoint; ``settings`` are those that differ from ``TrackerConfig``'s defaults."""
        from viltrack_ros.tracking import TrackerConfig, ViLTracker
        config = TrackerConfig.from_dict(settings or {})
        return cls(ViLTracker.from_checkpoint(weights, device=device, config=config, backend=backend), name=name)

    def init(self, image_rgb: np.ndarray, box: np.ndarray) -> None:
        self.tracker.reset()
        self.tracker.init(image_rgb, tuple(float(v) for v in box))
        self.last_tracking = False

    def update(self, image_rgb: np.ndarray, frames_elapsed: int = 1) -> np.ndarray | None:
        from viltrack_ros.tracking import TrackStatus
        box, _confidence, status = self.tracker.update(image_rgb, frames_elapsed)
        self.last_tracking = status == TrackStatus.TRACKING     # read by the evaluation's status counts
        return np.asarray(box, dtype=np.float64)


class SiameseStemBaseline:
    """The training-free Siamese baseline (``tracking.stem_baseline``): the floor any trained arm must clear."""

    def __init__(self, name: str = "Siamese EfficientNet-Lite0 (training-free)"):
        from viltrack_ros.tracking.stem_baseline import SiameseStemTracker
        self.name = name
        self.tracker = SiameseStemTracker()

    def init(self, image_rgb: np.ndarray, box: np.ndarray) -> None:
        self.tracker.init(image_rgb, box)

    def update(self, image_rgb: np.ndarray) -> np.ndarray | None:
        return self.tracker.update(image_rgb)
