"""Harness for the ROS tests: the node runs as its own process and the tests talk to it over real DDS.

Each pytest process picks its own ROS_DOMAIN_ID and keeps discovery on loopback before rclpy starts, and the node
processes inherit that environment. Where the ROS wheels or the built interfaces are missing the tests skip with
the reason, unless VILTRACK_REQUIRE_ROS=1 (scripts/test.sh sets it) turns that into an error.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# Before any rclpy import: parallel test runs must not see each other, and DDS must stay on loopback.
os.environ["ROS_DOMAIN_ID"] = os.environ.get("VILTRACK_TEST_DOMAIN_ID", str(1 + os.getpid() % 100))
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
os.environ.setdefault("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")
# Without it a best-effort subscriber loses images above ~0.5 MB (config/fastdds_localhost.xml says why).
os.environ.setdefault("FASTDDS_DEFAULT_PROFILES_FILE",
                      str(Path(__file__).resolve().parents[2] / "config" / "fastdds_localhost.xml"))

REPO_ROOT = Path(__file__).resolve().parents[2]
SEQUENCES = Path(os.environ.get("VILTRACK_SEQUENCES", REPO_ROOT.parent / "shared" / "data" / "sequences"))
REQUIRE_ROS = os.environ.get("VILTRACK_REQUIRE_ROS") == "1"


def _ros_missing_reason() -> str | None:
    try:
        import rclpy  # noqa: F401
        import viltrack_ros.ros.interfaces  # noqa: F401
    except ImportError as error:
        return f"ROS 2 (rclpy) or the built viltrack_ros interfaces are missing ({error}); run scripts/test.sh"
    return None


_MISSING = _ros_missing_reason()
if _MISSING and REQUIRE_ROS:
    raise RuntimeError(_MISSING)


def pytest_collection_modifyitems(config, items):
    if _MISSING:
        for item in items:
            if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
                item.add_marker(pytest.mark.skip(reason=_MISSING))


if not _MISSING:
    from ros_harness import NodeProcess, RosProbe  # noqa: E402  (needs rclpy)


# --- data and weights -------------------------------------------------------------------------------------
def load_sequence(name: str, count: int):
    """First ``count`` frames (BGR, as OpenCV reads them) and ground-truth boxes of a shared real sequence."""
    import cv2

    folder = SEQUENCES / name
    if not (folder / "groundtruth.txt").is_file():
        pytest.skip(f"real sequence {folder} is absent (shared data set not available)")
    boxes = [tuple(float(v) for v in line.split(",")) for line in
             (folder / "groundtruth.txt").read_text().splitlines()[:count]]
    frames = []
    for path in sorted(folder.glob("*.jpg"))[:count]:
        frame = cv2.imread(str(path), cv2.IMREAD_COLOR)   # grayscale JPEGs come back as 3 equal channels
        assert frame is not None, path
        frames.append(frame)
    return frames, boxes


@pytest.fixture(scope="session")
def test_weights(tmp_path_factory) -> Path:
    """A small (vil_cpu) checkpoint, built here: the ROS tests check plumbing and state, not accuracy.

    FiLM is an identity at initialisation; its output layers get random weights so that the temporal state
    really changes the boxes and a missing reset on init would show.
    """
    import torch

    from viltrack_ros.model import build_model, get_preset
    from viltrack_ros.model.checkpoint import save_checkpoint

    torch.manual_seed(0)
    model = build_model(get_preset("vil_cpu"))
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if ".film.layers." in name and (".gamma.2." in name or ".beta.2." in name):
                parameter.normal_(0.0, 0.5)
    return save_checkpoint(tmp_path_factory.mktemp("weights") / "vil_cpu_test.pt", model, trained=False,
                           training={"note": "random weights for the ROS tests"})


# --- ROS fixtures ------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def ros_context():
    import rclpy

    rclpy.init()
    yield
    rclpy.try_shutdown()


@pytest.fixture
def probe(ros_context, request):
    probe = RosProbe(f"probe_{request.node.name[:40].replace('[', '_').replace(']', '_').replace('-', '_')}")
    yield probe
    probe.destroy()


@pytest.fixture
def start_node(tmp_path, test_weights, request):
    """Start tracker node processes (``python -m``); stopped (SIGINT, then kill) after the test."""
    started: list[NodeProcess] = []
    request.node.tracker_node_logs = []

    def start(*parameters: str, weights: Path | str | None = None, command: list[str] | None = None,
              params_file: Path | None = None, extra_args: list[str] | None = None) -> NodeProcess:
        node = NodeProcess(log_path=tmp_path / f"tracker_node_{len(started)}.log", command=command,
                           weights=test_weights if weights is None else weights, parameters=parameters,
                           extra_args=extra_args or [], cwd=REPO_ROOT, params_file=params_file)
        started.append(node)
        request.node.tracker_node_logs.append(node.log_path)
        return node

    yield start
    for node in started:
        node.stop()


def pytest_runtest_makereport(item, call):
    # On a failure, show the node's log: it is where the reason usually is.
    if call.when == "call" and call.excinfo is not None:
        for log in getattr(item, "tracker_node_logs", []):
            if log.exists():
                print(f"\n----- {log.name} -----\n{log.read_text()[-4000:]}", file=sys.stderr)
