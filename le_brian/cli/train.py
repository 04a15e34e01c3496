"""``le-brian train`` and ``le-brian evaluate``."""

import json

from brian2 import ms

from ..engine.devices import CODEGEN_TARGETS, DEVICES

__all__ = ["add_train_commands"]


def add_train_commands(sub, parse_time):
    p = sub.add_parser(
        "train", help="train an LE network on a dataset (run folder with metrics and weights)",
        description="Continuous LE training: samples back to back, plasticity always on; "
        "evaluation after each epoch without nudging or plasticity. Either name a model "
        "from models/ (--model) or give the settings as flags (flags override the model).")
    p.add_argument("--model", help="parameter set from le_brian.models (e.g. yinyang, digits, "
                   "mnist5k) or the path of a .py file of the same form (that file is "
                   "Python code and is executed)")
    p.add_argument("--dataset", help="dataset name (le_brian.datasets.available())")
    p.add_argument("--layers", help="hidden layer sizes, e.g. 120 or 300,100")
    p.add_argument("--activation")
    p.add_argument("--presentation-time", type=parse_time, help="e.g. 1ms")
    p.add_argument("--tau-m", type=parse_time, help="membrane time constant, e.g. 10ms")
    p.add_argument("--dt", type=parse_time, help="Euler step, e.g. 0.1ms")
    p.add_argument("--learning-rate", type=float, help="learning rate in Hz (all layers)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--lagged", action="store_true", help="the lagged baseline (tau_r = 0)")
    p.add_argument("--scheme", choices=("sweep", "reference"))
    p.add_argument("--spiking", action="store_true",
                   help="spiking hidden layers (docs/model.md §5; non-negative activation)")
    p.add_argument("--n-per-unit", type=int, help="spiking: Brian2 neurons per unit (1)")
    p.add_argument("--r-max", type=float, help="spiking: rate at phi = 1 in Hz (10000)")
    p.add_argument("--tau-s", type=parse_time, help="spiking: trace time constant (1ms)")
    p.add_argument("--n-train", type=int, help="use only the first N training samples")
    p.add_argument("--n-val", type=int, help="use only the first N validation samples")
    p.add_argument("--n-test", type=int, help="use only the first N test samples")
    p.add_argument("--beta", type=float, help="output nudging strength")
    p.add_argument("--target-type", choices=("voltage", "rate"))
    p.add_argument("--lr-decay", type=float, help="learning-rate factor per epoch")
    p.add_argument("--eval-every", type=int, help="evaluate every N epochs (and after the last)")
    p.add_argument("--readout-fraction", type=float,
                   help="read-out: mean output over this last fraction of each presentation")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="any TrainConfig field (le_brian.protocols.training.TrainConfig), "
                   "e.g. --set target_off=0.1 --set hidden=[300,100]; VALUE is JSON, else a "
                   "string; checked like the flags")
    p.add_argument("--data-path", help="folder with the dataset files (file-based datasets)")
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--device", choices=DEVICES)
    p.add_argument("--codegen-target", choices=CODEGEN_TARGETS)
    p.set_defaults(func=_cli_train)

    e = sub.add_parser("evaluate", help="evaluate the network saved in a run folder",
                       description="Rebuild the network of a run folder with its saved weights "
                       "and evaluate it (no nudging, no plasticity).")
    e.add_argument("run_dir")
    e.add_argument("--split", choices=("train", "val", "test"), default="test")
    e.add_argument("--device", choices=DEVICES)
    e.set_defaults(func=_cli_evaluate)


def _layers(text):
    if text is None:
        return None
    try:
        return [int(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(f"--layers must be comma-separated ints like 300,100, got {text!r}") \
            from None


def _settings(items):
    """``--set FIELD=VALUE`` items as a dict (VALUE parsed as JSON, else a string)."""
    out = {}
    for item in items:
        field, sep, value = item.partition("=")
        if not sep or not field:
            raise ValueError(f"--set expects FIELD=VALUE, got {item!r}")
        try:
            out[field] = json.loads(value)
        except json.JSONDecodeError:
            out[field] = value
    return out


def _cli_train(args):
    from ..protocols.training import TrainConfig, load_model, train

    params = load_model(args.model) if args.model else {}

    def ms_or_none(t):
        return None if t is None else float(t / ms)

    flags = {
        "dataset": args.dataset,
        "hidden": _layers(args.layers),
        "activation": args.activation,
        "presentation_time_ms": ms_or_none(args.presentation_time),
        "tau_m_ms": ms_or_none(args.tau_m),
        "dt_ms": ms_or_none(args.dt),
        "learning_rates_hz": args.learning_rate,
        "epochs": args.epochs, "seed": args.seed, "scheme": args.scheme,
        "n_train": args.n_train, "n_val": args.n_val, "n_test": args.n_test,
        "beta": args.beta, "target_type": args.target_type, "lr_decay": args.lr_decay,
        "eval_every": args.eval_every, "readout_fraction": args.readout_fraction,
        "device": args.device, "codegen_target": args.codegen_target,
        "spiking": True if args.spiking else None, "n_per_unit": args.n_per_unit,
        "r_max_hz": args.r_max, "tau_s_ms": ms_or_none(args.tau_s),
    }
    # a value given is used as given (0 included) and checked by TrainConfig
    params.update({k: v for k, v in flags.items() if v is not None})
    params.update(_settings(args.set))
    TrainConfig.from_dict(params)  # every value checked before anything starts
    if args.lagged:
        params["prospective"] = False
    if args.data_path:
        params.setdefault("dataset_kwargs", {})["path"] = args.data_path
    history = train(params, args.out, resume=args.resume)
    last = history[-1]
    print(f"done: {args.out} (test accuracy {last.get('test_accuracy', float('nan')):.4f})")
    return 0


def _cli_evaluate(args):
    from ..protocols.training import evaluate

    evaluate(args.run_dir, split=args.split, device=args.device)
    return 0
