"""Building the project's settings dataclasses from plain dicts (YAML, checkpoints, ROS parameters)."""
from __future__ import annotations

from dataclasses import fields


def dataclass_from_dict(cls, data: dict, what: str):
    """``cls(**data)``, refusing unknown keys by name (a typo in a YAML file must not be silently ignored)."""
    known = {f.name for f in fields(cls)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown {what}: {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    return cls(**data)
