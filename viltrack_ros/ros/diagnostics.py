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
What the tracker node reports on ``/diagnostics``.

It reports image input and processing rates, latency, dropped images and the state of every target.

``FrameStatistics`` and ``assess_input`` are plain Python (unit-tested without ROS); ``diagnostic_array`` turns
their result into ``diagnostic_msgs/DiagnosticArray``, the message rqt_runtime_monitor and diagnostic_aggregator read.

Dropped images: the image subscription keeps only the newest ``qos.depth`` images (1 by default), so images the
tracker is too slow for are overwritten before the node ever sees them. DDS numbers every sample a publisher sends;
a gap between the publication sequence numbers of two images the node took is the count of images it never
processed.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Level(IntEnum):
    """diagnostic_msgs/DiagnosticStatus levels."""

    OK = 0
    WARN = 1
    ERROR = 2


@dataclass(frozen=True)
class InputSummary:
    """One reporting period of the image input."""

    period_s: float
    received: int           # images taken from the subscription
    processed: int          # images the tracker answered (tracked_objects published)
    skipped: int            # received, but not convertible (bad encoding, truncated data, ...)
    failed: int             # the tracker raised on the image, or another callback raised (logged)
    dropped: int | None     # published by the camera but never received; None: the middleware gives no numbers
    latency_mean_s: float | None
    latency_max_s: float | None
    seconds_since_image: float | None   # None: no image ever
    invalid_outputs: int = 0             # target updates where the network gave NaN/inf (the target set LOST)
    stamps_gone_back: int = 0            # images stamped earlier than the one before (bag loop, clock reset)
    # Camera frames that passed unseen before the tracked images, as the tracker was told (``FramesElapsed``: from
    # the sequence numbers, or from the stamps where the RMW gives none or the camera's rate is stated)
    frames_missed: int = 0
    last_skip_reason: str | None = None  # why the last skipped image could not be converted

    @property
    def input_rate_hz(self) -> float:
        """Images the camera published per second (received + dropped)."""
        return (self.received + (self.dropped or 0)) / self.period_s

    @property
    def processing_rate_hz(self) -> float:
        return self.processed / self.period_s


class FrameStatistics:
    """Counts the node's image input between two reports (``take_summary`` starts the next period)."""

    def __init__(self, now_s: float):
        self._period_start = now_s
        self._last_image_at: float | None = None
        self._last_sequence: dict[bytes, int] = {}   # per publisher: the last publication sequence number taken
        self._sequence_numbers_known = False
        self._reset_counts()

    def _reset_counts(self) -> None:
        self._received = self._processed = self._skipped = self._failed = self._dropped = 0
        self._invalid_outputs = self._stamps_gone_back = self._frames_missed = 0
        self._last_skip_reason: str | None = None
        self._latencies: list[float] = []

    def image_received(self, now_s: float, publisher_id: bytes | None = None,
                       sequence_number: int | None = None) -> None:
        self._received += 1
        self._last_image_at = now_s
        if publisher_id is None or not sequence_number:
            return
        self._sequence_numbers_known = True
        previous = self._last_sequence.get(publisher_id)
        if previous is not None and sequence_number > previous + 1:
            self._dropped += sequence_number - previous - 1
        # A smaller number means the publisher restarted (same id reused): count from here.
        self._last_sequence[publisher_id] = sequence_number

    def forget_sequence_numbers(self) -> None:
        """Count gaps anew from the next image (after a time of not listening, whose images were not dropped)."""
        self._last_sequence.clear()

    def image_processed(self, latency_s: float) -> None:
        self._processed += 1
        self._latencies.append(latency_s)

    def image_skipped(self, reason: str | None = None) -> None:
        self._skipped += 1
        self._last_skip_reason = reason

    def tracker_failed(self) -> None:
        self._failed += 1

    def callback_failed(self) -> None:
        self._failed += 1

    def invalid_outputs(self, count: int) -> None:
        self._invalid_outputs += count

    def stamp_went_back(self) -> None:
        self._stamps_gone_back += 1

    def image_tracked_after(self, frames_elapsed: int) -> None:
        """Count the camera frames missed before a tracked image (``frames_elapsed`` - 1 of them)."""
        self._frames_missed += frames_elapsed - 1

    def take_summary(self, now_s: float) -> InputSummary:
        latencies = self._latencies
        summary = InputSummary(
            period_s=max(now_s - self._period_start, 1e-9), received=self._received, processed=self._processed,
            skipped=self._skipped, failed=self._failed,
            dropped=self._dropped if self._sequence_numbers_known else None,
            latency_mean_s=sum(latencies) / len(latencies) if latencies else None,
            latency_max_s=max(latencies) if latencies else None,
            seconds_since_image=None if self._last_image_at is None else now_s - self._last_image_at,
            invalid_outputs=self._invalid_outputs, stamps_gone_back=self._stamps_gone_back,
            last_skip_reason=self._last_skip_reason, frames_missed=self._frames_missed)
        self._period_start = now_s
        self._reset_counts()
        return summary


def assess_input(summary: InputSummary, topic: str, min_rate_hz: float, subscribed: bool = True
                 ) -> tuple[Level, str]:
    """Return the level and one-line message of the image input status; every problem found is named."""
    if not subscribed:
        return Level.OK, f"inactive: not subscribed to {topic} (activate the node to track)"
    problems: list[tuple[Level, str]] = []
    if summary.received == 0:
        since = ("no image received yet" if summary.seconds_since_image is None
                 else f"no image for {summary.seconds_since_image:.1f} s")
        problems.append((Level.WARN, f"{since} on {topic}"))
    if summary.failed:
        problems.append((Level.ERROR, f"the tracker failed on {summary.failed} images (see the node's log)"))
    if summary.invalid_outputs:
        problems.append((Level.ERROR, f"the network gave NaN/inf for {summary.invalid_outputs} target updates "
                                      f"(those targets are reported LOST)"))
    if summary.skipped:
        last = f" (last: {summary.last_skip_reason})" if summary.last_skip_reason else ""
        problems.append((Level.WARN, f"skipped {summary.skipped} images that could not be converted{last}"))
    if summary.dropped:
        published = summary.received + summary.dropped
        problems.append((Level.WARN, f"dropped {summary.dropped} of {published} images (the tracker is slower "
                                     f"than the camera; the queue keeps the newest qos.depth images)"))
    if min_rate_hz > 0 and summary.processing_rate_hz < min_rate_hz:
        problems.append((Level.WARN, f"processing {summary.processing_rate_hz:.1f} Hz, below diagnostics.min_rate "
                                     f"{min_rate_hz:g} Hz"))
    if not problems:
        return Level.OK, f"processing {summary.processing_rate_hz:.1f} Hz"
    return max(level for level, _ in problems), "; ".join(message for _, message in problems)


def input_values(summary: InputSummary, topic: str) -> dict[str, str]:
    """Return the key/value pairs of the image input status."""
    def ms(seconds: float | None) -> str:
        return "n/a" if seconds is None else f"{seconds * 1000:.1f}"

    return {
        "topic": topic,
        "input rate (Hz)": f"{summary.input_rate_hz:.2f}",
        "processing rate (Hz)": f"{summary.processing_rate_hz:.2f}",
        "latency mean (ms)": ms(summary.latency_mean_s),
        "latency max (ms)": ms(summary.latency_max_s),
        "images received": str(summary.received),
        "images processed": str(summary.processed),
        "images dropped": "unknown" if summary.dropped is None else str(summary.dropped),
        "camera frames missed before tracked images": str(summary.frames_missed),
        "images skipped": str(summary.skipped),
        "tracker failures": str(summary.failed),
        "invalid network outputs": str(summary.invalid_outputs),
        "stamps gone back": str(summary.stamps_gone_back),
        "period (s)": f"{summary.period_s:.2f}",
    }


def diagnostic_array(stamp, node_name: str, hardware_id: str, input_level: Level, input_message: str,
                     values: dict[str, str], targets: list, dropped: dict[int, str] | None = None,
                     seconds_without_image: float | None = None):
    """
    ``DiagnosticArray``: one status for the image input, one per target (WARN while it is LOST or stale).

    ``targets`` are the latest TrackedObject messages, one per target; ``dropped``: the targets the node had to drop
    (id: why), WARN until they are initialised or stopped again; ``seconds_without_image``: set when no image came
    in this period, so every target's status is that old (WARN: a robot must not read an old TRACKING as current).
    """
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue

    from viltrack_ros.tracking import TrackStatus

    def status(level: Level, name: str, message: str, pairs: dict[str, str]) -> DiagnosticStatus:
        return DiagnosticStatus(level=bytes([int(level)]), name=name, message=message, hardware_id=hardware_id,
                                values=[KeyValue(key=key, value=value) for key, value in pairs.items()])

    statuses = [status(input_level, f"{node_name}: image input", input_message,
                       {**values, "targets": str(len(targets))})]
    stale = seconds_without_image is not None
    for tracked in sorted(targets, key=lambda t: t.target_id):
        state = TrackStatus(tracked.status)
        message = (f"{state.name} on the last image, {seconds_without_image:.1f} s ago (no image since)" if stale
                   else state.name)
        statuses.append(status(
            Level.WARN if state == TrackStatus.LOST or stale else Level.OK, f"{node_name}: target {tracked.target_id}",
            message, {"status": state.name, "confidence": f"{tracked.confidence:.3f}",
                      "center (px)": f"{tracked.center_x:.1f}, {tracked.center_y:.1f}",
                      "size (px)": f"{tracked.width:.1f} x {tracked.height:.1f}",
                      "image stamp": f"{tracked.header.stamp.sec}.{tracked.header.stamp.nanosec:09d}"}))
    for target_id, reason in sorted((dropped or {}).items()):
        statuses.append(status(Level.WARN, f"{node_name}: target {target_id}", reason, {"status": "DROPPED"}))
    array = DiagnosticArray(status=statuses)
    array.header.stamp = stamp
    return array
