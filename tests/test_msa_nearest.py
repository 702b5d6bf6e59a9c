"""Tests for the FASTA writer and the nearest-sequence functions of
rbmfast.datasets.msa."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from rbmfast import archive
from rbmfast._kernels._reweight import nearest_rows
from rbmfast.datasets import msa
from rbmfast.datasets.msa import (ALPHABET, N_STATES, encode_alignment,
                                  nearest_group_check, nearest_sequences,
                                  read_alignment, read_fasta, write_fasta)


def related_sequences(rng, n_sequences, length, n_ancestors=4, mutation_rate=0.2):
    """Sequences mutated from a few ancestors, so that many pairs are close
    and the early exit of the kernel stops at different columns."""
    ancestors = rng.integers(0, N_STATES, (n_ancestors, length))
    seqs = ancestors[rng.integers(0, n_ancestors, n_sequences)]
    mutate = rng.random((n_sequences, length)) < mutation_rate
    seqs[mutate] = rng.integers(0, N_STATES, int(mutate.sum()))
    return seqs.astype(np.int8)


def naive_nearest(query, reference):
    """Index (first maximum, as numpy.argmax) and identity by broadcasting."""
    matches = (np.asarray(query)[:, None, :] == np.asarray(reference)[None, :, :])
    counts = matches.sum(axis=2)
    index = counts.argmax(axis=1)
    return index, counts.max(axis=1) / query.shape[1]


# ---------------------------------------------------------------------------
# nearest_sequences


@pytest.mark.parametrize("length", [1, 5, 63, 64, 65, 129, 200])
def test_nearest_matches_naive(length):
    rng = np.random.default_rng(length)
    reference = related_sequences(rng, 150, length)
    query = related_sequences(rng, 70, length)
    index, identity = nearest_sequences(query, reference, n_threads=1)
    expected_index, expected_identity = naive_nearest(query, reference)
    assert index.dtype == np.int64
    assert identity.dtype == np.float64
    np.testing.assert_array_equal(index, expected_index)
    np.testing.assert_array_equal(identity, expected_identity)


def test_nearest_ties_lowest_index():
    rng = np.random.default_rng(1)
    reference = rng.integers(0, N_STATES, (6, 80)).astype(np.int8)
    reference[4] = reference[1]
    reference[5] = reference[1]
    index, identity = nearest_sequences(reference[[5, 4, 1, 0]], reference)
    np.testing.assert_array_equal(index, [1, 1, 1, 0])
    np.testing.assert_array_equal(identity, [1.0, 1.0, 1.0, 1.0])


def test_nearest_ties_below_full_identity():
    # Both reference rows differ from the query in one column, so they tie.
    query = np.array([[1, 2, 3, 4]], dtype=np.int8)
    reference = np.array([[9, 9, 9, 9], [1, 2, 3, 0], [0, 2, 3, 4]], dtype=np.int8)
    index, identity = nearest_sequences(query, reference)
    assert index.tolist() == [1]
    assert identity.tolist() == [0.75]


def test_nearest_no_match_at_all():
    query = np.zeros((2, 7), dtype=np.int8)
    reference = np.ones((3, 7), dtype=np.int8)
    index, identity = nearest_sequences(query, reference)
    np.testing.assert_array_equal(index, [0, 0])
    np.testing.assert_array_equal(identity, [0.0, 0.0])


def test_nearest_gap_counts_as_state():
    query = np.array([[0, 0, 5]], dtype=np.int8)
    reference = np.array([[1, 1, 5], [0, 0, 6]], dtype=np.int8)
    index, identity = nearest_sequences(query, reference)
    assert index.tolist() == [1]
    assert identity.tolist() == [2 / 3]


def test_nearest_other_dtypes_and_layouts():
    rng = np.random.default_rng(2)
    reference = related_sequences(rng, 40, 90)
    query = related_sequences(rng, 15, 90)
    expected = nearest_sequences(query, reference)
    for convert in (lambda a: a.astype(np.int64), lambda a: a.astype(np.uint8),
                    np.asfortranarray, lambda a: a.tolist()):
        index, identity = nearest_sequences(convert(query), convert(reference))
        np.testing.assert_array_equal(index, expected[0])
        np.testing.assert_array_equal(identity, expected[1])
    # Every other column of a wider array, which is not C-contiguous.
    wide = np.repeat(reference, 2, axis=1)
    index, _ = nearest_sequences(np.repeat(query, 2, axis=1)[:, ::2], wide[:, ::2])
    np.testing.assert_array_equal(index, expected[0])


def test_nearest_empty_query():
    index, identity = nearest_sequences(np.zeros((0, 12), np.int8),
                                        np.zeros((3, 12), np.int8))
    assert index.shape == (0,)
    assert identity.shape == (0,)


def test_nearest_threads_in_process():
    rng = np.random.default_rng(3)
    # 300 * 400 * 150 = 1.8e7 comparisons, far above RBM_PARALLEL_MIN_WORK
    # (32768), so the kernel runs in parallel.
    reference = related_sequences(rng, 400, 150)
    query = related_sequences(rng, 300, 150)
    expected = nearest_sequences(query, reference, n_threads=1)
    assert len(np.unique(expected[1])) > 5
    for n_threads in (2, 3, None):
        index, identity = nearest_sequences(query, reference, n_threads=n_threads)
        np.testing.assert_array_equal(index, expected[0])
        np.testing.assert_array_equal(identity, expected[1])


_THREAD_SCRIPT = textwrap.dedent("""
    import json
    import sys

    import numpy as np
    import threadpoolctl

    from rbmfast.datasets.msa import nearest_sequences

    out = sys.argv[1]
    rng = np.random.default_rng(5)
    ancestors = rng.integers(0, 21, (6, 170))
    rows = ancestors[rng.integers(0, 6, 900)]
    mutate = rng.random(rows.shape) < 0.25
    rows[mutate] = rng.integers(0, 21, int(mutate.sum()))
    index, identity = nearest_sequences(rows[:300], rows[300:])
    np.save(f"{out}/index.npy", index)
    np.save(f"{out}/identity.npy", identity)
    openmp = [p["num_threads"] for p in threadpoolctl.threadpool_info()
              if p["user_api"] == "openmp"]
    with open(f"{out}/openmp.json", "w") as f:
        json.dump(openmp, f)
""")


@pytest.fixture(scope="module")
def thread_runs(tmp_path_factory):
    """Run the script under OMP_NUM_THREADS=1 and =2; return the folders."""
    folders = {}
    for n_threads in (1, 2):
        folder = tmp_path_factory.mktemp(f"nearest_threads{n_threads}")
        env = dict(os.environ, OMP_NUM_THREADS=str(n_threads))
        subprocess.run([sys.executable, "-c", _THREAD_SCRIPT, str(folder)], env=env,
                       check=True, timeout=300)
        folders[n_threads] = folder
    return folders


def test_nearest_threads_requested(thread_runs):
    # Without this the comparison below could pass with one thread in both.
    for n_threads, folder in thread_runs.items():
        openmp = json.loads((folder / "openmp.json").read_text())
        assert openmp == [n_threads]


@pytest.mark.parametrize("name", ["index", "identity"])
def test_nearest_thread_count_independent(thread_runs, name):
    one = np.load(thread_runs[1] / f"{name}.npy")
    two = np.load(thread_runs[2] / f"{name}.npy")
    assert np.array_equal(one, two)


@pytest.mark.parametrize("query, reference, error, message", [
    (np.zeros(5, np.int8), np.zeros((2, 5), np.int8), ValueError,
     "query must be a 2-D array"),
    (np.zeros((2, 5), np.int8), np.zeros((2, 5, 1), np.int8), ValueError,
     "reference must be a 2-D array"),
    (np.zeros((2, 5)), np.zeros((2, 5), np.int8), TypeError,
     "query must be an integer array"),
    (np.zeros((2, 5), np.int8), np.zeros((2, 5), bool), TypeError,
     "reference must be an integer array"),
    (np.full((2, 5), 21), np.zeros((2, 5), np.int8), ValueError,
     "query has states outside \\[0, 21\\)"),
    (np.zeros((2, 5), np.int8), np.full((2, 5), -1), ValueError,
     "reference has states outside \\[0, 21\\)"),
    (np.zeros((2, 5), np.int8), np.zeros((2, 6), np.int8), ValueError,
     "query has 5 columns but reference has 6"),
    (np.zeros((2, 0), np.int8), np.zeros((2, 0), np.int8), ValueError,
     "no columns"),
    (np.zeros((2, 5), np.int8), np.zeros((0, 5), np.int8), ValueError,
     "reference has no sequences"),
])
def test_nearest_errors(query, reference, error, message):
    with pytest.raises(error, match=message):
        nearest_sequences(query, reference)


def test_nearest_bad_threads():
    seqs = np.zeros((2, 5), np.int8)
    with pytest.raises(ValueError, match="n_threads=0"):
        nearest_sequences(seqs, seqs, n_threads=0)
    with pytest.raises(TypeError, match="n_threads must be an int"):
        nearest_sequences(seqs, seqs, n_threads=1.5)


def test_kernel_nearest_rows_validation():
    good = np.zeros((3, 4), np.uint8)
    index, matches = nearest_rows(good, good)
    assert matches.dtype == np.int32
    np.testing.assert_array_equal(matches, [4, 4, 4])
    np.testing.assert_array_equal(index, [0, 0, 0])
    with pytest.raises(TypeError, match="query must have dtype uint8"):
        nearest_rows(good.astype(np.int8), good)
    with pytest.raises(TypeError, match="reference must be a numpy array"):
        nearest_rows(good, [[0, 0, 0, 0]])
    with pytest.raises(ValueError, match="C-contiguous"):
        nearest_rows(np.zeros((3, 8), np.uint8)[:, ::2], good)
    with pytest.raises(ValueError, match="2-D"):
        nearest_rows(np.zeros(4, np.uint8), good)
    with pytest.raises(ValueError, match="3 columns but reference has 4"):
        nearest_rows(np.zeros((3, 3), np.uint8), good)
    with pytest.raises(ValueError, match="reference has no rows"):
        nearest_rows(good, np.zeros((0, 4), np.uint8))
    with pytest.raises(ValueError, match="q must be in \\[1, 256\\]"):
        nearest_rows(good, good, q=0)
    bad = good.copy()
    bad[1, 2] = 21
    with pytest.raises(ValueError, match="reference\\[1, 2\\] = 21 is outside"):
        nearest_rows(good, bad)
    np.testing.assert_array_equal(nearest_rows(bad, bad, q=22)[1], [4, 4, 4])


# ---------------------------------------------------------------------------
# nearest_group_check


def naive_group_check(generated, generated_groups, natural, natural_groups):
    groups = sorted(set(natural_groups))
    nearest, _ = naive_nearest(np.asarray(generated), np.asarray(natural))
    confusion = np.zeros((len(groups), len(groups)), dtype=np.int64)
    for label, row in zip(generated_groups, nearest):
        confusion[groups.index(label), groups.index(natural_groups[row])] += 1
    return groups, confusion


def grouped_alignment(rng, ancestors, n_per_group, mutation_rate):
    """Three groups, each mutated from its own ancestor."""
    labels = np.repeat(np.array(["alpha", "beta", "gamma"]), n_per_group)
    seqs = np.repeat(ancestors, n_per_group, axis=0)
    mutate = rng.random(seqs.shape) < mutation_rate
    seqs[mutate] = rng.integers(0, N_STATES, int(mutate.sum()))
    return seqs.astype(np.int8), labels


def test_group_check_matches_naive():
    rng = np.random.default_rng(8)
    ancestors = rng.integers(0, N_STATES, (3, 60))
    natural, natural_groups = grouped_alignment(rng, ancestors, [30, 50, 20], 0.7)
    generated, generated_groups = grouped_alignment(rng, ancestors, [10, 5, 25], 0.8)
    # Shuffle so that groups are not in contiguous blocks.
    order = rng.permutation(len(natural))
    natural, natural_groups = natural[order], natural_groups[order]

    check = nearest_group_check(generated, generated_groups, natural, natural_groups)
    groups, confusion = naive_group_check(generated, list(generated_groups), natural,
                                          list(natural_groups))
    assert check.groups.tolist() == groups
    np.testing.assert_array_equal(check.confusion, confusion)
    np.testing.assert_array_equal(check.n_generated, [10, 5, 25])
    np.testing.assert_array_equal(check.n_natural, [30, 50, 20])
    np.testing.assert_array_equal(check.n_matched, np.diagonal(confusion))
    np.testing.assert_array_equal(check.fraction, np.diagonal(confusion)
                                  / np.array([10, 5, 25]))
    np.testing.assert_array_equal(check.chance, [0.3, 0.5, 0.2])
    index, identity = nearest_sequences(generated, natural)
    np.testing.assert_array_equal(check.nearest, index)
    np.testing.assert_array_equal(check.identity, identity)
    # Generated sequences keep about a quarter of their ancestor's states
    # and natural ones a third, enough for most nearest sequences to be in
    # the right group.
    assert check.n_matched.sum() > 0.5 * len(generated)


def test_group_check_perfect_and_missing_group():
    natural = np.array([[1, 1, 1], [2, 2, 2], [3, 3, 3], [3, 3, 4]], dtype=np.int8)
    natural_groups = [0, 1, 2, 2]
    generated = np.array([[1, 1, 2], [3, 3, 5], [3, 4, 4]], dtype=np.int8)
    check = nearest_group_check(generated, [0, 2, 0], natural, natural_groups)
    assert check.groups.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(check.confusion, [[1, 0, 1], [0, 0, 0], [0, 0, 1]])
    assert check.fraction[0] == 0.5
    assert np.isnan(check.fraction[1])
    assert check.fraction[2] == 1.0
    np.testing.assert_array_equal(check.chance, [0.25, 0.25, 0.5])
    np.testing.assert_array_equal(check.n_generated, [2, 0, 1])
    np.testing.assert_array_equal(check.nearest, [0, 2, 3])


def test_group_check_empty_generated():
    natural = np.zeros((3, 4), np.int8)
    check = nearest_group_check(np.zeros((0, 4), np.int8), [], natural, ["a", "b", "b"])
    np.testing.assert_array_equal(check.n_generated, [0, 0])
    assert np.isnan(check.fraction).all()
    assert check.nearest.shape == (0,)


def test_group_check_errors():
    natural = np.zeros((3, 4), np.int8)
    generated = np.zeros((2, 4), np.int8)
    with pytest.raises(ValueError, match="generated_groups must have shape \\(2,\\)"):
        nearest_group_check(generated, ["a"], natural, ["a", "a", "b"])
    with pytest.raises(ValueError, match="natural_groups must have shape \\(3,\\)"):
        nearest_group_check(generated, ["a", "a"], natural, [["a", "a", "b"]])
    with pytest.raises(ValueError, match="labels \\['c'\\] that no natural"):
        nearest_group_check(generated, ["a", "c"], natural, ["a", "a", "b"])
    with pytest.raises(ValueError, match="labels \\['1'\\]"):
        nearest_group_check(generated, ["1", "1"], natural, [1, 1, 2])
    with pytest.raises(ValueError, match="generated has 5 columns but natural has 4"):
        nearest_group_check(np.zeros((2, 5), np.int8), ["a", "a"], natural,
                            ["a", "a", "b"])
    with pytest.raises(ValueError, match="natural has no sequences"):
        nearest_group_check(generated, ["a", "a"], np.zeros((0, 4), np.int8), [])
    with pytest.raises(TypeError, match="generated must be an integer array"):
        nearest_group_check(generated.astype(float), ["a", "a"], natural,
                            ["a", "a", "b"])


# ---------------------------------------------------------------------------
# write_fasta


def test_write_fasta_round_trip(tmp_path):
    rng = np.random.default_rng(4)
    seqs = rng.integers(0, N_STATES, (5, 137)).astype(np.int8)
    ids = [f"gen_{i}" for i in range(5)]
    path = write_fasta(tmp_path / "out.fasta", seqs, ids)
    assert path == tmp_path / "out.fasta"
    records = read_fasta(path)
    assert [seq_id for seq_id, _ in records] == ids
    assert [sequence for _, sequence in records] == [
        "".join(ALPHABET[code] for code in row) for row in seqs]
    read_ids, states = encode_alignment(read_alignment(path))
    assert read_ids == ids
    np.testing.assert_array_equal(states, seqs)


def test_write_fasta_line_width(tmp_path):
    seqs = np.ones((2, 125), dtype=np.uint8)
    path = write_fasta(tmp_path / "a.fasta", seqs, ["s1", "s2"])
    lines = path.read_text().split("\n")
    assert lines == [">s1", "A" * 60, "A" * 60, "A" * 5,
                     ">s2", "A" * 60, "A" * 60, "A" * 5, ""]
    narrow = write_fasta(tmp_path / "b.fasta", seqs[:1, :7], ["s"], line_width=3)
    assert narrow.read_text() == ">s\nAAA\nAAA\nA\n"
    exact = write_fasta(tmp_path / "c.fasta", seqs[:1, :120], ["s"])
    assert exact.read_text() == ">s\n" + ("A" * 60 + "\n") * 2


def test_write_fasta_custom_alphabet(tmp_path):
    seqs = np.array([[0, 1, 2, 3], [3, 2, 1, 0]])
    path = write_fasta(tmp_path / "dna.fa", seqs, [1, 2], alphabet="ACGT")
    assert path.read_text() == ">1\nACGT\n>2\nTGCA\n"
    lowercase = write_fasta(tmp_path / "lower.fa", seqs, ["a", "b"], alphabet="acgt")
    assert read_fasta(lowercase) == [("a", "acgt"), ("b", "tgca")]


def test_write_fasta_replaces_and_keeps_mode(tmp_path):
    path = tmp_path / "a.fasta"
    path.write_text("old\n")
    path.chmod(0o640)
    write_fasta(path, np.zeros((1, 3), np.int8), ["s"])
    assert path.read_text() == ">s\n---\n"
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["a.fasta"]


def test_write_fasta_failure_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "a.fasta"
    path.write_text("old\n")

    def failing_replace(source, target):
        raise OSError("simulated rename failure")

    monkeypatch.setattr(archive.os, "replace", failing_replace)
    with pytest.raises(OSError, match="simulated rename failure"):
        write_fasta(path, np.zeros((1, 3), np.int8), ["s"])
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.fasta"]


def test_write_fasta_invalid_input_writes_nothing(tmp_path):
    path = tmp_path / "a.fasta"
    path.write_text("old\n")
    with pytest.raises(ValueError, match="seqs\\[1, 2\\] = 21 is outside \\[0, 21\\)"):
        write_fasta(path, np.array([[0, 0, 0], [0, 0, 21]]), ["a", "b"])
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.fasta"]


@pytest.mark.parametrize("seqs, ids, kwargs, error, message", [
    (np.array([[0, -1]]), ["a"], {}, ValueError, "seqs\\[0, 1\\] = -1 is outside"),
    (np.array([[0, 4]]), ["a"], {"alphabet": "ACGT"}, ValueError,
     "= 4 is outside \\[0, 4\\)"),
    (np.zeros((1, 3)), ["a"], {}, TypeError, "integer array"),
    (np.zeros(3, np.int8), ["a"], {}, ValueError, "2-D array"),
    (np.zeros((0, 3), np.int8), [], {}, ValueError, "seqs is empty"),
    (np.zeros((1, 0), np.int8), ["a"], {}, ValueError, "seqs is empty"),
    (np.zeros((2, 3), np.int8), ["a"], {}, ValueError, "1 ids for 2 sequences"),
    (np.zeros((1, 3), np.int8), ["a b"], {}, ValueError, "contains whitespace"),
    (np.zeros((1, 3), np.int8), [""], {}, ValueError, "is empty"),
    (np.zeros((2, 3), np.int8), ["a", "a"], {}, ValueError,
     "'a' is used at index 0 and 1"),
    (np.zeros((1, 3), np.int8), ["a"], {"alphabet": "AAC"}, ValueError,
     "repeats \\['A'\\]"),
    (np.zeros((1, 3), np.int8), ["a"], {"alphabet": "A C"}, ValueError,
     "printable ASCII"),
    (np.zeros((1, 3), np.int8), ["a"], {"alphabet": "A>"}, ValueError,
     "printable ASCII"),
    (np.zeros((1, 3), np.int8), ["a"], {"alphabet": "AÉ"}, ValueError,
     "printable ASCII"),
    (np.zeros((1, 3), np.int8), ["a"], {"alphabet": ""}, ValueError,
     "non-empty string"),
    (np.zeros((1, 3), np.int8), ["a"], {"line_width": 0}, ValueError,
     "line_width must be a positive integer"),
    (np.zeros((1, 3), np.int8), ["a"], {"line_width": True}, ValueError,
     "line_width must be a positive integer"),
])
def test_write_fasta_errors(tmp_path, seqs, ids, kwargs, error, message):
    with pytest.raises(error, match=message):
        write_fasta(tmp_path / "a.fasta", seqs, ids, **kwargs)
    assert not list(tmp_path.iterdir())


def test_write_fasta_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_fasta(tmp_path / "absent" / "a.fasta", np.zeros((1, 2), np.int8), ["a"])
