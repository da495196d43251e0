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
An online discriminative model of one target, learnt while tracking.

It is in the spirit of ATOM/DiMP's online classifier, with closed-form ridge regression instead of their steepest
descent.

The network matches a template; it cannot know which of several look-alikes in the search region is *this* target,
because it never saw the others. This model can: a small linear filter over the search crop's features, fitted so
that it answers 1 at the target's cell and 0 everywhere else in the crop, including on the other people, cars or
birds standing next to it. It is fitted at init on the first frame's crops and refitted on confident frames, so
what it learns to reject is exactly what the target is confused with.

Plain numpy on a ``(C, g, g)`` feature map of a few hundred cells. Knows arrays, not images, networks or ROS.
"""
from __future__ import annotations

import contextlib

import numpy as np

try:
    from threadpoolctl import ThreadpoolController
except ImportError:           # only a matter of speed: see _single_threaded_blas
    ThreadpoolController = None

_blas_controller = None


def _single_threaded_blas():
    """
    Return a context in which numpy's BLAS runs on the calling thread.

    These matrices are small (a 289 x 289 solve), and OpenBLAS's worker threads keep spinning after a call: beside
    PyTorch's own threads on 2 cores that made a frame of the torch backend 4x slower (87 ms against 19 ms), and
    onnxruntime's 1 ms slower.
    """
    global _blas_controller
    if ThreadpoolController is None:
        return contextlib.nullcontext()
    if _blas_controller is None:          # created at first use, after the libraries it limits are loaded
        _blas_controller = ThreadpoolController()
    return _blas_controller.limit(limits=1, user_api="blas")


def _unit_cells(features: np.ndarray) -> np.ndarray:
    """
    Return every cell's channel vector, of unit length: ``(N, C, g, g)`` -> ``(N*g*g, C)``.

    Unit length puts the cells in cosine space: the filter responds to a cell's pattern, not to how bright or textured
    the crop is.
    """
    features = features.astype(np.float32)
    norm = np.sqrt((features ** 2).sum(axis=1, keepdims=True))
    unit = features / np.maximum(norm, 1e-6)
    return unit.transpose(0, 2, 3, 1).reshape(-1, unit.shape[1])


def _patches(features: np.ndarray, kernel: int) -> np.ndarray:
    """
    Return each cell's k x k neighbourhood (zero outside the map) and a constant 1 for the bias.

    ``(N, D, g, g)`` -> ``(N, g*g, D*k*k + 1)``.
    """
    n, d, g, _ = features.shape
    pad = kernel // 2
    padded = np.pad(features, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    columns = [padded[:, :, dy:dy + g, dx:dx + g] for dy in range(kernel) for dx in range(kernel)]
    stacked = np.stack(columns, axis=2).reshape(n, d * kernel * kernel, g * g).transpose(0, 2, 1)
    return np.concatenate([stacked, np.ones((n, g * g, 1), dtype=stacked.dtype)], axis=2)


def gaussian_label(grid: int, centre: tuple[float, float], sigma: float) -> np.ndarray:
    """``(g, g)`` Gaussian at ``centre`` = (x, y) in cell units (cell c spans [c, c+1))."""
    cells = np.arange(grid, dtype=np.float32) + 0.5
    x, y = centre
    return (np.exp(-((cells[None, :] - x) ** 2) / (2 * sigma ** 2))
            * np.exp(-((cells[:, None] - y) ** 2) / (2 * sigma ** 2))).astype(np.float32)


class TargetClassifier:
    """
    An online classifier of one target, fitted on the first frame and updated on confident frames.

    Fit with :meth:`fit` on the first frame's crops, :meth:`score` a crop, then :meth:`learn` from that crop if
    the frame was confident.

    ``components``: channels kept after projecting onto the first frame's principal components (fewer unknowns, so a
    frame of a hundred cells constrains the filter); ``kernel``: the filter's side in cells; ``regularisation``:
    ridge weight, against the Gram matrix of one frame's cells; ``learning_rate``: share of each confident frame in
    the running statistics; ``first_frame_weight``: share the first frame's statistics always keep (a model that
    learns only from its own answers drifts with them); ``label_sigma``: the label's width as a share of the target's
    size. The defaults were chosen on val and dev (``docs/experiments/tuning/target_classifier/``: none of them
    changed alone did better).
    """

    def __init__(self, components: int = 32, kernel: int = 3, regularisation: float = 0.1,
                 learning_rate: float = 0.1, first_frame_weight: float = 0.5, label_sigma: float = 0.25):
        self.components = components
        self.kernel = kernel
        self.regularisation = regularisation
        self.learning_rate = learning_rate
        self.first_frame_weight = first_frame_weight
        self.label_sigma = label_sigma
        self._mean = self._basis = None
        self._grid = 0                       # cells per side of the feature maps, set by fit()
        self._first = self._running = None   # (gram, correlation) statistics
        self._scored: np.ndarray | None = None   # the last scored crop's patches, which learn() reuses
        self.filter: np.ndarray | None = None

    def _crop_patches(self, features: np.ndarray, cells: np.ndarray | None = None) -> np.ndarray:
        """
        Return what the filter weighs: each cell's neighbourhood projected on the first frame's principal components.

        ``(N, C, g, g)`` -> ``(N, g*g, P)``. ``cells``: ``_unit_cells(features)`` when already at hand.
        """
        n, _, g, _ = features.shape
        cells = _unit_cells(features) if cells is None else cells
        projected = ((cells - self._mean) @ self._basis).reshape(n, g, g, -1).transpose(0, 3, 1, 2)
        return _patches(projected, self.kernel)

    def _statistics(self, patches: np.ndarray, boxes: np.ndarray):
        """Gram matrix and label correlation of ``patches (N, g*g, P)`` with the target at ``boxes (N, 4)``."""
        n, g = len(patches), self._grid
        labels = np.stack([gaussian_label(g, (cx * g, cy * g), max(0.5, self.label_sigma * float(np.sqrt(w * h)) * g))
                           for cx, cy, w, h in boxes]).reshape(n, -1)
        rows, flat_labels = patches.reshape(-1, patches.shape[-1]), labels.reshape(-1)
        gram = rows.T @ rows / n
        correlation = rows.T @ flat_labels / n
        return gram, correlation

    def fit(self, features: np.ndarray, boxes: np.ndarray) -> None:
        """
        Fit the classifier on the first frame's crops.

        ``features (N, C, g, g)``: crops of the first frame; ``boxes (N, 4)``: the target in each, normalised
        ``(cx, cy, w, h)`` (fractions of the crop).
        """
        with _single_threaded_blas():
            self._fit(features, boxes)

    def _fit(self, features: np.ndarray, boxes: np.ndarray) -> None:
        cells = _unit_cells(features)
        self._grid = features.shape[-1]
        self._mean = cells.mean(axis=0)
        _, _, vt = np.linalg.svd(cells - self._mean, full_matrices=False)
        self._basis = vt[:min(self.components, vt.shape[0])].T.astype(np.float32)
        self._first = self._running = self._statistics(self._crop_patches(features, cells),
                                                       np.asarray(boxes, dtype=np.float32))
        self._solve()

    def learn(self, box) -> None:
        """
        Learn from the crop :meth:`score` read last (a confident frame).

        The target is at ``box``, normalised ``(cx, cy, w, h)`` in it. The crop's projection is not computed again.
        """
        if self._scored is None:
            raise RuntimeError("learn() learns from the crop score() read last: score a crop first")
        with _single_threaded_blas():
            self._learn(box)

    def _learn(self, box) -> None:
        gram, correlation = self._statistics(self._scored, np.asarray(box, dtype=np.float32)[None])
        rate = self.learning_rate
        self._running = ((1 - rate) * self._running[0] + rate * gram,
                         (1 - rate) * self._running[1] + rate * correlation)
        self._solve()

    def _solve(self) -> None:
        keep = self.first_frame_weight
        gram = keep * self._first[0] + (1 - keep) * self._running[0]
        correlation = keep * self._first[1] + (1 - keep) * self._running[1]
        ridge = self.regularisation * np.eye(len(gram), dtype=gram.dtype)
        self.filter = np.linalg.solve(gram + ridge, correlation).astype(np.float32)

    def score(self, features: np.ndarray) -> np.ndarray:
        """``(C, g, g)`` -> ``(g, g)``: about 1 on the target, about 0 elsewhere (the crop is kept for learn())."""
        g = features.shape[-1]
        with _single_threaded_blas():
            self._scored = self._crop_patches(features[None])
            return (self._scored[0] @ self.filter).reshape(g, g)
