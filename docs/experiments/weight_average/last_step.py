"""Write an averaged arm's last-step weights (not the average) as a checkpoint of their own, so the two can be scored
side by side: the same training run, the average the only difference.

    python docs/experiments/weight_average/last_step.py outputs/weight_average/b2_distractors_continued_averaged
    # -> <arm>/last_step.pt
"""
import argparse
from pathlib import Path

import torch

from viltrack_ros.model.checkpoint import load_checkpoint, save_checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("arm_dir", type=Path, help="an arm's output folder (model.pt and state.pt)")
    arm_dir = parser.parse_args().arm_dir
    model, info = load_checkpoint(arm_dir / "model.pt")
    state = torch.load(arm_dir / "state.pt", weights_only=False, map_location="cpu")
    model.load_state_dict(state["model"])
    training = {k: v for k, v in info["training"].items() if k != "weight_average_decay"}
    training["recipe"] = f"{training['recipe']} (last step, not averaged)"
    path = save_checkpoint(arm_dir / "last_step.pt", model, trained=True, training=training)
    print(f"{path}: the weights at step {state['step']}")


if __name__ == "__main__":
    main()
