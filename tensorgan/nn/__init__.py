"""Neural-network layers and the Module container (``torch.nn`` names)."""
from . import init, utils
from .layers import (BatchNorm1d, BatchNorm2d, Conv2d, ConvTranspose2d, Dropout, Flatten, Identity,
                     LeakyReLU, Linear, ModuleList, ReLU, Sequential, Sigmoid, Tanh, Unflatten)
from .loss import BCELoss, BCEWithLogitsLoss, MSELoss
from .module import Module, Parameter

__all__ = ["init", "utils", "Module", "Parameter", "Linear", "Conv2d", "ConvTranspose2d", "BatchNorm1d",
           "BatchNorm2d", "LeakyReLU", "ReLU", "Tanh", "Sigmoid", "Dropout", "Flatten", "Unflatten",
           "Identity", "Sequential", "ModuleList", "BCELoss", "BCEWithLogitsLoss", "MSELoss"]
