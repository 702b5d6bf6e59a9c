"""Data loaders: MNIST digits, protein alignments and user arrays (.npz)."""
from rbmfast.datasets.arrays import load_npz
from rbmfast.datasets.mnist import MNIST_SHAPE, load_mnist
from rbmfast.datasets.msa import encode_alignment, read_alignment, sequence_weights

__all__ = ["load_mnist", "load_npz", "MNIST_SHAPE", "read_alignment",
           "encode_alignment", "sequence_weights"]
