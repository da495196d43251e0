"""Tracking losses: focal loss on a Gaussian centre heatmap + GIoU + L1 on the box read at the true centre.

The standard OSTrack recipe (weights focal 1, GIoU 2, L1 5). Boxes are normalised ``(cx, cy, w, h)`` in
the search crop.
"""
from __future__ import annotations

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
    """``(N, 4)`` normalised boxes -> ``(N, 1, grid, grid)`` Gaussian centred on each box's cell.

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
    """CenterNet focal loss, normalised by the number of positives (at least 1)."""
    prob = torch.sigmoid(logits.float()).clamp(1e-4, 1 - 1e-4)
    positive = heatmap.eq(1).float()
    negative = 1.0 - positive
    pos_loss = torch.log(prob) * (1 - prob) ** alpha * positive
    neg_loss = torch.log(1 - prob) * prob ** alpha * (1 - heatmap) ** beta * negative
    num_pos = positive.sum().clamp(min=1.0)
    return -(pos_loss.sum() + neg_loss.sum()) / num_pos


def tracking_loss(outputs: dict[str, torch.Tensor], boxes: torch.Tensor, visible: torch.Tensor,
                  weights: dict[str, float] | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """``outputs``: head maps with a flat batch ``(N, C, g, g)``; ``boxes (N, 4)``; ``visible (N,)`` bool."""
    weights = {"focal": 1.0, "giou": 2.0, "l1": 5.0, **(weights or {})}
    logits, offset, size = outputs["score_logits"], outputs["offset"].float(), outputs["size"].float()
    grid = logits.shape[-1]
    boxes = boxes.float().clamp(0.0, 1.0)
    heat = gaussian_heatmap(boxes, grid, visible)
    focal = focal_loss(logits, heat)
    stats = {"focal": float(focal.detach())}
    total = weights["focal"] * focal
    if visible.any():
        b = boxes[visible]
        col = (b[:, 0] * grid).long().clamp(0, grid - 1)
        row = (b[:, 1] * grid).long().clamp(0, grid - 1)
        idx = torch.arange(len(b), device=b.device)
        off = offset[visible][idx, :, row, col]
        wh = size[visible][idx, :, row, col]
        pred = torch.stack([(col + off[:, 0]) / grid, (row + off[:, 1]) / grid, wh[:, 0], wh[:, 1]], dim=1)
        g_loss, iou = giou_loss(box_cxcywh_to_xyxy(pred), box_cxcywh_to_xyxy(b))
        l1 = (pred - b).abs().mean(dim=1)
        total = total + weights["giou"] * g_loss.mean() + weights["l1"] * l1.mean()
        stats.update(giou=float(g_loss.mean().detach()), l1=float(l1.mean().detach()), iou=float(iou.mean().detach()))
    stats["total"] = float(total.detach())
    return total, stats
