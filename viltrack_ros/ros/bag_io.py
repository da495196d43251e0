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
rosbag2 files (.mcap and .db3) without rosbag2: ``rosbags`` (pure Python) handles the container, rclpy the messages.

Messages cross as CDR bytes, the format rosbag2 stores: ``rclpy.serialization`` turns them into rclpy messages and
back, so what is read is exactly what a ROS publisher sends. A bag is a rosbag2 folder (``metadata.yaml`` beside its
storage file) or a bare ``.mcap`` / ``.db3`` file; ``BagWriter`` writes folders, as ``ros2 bag record`` does.
"""
from __future__ import annotations

import contextlib
import importlib
import itertools
from pathlib import Path
from typing import Iterator

from rclpy.serialization import deserialize_message, serialize_message

import viltrack_ros.ros.interfaces  # noqa: F401  (makes viltrack_ros.msg importable from a source checkout too)
from viltrack_ros.ros.image_conversion import ImageConversionError, compressed_msg_to_bgr, numpy_to_image_msg

IMAGE_TYPE = "sensor_msgs/msg/Image"
COMPRESSED_IMAGE_TYPE = "sensor_msgs/msg/CompressedImage"
# What a bag's camera topic may hold: most camera bags record the compressed stream, replayed here decoded.
IMAGE_TYPES = (IMAGE_TYPE, COMPRESSED_IMAGE_TYPE)
STORAGES = ("mcap", "sqlite3")
BAG_SUFFIXES = (".mcap", ".db3")
# Messages whose timestamps give a topic's rate when other topics share the bag.
RATE_SAMPLE = 100


def _rosbags():
    try:
        import rosbags.rosbag2
        import rosbags.typesys
    except ImportError as error:   # pragma: no cover - scripts/setup.sh installs it
        raise ImportError("reading and writing bags needs the rosbags package: pip install rosbags") from error
    return rosbags


def resolve_bag_path(path: str | Path) -> Path:
    """
    Return ``path``, or the one storage file of a bag folder that has no metadata.yaml.

    A recording that was killed leaves its folder without metadata.yaml; its .mcap or .db3 alone still reads.
    """
    path = Path(path)
    if path.is_dir() and not (path / "metadata.yaml").is_file():
        storage = sorted(p for p in path.iterdir() if p.suffix in BAG_SUFFIXES and p.is_file())
        if len(storage) == 1:
            return storage[0]
    return path


def is_bag(path: str | Path) -> bool:
    """Tell whether ``path`` is a rosbag2 folder (with metadata.yaml, or one storage file) or a .mcap/.db3 file."""
    path = resolve_bag_path(path)
    return (path / "metadata.yaml").is_file() if path.is_dir() else path.suffix in BAG_SUFFIXES


@contextlib.contextmanager
def _reader(path: Path):
    """Open rosbags' reader; its errors (a bag cut short by a killed recorder, a file that is no bag) as ValueError."""
    rosbags = _rosbags()
    try:
        with rosbags.rosbag2.Reader(resolve_bag_path(path)) as reader:
            yield reader
    except rosbags.rosbag2.ReaderError as error:
        raise ValueError(f"cannot read the bag {path}: {error}") from None


def message_class(type_name: str):
    """Return the rclpy class of ``pkg/msg/Name`` (or ``pkg/Name``)."""
    package, _, name = type_name.replace("/msg/", "/").partition("/")
    try:
        return getattr(importlib.import_module(f"{package}.msg"), name)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"message type {type_name} is not importable here ({error})") from None


def type_name_of(message_or_class) -> str:
    """``pkg/msg/Name`` of an rclpy message or message class."""
    cls = message_or_class if isinstance(message_or_class, type) else type(message_or_class)
    return f"{cls.__module__.split('.')[0]}/msg/{cls.__name__}"


def bag_topics(path: str | Path) -> dict[str, str]:
    """Topic name -> message type of every topic in the bag."""
    with _reader(Path(path)) as reader:
        return {connection.topic: connection.msgtype for connection in reader.connections}


def bag_messages(path: str | Path, topics: list[str] | None = None) -> Iterator[tuple[str, int, object]]:
    """(topic, receive timestamp in ns, rclpy message) of every message on ``topics`` (all when None)."""
    with _reader(Path(path)) as reader:
        connections = [c for c in reader.connections if topics is None or c.topic in topics]
        classes = {c.id: message_class(c.msgtype) for c in connections}
        for connection, timestamp, raw in reader.messages(connections=connections):
            yield connection.topic, timestamp, deserialize_message(bytes(raw), classes[connection.id])


class BagImageSource:
    """
    The image messages of one topic of a bag, in recorded order, with their recorded headers, as sensor_msgs/Image.

    A topic of sensor_msgs/CompressedImage (JPEG, PNG) is decoded to bgr8 Images (one that does not decode is
    skipped and counted in ``skipped``). ``topic`` may be omitted when the bag has exactly one image topic. Raises
    ``FileNotFoundError`` for a missing path and ``ValueError`` for a bag that cannot be read or whose topic is
    absent or ambiguous.
    """

    def __init__(self, path: str | Path, topic: str = "", max_frames: int = 0):
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"bag {self.path} not found")
        with _reader(self.path) as reader:
            connections = list(reader.connections)
            # A topic may have been recorded with several types (a driver restarted in another mode): the image
            # connections are told by their own type, not by the topic's name.
            images = sorted({c.topic for c in connections if c.msgtype in IMAGE_TYPES})
            if not topic:
                if not images:
                    held = ", ".join(f"{c.topic} ({c.msgtype})" for c in connections) or "no topics"
                    raise ValueError(f"{self.path} has no {IMAGE_TYPE} or CompressedImage topic to replay (it holds "
                                     f"{held})")
                if len(images) > 1:
                    raise ValueError(f"{self.path} has {len(images)} image topics ({', '.join(images)}): name the "
                                     f"one to replay (bag_topic)")
                topic = images[0]
            elif topic not in images:
                types = sorted({c.msgtype for c in connections if c.topic == topic})
                found = f"is {', '.join(types)}" if types else "is not in it"
                raise ValueError(f"topic {topic} of {self.path} {found}; its image topics: "
                                 f"{', '.join(images) or 'none'}")
            self._connections = [c for c in connections if c.topic == topic and c.msgtype in IMAGE_TYPES]
            self._count = sum(c.msgcount for c in self._connections)
            self.fps = self._recorded_rate(reader, connections)
        self.topic = topic
        self.max_frames = max_frames
        self.skipped = 0

    def _recorded_rate(self, reader, connections) -> float:
        """
        Return the topic's recorded rate: messages over the time from its first to its last (0: unknown).

        From the bag's metadata when the topic is all the bag holds; else from the timestamps of its first
        ``RATE_SAMPLE`` messages (read, not the whole topic: a camera bag is gigabytes), so that one message of
        another topic a minute later does not slow the replay a hundred times.
        """
        if self._count < 2:
            return 0.0
        if len(self._connections) == len(connections):
            return (self._count - 1) / (reader.duration * 1e-9) if reader.duration > 0 else 0.0
        stamps = [timestamp for _, timestamp, _ in
                  itertools.islice(reader.messages(connections=self._connections), RATE_SAMPLE)]
        span_ns = max(stamps) - min(stamps)
        return (len(stamps) - 1) / (span_ns * 1e-9) if span_ns > 0 else 0.0

    def __len__(self) -> int:
        return min(self._count, self.max_frames) if self.max_frames else self._count

    def __iter__(self) -> Iterator:
        from sensor_msgs.msg import CompressedImage, Image

        with _reader(self.path) as reader:
            wanted = {(c.topic, c.msgtype) for c in self._connections}
            connections = [c for c in reader.connections if (c.topic, c.msgtype) in wanted]
            given = 0
            for connection, _, raw in reader.messages(connections=connections):
                if self.max_frames and given >= self.max_frames:
                    return
                if connection.msgtype == IMAGE_TYPE:
                    message = deserialize_message(bytes(raw), Image)
                else:
                    message = decoded_image(deserialize_message(bytes(raw), CompressedImage))
                    if message is None:
                        self.skipped += 1
                        continue
                given += 1
                yield message


def decoded_image(compressed) -> object | None:
    """Return a CompressedImage as a bgr8 sensor_msgs/Image with its header, or None when it does not decode."""
    try:
        bgr = compressed_msg_to_bgr(compressed)    # the node's own decoder, with its refusals
    except ImageConversionError:
        return None
    return numpy_to_image_msg(bgr, "bgr8", compressed.header)


class BagWriter:
    """
    Writes rclpy messages into a new rosbag2 folder (``storage``: mcap or sqlite3); use as a context manager.

    Message definitions come from rosbags' Kilted type store; types it lacks (this package's own) are read from the
    ``.msg`` files their package installs (found through the ament index), as ``ros2 bag record`` does.
    """

    def __init__(self, path: str | Path, storage: str = "mcap"):
        rosbags = _rosbags()
        if storage not in STORAGES:
            raise ValueError(f"storage must be one of {', '.join(STORAGES)}, got {storage!r}")
        self.path = Path(path)
        if self.path.exists():
            raise FileExistsError(f"{self.path} exists already; a bag is never overwritten")
        self._typestore = rosbags.typesys.get_typestore(rosbags.typesys.Stores.ROS2_KILTED)
        plugin = (rosbags.rosbag2.StoragePlugin.MCAP if storage == "mcap"
                  else rosbags.rosbag2.StoragePlugin.SQLITE3)
        self._writer = rosbags.rosbag2.Writer(self.path, version=9, storage_plugin=plugin)
        self._writer.open()
        self._connections: dict[tuple[str, str], object] = {}
        self.counts: dict[str, int] = {}

    def add_topic(self, topic: str, type_name: str) -> None:
        # One connection per topic and type, as rosbag2 records a topic that changes type (a driver restarted in
        # another mode): a message must never be filed under another type's connection.
        if (topic, type_name) in self._connections:
            return
        self._ensure_type(type_name)
        self._connections[(topic, type_name)] = self._writer.add_connection(topic, type_name,
                                                                            typestore=self._typestore)
        self.counts.setdefault(topic, 0)

    def write(self, topic: str, message, timestamp_ns: int) -> None:
        """One message, serialised by rclpy, at ``timestamp_ns`` (the receive time, in rosbag2's convention)."""
        self.write_serialized(topic, type_name_of(message), serialize_message(message), timestamp_ns)

    def write_serialized(self, topic: str, type_name: str, data: bytes, timestamp_ns: int) -> None:
        self.add_topic(topic, type_name)
        self._writer.write(self._connections[(topic, type_name)], int(timestamp_ns), data)
        self.counts[topic] += 1

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> "BagWriter":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _ensure_type(self, type_name: str) -> None:
        if type_name in self._typestore.fielddefs:
            return
        from ament_index_python.packages import PackageNotFoundError, get_package_share_directory
        from rosbags.typesys import get_types_from_msg

        package = type_name.split("/")[0]
        try:
            msg_folder = Path(get_package_share_directory(package)) / "msg"
        except PackageNotFoundError:
            raise ValueError(f"no definition of {type_name}: package {package} is not on AMENT_PREFIX_PATH") from None
        types = {}
        for definition in sorted(msg_folder.glob("*.msg")):
            types.update(get_types_from_msg(definition.read_text(), f"{package}/msg/{definition.stem}"))
        self._typestore.register(types)
        if type_name not in self._typestore.fielddefs:
            raise ValueError(f"no definition of {type_name} in {msg_folder}")
