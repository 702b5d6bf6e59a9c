"""Data loaders: MNIST digits and user arrays (.npz)."""
from rbmfast.datasets.arrays import load_npz
from rbmfast.datasets.mnist import MNIST_SHAPE, load_mnist

__all__ = ["load_mnist", "load_npz", "MNIST_SHAPE"]
