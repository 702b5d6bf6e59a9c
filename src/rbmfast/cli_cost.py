"""``rbmfast cost``: the measured log-likelihood cost of constraint settings.

The command trains an unconstrained RBM and one constrained RBM per pair
(--n-free, --lambda-Q) with otherwise identical settings, measures each
model's held-out log-likelihood
(`rbmfast.evaluation.empirical_cost.empirical_cost`) and writes ``cost.json``
(settings, every run and the differences) and ``cost.png`` to --out.  On
Ising data every model with free units also gets the report's clamped
samples (`rbmfast.report_ising.clamped_sample_summary`), so the table
shows how far their energy and |m| are from the data.  Every
setting is validated, and the data are loaded, before --out is touched.
--overwrite replaces only those two files, as `rbmfast train` replaces only
its own outputs.
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import math
import multiprocessing
import signal
import sys
import time

__all__ = ["COST_OUTPUTS", "add_cost_parser", "add_likelihood_options", "cmd_cost",
           "likelihood_options"]

COST_FILE = "cost.json"
PLOT_FILE = "cost.png"
#: files that ``rbmfast cost --overwrite`` replaces
COST_OUTPUTS = (COST_FILE, PLOT_FILE)


def add_likelihood_options(parser):
    """Add the options of the held-out log-likelihood estimate."""
    group = parser.add_argument_group(
        "held-out log-likelihood", "log Z is exact when the smaller discrete layer "
        "has at most --max-states states, the closed form for Gaussian-Gaussian "
        "models, and AIS with reverse AIS otherwise")
    group.add_argument("--log-z", choices=["auto", "exact", "gaussian", "ais"],
                       default="auto", help="route to log Z (auto)")
    group.add_argument("--max-states", type=int, default=2**20,
                       help="largest number of enumerated states (2^20)")
    group.add_argument("--ais-chains", type=int, default=256,
                       help="AIS chains (256)")
    group.add_argument("--ais-betas", type=int, default=2000,
                       help="AIS inverse temperatures from 0 to 1 (2000)")
    group.add_argument("--no-reverse-ais", action="store_true",
                       help="skip reverse AIS, the other side of the AIS bracket")


def likelihood_options(args):
    """Return the `held_out_log_likelihood` options of parsed `args`."""
    for flag, value, minimum in (("--max-states", args.max_states, 1),
                                 # the AIS error bars need two chains
                                 ("--ais-chains", args.ais_chains, 2),
                                 ("--ais-betas", args.ais_betas, 2)):
        if value < minimum:
            raise ValueError(f"{flag} must be >= {minimum}, got {value}")
    return {"method": args.log_z, "max_states": args.max_states,
            "n_chains": args.ais_chains, "n_betas": args.ais_betas,
            "reverse": not args.no_reverse_ais, "seed": args.seed}


def add_cost_parser(subparsers):
    """Register the ``cost`` subcommand on the subparsers of ``rbmfast``."""
    from rbmfast import cli
    from rbmfast.cli_ising import add_ising_options

    c = subparsers.add_parser(
        "cost", help="measure the held-out log-likelihood cost of constraints",
        description=__doc__.split("\n\n")[1].replace("\n", " "))
    cli._add_data_options(c)
    cli._add_data_selection_options(c)
    c.add_argument("--out", required=True, help="output directory")
    c.add_argument("--overwrite", action="store_true",
                   help=f"replace {COST_FILE} and {PLOT_FILE} in --out")
    c.add_argument("--n-free", default="1",
                   help="comma-separated numbers of free hidden units (1)")
    c.add_argument("--lambda-Q", default="0",
                   help="comma-separated second-order penalty strengths; 0 keeps "
                        "the first-order constraint only (0)")
    cli._add_training_options(c)
    c.add_argument("--jobs", type=int, default=1,
                   help="trainings run in parallel processes (1); combine with "
                        "--threads so that jobs x threads fits the cores")
    c.add_argument("--quiet", action="store_true", help="no progress lines")
    add_ising_options(c)
    add_likelihood_options(c)
    c.set_defaults(func=cmd_cost)
    return c


def cmd_cost(args):
    """Run ``rbmfast cost``; return the exit status."""
    from rbmfast import cli
    from rbmfast.evaluation.empirical_cost import cost_configs, empirical_cost
    from rbmfast.labels import encode_labels
    from rbmfast.plots_ising import plot_cost
    from rbmfast.report import write_json

    out = cli._check_output(args.out, args.overwrite, False, names=COST_OUTPUTS,
                            resumable=False)
    n_free = _parse_list("--n-free", args.n_free, int)
    lambda_Q = _parse_list("--lambda-Q", args.lambda_Q, float)
    if args.jobs < 1:
        raise ValueError(f"--jobs must be >= 1, got {args.jobs}")
    base_args = argparse.Namespace(**vars(args))
    base_args.n_free, base_args.lambda_Q = -1, 0.0
    cli.apply_data_defaults(base_args)
    config = cli._config_from_args(base_args)
    config.validate()
    likelihood = likelihood_options(args)
    options = cli._data_options(base_args)
    if options["data"] == "ising":
        from rbmfast.cli_ising import check_before_simulation

        # the setting with the most constrained units and a penalty needs the
        # most memory for Q
        check_before_simulation(options, dataclasses.replace(
            config, n_free=min(n_free), lambda_Q=max(lambda_Q)))
    (x, y, w), (x_test, y_test), _ = cli.load_data(options, config.visible,
                                                   config.n_states)
    config = cli.lattice_config(config, options, base_args.translation_average)
    config.validate(len(x))
    cost_configs(config, n_free, lambda_Q, len(encode_labels(y)[1]), x.shape[1])

    extra = None
    if options["data"] == "ising":
        from rbmfast.report_ising import clamped_sample_summary

        # each constrained model also gets the report's clamped samples
        extra = functools.partial(clamped_sample_summary, train=(x, y),
                                  test=(x_test, y_test),
                                  temperatures=options["temperatures"],
                                  seed=config.seed, n_threads=config.n_threads)
    created = not out.exists()
    cli._create_output(out, COST_OUTPUTS)
    start = time.perf_counter()
    try:
        with _mapper(args.jobs, args.quiet) as map_function:
            result = empirical_cost(config, x, y, x_test, n_free=n_free,
                                    lambda_Q=lambda_Q, test_labels=y_test, weights=w,
                                    likelihood=likelihood, map_function=map_function,
                                    extra=extra)
    except KeyboardInterrupt:
        if created and not any(out.iterdir()):
            out.rmdir()
        print(f"interrupted; nothing was written to {out}, and the runs finished so "
              "far are not kept, so run the command again", file=sys.stderr)
        return 130
    seconds = time.perf_counter() - start
    write_json(out / COST_FILE, {
        "settings": {"config": config.to_dict(), "data": options, "n_free": n_free,
                     "lambda_Q": lambda_Q, "likelihood": likelihood,
                     "n_train": int(len(x)), "n_test": int(len(x_test))},
        "seconds": seconds, **result})
    plot_cost(result, out / PLOT_FILE,
              title=f"Cost of disentanglement, {options['data']} data")
    _print_table(result, out)
    return 0


def _parse_list(flag, text, kind):
    items = text.split(",")
    if len(items) > 1 and not all(item.strip() for item in items):
        raise ValueError(f"{flag} {text!r} has an empty entry; separate the values "
                         "by single commas")
    try:
        values = [kind(item) for item in items if item.strip()]
    except ValueError:
        raise ValueError(f"{flag} must be a comma-separated list of "
                         f"{'integers' if kind is int else 'numbers'}, got "
                         f"{text!r}") from None
    if not values:
        raise ValueError(f"{flag} is empty; give at least one value")
    return values


def _ignore_interrupt():
    """Leave Ctrl-C to the parent, which stops the workers itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _mapper:
    """A map function over settings that prints a line per finished run."""

    def __init__(self, jobs, quiet):
        self.jobs, self.quiet = jobs, quiet
        self.pool = None

    def __enter__(self):
        if self.jobs > 1:
            # Fresh interpreters: a child forked after this process has run
            # OpenMP code (the Ising simulation, for one) can hang in its
            # first parallel region.
            self.pool = multiprocessing.get_context("spawn").Pool(
                self.jobs, initializer=_ignore_interrupt)
        return self.map

    def __exit__(self, exc_type, *exc):
        if self.pool is not None:
            # after an error or Ctrl-C the running trainings are not waited for
            if exc_type is None:
                self.pool.close()
            else:
                self.pool.terminate()
            self.pool.join()
        return False

    def map(self, function, configs):
        configs = list(configs)
        results = self.pool.imap(function, configs) if self.pool else map(function,
                                                                            configs)
        for index, result in enumerate(results):
            if not self.quiet:
                ll = result["log_likelihood"]
                print(f"run {index + 1}/{len(configs)}: n_free {result['n_free']}, "
                      f"lambda_Q {result['lambda_Q']:g}: held-out log-likelihood "
                      f"per site {ll['log_likelihood_per_site']:.5f} "
                      f"({ll['method']}), trained in {result['train_seconds']:.1f} s",
                      file=sys.stderr)
            yield result


def _print_table(result, out):
    reference = result["unconstrained"]["log_likelihood"]
    lines = [f"wrote {out / COST_FILE} and {out / PLOT_FILE}",
             f"unconstrained: held-out log-likelihood per site "
             f"{reference['log_likelihood_per_site']:.5f} ({reference['method']})",
             f"{'n_free':>6} {'lambda_Q':>10} {'LL/site':>10} {'delta/site':>11} "
             f"{'delta/sample':>13} {'+-':>6} {'spread(train)':>14}"]
    clamped = any("extra" in run for run in result["constrained"])
    if clamped:
        # mean |difference| between clamped samples and data over temperatures
        lines[-1] += f" {'E clamped':>10} {'|m| clamped':>12}"
    for difference, run in zip(result["differences"], result["constrained"]):
        error = (difference["std_error_log_z"] ** 2
                 + difference["std_error_data"] ** 2) ** 0.5
        spread = run["variance_spread"]["train"].get("constrained_median", float("nan"))
        line = (f"{difference['n_free']:6d} {difference['lambda_Q']:10.4g} "
                f"{run['log_likelihood']['log_likelihood_per_site']:10.5f} "
                f"{difference['delta_log_likelihood_per_site']:11.5f} "
                f"{difference['delta_log_likelihood']:13.3f} {error:6.3f} "
                f"{spread:14.3g}")
        if clamped:
            summary = run.get("extra", {}).get("summary", {})
            line += (f" {summary.get('energy_mean_abs_difference', math.nan):10.3f}"
                     f" {summary.get('abs_magnetisation_mean_abs_difference', math.nan):12.3f}")
        lines.append(line)
    print("\n".join(lines))
