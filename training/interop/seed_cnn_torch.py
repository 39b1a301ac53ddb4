"""The seed CNN in PyTorch, with the layer names of src/nn/models/seed-cnn.ts, so that our
safetensors load with a strict load_state_dict. The one PyTorch definition used by the
interoperability check and by the PyTorch baselines of the benchmarks."""
from collections import OrderedDict

from torch import nn


def seed_cnn():
    return nn.Sequential(
        OrderedDict(
            conv1=nn.Conv2d(1, 32, 3, padding=1),
            bn1=nn.BatchNorm2d(32),
            relu1=nn.ReLU(),
            pool1=nn.MaxPool2d(2),
            conv2=nn.Conv2d(32, 64, 3, padding=1),
            bn2=nn.BatchNorm2d(64),
            relu2=nn.ReLU(),
            pool2=nn.MaxPool2d(2),
            drop1=nn.Dropout2d(0.25),
            flatten=nn.Flatten(),
            fc1=nn.Linear(3136, 128),
            relu3=nn.ReLU(),
            drop2=nn.Dropout(0.5),
            fc2=nn.Linear(128, 10),
        )
    )
