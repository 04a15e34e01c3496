"""``le-brian train`` and ``le-brian evaluate``."""

from ..engine.registry import DEVICES
from .fields import add_field_options, field_values, parse_settings

__all__ = ["add_train_commands"]


def add_train_commands(sub, parse_time):
    from ..params import TrainingParameters

    p = sub.add_parser(
        "train", help="train an LE network on a dataset (run folder with metrics and weights)",
        description="Continuous LE training: samples back to back, plasticity always on; "
        "evaluation after each epoch without nudging or plasticity. Name a model from "
        "models/ (--model) and/or give parameters as options (options override the model, "
        "--set overrides both). Quantities take units: --presentation-time 10ms, "
        "--learning-rates 100Hz,50Hz, --r-max 2kHz.")
    p.add_argument("--model", help="parameter set from le_brian.models (e.g. yinyang, digits, "
                   "mnist5k) or the path of a .py file of the same form; a .py file is "
                   "EXECUTED as Python code (only use files you trust)")
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--data-path", help="folder with the dataset files (file-based datasets)")
    p.add_argument("--lagged", action="store_true",
                   help="the lagged baseline (same as --no-prospective)")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="any parameter (le_brian.params.TrainingParameters), e.g. --set "
                   "target_off=0.1 --set hidden=300,100 --set tau_syn=2ms")
    add_field_options(p, TrainingParameters.fields(), "parameters (le_brian.params)")
    p.set_defaults(func=_cli_train)

    e = sub.add_parser("evaluate", help="evaluate the network saved in a run folder",
                       description="Rebuild the network of a run folder with its saved weights "
                       "and evaluate it (no nudging, no plasticity).")
    e.add_argument("run_dir")
    e.add_argument("--split", choices=("train", "val", "test"), default="test")
    e.add_argument("--device", choices=DEVICES)
    e.set_defaults(func=_cli_evaluate)


def _cli_train(args):
    from ..params import TrainingParameters
    from ..protocols.training import load_model, train, training_parameters

    fields = TrainingParameters.fields()
    params = load_model(args.model) if args.model else {}
    params.update(field_values(args, fields))
    params.update(parse_settings(args.set, fields))
    if args.lagged:
        params["prospective"] = False
    if args.data_path:
        params["dataset_kwargs"] = {**params.get("dataset_kwargs", {}), "path": args.data_path}
    cfg = training_parameters(params)  # every value checked before anything starts
    history = train(cfg, args.out, resume=args.resume)
    last = history[-1]
    print(f"done: {args.out} (test accuracy {last.get('test_accuracy', float('nan')):.4f})")
    return 0


def _cli_evaluate(args):
    from ..protocols.training import evaluate

    evaluate(args.run_dir, split=args.split, device=args.device)
    return 0
