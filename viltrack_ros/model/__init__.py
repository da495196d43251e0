"""The ViL tracking network (no tracking logic, no ROS)."""
from .config import PRESETS, ModelConfig, get_preset
from .network import ViLTrackNet, build_model, count_parameters

__all__ = ["PRESETS", "ModelConfig", "get_preset", "ViLTrackNet", "build_model", "count_parameters"]
