"""ROS tests. A package, so that its conftest is `ros.conftest` and never shadows test/conftest.py."""
