"""Protein multiple sequence alignments as Potts visible units.

An alignment is read as a list of ``(id, sequence)`` records (FASTA, A2M,
A3M or Stockholm), reduced to its match columns, and encoded as an int8
array of shape (B, L) with states in [0, 21) over the fixed alphabet
`ALPHABET`.  The module also filters gappy columns and sequences, computes
the usual identity-based sequence weights with a C kernel, saves and loads
weights, and joins per-sequence labels from a CSV or TSV table.  For
generated sequences it writes FASTA files and finds the nearest natural
sequence of each, which `nearest_group_check` compares with group labels.

Insertions follow the A2M/A3M convention, which Stockholm files from Pfam
also use: uppercase letters and '-' are match columns, while lowercase
letters and '.' are insertions relative to the match columns.

Messages about data that was changed on the way (ambiguous residues mapped
to the gap, sequences dropped from a label join) go to the logger
``"rbmfast.msa"``.
"""
from __future__ import annotations

import csv
import gzip
import io
import logging
import math
import zlib
from fractions import Fraction
from numbers import Real
from pathlib import Path
from typing import NamedTuple

import numpy as np

from rbmfast._kernels._reweight import identity_counts, nearest_rows
from rbmfast._threads import resolve_threads
from rbmfast.archive import write_atomically
from rbmfast.labels import check_weights

__all__ = [
    "ALPHABET",
    "AMBIGUOUS",
    "GAP",
    "N_STATES",
    "JoinedLabels",
    "NearestGroupCheck",
    "encode_alignment",
    "filter_gaps",
    "join_labels",
    "load_weights",
    "nearest_group_check",
    "nearest_sequences",
    "normalize_alignment",
    "read_alignment",
    "read_fasta",
    "read_stockholm",
    "save_weights",
    "sequence_weights",
    "validate_weights",
    "write_fasta",
]

_LOGGER = logging.getLogger("rbmfast.msa")

# State k is ALPHABET[k]: the gap, then the 20 standard amino acids in
# alphabetical order of their one-letter codes.  The alphabet is fixed, so a
# state means the same residue for every alignment and every model.
ALPHABET = "-ACDEFGHIKLMNPQRSTVWY"
N_STATES = len(ALPHABET)
GAP = 0

# Ambiguity codes (B = D or N, Z = E or Q, J = I or L, X = any), the rare
# amino acids selenocysteine (U) and pyrrolysine (O), and the stop '*'.
# encode_alignment maps them to the gap or rejects them.
AMBIGUOUS = "BZXJUO*"

_FORMATS = ("fasta", "a2m", "a3m", "stockholm")
_GZIP_MAGIC = b"\x1f\x8b"
_INSERTION_CHARACTERS = "abcdefghijklmnopqrstuvwxyz."

# Byte -> state lookup for encode_alignment.  The two negative codes mark
# unknown characters, which are rejected, and ambiguous ones.
_UNKNOWN = -1
_AMBIGUOUS_CODE = -2
_STATE_OF_BYTE = np.full(256, _UNKNOWN, dtype=np.int16)
for _state, _letter in enumerate(ALPHABET):
    _STATE_OF_BYTE[ord(_letter)] = _state
for _letter in AMBIGUOUS:
    _STATE_OF_BYTE[ord(_letter)] = _AMBIGUOUS_CODE
del _state, _letter


# ---------------------------------------------------------------------------
# Reading files


def _open_text(path, newline=None):
    """Open a text file for reading, decompressing it when it starts with the
    gzip magic bytes.  With the default `newline`, CRLF and CR line ends are
    read as '\\n'."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"file {path} not found")
    with open(path, "rb") as handle:
        magic = handle.read(2)
    if magic == _GZIP_MAGIC:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig",
                                newline=newline)
    return open(path, encoding="utf-8-sig", newline=newline)


def _parse_file(path, parse):
    """Run ``parse(lines, path)`` over the lines of a text or gzip file,
    turning decoding and decompression failures into ValueError."""
    with _open_text(path) as handle:
        try:
            return parse(handle, Path(path))
        except UnicodeDecodeError as error:
            raise ValueError(f"{path} is not UTF-8 text: {error}") from None
        except (gzip.BadGzipFile, EOFError, zlib.error) as error:
            raise ValueError(f"{path} is not a readable gzip file: {error}") from None


def read_fasta(path):
    """Read the records of a FASTA, A2M or A3M file.

    Parameters
    ----------
    path : str or os.PathLike
        Plain text or gzip-compressed (detected by its magic bytes, whatever
        the file name).  Sequences may be wrapped over several lines, lines
        may end in LF or CRLF, blank lines are ignored, and the last line
        needs no newline.

    Returns
    -------
    records : list of (str, str)
        ``(id, sequence)`` in file order.  The id is the first
        whitespace-separated word of the header line, and the rest of the
        header is dropped.  The sequence joins the record's lines with all
        whitespace removed.  Its case is kept, so insertions (lowercase and
        '.') are still present until `normalize_alignment` handles them.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        If the file is empty, has text before the first '>' header, has a
        header without an id or a record without sequence, or repeats an id.
        Ids must be unique because weights and labels are matched to
        sequences by id.
    """
    return _parse_file(path, _parse_fasta)


def _parse_fasta(lines, path):
    records = []
    header_line_of = {}
    seq_id = None
    chunks = []

    def finish_record():
        if seq_id is None:
            return
        sequence = "".join(chunks)
        if not sequence:
            raise ValueError(f"{path}, line {header_line_of[seq_id]}: record "
                             f"{seq_id!r} has no sequence")
        records.append((seq_id, sequence))

    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        if line.startswith(">"):
            finish_record()
            words = line[1:].split(None, 1)
            if not words:
                raise ValueError(f"{path}, line {number}: header '>' has no "
                                 "sequence id")
            seq_id = words[0]
            if seq_id in header_line_of:
                raise ValueError(
                    f"{path}, line {number}: duplicate sequence id {seq_id!r}, "
                    f"first used on line {header_line_of[seq_id]}; sequence ids "
                    "must be unique")
            header_line_of[seq_id] = number
            chunks = []
        elif seq_id is None:
            raise ValueError(f"{path}, line {number}: text before the first '>' "
                             f"header ({line[:20]!r}); a FASTA file starts with a "
                             "'>' line")
        else:
            chunks.append("".join(line.split()))
    finish_record()
    if not records:
        raise ValueError(f"{path} is empty: it contains no FASTA records")
    return records


def read_stockholm(path):
    """Read the sequences of a Stockholm file.

    Parameters
    ----------
    path : str or os.PathLike
        Plain text or gzip-compressed.  The first non-blank line must start
        with ``# STOCKHOLM`` (as in ``# STOCKHOLM 1.0``), and the alignment
        ends at a ``//`` line.  Lines starting with '#', which include the
        ``#=GF``, ``#=GS``, ``#=GR`` and ``#=GC`` annotations, are skipped.
        Every other non-blank line is ``<id> <aligned sequence>``.  An
        alignment may be split into blocks separated by blank lines, and the
        pieces of each id are concatenated in file order.

    Returns
    -------
    records : list of (str, str)
        ``(id, sequence)`` in order of first appearance, with insertions
        (lowercase, '.') still present; see `normalize_alignment`.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist.
    ValueError
        If the header or the ``//`` terminator is missing, a sequence line
        does not have two fields, an id appears twice in one block, there are
        no sequences, or non-blank text follows ``//`` (files with several
        alignments are not supported).
    """
    return _parse_file(path, _parse_stockholm)


def _parse_stockholm(lines, path):
    has_header = False
    terminated = False
    pieces = {}
    block_ids = set()
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not has_header:
            if not line:
                continue
            if not line.startswith("# STOCKHOLM"):
                raise ValueError(f"{path}, line {number}: missing '# STOCKHOLM 1.0' "
                                 f"header, found {line[:30]!r}")
            has_header = True
        elif terminated:
            if line:
                raise ValueError(
                    f"{path}, line {number}: text after the '//' terminator; "
                    "files with more than one alignment are not supported")
        elif not line:
            block_ids.clear()
        elif line == "//":
            terminated = True
        elif not line.startswith("#"):
            fields = line.split()
            if len(fields) != 2:
                raise ValueError(f"{path}, line {number}: expected '<id> <aligned "
                                 f"sequence>', found {len(fields)} fields")
            seq_id, piece = fields
            if seq_id in block_ids:
                raise ValueError(
                    f"{path}, line {number}: sequence id {seq_id!r} appears twice "
                    "in one block; blocks must be separated by a blank line")
            block_ids.add(seq_id)
            pieces.setdefault(seq_id, []).append(piece)
    if not has_header:
        raise ValueError(f"{path} is empty: missing '# STOCKHOLM 1.0' header")
    if not terminated:
        raise ValueError(f"{path}: missing '//' terminator at the end of the "
                         "alignment; the file may be truncated")
    if not pieces:
        raise ValueError(f"{path} contains no sequences")
    return [(seq_id, "".join(parts)) for seq_id, parts in pieces.items()]


def _detect_format(path):
    """Return "stockholm" or "fasta" from the first non-blank line."""

    def first_line(lines, path):
        for line in lines:
            if line.strip():
                return line.strip()
        return None

    line = _parse_file(path, first_line)
    if line is None:
        raise ValueError(f"{path} is empty")
    if line.startswith("# STOCKHOLM"):
        return "stockholm"
    if line.startswith(">"):
        return "fasta"
    raise ValueError(f"{path}: unknown alignment format, first line {line[:30]!r}; "
                     "expected '>' (FASTA, A2M, A3M) or '# STOCKHOLM 1.0'")


def read_alignment(path, format=None, insertions="remove"):
    """Read an alignment file and check that its records are aligned.

    Parameters
    ----------
    path : str or os.PathLike
        FASTA, A2M, A3M or Stockholm file, plain or gzip-compressed.
    format : {None, "fasta", "a2m", "a3m", "stockholm"}
        None detects the format from the first non-blank line: ``>`` for
        FASTA/A2M/A3M (one reader serves all three) and ``# STOCKHOLM`` for
        Stockholm.
    insertions : {"remove", "keep"}
        Passed to `normalize_alignment`.

    Returns
    -------
    records : list of (str, str)
        ``(id, aligned sequence)``, all of the same length.

    Raises
    ------
    ValueError
        For the errors of `read_fasta`, `read_stockholm` and
        `normalize_alignment`, or an unknown format.
    """
    if format is None:
        format = _detect_format(path)
    if format not in _FORMATS:
        raise ValueError(f"unknown alignment format {format!r}; expected one of "
                         f"{_FORMATS} or None to detect it")
    records = read_stockholm(path) if format == "stockholm" else read_fasta(path)
    return normalize_alignment(records, insertions=insertions)


# ---------------------------------------------------------------------------
# Match columns and encoding


def _check_same_length(records, after):
    """Raise ValueError naming the first record whose length differs from
    that of the first record."""
    first_id, first_sequence = records[0]
    length = len(first_sequence)
    for index, (seq_id, sequence) in enumerate(records):
        if len(sequence) != length:
            raise ValueError(
                f"record {seq_id!r} (index {index}) has {len(sequence)} aligned "
                f"columns{after}, but the first record {first_id!r} has {length}; "
                "all records of an alignment must have the same length")


def normalize_alignment(records, insertions="remove"):
    """Apply the A2M/A3M insertion convention and check the aligned length.

    Parameters
    ----------
    records : sequence of (str, str)
        ``(id, sequence)`` pairs, for example from `read_fasta`.
    insertions : {"remove", "keep"}
        "remove" deletes the insertions (lowercase letters and '.') from
        every record, which leaves the match columns (uppercase letters and
        '-').  "keep" turns lowercase letters into uppercase and '.' into
        '-', for plain aligned FASTA files in which case carries no meaning.

    Returns
    -------
    records : list of (str, str)
        The records with the same ids, all of the same length.

    Raises
    ------
    ValueError
        If there are no records, no aligned columns are left, or two records
        differ in length (the message names the first record that differs
        from the first record, and both lengths).
    """
    if insertions == "remove":
        table = str.maketrans("", "", _INSERTION_CHARACTERS)
        after = " after removing insertions (lowercase letters and '.')"
    elif insertions == "keep":
        table = str.maketrans(_INSERTION_CHARACTERS,
                              _INSERTION_CHARACTERS[:-1].upper() + "-")
        after = ""
    else:
        raise ValueError(f"insertions must be 'remove' or 'keep', got {insertions!r}")
    records = [(str(seq_id), sequence.translate(table)) for seq_id, sequence in records]
    if not records:
        raise ValueError("the alignment is empty: it has no records")
    _check_same_length(records, after)
    if not records[0][1]:
        raise ValueError(f"the alignment has no aligned columns{after}")
    return records


def _locate(flat_index, length, records):
    row, column = divmod(int(flat_index), length)
    return row, column, records[row][0]


def encode_alignment(records, ambiguous="gap"):
    """Encode aligned records as states over `ALPHABET`.

    Parameters
    ----------
    records : sequence of (str, str)
        ``(id, aligned sequence)`` of equal lengths, with uppercase letters
        and '-' only, as `read_alignment` returns them.
    ambiguous : {"gap", "error"}
        What to do with the characters of `AMBIGUOUS` (B, Z, X, J, U, O and
        '*'): "gap" maps them to the gap state and logs their number as a
        warning on the ``"rbmfast.msa"`` logger, and "error" raises.

    Returns
    -------
    ids : list of str
    states : ndarray of int8, shape (B, L)
        ``states[b, i]`` is the index in `ALPHABET` of residue i of record
        b, always in [0, N_STATES).

    Raises
    ------
    ValueError
        If there are no records or no columns, the records differ in length,
        a character is neither in `ALPHABET` nor in `AMBIGUOUS` (the message
        names the record, the column index and the character), or
        ``ambiguous="error"`` and an ambiguous character occurs.
    """
    if ambiguous not in ("gap", "error"):
        raise ValueError(f"ambiguous must be 'gap' or 'error', got {ambiguous!r}")
    records = [(str(seq_id), sequence) for seq_id, sequence in records]
    if not records:
        raise ValueError("the alignment is empty: it has no records")
    _check_same_length(records, "")
    length = len(records[0][1])
    if length == 0:
        raise ValueError("the alignment has no columns")
    ids = [seq_id for seq_id, _ in records]
    # Each character outside ASCII becomes one '?', which keeps the columns
    # in place and is itself an unknown character, so the message below
    # reports the original character.
    text = "".join(sequence for _, sequence in records)
    data = text.encode("ascii", errors="replace")
    codes = np.frombuffer(data, dtype=np.uint8).reshape(len(records), length)
    states = _STATE_OF_BYTE[codes]

    unknown = np.flatnonzero(states.ravel() == _UNKNOWN)
    if unknown.size:
        row, column, seq_id = _locate(unknown[0], length, records)
        character = records[row][1][column]
        hint = ""
        if character in _INSERTION_CHARACTERS:
            hint = ("; lowercase letters and '.' mark insertions, so read the file "
                    "with read_alignment or pass the records through "
                    "normalize_alignment first")
        raise ValueError(
            f"record {seq_id!r} (index {row}), column {column}: unknown character "
            f"{character!r} ({unknown.size} unknown characters in all); valid "
            f"characters are {ALPHABET!r} and the ambiguous {AMBIGUOUS!r}{hint}")

    is_ambiguous = states == _AMBIGUOUS_CODE
    n_ambiguous = int(is_ambiguous.sum())
    if n_ambiguous and ambiguous == "error":
        first = int(np.flatnonzero(is_ambiguous.ravel())[0])
        row, column, seq_id = _locate(first, length, records)
        raise ValueError(
            f"record {seq_id!r} (index {row}), column {column}: ambiguous character "
            f"{records[row][1][column]!r} ({n_ambiguous} ambiguous characters in "
            "all); pass ambiguous='gap' (--ambiguous gap on the command line) to "
            "map them to the gap state")
    if n_ambiguous:
        states[is_ambiguous] = GAP
        _LOGGER.warning(
            "mapped %d ambiguous characters (%s) in %d of %d sequences to the gap "
            "state", n_ambiguous, AMBIGUOUS, int(is_ambiguous.any(axis=1).sum()),
            len(records))
    return ids, states.astype(np.int8)


def _as_states(seqs, name="seqs", dtype=np.int8):
    """Return seqs as a C-contiguous array of states in [0, N_STATES), of
    dtype `dtype` (int8 by default)."""
    array = np.asarray(seqs)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (B, L), got shape {array.shape}")
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer array of states, got dtype "
                        f"{array.dtype}")
    if array.size and (array.min() < 0 or array.max() >= N_STATES):
        raise ValueError(f"{name} has states outside [0, {N_STATES}): minimum "
                         f"{array.min()}, maximum {array.max()}")
    return np.ascontiguousarray(array, dtype=dtype)


def _check_fraction(value, name):
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a number in [0, 1], got {value!r}")
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be in [0, 1], got {value}")


def filter_gaps(seqs, *, max_column_gap_fraction=1.0, max_sequence_gap_fraction=1.0):
    """Drop gappy columns, then gappy sequences.

    Columns are filtered first, on all sequences: a column is kept when its
    fraction of gaps is at most `max_column_gap_fraction`.  Sequences are
    then filtered on the kept columns: a sequence is kept when its fraction
    of gaps there is at most `max_sequence_gap_fraction`.  The defaults, 1.0,
    keep everything.

    Parameters
    ----------
    seqs : ndarray of int, shape (B, L)
        States in [0, N_STATES), with `GAP` = 0 the gap.
    max_column_gap_fraction, max_sequence_gap_fraction : float in [0, 1]

    Returns
    -------
    filtered : ndarray of int8, shape (len(kept_rows), len(kept_columns))
    kept_columns : ndarray of intp
        Indices of the kept columns of `seqs`, increasing.
    kept_rows : ndarray of intp
        Indices of the kept sequences, increasing; select the ids with
        ``[ids[i] for i in kept_rows]``.

    Raises
    ------
    ValueError
        If the fractions are outside [0, 1], `seqs` is not a valid state
        array, or no column or no sequence is left.
    """
    _check_fraction(max_column_gap_fraction, "max_column_gap_fraction")
    _check_fraction(max_sequence_gap_fraction, "max_sequence_gap_fraction")
    seqs = _as_states(seqs)
    if seqs.shape[0] == 0 or seqs.shape[1] == 0:
        raise ValueError(f"seqs is empty, shape {seqs.shape}")
    gaps = seqs == GAP
    kept_columns = np.flatnonzero(gaps.mean(axis=0) <= max_column_gap_fraction)
    if kept_columns.size == 0:
        raise ValueError(f"no column has a gap fraction <= max_column_gap_fraction = "
                         f"{max_column_gap_fraction}; minimum {gaps.mean(axis=0).min()}")
    row_gaps = gaps[:, kept_columns].mean(axis=1)
    kept_rows = np.flatnonzero(row_gaps <= max_sequence_gap_fraction)
    if kept_rows.size == 0:
        raise ValueError(
            f"no sequence has a gap fraction <= max_sequence_gap_fraction = "
            f"{max_sequence_gap_fraction} on the {kept_columns.size} kept columns; "
            f"minimum {row_gaps.min()}")
    filtered = np.ascontiguousarray(seqs[np.ix_(kept_rows, kept_columns)])
    return filtered, kept_columns, kept_rows


# ---------------------------------------------------------------------------
# Sequence weights


def _identity_threshold(identity, length):
    """Return the smallest number of identical positions m with
    m / length >= identity.

    The number is read as the decimal it prints as, so 0.8 is 4/5 rather
    than the binary float just above it.  That makes 0.8 over 5 positions
    4 and 0.7 over 10 positions 7, where ``math.ceil(0.7 * 10)`` on floats
    gives 8.
    """
    try:
        fraction = Fraction(str(identity))
    except ValueError:
        fraction = Fraction(float(identity))
    return math.ceil(fraction * length)


def sequence_weights(seqs, identity=0.8, n_threads=None):
    """Compute the identity-based weight of every sequence.

    ``w_b = 1 / n_b`` with ``n_b = #{b' : identity(b, b') >= identity}``,
    b itself included, where ``identity(b, b')`` is the fraction of the L
    columns in which b and b' have the same state.  Gaps count as a state, so
    two gaps at a column are identical.  The sum of the weights is the
    effective number of sequences.

    Parameters
    ----------
    seqs : ndarray of int, shape (B, L)
        States in [0, N_STATES), L >= 1; copied to int8 when needed.
    identity : float in [0, 1]
        Identity fraction at or above which two sequences are counted as
        neighbours.  It is read as the decimal it prints as, so 0.8 over
        L = 5 columns means at least 4 identical positions.
    n_threads : int or None
        OpenMP threads for the O(B^2 L) count (see
        `rbmfast._threads.resolve_threads`).  The weights are the same for
        every thread count.

    Returns
    -------
    weights : ndarray of float64, shape (B,)
        Each in (0, 1].
    """
    _check_fraction(identity, "identity")
    seqs = _as_states(seqs)
    if seqs.shape[1] == 0:
        raise ValueError("seqs has no columns; sequence identity needs L >= 1")
    threshold = _identity_threshold(identity, seqs.shape[1])
    counts = identity_counts(seqs, threshold, q=N_STATES,
                             n_threads=resolve_threads(n_threads))
    return 1.0 / counts


def validate_weights(weights, n_sequences):
    """Check user-supplied sequence weights.

    Parameters
    ----------
    weights : array_like of float, shape (n_sequences,)
        Finite, non-negative, and not all zero.
    n_sequences : int

    Returns
    -------
    weights : ndarray of float64, shape (n_sequences,)
        A copy.

    Raises
    ------
    ValueError
        If `weights` is None or fails one of the checks above.
    """
    if weights is None:
        raise ValueError("weights is None; pass one weight per sequence")
    return check_weights(weights, n_sequences)


def save_weights(path, weights, ids=None):
    """Write sequence weights to a text file.

    The file has a '#' comment line, then one line per sequence in order:
    the weight, or the id, a tab and the weight when `ids` is given.
    Weights are written with ``repr`` and so read back bit for bit.

    Parameters
    ----------
    path : str or os.PathLike
    weights : array_like of float, shape (B,)
        Checked with `validate_weights`.
    ids : sequence of str, optional
        Unique sequence ids without whitespace, one per weight.
    """
    weights = validate_weights(weights, len(np.asarray(weights).reshape(-1)))
    if ids is not None:
        ids = [str(seq_id) for seq_id in ids]
        if len(ids) != len(weights):
            raise ValueError(f"{len(ids)} ids for {len(weights)} weights; pass one id "
                             "per weight")
        for seq_id in ids:
            if not seq_id or seq_id != "".join(seq_id.split()):
                raise ValueError(f"sequence id {seq_id!r} is empty or contains "
                                 "whitespace, so it cannot be written as one field")
        if len(set(ids)) != len(ids):
            raise ValueError("ids are not unique; each sequence needs its own id")
    with open(path, "w", encoding="utf-8") as handle:
        if ids is None:
            handle.write("# rbmfast sequence weights: weight\n")
            handle.writelines(f"{float(value)!r}\n" for value in weights)
        else:
            handle.write("# rbmfast sequence weights: id<TAB>weight\n")
            handle.writelines(f"{seq_id}\t{float(value)!r}\n"
                              for seq_id, value in zip(ids, weights))


def load_weights(path, ids=None):
    """Read sequence weights written by `save_weights` or by hand.

    Blank lines and lines starting with '#' are skipped.  Every other line
    has one field (the weight) or two whitespace-separated fields (id and
    weight), the same number on every line.

    Parameters
    ----------
    path : str or os.PathLike
    ids : sequence of str, optional
        The alignment's ids.  When the file has ids, the weights are
        returned in the order of `ids` and the two sets of ids must be the
        same.  When it has none, the file must have ``len(ids)`` weights.

    Returns
    -------
    weights : ndarray of float64
        Checked with `validate_weights`.

    Raises
    ------
    ValueError
        If a line is malformed, the ids do not match, or the weights fail the
        checks of `validate_weights`.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights file {path} not found")
    file_ids, values = [], []
    n_fields = None
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            if n_fields is None:
                n_fields = len(fields)
                if n_fields not in (1, 2):
                    raise ValueError(f"{path}, line {number}: expected 'weight' or "
                                     f"'id weight', found {n_fields} fields")
            elif len(fields) != n_fields:
                raise ValueError(f"{path}, line {number}: {len(fields)} fields, but "
                                 f"earlier lines have {n_fields}")
            try:
                values.append(float(fields[-1]))
            except ValueError:
                raise ValueError(f"{path}, line {number}: invalid weight "
                                 f"{fields[-1]!r}") from None
            if n_fields == 2:
                file_ids.append(fields[0])
    if not values:
        raise ValueError(f"{path} contains no weights")
    weights = np.array(values, dtype=np.float64)
    if n_fields == 2:
        if len(set(file_ids)) != len(file_ids):
            raise ValueError(f"{path} lists an id more than once")
        if ids is not None:
            weights = _reorder_by_ids(weights, file_ids, ids, path)
    elif ids is not None and len(ids) != len(weights):
        raise ValueError(f"{path} has {len(weights)} weights but the alignment has "
                         f"{len(ids)} sequences")
    return validate_weights(weights, len(weights))


def _reorder_by_ids(weights, file_ids, ids, path):
    position = {seq_id: index for index, seq_id in enumerate(file_ids)}
    ids = [str(seq_id) for seq_id in ids]
    missing = [seq_id for seq_id in ids if seq_id not in position]
    if missing:
        raise ValueError(f"{path} has no weight for {len(missing)} of the {len(ids)} "
                         f"sequences, for example {missing[:5]}")
    if len(set(ids)) != len(file_ids):
        raise ValueError(f"{path} has weights for {len(file_ids)} sequences but the "
                         f"alignment has {len(set(ids))} distinct ids")
    return weights[[position[seq_id] for seq_id in ids]]


# ---------------------------------------------------------------------------
# Labels


class JoinedLabels(NamedTuple):
    """Labels that `join_labels` found for a list of sequence ids.

    Attributes
    ----------
    labels : ndarray of str, shape (mask.sum(),)
        Labels of the ids with ``mask`` True, in the order of the ids.
    mask : ndarray of bool, shape (len(ids),)
        True where the id has a row in the table.
    n_missing : int
        Number of ids without a row, ``(~mask).sum()``.
    """

    labels: np.ndarray
    mask: np.ndarray
    n_missing: int


def _delimiter(path, sample, sep):
    if sep is not None:
        return sep
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in (".tsv", ".tab"):
        return "\t"
    if suffixes and suffixes[-1] == ".csv":
        return ","
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        raise ValueError(f"cannot detect the column separator of {path}; pass sep, "
                         "for example sep=',' or sep='\\t'") from None


def _column_index(header, name, path):
    if name not in header:
        raise ValueError(f"{path} has no column {name!r}; available columns: {header}")
    return header.index(name)


def _read_label_table(path, id_column, label_column, sep):
    """Return {id: label} from a CSV/TSV table, cells stripped of whitespace."""
    # newline="" as the csv module requires, so quoted cells may span lines.
    with _open_text(path, newline="") as handle:
        sample = handle.read(65536)
        handle.seek(0)
        reader = csv.reader(handle, delimiter=_delimiter(path, sample, sep))
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{path} is empty: it has no header row")
        header = [name.strip() for name in header]
        id_index = _column_index(header, id_column, path)
        label_index = _column_index(header, label_column, path)
        needed = max(id_index, label_index) + 1
        label_of, line_of = {}, {}
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < needed:
                raise ValueError(f"{path}, line {reader.line_num}: {len(row)} fields, "
                                 f"but column {header[needed - 1]!r} is field "
                                 f"{needed}")
            seq_id, label = row[id_index].strip(), row[label_index].strip()
            if seq_id in label_of and label_of[seq_id] != label:
                raise ValueError(
                    f"{path}, line {reader.line_num}: id {seq_id!r} has label "
                    f"{label!r}, but line {line_of[seq_id]} gives it "
                    f"{label_of[seq_id]!r}")
            label_of[seq_id] = label
            line_of.setdefault(seq_id, reader.line_num)
    return label_of


def join_labels(ids, table_path, id_column, label_column, sep=None, missing="error"):
    """Look up a label for every sequence id in a CSV or TSV table.

    Parameters
    ----------
    ids : sequence of str
        Sequence ids, for example from `encode_alignment`.
    table_path : str or os.PathLike
        Table with a header row, plain or gzip-compressed.  Cells are
        stripped of surrounding whitespace.  An id may appear on several
        rows only with the same label.
    id_column, label_column : str
        Header names of the id and label columns.
    sep : str, optional
        Column separator.  By default it is a tab for ``.tsv`` and ``.tab``
        files, a comma for ``.csv`` files, and otherwise detected by
        `csv.Sniffer` among ``, \\t ; |``.
    missing : {"error", "drop"}
        What to do with ids that have no row: "error" raises, "drop" leaves
        them out of ``labels`` and marks them False in ``mask``.

    Returns
    -------
    JoinedLabels
        ``(labels, mask, n_missing)``; with ``missing="error"`` the mask is
        all True.  Empty label cells are returned as ''.

    Raises
    ------
    ValueError
        If a column does not exist (the message lists the available ones),
        an id has two different labels, no id has a row, or
        ``missing="error"`` and some ids have none (the message gives their
        number and the first few).
    """
    if missing not in ("error", "drop"):
        raise ValueError(f"missing must be 'error' or 'drop', got {missing!r}")
    table_path = Path(table_path)
    label_of = _read_label_table(table_path, id_column, label_column, sep)
    ids = [str(seq_id) for seq_id in ids]
    mask = np.array([seq_id in label_of for seq_id in ids], dtype=bool)
    n_missing = int((~mask).sum())
    if ids and n_missing == len(ids):
        raise ValueError(f"none of the {len(ids)} sequence ids is in column "
                         f"{id_column!r} of {table_path}, for example {ids[:3]}; "
                         "check id_column and the id format")
    if n_missing and missing == "error":
        absent = [seq_id for seq_id, found in zip(ids, mask) if not found]
        raise ValueError(
            f"{n_missing} of {len(ids)} sequence ids have no row in {table_path} "
            f"(column {id_column!r}), for example {absent[:5]}; pass "
            "missing='drop' (--missing drop on the command line) to leave them "
            "out")
    if n_missing:
        _LOGGER.info("dropped %d of %d sequences without a row in %s",
                     n_missing, len(ids), table_path)
    labels = np.array([label_of[seq_id] for seq_id, found in zip(ids, mask) if found],
                      dtype=str)
    return JoinedLabels(labels, mask, n_missing)


# ---------------------------------------------------------------------------
# Writing FASTA


def _check_alphabet(alphabet):
    if not isinstance(alphabet, str) or not alphabet:
        raise ValueError(f"alphabet must be a non-empty string, got {alphabet!r}")
    if len(set(alphabet)) != len(alphabet):
        repeated = sorted({c for c in alphabet if alphabet.count(c) > 1})
        raise ValueError(f"alphabet {alphabet!r} repeats {repeated}; each state "
                         "needs its own character")
    invalid = [c for c in alphabet if not (c.isascii() and c.isprintable())
               or c.isspace() or c == ">"]
    if invalid:
        raise ValueError(f"alphabet {alphabet!r} contains {invalid}; FASTA letters "
                         "must be printable ASCII other than space and '>'")


def _check_fasta_ids(ids, n_sequences):
    ids = [str(seq_id) for seq_id in ids]
    if len(ids) != n_sequences:
        raise ValueError(f"{len(ids)} ids for {n_sequences} sequences; pass one id "
                         "per row of seqs")
    for index, seq_id in enumerate(ids):
        if not seq_id or seq_id != "".join(seq_id.split()):
            raise ValueError(f"sequence id {seq_id!r} (index {index}) is empty or "
                             "contains whitespace, but read_fasta keeps only the "
                             "first word of a header line as the id")
    first_index = {}
    for index, seq_id in enumerate(ids):
        if seq_id in first_index:
            raise ValueError(f"sequence id {seq_id!r} is used at index "
                             f"{first_index[seq_id]} and {index}; ids must be unique")
        first_index[seq_id] = index
    return ids


def _fasta_codes(seqs, n_states):
    """Return seqs as a uint8 array of codes in [0, n_states)."""
    array = np.asarray(seqs)
    if array.ndim != 2:
        raise ValueError(f"seqs must be a 2-D array (B, L), got shape {array.shape}")
    if array.dtype.kind not in "iu":
        raise TypeError(f"seqs must be an integer array of states, got dtype "
                        f"{array.dtype}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"seqs is empty, shape {array.shape}; a FASTA file needs at "
                         "least one sequence of at least one column")
    outside = (array < 0) | (array >= n_states)
    if outside.any():
        row, column = np.argwhere(outside)[0]
        raise ValueError(f"seqs[{row}, {column}] = {array[row, column]} is outside "
                         f"[0, {n_states}), the codes of the alphabet "
                         f"({int(outside.sum())} codes outside in all)")
    return array.astype(np.uint8)


def write_fasta(path, seqs, ids, alphabet=ALPHABET, line_width=60):
    """Write integer-coded sequences to a FASTA file, atomically.

    Each record is a ``>id`` line and the sequence, ``alphabet[code]`` per
    column, wrapped at `line_width` letters per line.  The text goes to a
    temporary file in the target's directory, which is fsynced and then
    renamed onto `path`, so a failed write leaves an existing file unchanged.

    Parameters
    ----------
    path : str or os.PathLike
        Target file, written as plain ASCII text.  Its directory must exist.
        An existing file is replaced and keeps its permission bits.
    seqs : ndarray of int, shape (B, L)
        Codes in ``[0, len(alphabet))``, B >= 1 and L >= 1.
    ids : sequence of str, length B
        Unique ids without whitespace.
    alphabet : str
        ``alphabet[k]`` is the letter of code k; printable ASCII without
        spaces or '>', each character once.  The default `ALPHABET` makes the
        file the inverse of `encode_alignment`.  With lowercase letters or
        '.', read the file back with `read_fasta` or with
        ``read_alignment(..., insertions="keep")``, because the default
        ``insertions="remove"`` deletes them.
    line_width : int
        Letters per sequence line, at least 1.

    Returns
    -------
    pathlib.Path
        `path` as a ``Path``.

    Raises
    ------
    ValueError
        If the alphabet, the ids or `line_width` are invalid, `seqs` is empty,
        or a code is outside the alphabet (the message gives its position).
    TypeError
        If `seqs` is not an integer array.
    FileNotFoundError
        If the target directory does not exist.
    """
    _check_alphabet(alphabet)
    if isinstance(line_width, bool) or not isinstance(line_width, (int, np.integer)) \
            or line_width < 1:
        raise ValueError(f"line_width must be a positive integer, got {line_width!r}")
    codes = _fasta_codes(seqs, len(alphabet))
    ids = _check_fasta_ids(ids, codes.shape[0])
    target = Path(path)
    directory = target.parent
    if not directory.is_dir():
        raise FileNotFoundError(f"cannot write {target}: directory {directory} does "
                                "not exist; create it first")

    letters = np.frombuffer(alphabet.encode("ascii"), dtype=np.uint8)[codes]
    width = int(line_width)

    def write(handle):
        for seq_id, row in zip(ids, letters):
            sequence = row.tobytes().decode("ascii")
            handle.write(f">{seq_id}\n")
            for start in range(0, len(sequence), width):
                handle.write(sequence[start:start + width] + "\n")

    return write_atomically(target, write, binary=False)


# ---------------------------------------------------------------------------
# Nearest sequences


def nearest_sequences(query, reference, n_threads=None):
    """Find the nearest reference sequence of every query sequence.

    The identity of two aligned sequences is the fraction of the L columns
    in which they have the same state, gaps included as a state.  For each
    query row the nearest reference row is the one of maximum identity, and
    of those the one with the lowest index.

    Parameters
    ----------
    query : ndarray of int, shape (n_query, L)
        States in [0, N_STATES), for example generated sequences; copied to
        uint8 when needed.  n_query may be 0.
    reference : ndarray of int, shape (n_reference, L)
        States in [0, N_STATES) on the same L columns, n_reference >= 1.
    n_threads : int or None
        OpenMP threads for the O(n_query n_reference L) comparison (see
        `rbmfast._threads.resolve_threads`).  The result is the same for
        every thread count.

    Returns
    -------
    index : ndarray of int64, shape (n_query,)
        Row of `reference` nearest to each query row.
    identity : ndarray of float64, shape (n_query,)
        Identity to that row, ``matches / L`` in [0, 1].

    Raises
    ------
    ValueError
        If an array is not 2-D, has states outside [0, N_STATES), the two
        have different numbers of columns, L = 0 or `reference` has no rows.
    TypeError
        If an array is not of an integer dtype.
    """
    query, reference = _as_query_and_reference(query, reference, "query",
                                               "reference")
    index, matches = nearest_rows(query, reference, q=N_STATES,
                                  n_threads=resolve_threads(n_threads))
    return index, matches / query.shape[1]


def _as_query_and_reference(query, reference, query_name, reference_name):
    """Return both arrays as C-contiguous uint8 states on the same L >= 1
    columns, with at least one reference row."""
    query = _as_states(query, query_name, dtype=np.uint8)
    reference = _as_states(reference, reference_name, dtype=np.uint8)
    if query.shape[1] != reference.shape[1]:
        raise ValueError(f"{query_name} has {query.shape[1]} columns but "
                         f"{reference_name} has {reference.shape[1]}; both must be "
                         "aligned to the same columns")
    if query.shape[1] == 0:
        raise ValueError(f"{query_name} and {reference_name} have no columns; "
                         "sequence identity needs L >= 1")
    if reference.shape[0] == 0:
        raise ValueError(f"{reference_name} has no sequences; a nearest sequence "
                         "needs at least one")
    return query, reference


class NearestGroupCheck(NamedTuple):
    """Agreement between the group of a generated sequence and the group of
    its nearest natural sequence, from `nearest_group_check`.

    Arrays of length G follow the order of ``groups``.

    Attributes
    ----------
    groups : ndarray, shape (G,)
        Distinct labels of the natural sequences, sorted.
    fraction : ndarray of float64, shape (G,)
        ``n_matched / n_generated``: the fraction of the generated sequences
        of each group whose nearest natural sequence has the same group.
        NaN for a group without generated sequences.
    chance : ndarray of float64, shape (G,)
        ``n_natural / n_natural.sum()``: the frequency of each group among
        the natural sequences, which is the expected fraction when the
        nearest natural sequence does not depend on the group.
    n_generated, n_matched, n_natural : ndarray of int64, shape (G,)
        Generated sequences, generated sequences whose nearest natural
        sequence has the same group, and natural sequences, per group.
    confusion : ndarray of int64, shape (G, G)
        ``confusion[g, h]`` counts the generated sequences of group g whose
        nearest natural sequence is in group h, so its diagonal is
        ``n_matched`` and its row sums are ``n_generated``.
    nearest : ndarray of int64, shape (n_generated,)
        Index of the nearest natural sequence of each generated sequence.
    identity : ndarray of float64, shape (n_generated,)
        Identity to that natural sequence.
    """

    groups: np.ndarray
    fraction: np.ndarray
    chance: np.ndarray
    n_generated: np.ndarray
    n_matched: np.ndarray
    n_natural: np.ndarray
    confusion: np.ndarray
    nearest: np.ndarray
    identity: np.ndarray


def _as_group_labels(groups, n_sequences, name, sequences_name):
    labels = np.asarray(groups)
    if labels.ndim != 1 or labels.shape[0] != n_sequences:
        raise ValueError(f"{name} must have shape ({n_sequences},), one label per "
                         f"row of {sequences_name}, got shape {labels.shape}")
    return labels


def nearest_group_check(generated, generated_groups, natural, natural_groups,
                        n_threads=None):
    """Check whether generated sequences resemble natural ones of their group.

    Each generated sequence is labelled with the group it was generated for
    (for example the class clamped while sampling), and each natural
    sequence with its own group.  The check finds the nearest natural
    sequence of each generated one with `nearest_sequences` and counts how
    often the two groups agree.  A fraction well above ``chance`` means the
    model generates sequences that are closest to natural members of the
    requested group.

    Parameters
    ----------
    generated : ndarray of int, shape (n_generated, L)
        States in [0, N_STATES).
    generated_groups : array_like, shape (n_generated,)
        Group label of each generated sequence.  Every label must also occur
        in `natural_groups`.
    natural : ndarray of int, shape (n_natural, L)
        States in [0, N_STATES) on the same columns, n_natural >= 1.
    natural_groups : array_like, shape (n_natural,)
        Group label of each natural sequence, for example ``labels`` from
        `join_labels`.  Labels are compared with ``==`` after
        ``numpy.asarray``, so 1 and "1" are different groups.
    n_threads : int or None
        Passed to `nearest_sequences`.

    Returns
    -------
    NearestGroupCheck

    Raises
    ------
    ValueError
        For the errors of `nearest_sequences` (naming `generated` and
        `natural`), group arrays whose length does not match the sequences,
        or generated labels that no natural sequence has (the message lists
        them).
    TypeError
        If a sequence array is not of an integer dtype.
    """
    generated, natural = _as_query_and_reference(generated, natural, "generated",
                                                 "natural")
    generated_labels = _as_group_labels(generated_groups, generated.shape[0],
                                        "generated_groups", "generated")
    natural_labels = _as_group_labels(natural_groups, natural.shape[0],
                                      "natural_groups", "natural")
    groups, natural_group_index = np.unique(natural_labels, return_inverse=True)
    natural_group_index = natural_group_index.reshape(-1)
    position = {label: g for g, label in enumerate(groups.tolist())}
    generated_list = generated_labels.tolist()
    unknown = sorted({label for label in generated_list if label not in position},
                     key=str)
    if unknown:
        raise ValueError(f"generated_groups has labels {unknown[:10]} that no natural "
                         f"sequence has (natural groups: {groups.tolist()[:10]}); "
                         "every generated group needs natural members")
    generated_group_index = np.array([position[label] for label in generated_list],
                                     dtype=np.intp)

    nearest, identity = nearest_sequences(generated, natural, n_threads=n_threads)
    n_groups = len(groups)
    confusion = np.zeros((n_groups, n_groups), dtype=np.int64)
    np.add.at(confusion, (generated_group_index, natural_group_index[nearest]), 1)
    n_generated = confusion.sum(axis=1)
    n_matched = np.diagonal(confusion).copy()
    n_natural = np.bincount(natural_group_index, minlength=n_groups).astype(np.int64)
    fraction = np.full(n_groups, np.nan)
    has_generated = n_generated > 0
    fraction[has_generated] = n_matched[has_generated] / n_generated[has_generated]
    chance = n_natural / n_natural.sum()
    return NearestGroupCheck(groups, fraction, chance, n_generated, n_matched,
                             n_natural, confusion, nearest, identity)
