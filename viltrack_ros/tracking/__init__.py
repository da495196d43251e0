"""Tracking on numpy images with the ViL network (no ROS)."""
from .config import TrackerConfig
from .tracker import MultiTracker, TrackResult, TrackStatus, ViLTracker

__all__ = ["TrackerConfig", "MultiTracker", "TrackResult", "TrackStatus", "ViLTracker"]
