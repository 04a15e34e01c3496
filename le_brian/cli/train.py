"""``le-brian train`` and ``le-brian evaluate``."""

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
                   "mnist5k) or the path of a .py file of the same form")
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
    p.add_argument("--n-train", type=int, help="use only the first N training samples")
    p.add_argument("--n-test", type=int, help="use only the first N test samples")
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


def _cli_train(args):
    from ..protocols.training import load_model, train

    params = load_model(args.model) if args.model else {}
    flags = {
        "dataset": args.dataset,
        "hidden": [int(v) for v in args.layers.split(",")] if args.layers else None,
        "activation": args.activation,
        "presentation_time_ms": float(args.presentation_time / ms) if args.presentation_time else None,
        "tau_m_ms": float(args.tau_m / ms) if args.tau_m else None,
        "dt_ms": float(args.dt / ms) if args.dt else None,
        "learning_rates_hz": args.learning_rate,
        "epochs": args.epochs, "seed": args.seed, "scheme": args.scheme,
        "n_train": args.n_train, "n_test": args.n_test,
        "device": args.device, "codegen_target": args.codegen_target,
    }
    params.update({k: v for k, v in flags.items() if v is not None})
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
