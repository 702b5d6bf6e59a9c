"""The protein part of a training report: logos, generated sequences and a
model-free check of them.

For every class of the label, sequences are generated with the free units
clamped to the class's typical value and written as FASTA.  Each generated
sequence is then assigned the class of its nearest natural sequence by
identity over the alignment columns, which uses no part of the model.  A
class beats chance when its generated sequences land among its own natural
sequences more often than the class's share of natural sequences.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from rbmfast import plots
from rbmfast.datasets.msa import ALPHABET, nearest_group_check, write_fasta
from rbmfast.evaluation.sampling import class_typical_values, sample_clamped
from rbmfast.random import Stream

__all__ = ["protein_generation", "write_protein_figures"]


def protein_generation(rbm, free_units, train, test, n_per_class=100, n_steps=500,
                       seed=0, n_threads=None):
    """Generate sequences per class with the free units clamped, and check them.

    Parameters
    ----------
    rbm : RBM
        Model with a Potts visible layer over rbmfast.datasets.msa.ALPHABET.
    free_units : array_like of int
    train, test : tuple (states, labels)
        Natural sequences; the typical values come from the training split
        and the nearest-sequence check uses both splits.

    Returns
    -------
    samples : dict class -> uint8 ndarray (n_per_class, L)
    metrics : dict
        Per class, the fraction of generated sequences whose nearest natural
        sequence is of that class, the chance level (the class's share of
        natural sequences) and the mean identity to the nearest natural
        sequence.  Also the confusion counts and the typical values.
    """
    x_train, y_train = train
    x_test, y_test = test
    classes, values = class_typical_values(rbm, x_train, y_train, free_units)
    stream = Stream.from_seed(seed, 7)
    samples = {}
    for k, label in enumerate(classes):
        samples[str(label)] = sample_clamped(rbm, stream, free_units, values[k],
                                             n_samples=n_per_class, n_steps=n_steps,
                                             n_threads=n_threads)
    natural = np.concatenate([x_train, x_test])
    natural_groups = np.concatenate([np.asarray(y_train, str), np.asarray(y_test, str)])
    generated = np.concatenate(list(samples.values()))
    generated_groups = np.repeat(list(samples), n_per_class)
    check = nearest_group_check(generated, generated_groups, natural, natural_groups,
                                n_threads=n_threads)
    groups = [str(g) for g in check.groups]
    per_class = {}
    for g, name in enumerate(groups):
        rows = generated_groups == name
        if not rows.any():
            continue
        per_class[name] = {"fraction_nearest_same_class": float(check.fraction[g]),
                           "chance": float(check.chance[g]),
                           "n_generated": int(check.n_generated[g]),
                           "mean_identity_to_nearest": float(check.identity[rows].mean())}
    metrics = {"n_per_class": n_per_class, "n_steps": n_steps,
               "nearest_natural": {
                   "per_class": per_class,
                   "mean_fraction": float(np.mean([c["fraction_nearest_same_class"]
                                                   for c in per_class.values()])),
                   "mean_chance": float(np.mean([c["chance"] for c in per_class.values()])),
                   "classes": groups, "confusion": check.confusion.tolist()},
               "typical_values": {str(c): v.tolist() for c, v in zip(classes, values)}}
    return samples, metrics


def write_protein_figures(out_dir, rbm, free_units, train, test, n_per_class=100,
                          n_steps=500, seed=0, n_threads=None, n_sites=40):
    """Write logos of the free units and generated FASTA files to out_dir.

    Returns (metrics, figures): the metrics of `protein_generation` and a
    dict of written figure paths.
    """
    out_dir = Path(out_dir)
    free_units = np.asarray(free_units)
    figures = {"free_logos": plots.plot_sequence_logos(
        rbm.weights, ALPHABET, free_units, out_dir / "free_logos.png",
        max_sites=min(n_sites, rbm.n_visible),
        titles=[f"free unit {u}" for u in free_units],
        title="Weights of the free units (sites of largest norm)")}
    samples, metrics = protein_generation(rbm, free_units, train, test, n_per_class,
                                          n_steps, seed, n_threads)
    files = {}
    for k, (label, seqs) in enumerate(samples.items()):
        # the class index keeps names apart that the letter filter would merge
        # (a/b and a_b), and FASTA ids may not contain whitespace
        safe = "".join(c if c.isalnum() else "_" for c in label)
        name = f"generated_{k}_{safe}.fasta"
        ids = [f"generated_{k}_{safe}_{i}" for i in range(len(seqs))]
        write_fasta(out_dir / name, seqs, ids)
        files[label] = name
    metrics["fasta"] = files
    return metrics, figures
