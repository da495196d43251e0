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
Frames of a video file or of a folder of images, in order (the CLI and the ROS replay publisher share it).

A video may also be gzip-compressed (``.avi.gz``, as some Debian packages ship their samples). No ROS here.
"""
from __future__ import annotations

import gzip
import shutil
import tempfile
import zlib
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from .sequences import IMAGE_SUFFIXES, list_frames


class FrameSource:
    """
    Frames (BGR ``uint8``) of a video file or of the images in a folder, in frame order.

    A folder's images are in the order of the numbers in their names (``frame_2.png`` before ``frame_10.png``), as
    the evaluation reads sequences. With ``keep_depth`` a folder's 16-bit images (a thermal or 12-bit camera's PNG or
    TIFF frames) come as they are, ``uint16``, ``(H, W)`` for grey and BGR ``(H, W, 3)`` for colour, for a
    ``ValueScaling`` to read; without it OpenCV keeps their top 8 bits. No ROS here.
    """

    def __init__(self, path: str | Path, max_frames: int = 0, on_unreadable=None, keep_depth: bool = False):
        """
        Open a video or a frame folder; ``max_frames`` 0 means all.

        ``on_unreadable(path, message)``: called for a folder's image that cannot be read, which is then skipped
        (a stream goes on past one bad file); without it such an image ends the iteration with a ValueError.
        ``keep_depth``: 16-bit images come as they are (see the class).
        """
        self.path = Path(path)
        self.max_frames = max_frames
        self.on_unreadable = on_unreadable
        self.keep_depth = keep_depth
        if not self.path.exists():
            raise FileNotFoundError(f"no video or frame folder at {self.path}")
        self._decompressed_dir = None
        if self.path.is_dir():
            self._images = list_frames(self.path)
            if not self._images:
                raise ValueError(f"{self.path} holds no image files ({', '.join(IMAGE_SUFFIXES)})")
            self.fps = None
        else:
            self._images = None
            self._video = self._readable_video(self.path)
            capture = cv2.VideoCapture(str(self._video))
            if not capture.isOpened():
                raise ValueError(f"OpenCV cannot read the video {self.path}")
            fps = capture.get(cv2.CAP_PROP_FPS)
            capture.release()
            self.fps = fps if fps and np.isfinite(fps) and fps > 0 else None

    def _readable_video(self, path: Path) -> Path:
        if path.suffix != ".gz":
            return path
        # OpenCV reads files only: unpack once into a private temporary folder.
        self._decompressed_dir = tempfile.TemporaryDirectory(prefix="viltrack_video_")
        target = Path(self._decompressed_dir.name) / path.stem
        try:
            with gzip.open(path, "rb") as packed, open(target, "wb") as unpacked:
                shutil.copyfileobj(packed, unpacked)
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:   # truncated, corrupt, or not gzip at all
            self._decompressed_dir.cleanup()
            raise ValueError(f"cannot unpack the gzip-compressed video {path}: {error}") from error
        return target

    def __iter__(self) -> Iterator[np.ndarray]:
        count = 0
        if self._images is not None:
            for image_path in self._images:
                if self.max_frames and count >= self.max_frames:
                    return
                try:
                    frame = self._read_image(image_path)
                except ValueError as error:
                    if self.on_unreadable is None:
                        raise
                    self.on_unreadable(image_path, f"{error}: skipped")
                    continue
                count += 1
                yield frame
            return
        capture = cv2.VideoCapture(str(self._video))
        try:
            while not self.max_frames or count < self.max_frames:
                ok, frame = capture.read()
                if not ok:
                    return
                count += 1
                yield frame
        finally:
            capture.release()

    def _read_image(self, path: Path) -> np.ndarray:
        """Return one image of the folder (see the class); ValueError when it cannot be read."""
        if not self.keep_depth:
            frame = cv2.imread(str(path), cv2.IMREAD_COLOR)   # grayscale files -> 3 channels
        else:
            frame = cv2.imread(str(path), cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR)
        if frame is None:
            raise ValueError(f"cannot read image {path}")
        if not self.keep_depth or frame.dtype == np.uint16:
            return frame
        if frame.dtype != np.uint8:   # a 32-bit float TIFF, ...: neither a camera's frame nor readable as 8 bits
            raise ValueError(f"cannot read image {path}: {frame.dtype} pixels (8- and 16-bit images only)")
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR) if frame.ndim == 2 else frame

    @property
    def frame_count(self) -> int | None:
        """Frames this source will yield (a video's header count may be missing: None then)."""
        if self._images is not None:
            total = len(self._images)
        else:
            capture = cv2.VideoCapture(str(self._video))
            total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
            capture.release()
            if total <= 0:
                return None
        return min(total, self.max_frames) if self.max_frames else total
