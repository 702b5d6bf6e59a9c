"""Data loaders: MNIST digits, 2D Ising configurations, protein alignments
and user arrays (.npz)."""
from rbmfast.datasets.arrays import load_npz
from rbmfast.datasets.ising import (IsingSamples, exact_energy_per_spin,
                                    exact_magnetisation, load_ising, save_ising,
                                    simulate_ising)
from rbmfast.datasets.mnist import MNIST_SHAPE, load_mnist
from rbmfast.datasets.msa import encode_alignment, read_alignment, sequence_weights

__all__ = ["load_mnist", "load_npz", "MNIST_SHAPE", "read_alignment",
           "encode_alignment", "sequence_weights", "IsingSamples", "simulate_ising",
           "exact_energy_per_spin", "exact_magnetisation", "save_ising", "load_ising"]
