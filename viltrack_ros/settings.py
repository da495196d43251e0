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
"""Building the project's settings dataclasses from plain dicts (YAML, checkpoints, ROS parameters)."""
from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
import numbers
import re
from dataclasses import fields

# The most CPU threads the network may be given (the node's `threads` parameter and the CLI's --threads): far past any
# CPU's useful count, and below the counts that made onnxruntime and PyTorch crawl (1000: 90x slower) or crash.
MAX_THREADS = 256


def dataclass_from_dict(cls, data: dict, what: str):
    """``cls(**data)``, refusing unknown keys by name (a typo in a YAML file must not be silently ignored)."""
    if not isinstance(data, Mapping):   # e.g. an empty YAML section, which reads as None
        raise ValueError(f"{what} must be a mapping of names to values, got {type(data).__name__}")
    known = {f.name: f for f in fields(cls)}
    unknown = set(data) - set(known)
    if unknown:
        raise ValueError(f"unknown {what}: {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    return cls(**{name: _of_declared_kind(value, known[name], what) for name, value in data.items()})


def is_whole_number(value) -> bool:
    """Tell whether ``value`` is an integer of any kind, and not a bool (which Python counts as one)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _of_declared_kind(value, declared, what: str):
    """
    Return ``value`` as the field's plain kind (float, int, bool, str) says, or raise a ValueError naming it.

    YAML 1.1 reads ``5e-4`` as a string (it wants ``5.0e-4``): such a number is taken as the float it means; any
    other mismatch (``steps: ten``, ``batch_size: 2.5``) is refused here instead of failing later, deep in training.
    Fields of other kinds (dicts, lists, optional values) are left to the class.
    """
    kind = declared.type if isinstance(declared.type, str) else getattr(declared.type, "__name__", "")
    is_bool = isinstance(value, bool)
    if kind == "float":
        if isinstance(value, str) and _PLAIN_NUMBER.fullmatch(value.strip()):
            return float(value)
        if isinstance(value, numbers.Real) and not is_bool and math.isfinite(value):
            return float(value)
    elif kind == "int":
        if is_whole_number(value):
            return int(value)
    elif kind == "bool":
        if is_bool:
            return value
    elif kind == "str":
        if isinstance(value, str):
            return value
    else:
        return value
    raise ValueError(f"{what}: {declared.name} must be {_KIND_WORDS[kind]}, got {value!r}")


_KIND_WORDS = {"float": "a finite number", "int": "a whole number", "bool": "true or false", "str": "a string"}
# A number as written in a file (5e-4, -0.5, .25): not "nan", "inf" or "1_0", which Python's float() also takes.
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _whole_number(text: str) -> int:
    """Parse a command-line whole number, or raise argparse's error naming the text."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def thread_count(text: str) -> int:
    """Parse a ``--threads`` value: 0 (the library's default) to ``MAX_THREADS``."""
    value = _whole_number(text)
    if not 0 <= value <= MAX_THREADS:
        raise argparse.ArgumentTypeError(f"{value} is outside 0..{MAX_THREADS} (0: the default)")
    return value


def at_least(minimum: int):
    """Return an argparse type for whole numbers of at least ``minimum``."""
    def parse(text: str) -> int:
        value = _whole_number(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    return parse


def positive_number(text: str) -> float:
    """Parse a value that must be a finite number above 0 (a frame rate)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return value


def parse_box(text: str) -> tuple[float, float, float, float]:
    """Parse a command-line box ``x,y,w,h``, or raise argparse's error naming the text."""
    try:
        values = tuple(float(v) for v in text.replace(" ", "").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"box must be x,y,w,h numbers, got {text!r}") from None
    if len(values) != 4:
        raise argparse.ArgumentTypeError(f"box must have 4 values x,y,w,h, got {len(values)}")
    return values


def assignments_dict(items: list[str], what: str) -> dict:
    """Parse ``KEY=VALUE`` items (values as YAML: numbers, booleans, strings) into a dict; ``what`` names the option."""
    import yaml   # only the commands that take such options need it
    parsed = {}
    for item in (i for i in items if i):
        key, equals, value = item.partition("=")
        if not equals or not key:
            raise ValueError(f"{what}: {item!r} is not KEY=VALUE")
        try:
            parsed[key] = yaml.safe_load(value)
        except yaml.YAMLError as error:    # "[1" or "{": the caller reports a ValueError as a user error
            raise ValueError(f"{what}: {item!r}: the value cannot be read as YAML ({error})") from None
    return parsed
