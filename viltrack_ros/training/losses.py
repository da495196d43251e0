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
Tracking losses: focal loss on a Gaussian centre heatmap + GIoU + L1 on the box read at the true centre.

The standard OSTrack recipe (weights focal 1, GIoU 2, L1 5). Boxes are normalised ``(cx, cy, w, h)`` in
the search crop.
"""
from __future__ import annotations

import math

import torch


def box_cxcywh_to_xyxy(boxes: torch.Tensor) -> torch.Tensor:
    cx, cy, w, h = boxes.unbind(-1)
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1)


def giou_loss(pred_xyxy: torch.Tensor, target_xyxy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-box ``(1 - GIoU, IoU)`` for ``(N, 4)`` boxes."""
    area_p = (pred_xyxy[:, 2] - pred_xyxy[:, 0]).clamp(min=0) * (pred_xyxy[:, 3] - pred_xyxy[:, 1]).clamp(min=0)
    area_t = (target_xyxy[:, 2] - target_xyxy[:, 0]).clamp(min=0) * (target_xyxy[:, 3] - target_xyxy[:, 1]).clamp(min=0)
    lt = torch.maximum(pred_xyxy[:, :2], target_xyxy[:, :2])
    rb = torch.minimum(pred_xyxy[:, 2:], target_xyxy[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(dim=1)
    union = area_p + area_t - inter
    iou = inter / union.clamp(min=1e-7)
    enclose = (torch.maximum(pred_xyxy[:, 2:], target_xyxy[:, 2:])
               - torch.minimum(pred_xyxy[:, :2], target_xyxy[:, :2])).clamp(min=0).prod(dim=1)
    giou = iou - (enclose - union) / enclose.clamp(min=1e-7)
    return 1.0 - giou, iou


def gaussian_heatmap(boxes: torch.Tensor, grid: int, visible: torch.Tensor | None = None) -> torch.Tensor:
    """
    ``(N, 4)`` normalised boxes -> ``(N, 1, grid, grid)`` Gaussian centred on each box's cell.

    The spread follows the box size (a large target tolerates a less exact peak), at least half a cell.
    """
    coords = (torch.arange(grid, device=boxes.device, dtype=boxes.dtype) + 0.5) / grid
    cx, cy, w, h = boxes.unbind(-1)
    sigma_x = (w / 6).clamp(min=0.5 / grid)
    sigma_y = (h / 6).clamp(min=0.5 / grid)
    gx = torch.exp(-((coords[None, :] - cx[:, None]) ** 2) / (2 * sigma_x[:, None] ** 2))
    gy = torch.exp(-((coords[None, :] - cy[:, None]) ** 2) / (2 * sigma_y[:, None] ** 2))
    heat = gy[:, :, None] * gx[:, None, :]
    # The cell that contains the centre is the one positive (value exactly 1), as CenterNet's focal loss needs.
    col = (cx * grid).long().clamp(0, grid - 1)
    row = (cy * grid).long().clamp(0, grid - 1)
    heat[torch.arange(len(boxes)), row, col] = 1.0
    if visible is not None:
        heat = heat * visible.to(heat.dtype)[:, None, None]
    return heat.unsqueeze(1)


def focal_loss(logits: torch.Tensor, heatmap: torch.Tensor, alpha: float = 2.0, beta: float = 4.0) -> torch.Tensor:
    """Compute the CenterNet focal loss, normalised by the number of positives (at least 1)."""
    prob = torch.sigmoid(logits.float()).clamp(1e-4, 1 - 1e-4)
    positive = heatmap.eq(1).float()
    negative = 1.0 - positive
    pos_loss = torch.log(prob) * (1 - prob) ** alpha * positive
    neg_loss = torch.log(1 - prob) * prob ** alpha * (1 - heatmap) ** beta * negative
    num_pos = positive.sum().clamp(min=1.0)
    return -(pos_loss.sum() + neg_loss.sum()) / num_pos


# What the score map can learn (tracking_loss's score_target); the experiment tool checks its configs against it.
SCORE_TARGETS = ("centre", "box_iou")


def quality_focal_loss(logits: torch.Tensor, heatmap: torch.Tensor, quality: torch.Tensor, trained: torch.Tensor,
                       num_targets: int, alpha: float = 2.0, beta: float = 4.0) -> torch.Tensor:
    """
    Compute GFL's quality focal loss, which trains an IoU-aware score.

    At the ``trained`` cells (those whose box is regressed) the score's target is ``quality``, the IoU of that
    cell's box with the truth; elsewhere the CenterNet negatives of :func:`focal_loss` (down-weighted near the
    centre by ``heatmap``). Normalised by ``num_targets`` (at least 1).
    """
    prob = torch.sigmoid(logits.float()).clamp(1e-4, 1 - 1e-4)
    trained = trained.float()
    soft = (quality * torch.log(prob) + (1 - quality) * torch.log(1 - prob)) * (quality - prob).abs() ** alpha
    neg_loss = torch.log(1 - prob) * prob ** alpha * (1 - heatmap) ** beta
    return -((soft * trained).sum() + (neg_loss * (1 - trained)).sum()) / max(num_targets, 1)


def tracking_loss(outputs: dict[str, torch.Tensor], boxes: torch.Tensor, visible: torch.Tensor,
                  weights: dict[str, float] | None = None, offset_reach: float = 0.0,
                  neighbour_weight: float = 1.0, score_target: str = "centre") -> tuple[torch.Tensor, dict[str, float]]:
    """
    Return the tracking loss of a batch of head maps and the values of its terms.

    ``outputs``: head maps with a flat batch ``(N, C, g, g)``; ``boxes (N, 4)``; ``visible (N,)`` bool.

    The box is read and regressed at the true centre's cell and, for a head whose offsets reach ``offset_reach``
    cells past their own (``ModelConfig.offset_reach``), also at every other cell of the map whose offsets can place
    the true centre: with a reach of 1 the 3x3 cells around it; with 0.5 the 2x2 block on the side the centre is
    nearer to (YOLOv5's assignment). Each neighbour's box counts ``neighbour_weight`` times the centre cell's.

    ``score_target``: "centre", the score map peaks at the true centre's cell (CenterNet's focal loss on a Gaussian);
    "box_iou", at each cell whose box is regressed it learns that box's IoU with the truth
    (:func:`quality_focal_loss`), so its peak marks the best box rather than the centre.
    """
    if score_target not in SCORE_TARGETS:
        raise ValueError(f"score_target must be one of {SCORE_TARGETS}, not {score_target!r}")
    weights = {"focal": 1.0, "giou": 2.0, "l1": 5.0, **(weights or {})}
    logits, offset, size = outputs["score_logits"], outputs["offset"].float(), outputs["size"].float()
    grid = logits.shape[-1]
    boxes = boxes.float().clamp(0.0, 1.0)
    heat = gaussian_heatmap(boxes, grid, visible)
    box_terms: tuple[torch.Tensor, ...] = ()
    stats = {"focal": 0.0}   # (set below; first, as the training logs' columns are ordered)
    regressed = None   # (sample, row, col) of every cell whose box is regressed, and that box's IoU
    if visible.any():
        b = boxes[visible]
        centre_col = (b[:, 0] * grid).long().clamp(0, grid - 1)
        centre_row = (b[:, 1] * grid).long().clamp(0, grid - 1)
        idx = torch.arange(len(b), device=b.device)
        sample = visible.nonzero()[:, 0]
        offset, size = offset[visible], size[visible]
        # The centre's cell first, so its reads are the first len(b) rows below; then the neighbours inside the map.
        neighbourhood = math.ceil(offset_reach)
        steps = range(-neighbourhood, neighbourhood + 1)
        cells = [(0, 0)] + [(d_row, d_col) for d_row in steps for d_col in steps if (d_row, d_col) != (0, 0)]
        preds, targets, places = [], [], []
        for d_row, d_col in cells:
            row, col = centre_row + d_row, centre_col + d_col
            inside = (row >= 0) & (row < grid) & (col >= 0) & (col < grid)
            # The offsets this cell would need; a cell whose offsets cannot hold them is not trained on the box.
            need_x, need_y = b[:, 0] * grid - col, b[:, 1] * grid - row
            inside &= ((need_x >= -offset_reach) & (need_x <= 1 + offset_reach)
                       & (need_y >= -offset_reach) & (need_y <= 1 + offset_reach))
            row, col = row.clamp(0, grid - 1), col.clamp(0, grid - 1)
            off, wh = offset[idx, :, row, col], size[idx, :, row, col]
            pred = torch.stack([(col + off[:, 0]) / grid, (row + off[:, 1]) / grid, wh[:, 0], wh[:, 1]], dim=1)
            preds.append(pred[inside])
            targets.append(b[inside])
            places.append(torch.stack([sample, row, col], dim=1)[inside])
        pred, target = torch.cat(preds), torch.cat(targets)
        g_loss, iou = giou_loss(box_cxcywh_to_xyxy(pred), box_cxcywh_to_xyxy(target))
        regressed = (torch.cat(places), iou.detach().clamp(0.0, 1.0))
        l1 = (pred - target).abs().mean(dim=1)
        if offset_reach and neighbour_weight != 1.0:
            cell_weight = torch.full_like(l1, neighbour_weight)
            cell_weight[:len(b)] = 1.0
            g_loss, l1 = (loss * cell_weight * (len(cell_weight) / cell_weight.sum()) for loss in (g_loss, l1))
        box_terms = (weights["giou"] * g_loss.mean(), weights["l1"] * l1.mean())
        # The reported IoU is the centre cell's, comparable with a head that regresses there only.
        stats.update(giou=float(g_loss.mean().detach()), l1=float(l1.mean().detach()),
                     iou=float(iou[:len(b)].mean().detach()))
    if score_target == "box_iou":
        quality = torch.zeros_like(heat)
        trained = torch.zeros_like(heat, dtype=torch.bool)
        if regressed is not None:
            place, place_iou = regressed
            quality[place[:, 0], 0, place[:, 1], place[:, 2]] = place_iou
            trained[place[:, 0], 0, place[:, 1], place[:, 2]] = True
        focal = quality_focal_loss(logits, heat, quality, trained, int(visible.sum()))
    else:
        focal = focal_loss(logits, heat)
    total = weights["focal"] * focal
    for term in box_terms:
        total = total + term
    stats["focal"] = float(focal.detach())
    stats["total"] = float(total.detach())
    return total, stats
