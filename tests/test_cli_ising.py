"""``rbmfast train --data ising`` and ``rbmfast cost``: outputs, settings and
errors, on small simulated lattices."""
import json
import subprocess
import sys

import numpy as np
import pytest

from rbmfast.cli import main
from rbmfast.datasets.ising import save_ising, simulate_ising
from rbmfast.io import load_model

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# 6 x 6 lattices at 3 temperatures, 8 chains of 12 samples each; one thread
# keeps the runs fast on a loaded machine.
ISING_OPTIONS = ["--data", "ising", "--L", "6", "--temperatures", "1.8,2.4,3.2",
                 "--n-per-temperature", "96", "--ising-chains", "8",
                 "--test-chains", "2", "--threads", "1", "--quiet"]
MODEL_OPTIONS = ["--n-hidden", "6", "--epochs", "2", "--batch-size", "64",
                 "--lambda-Q", "100", "--ais-chains", "20", "--ais-betas", "50"]
REPORT_OPTIONS = ["--n-per-class", "6", "--sample-steps", "10"]


def raise_interrupt(*args, **kwargs):
    """Stand in for a function that the user stops with Ctrl-C."""
    raise KeyboardInterrupt


def assert_one_line_error(err, command, *fragments):
    assert err.startswith(f"rbmfast {command}: error: ")
    assert err.count("\n") == 1
    for fragment in fragments:
        assert fragment in err


@pytest.fixture(scope="module")
def ising_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ising") / "run"
    assert main(["train", *ISING_OPTIONS, *MODEL_OPTIONS, *REPORT_OPTIONS,
                 "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def ising_metrics(ising_run):
    return json.loads((ising_run / "report" / "metrics.json").read_text())


def test_ising_train_writes_outputs(ising_run):
    for name in ("config.json", "checkpoint.rbm", "model.rbm", "report/metrics.json",
                 "report/clamped_samples.npy"):
        assert (ising_run / name).is_file(), name
    for name in ("input_histograms_free", "input_histograms_constrained",
                 "constrained_variances", "clamped_observables", "clamped_samples",
                 "training"):
        assert (ising_run / "report" / f"{name}.png").read_bytes()[:8] == PNG_MAGIC


def test_ising_defaults_and_options_saved(ising_run):
    saved = json.loads((ising_run / "config.json").read_text())
    config, data = saved["config"], saved["data"]
    assert (config["visible"], config["hidden"]) == ("spin", "drelu")
    assert config["n_free"] == 1
    assert config["lambda_Q"] == 100.0
    assert config["relative_Q"] is True
    assert config["periodic_lattice"] == [6, 6]
    assert data["L"] == 6
    assert data["temperatures"] == [1.8, 2.4, 3.2]
    assert data["spin_flips"] is True
    assert saved["report"]["likelihood"]["n_chains"] == 20


def test_ising_model_spins(ising_run):
    rbm, constraints, meta = load_model(ising_run / "model.rbm")
    assert rbm.n_visible == 36
    assert constraints.free_units.tolist() == [0]
    assert sorted(meta["typical_values"]) == ["0", "1", "2"]


def test_ising_report_sections(ising_metrics):
    free = ising_metrics["free_units_by_temperature"]
    assert len(free["units"][0]["std"]) == 3
    assert 0 <= free["readout"]["free"]["accuracy"] <= 1
    variances = ising_metrics["constrained_variances"]
    assert np.shape(variances["variances_test"]) == (3, 5)
    assert len(variances["tolerance"]) == 5
    assert "shuffled temperatures" in variances["summary"]["tolerance_rule"]
    generation = ising_metrics["clamped_generation"]
    assert len(generation["clamped"]["energy"]) == 3
    assert len(generation["sweep"]["energy"]) == 6
    assert generation["onsager"]["abs_magnetisation"][2] == 0.0
    # the clamped samples are valid lattices: energy per spin in [-2, 2]
    assert all(-2 <= e <= 2 for e in generation["clamped"]["energy"])


def test_report_independent_spin_energy(ising_metrics):
    generation = ising_metrics["clamped_generation"]
    for name in ("clamped", "simulated"):
        energies = generation[name]["independent_spin_energy"]
        assert len(energies) == 3
        assert all(-2 <= e <= 0 for e in energies)
    summary = generation["summary"]
    assert summary["correlation_energy_simulated"] == pytest.approx(np.mean(
        np.subtract(generation["simulated"]["energy"],
                    generation["simulated"]["independent_spin_energy"])))
    # the data lie below independent spins: neighbours are correlated
    assert summary["correlation_energy_simulated"] < 0


def test_ising_report_cost(ising_metrics):
    # Continuous (dReLU) hidden units leave no layer to enumerate: both log Z
    # come from AIS, bracketed by reverse AIS.
    cost = ising_metrics["cost"]
    assert cost["constrained"]["log_likelihood"]["method"] == "ais"
    assert cost["unconstrained"]["n_free"] is None
    difference = cost["difference"]
    assert difference["delta_log_likelihood"] == pytest.approx(
        cost["constrained"]["log_likelihood"]["log_likelihood"]
        - cost["unconstrained"]["log_likelihood"]["log_likelihood"])
    assert difference["std_error_log_z"] > 0
    assert len(difference["delta_log_likelihood_bounds"]) == 2
    assert "ais_check" not in cost


def test_ising_cost_exact_spin_hidden(tmp_path):
    # 6 Spin hidden units are enumerated, so both log Z are exact and the
    # AIS check of the constrained model runs as well.
    out = tmp_path / "run"
    assert main(["train", *ISING_OPTIONS, *MODEL_OPTIONS, *REPORT_OPTIONS,
                 "--hidden", "spin", "--out", str(out)]) == 0
    cost = json.loads((out / "report" / "metrics.json").read_text())["cost"]
    assert cost["constrained"]["log_likelihood"]["method"] == "exact"
    assert cost["difference"]["std_error_log_z"] == 0.0
    assert cost["ais_check"]["method"] == "ais"
    assert "log_z_reverse" in cost["ais_check"]


def test_report_without_constrained_units(tmp_path, capsys):
    # every hidden unit free: the report has no constrained variances
    out = tmp_path / "run"
    assert main(["train", *ISING_OPTIONS, *MODEL_OPTIONS, *REPORT_OPTIONS,
                 "--n-free", "6", "--no-cost", "--out", str(out)]) == 0
    assert "no constrained units" in capsys.readouterr().out
    metrics = json.loads((out / "report" / "metrics.json").read_text())
    assert metrics["constrained_variances"]["summary"] is None
    assert not (out / "report" / "constrained_variances.png").exists()


def test_report_without_free_units(tmp_path, capsys):
    # every hidden unit constrained: nothing to clamp, but the model is saved
    out = tmp_path / "run"
    assert main(["train", *ISING_OPTIONS, *MODEL_OPTIONS, *REPORT_OPTIONS,
                 "--n-free", "0", "--no-cost", "--out", str(out)]) == 0
    assert "no free units" in capsys.readouterr().out
    assert (out / "model.rbm").is_file()
    metrics = json.loads((out / "report" / "metrics.json").read_text())
    assert metrics["free_units_by_temperature"] is None
    assert metrics["clamped_generation"] is None
    assert metrics["constrained_variances"]["summary"]["free_spread_test_min"] is None
    assert (out / "report" / "constrained_variances.png").is_file()
    assert not (out / "report" / "clamped_samples.npy").exists()

    sample = ["sample", "--model", str(out / "model.rbm"), "--clamp-class", "0",
              "--out", str(tmp_path / "s.npy")]
    assert main(sample) == 2
    assert_one_line_error(capsys.readouterr().err, "sample", "no free hidden units",
                          "without --clamp-class")


def test_ising_train_from_file_without_cost(tmp_path, capsys):
    data = simulate_ising(6, [2.0, 3.0], 64, seed=2, n_chains=8, n_threads=1)
    path = tmp_path / "lattices.npz"
    save_ising(path, data)
    out = tmp_path / "run"
    assert main(["train", "--data", "ising", "--data-path", str(path),
                 "--test-chains", "2", "--threads", "1", "--quiet", *MODEL_OPTIONS,
                 *REPORT_OPTIONS, "--no-cost", "--no-translation-average",
                 "--out", str(out)]) == 0
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["periodic_lattice"] is None
    saved = json.loads((out / "config.json").read_text())["data"]
    assert saved["temperatures"] == [2.0, 3.0]
    assert saved["L"] == 6
    printed = capsys.readouterr().out
    assert "variance spread of constrained units" in printed
    assert "held-out log-likelihood" not in printed
    metrics = json.loads((out / "report" / "metrics.json").read_text())
    assert "cost" not in metrics


@pytest.mark.parametrize("options, fragments", [
    (["--temperatures", "2.0,-1.5"], ["temperatures must be finite and > 0",
                                      "got -1.5 at index 1"]),
    (["--temperatures", "0:2:3"], ["temperatures must be finite and > 0", "got 0.0"]),
    (["--temperatures", "1.5:x"], ["--temperatures must be START:STOP:COUNT",
                                   "'1.5:x'"]),
    (["--temperatures", "1:2:0"], ["COUNT must be >= 1, got 0"]),
    (["--L", "1"], ["L must be >= 2, got 1"]),
    (["--test-chains", "8"], ["--test-chains must be between 1 and 7", "got 8"]),
    (["--visible", "binary"], ["--data ising needs --visible spin"]),
    (["--temperatures", "1.8,3.0,"], ["'1.8,3.0,' has an empty entry"]),
    (["--temperatures", "2.5"], ["at least 2 temperatures, got [2.5]"]),
    (["--temperatures", "2.0,3.0,2.0"], ["lists T = 2 twice"]),
    (["--label", "magnetisation"], ["unknown Ising label 'magnetisation'"]),
    (["--temperatures", "1e-320,2"], ["1/T overflows", "use T >= 1e-308"]),
    (["--ising-chains", "1"], ["--ising-chains must be >= 2", "got 1"]),
    (["--test-chains", "0"], ["--test-chains must be between 1 and 7", "got 0"]),
    (["--threads", "0"], ["--threads must be >= 1, got 0", "OMP_NUM_THREADS"]),
    # 2999 Q_k and C, each 1024 x 1024 float64: 24,000 MiB, over the 1 GiB limit
    (["--L", "32", "--temperatures", "1:3:3000"],
     ["second-order matrices need 24000 MiB", "--Q-rank", "--lambda-Q 0"]),
])
def test_ising_bad_option(tmp_path, capsys, options, fragments):
    out = tmp_path / "run"
    argv = ["train", *ISING_OPTIONS, *MODEL_OPTIONS, "--out", str(out), *options]
    assert main(argv) == 2
    assert_one_line_error(capsys.readouterr().err, "train", *fragments)
    assert not out.exists()


def test_file_test_chains_checked(tmp_path, capsys):
    path = tmp_path / "lattices.npz"
    save_ising(path, simulate_ising(4, [2.0, 3.0], 8, seed=1, n_chains=4,
                                    n_threads=1))
    assert main(["train", "--data", "ising", "--data-path", str(path),
                 "--test-chains", "4", "--out", str(tmp_path / "run")]) == 2
    assert_one_line_error(capsys.readouterr().err, "train",
                          "--test-chains must be between 1 and 3", str(path))


def test_unknown_option_names_subcommand(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["cost", *ISING_OPTIONS, "--bogus", "--out", str(tmp_path / "C")])
    err = capsys.readouterr().err
    assert err.startswith("usage: rbmfast cost")
    assert "rbmfast cost: error: unrecognized arguments: --bogus" in err


def test_translation_average_needs_ising_data(tmp_path, capsys):
    assert main(["train", "--data", "npz", "--data-path", str(tmp_path / "x.npz"),
                 "--translation-average", "--out", str(tmp_path / "run")]) == 2
    assert_one_line_error(capsys.readouterr().err, "train",
                          "--translation-average applies to --data ising only")


def test_ising_options_need_ising_data(tmp_path, capsys):
    assert main(["train", "--data", "npz", "--data-path", str(tmp_path / "x.npz"),
                 "--L", "8", "--out", str(tmp_path / "run")]) == 2
    assert_one_line_error(capsys.readouterr().err, "train",
                          "--L apply to --data ising only")


def test_ising_simulation_options_need_no_file(tmp_path, capsys):
    assert main(["train", "--data", "ising", "--data-path", str(tmp_path / "x.npz"),
                 "--L", "8", "--out", str(tmp_path / "run")]) == 2
    assert_one_line_error(capsys.readouterr().err, "train",
                          "cannot be combined with --data-path")


# -- cost -------------------------------------------------------------------------
# Spin hidden units keep log Z exact, which keeps the five runs fast.
COST_OPTIONS = ["--hidden", "spin", "--n-hidden", "6", "--epochs", "2", "--batch-size",
                "64"]


@pytest.fixture(scope="module")
def cost_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cost") / "C"
    assert main(["cost", *ISING_OPTIONS, *COST_OPTIONS, "--n-free", "1,2",
                 "--lambda-Q", "0,100", "--out", str(out)]) == 0
    return out


def test_cost_writes_outputs(cost_run):
    assert (cost_run / "cost.png").read_bytes()[:8] == PNG_MAGIC
    result = json.loads((cost_run / "cost.json").read_text())
    assert result["settings"]["n_free"] == [1, 2]
    assert result["settings"]["lambda_Q"] == [0.0, 100.0]
    assert [(d["n_free"], d["lambda_Q"]) for d in result["differences"]] == [
        (1, 0.0), (1, 100.0), (2, 0.0), (2, 100.0)]
    assert result["unconstrained"]["log_likelihood"]["method"] == "exact"


def test_cost_reports_clamped_samples(cost_run):
    result = json.loads((cost_run / "cost.json").read_text())
    assert "extra" not in result["unconstrained"]
    for run in result["constrained"]:
        extra = run["extra"]
        assert len(extra["clamped"]["energy"]) == 3
        assert 0 <= extra["summary"]["abs_magnetisation_mean_abs_difference"] <= 1
        assert extra["variance_spread"]["spread_test_median"] >= 0


def test_cost_jobs_match_one_process(tmp_path, cost_run):
    # Two worker processes start after the Ising simulation has run OpenMP
    # in the parent.  Forked workers once hung in their first OpenMP region,
    # hence the subprocess and its timeout.  The results must equal those of
    # one process.
    out = tmp_path / "C2"
    command = [sys.executable, "-m", "rbmfast.cli", "cost", *ISING_OPTIONS,
               *COST_OPTIONS, "--n-free", "1,2", "--lambda-Q", "0,100", "--jobs", "2",
               "--out", str(out)]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr
    ours = json.loads((out / "cost.json").read_text())
    reference = json.loads((cost_run / "cost.json").read_text())
    for key in ("unconstrained", "constrained"):
        runs = ours[key] if key == "constrained" else [ours[key]]
        expected = reference[key] if key == "constrained" else [reference[key]]
        assert [r["log_likelihood"]["log_likelihood"] for r in runs] == [
            r["log_likelihood"]["log_likelihood"] for r in expected]


def test_cost_first_order_free_on_flipped_spins(cost_run):
    # The flipped copies make q = 0, so lambda_Q = 0 trains the same model as
    # no constraint at all.
    result = json.loads((cost_run / "cost.json").read_text())
    for difference in result["differences"]:
        if difference["lambda_Q"] == 0:
            assert difference["delta_log_likelihood"] == 0.0


def test_cost_existing_output_rejected(cost_run, capsys):
    assert main(["cost", *ISING_OPTIONS, *COST_OPTIONS, "--out", str(cost_run)]) == 2
    err = capsys.readouterr().err
    assert_one_line_error(err, "cost", "pass --overwrite to replace its outputs")
    assert "--resume" not in err


def test_cost_overwrite_replaces_outputs(tmp_path, cost_run):
    out = tmp_path / "C"
    out.mkdir()
    (out / "cost.json").write_text("{}")
    assert main(["cost", *ISING_OPTIONS, *COST_OPTIONS, "--lambda-Q", "10",
                 "--out", str(out), "--overwrite"]) == 0
    result = json.loads((out / "cost.json").read_text())
    assert result["settings"]["lambda_Q"] == [10.0]


def test_cost_interrupted_leaves_nothing(tmp_path, capsys, monkeypatch):
    import rbmfast.evaluation.empirical_cost as empirical

    monkeypatch.setattr(empirical, "empirical_cost", raise_interrupt)
    out = tmp_path / "C"
    assert main(["cost", *ISING_OPTIONS, *COST_OPTIONS, "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert err.startswith("interrupted; nothing was written")
    assert err.count("\n") == 1
    assert not out.exists()


def test_interrupt_outside_training_one_line(tmp_path, capsys, monkeypatch):
    import rbmfast.cli_ising as cli_ising

    monkeypatch.setattr(cli_ising, "load_ising_data", raise_interrupt)
    assert main(["train", *ISING_OPTIONS, "--out", str(tmp_path / "run")]) == 130
    err = capsys.readouterr().err
    assert err == "rbmfast train: interrupted\n"


def test_interrupt_before_checkpoint_no_resume(tmp_path, capsys, monkeypatch):
    import rbmfast.training as training

    monkeypatch.setattr(training, "fit", raise_interrupt)
    out = tmp_path / "run"
    assert main(["train", *ISING_OPTIONS, *MODEL_OPTIONS, "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert "before the first checkpoint" in err
    assert "--resume" not in err


def test_cost_keeps_foreign_files(tmp_path, capsys):
    out = tmp_path / "C"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["cost", *ISING_OPTIONS, *COST_OPTIONS, "--out", str(out),
                 "--overwrite"]) == 2
    assert_one_line_error(capsys.readouterr().err, "cost", "notes.txt")
    assert (out / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("options, fragments", [
    (["--n-free", "1,x"], ["--n-free must be a comma-separated list of integers"]),
    (["--n-free", "1,1"], ["n_free contains repeated values [1]"]),
    (["--n-free", "7"], ["n_free = 7 must be between 0 and n_hidden = 6"]),
    (["--lambda-Q", "10,-1"], ["lambda_Q values must be finite numbers >= 0",
                               "got -1.0"]),
    (["--lambda-Q", ""], ["--lambda-Q is empty"]),
    (["--n-free", "1,"], ["--n-free '1,' has an empty entry"]),
    (["--ais-betas", "1"], ["--ais-betas must be >= 2, got 1"]),
    (["--ais-chains", "1"], ["--ais-chains must be >= 2, got 1"]),
    (["--jobs", "0"], ["--jobs must be >= 1, got 0"]),
    (["--temperatures", "-2"], ["temperatures must be finite and > 0"]),
])
def test_cost_bad_setting_before_output(tmp_path, capsys, options, fragments):
    out = tmp_path / "C"
    assert main(["cost", *ISING_OPTIONS, *COST_OPTIONS, "--out", str(out),
                 *options]) == 2
    assert_one_line_error(capsys.readouterr().err, "cost", *fragments)
    assert not out.exists()
