"""2D Ising data for the command line: options, simulation or file, split.

``--data ising`` simulates L x L lattices at several temperatures with
`rbmfast.datasets.ising.simulate_ising` (Wolff cluster updates, from the
run's seed), or reads a file written by `save_ising` (``--data-path``).
The label is the temperature index.  The last chains of every temperature
are held out, so the held-out samples are independent of the training
samples.  At zero field the Ising distribution is invariant under the
global flip s -> -s, and every training configuration is added a second
time flipped: the class means of the spins then vanish exactly, so the
first-order constraint q = 0 is empty and the second-order one
(lambda_Q) carries the disentanglement.
"""
from __future__ import annotations

import numpy as np

__all__ = ["ISING_DEFAULTS", "IsingOptionError", "add_ising_options", "check_parsed",
           "ising_options", "load_ising_data", "parse_temperatures"]

#: simulation settings of ``--data ising`` when no option or file sets them
ISING_DEFAULTS = {"L": 16, "temperatures": "1.5:3.5:10", "n_per_temperature": 2000,
                  "ising_chains": 16, "test_chains": 3}

_SIMULATION_OPTIONS = ("L", "temperatures", "n_per_temperature", "ising_chains")


class IsingOptionError(ValueError):
    """An invalid ``--data ising`` option, reported as one line."""


def add_ising_options(parser):
    """Add the ``--data ising`` options to an argparse parser."""
    group = parser.add_argument_group(
        "2D Ising data (--data ising)",
        "simulated from --seed unless --data-path names a file written by "
        "rbmfast.datasets.save_ising")
    group.add_argument("--L", type=int,
                       help=f"lattice side; the model has L^2 visible spins "
                            f"({ISING_DEFAULTS['L']})")
    group.add_argument("--temperatures",
                       help="temperatures in units of J: START:STOP:COUNT for evenly "
                            "spaced values or a comma-separated list "
                            f"({ISING_DEFAULTS['temperatures']})")
    group.add_argument("--n-per-temperature", type=int,
                       help="configurations simulated per temperature "
                            f"({ISING_DEFAULTS['n_per_temperature']})")
    group.add_argument("--ising-chains", type=int,
                       help="independent Wolff chains per temperature "
                            f"({ISING_DEFAULTS['ising_chains']})")
    group.add_argument("--test-chains", type=int,
                       help="chains per temperature held out as test data "
                            f"({ISING_DEFAULTS['test_chains']})")
    group.add_argument("--no-spin-flips", action="store_true",
                       help="do not add the global flip of every training "
                            "configuration")


def ising_options(args):
    """Return the Ising entries of a run's data options from parsed `args`.

    Simulation settings that were not given stay None here and take
    `ISING_DEFAULTS` when the data are made.  A None setting therefore
    means that neither the user nor a file set it.
    """
    given = [name for name in _SIMULATION_OPTIONS if getattr(args, name) is not None]
    if args.data_path and given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        raise IsingOptionError(f"{flags} set the simulation and cannot be combined "
                               "with --data-path, which reads simulated data")
    options = {name: getattr(args, name) for name in _SIMULATION_OPTIONS}
    if options["temperatures"] is not None:
        options["temperatures"] = parse_temperatures(options["temperatures"])
    options["test_chains"] = args.test_chains
    options["spin_flips"] = not args.no_spin_flips
    return options


def parse_temperatures(text):
    """Parse START:STOP:COUNT or a comma-separated list into a list of floats.

    Raises IsingOptionError naming the text or the first temperature that is
    not finite and > 0.
    """
    if isinstance(text, (list, tuple)):
        values = [float(t) for t in text]
    else:
        try:
            if ":" in text:
                start, stop, count = text.split(":")
                count = int(count)
                if count < 1:
                    raise IsingOptionError(f"--temperatures {text!r}: COUNT must be "
                                           f">= 1, got {count}")
                values = np.linspace(float(start), float(stop), count).tolist()
            else:
                items = text.split(",")
                if len(items) > 1 and not all(t.strip() for t in items):
                    raise IsingOptionError(f"--temperatures {text!r} has an empty "
                                           "entry; separate the numbers by single "
                                           "commas")
                values = [float(t) for t in items if t.strip()]
        except ValueError as error:
            if isinstance(error, IsingOptionError):
                raise
            raise IsingOptionError(f"--temperatures must be START:STOP:COUNT or a "
                                   f"comma-separated list of numbers, got "
                                   f"{text!r}") from None
    if not values:
        raise IsingOptionError(f"--temperatures {text!r} contains no temperature")
    from rbmfast.datasets.ising import (check_distinct_temperatures,
                                        check_temperature_values)

    check_temperature_values(values, f"--temperatures {text!r}: temperatures",
                             IsingOptionError)
    check_distinct_temperatures(values, f"--temperatures {text!r}", IsingOptionError)
    return values


def check_before_simulation(options, config):
    """Reject simulation settings that would otherwise fail after the simulation.

    Checks the chain counts and the memory of the second-order matrices,
    which are known from L and the temperatures alone.  Does nothing for
    data read from a file.
    """
    from rbmfast.cli import check_Q_size

    if options.get("data_path"):
        return
    chains = _option(options, "ising_chains")
    test_chains = _option(options, "test_chains")
    if chains < 2:
        raise IsingOptionError(f"--ising-chains must be >= 2, one for training and "
                               f"one held out, got {chains}")
    _check_test_chains(test_chains, chains, "--ising-chains")
    temperatures = options["temperatures"]
    if temperatures is None:
        temperatures = parse_temperatures(ISING_DEFAULTS["temperatures"])
    if config.n_free is not None:
        check_Q_size(config, _option(options, "L") ** 2, len(temperatures) - 1)


def _check_test_chains(test_chains, chains, source):
    if not 1 <= test_chains < chains:
        raise IsingOptionError(f"--test-chains must be between 1 and {chains - 1} "
                               f"(the {chains} chains of {source} less one for "
                               f"training), got {test_chains}")


def load_ising_data(options, visible="spin"):
    """Simulate or read Ising data and split it into training and held-out sets.

    Parameters
    ----------
    options : dict
        A run's data options (see `ising_options`), with ``seed`` and
        ``data_path``.  The entries ``L`` and ``temperatures`` are filled in
        from the defaults or from the file, so the stored options name
        the data that were used.
    visible : str
        Visible layer of the run; Ising data need "spin".

    Returns
    -------
    train : tuple (x, y, None)
        Training spins (n, L^2) as float32 -1/+1, with the flipped copies
        unless ``spin_flips`` is False, and temperature indices.
    test : tuple (x, y)
        Held-out spins and temperature indices.
    """
    from rbmfast.datasets.ising import load_ising, simulate_ising, split_by_chain

    if visible != "spin":
        raise IsingOptionError(f"--data ising needs --visible spin (spins are -1 or "
                               f"+1), got --visible {visible}")
    label = options.get("label")
    if label not in (None, "temperature"):
        raise IsingOptionError(f"unknown Ising label {label!r}; the label is "
                               "'temperature' (the temperature index)")
    test_chains = _option(options, "test_chains")
    if options.get("data_path"):
        data = load_ising(options["data_path"])
    else:
        for name in _SIMULATION_OPTIONS:
            options[name] = _option(options, name)
        options["temperatures"] = parse_temperatures(options["temperatures"])
        data = simulate_ising(options["L"], options["temperatures"],
                              options["n_per_temperature"], seed=options["seed"],
                              n_chains=options["ising_chains"])
    if len(data.temperatures) < 2:
        fix = ("use a file with several temperatures" if options.get("data_path")
               else "give more with --temperatures")
        raise IsingOptionError(f"the temperature is the label, so the data need at "
                               f"least 2 temperatures, got {data.temperatures.tolist()}; "
                               f"{fix}")
    options["L"] = int(data.L)
    options["temperatures"] = [float(t) for t in data.temperatures]
    options["test_chains"] = test_chains
    if options.get("data_path"):
        # the temperature with the fewest chains sets the limit
        fewest = min(np.unique(data.chain[data.temperature_index == k]).size
                     for k in range(len(data.temperatures)))
        _check_test_chains(test_chains, fewest, f"the file {options['data_path']}")
    train_rows, test_rows = split_by_chain(data, test_chains)
    x, y = data.spins[train_rows], data.temperature_index[train_rows]
    if options.get("spin_flips", True):
        if data.field != 0:
            raise IsingOptionError(f"global spin flips are a symmetry only at field "
                                   f"0, but the data have field {data.field}; pass "
                                   "--no-spin-flips")
        x, y = np.concatenate([x, -x]), np.concatenate([y, y])
    return (x, y, None), (data.spins[test_rows], data.temperature_index[test_rows])


def _option(options, name):
    value = options.get(name)
    return ISING_DEFAULTS[name] if value is None else value


def check_parsed(args):
    """Raise IsingOptionError for Ising options given without ``--data ising``."""
    if getattr(args, "data", None) == "ising":
        return
    given = [name for name in _SIMULATION_OPTIONS + ("test_chains",)
             if getattr(args, name, None) is not None]
    if getattr(args, "no_spin_flips", False):
        given.append("no_spin_flips")
    if given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        raise IsingOptionError(f"{flags} apply to --data ising only")


def report_options(args):
    """Return the report settings of an Ising run from parsed `args`."""
    from rbmfast.cli_cost import likelihood_options

    return {"cost": not args.no_cost, "likelihood": likelihood_options(args)}


def typical_values(rbm, constraints, x, y, options):
    """Return (classes, values) of the free units for ``rbmfast sample``."""
    from rbmfast.report_ising import clamped_values

    n_classes = len(options["temperatures"])
    values = clamped_values(rbm, constraints.free_units, x, y, n_classes)
    return np.arange(n_classes), values


def write_run_report(out_dir, rbm, constraints, train, test, config, options, report,
                     history, settings):
    """Write the Ising report of a finished ``rbmfast train`` run."""
    from rbmfast.report_ising import write_ising_report

    return write_ising_report(out_dir, rbm, constraints, train, test,
                              options["temperatures"], config, history=history,
                              settings=settings,
                              n_per_class=report.get("n_per_class", 100),
                              n_steps=report.get("sample_steps", 500),
                              cost=report.get("cost", True),
                              likelihood=report.get("likelihood"),
                              n_threads=config.n_threads)


def print_summary(model_path, report_dir, metrics):
    """Print the main figures of an Ising report to stdout."""
    variances = metrics["constrained_variances"]["summary"]
    lines = [
        f"wrote {model_path} and {report_dir}/metrics.json",
        f"constraint violation |q^T W_G|/(|q||W_G|): "
        f"{metrics['constraint_violation']:.2e}",
    ]
    if metrics["free_units_by_temperature"] is None:
        lines.append("no free units: nothing carries the temperature, and the "
                     "report has no clamped samples")
    else:
        lines += _readout_lines(metrics["free_units_by_temperature"]["readout"])
    if variances is None:
        lines.append("no constrained units: every hidden unit is free")
    else:
        lines += _variance_lines(variances)
    if metrics["clamped_generation"] is not None:
        lines += _clamped_lines(metrics["clamped_generation"]["summary"])
    cost = metrics.get("cost")
    if cost:
        difference = cost["difference"]
        ours = cost["constrained"]["log_likelihood"]
        reference = cost["unconstrained"]["log_likelihood"]
        lines.append(
            f"held-out log-likelihood per site ({ours['method']}): constrained "
            f"{ours['log_likelihood_per_site']:.4f}, unconstrained "
            f"{reference['log_likelihood_per_site']:.4f}, difference "
            f"{difference['delta_log_likelihood_per_site']:.4f} "
            f"({difference['delta_log_likelihood']:.2f} nats per sample)")
    print("\n".join(lines))


def _readout_lines(readout):
    lines = [f"temperature read-out from (I, I^2) of the free units: "
             f"{readout['free']['accuracy']:.3f}, within one temperature "
             f"{readout['free']['within_one_temperature']:.3f} (majority rate "
             f"{readout['free']['majority_rate']:.3f})"]
    if "constrained" in readout:
        lines.append(f"the same from the constrained units: "
                     f"{readout['constrained']['accuracy']:.3f}, within one "
                     f"{readout['constrained']['within_one_temperature']:.3f}")
    return lines


def _clamped_lines(generation):
    return [
        f"clamped samples against data, mean |difference|: energy per spin "
        f"{generation['energy_mean_abs_difference']:.3f}, |m| "
        f"{generation['abs_magnetisation_mean_abs_difference']:.3f}",
        f"energy per spin below independent spins of the same |m| (-2 m^2), "
        f"mean over temperatures: clamped samples "
        f"{generation['correlation_energy_clamped']:.3f}, data "
        f"{generation['correlation_energy_simulated']:.3f}",
    ]


def _variance_lines(variances):
    """Return the summary lines of the constrained units' variance spreads."""
    held_out = (f"held-out data: median {variances['spread_test_median']:.3g}, max "
                f"{variances['spread_test_max']:.3g}, pooled "
                f"{variances['spread_test_pooled']:.3g}; "
                f"{variances['fraction_passed']:.0%} within tolerance (median "
                f"{variances['tolerance_median']:.3g}); ")
    if variances["free_spread_test_min"] is not None:
        held_out += f"free units >= {variances['free_spread_test_min']:.3g}; "
    held_out += (f"input standard deviation of the constrained units: median "
                 f"{variances['input_std_constrained_median']:.3g}")
    if variances["input_std_free"]:
        held_out += (f" (free units "
                     f"{', '.join(f'{v:.3g}' for v in variances['input_std_free'])})")
    return [
        f"variance spread of constrained units, training data: median "
        f"{variances['spread_train_median']:.3g}, max "
        f"{variances['spread_train_max']:.3g}, pooled "
        f"{variances['spread_train_pooled']:.3g}",
        held_out,
    ]
