"""``le-brian train`` and ``le-brian evaluate``."""

from ..engine.registry import DEVICES
from .fields import add_field_options, field_values, parse_settings

__all__ = ["add_train_commands"]


def _parameter_sets():
    """(layered, microcircuit) parameter sets of ``le-brian train``."""
    from ..params import MicrocircuitTrainingParameters, TrainingParameters

    return TrainingParameters, MicrocircuitTrainingParameters


def _option_fields():
    """Every option's field: the layered set's, then the microcircuit set's others."""
    layered, micro = _parameter_sets()
    return {**micro.fields(), **layered.fields()}


def add_train_commands(sub, parse_time):
    layered, micro = _parameter_sets()

    p = sub.add_parser(
        "train", help="train an LE network on a dataset (run folder with metrics and weights)",
        description="Continuous LE training: samples back to back, plasticity always on; "
        "evaluation after each epoch without nudging or plasticity. Name a model from "
        "models/ (--model) and/or give parameters as options (options override the model, "
        "--set overrides both). Quantities take units: --presentation-time 10ms, "
        "--learning-rates 100Hz,50Hz, --r-max 2kHz. A microcircuit model (--model "
        "microcircuit_bars, microcircuit_yinyang, or a file with NETWORK and PROTOCOL) takes "
        "the options of le_brian.params.MicrocircuitTrainingParameters (microcircuit_mimic: the "
        "teacher-student protocol); an option that does "
        "not apply to the model is refused.")
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
    add_field_options(p, layered.fields(), "parameters (le_brian.params)",
                      others=(micro.fields(), "microcircuit models"))
    p.set_defaults(func=_cli_train)

    e = sub.add_parser("evaluate", help="evaluate the network saved in a run folder",
                       description="Rebuild the network of a run folder with its saved weights "
                       "and evaluate it (no nudging, no plasticity).")
    e.add_argument("run_dir")
    e.add_argument("--split", choices=("train", "val", "test"), default="test")
    e.add_argument("--device", choices=DEVICES)
    e.set_defaults(func=_cli_evaluate)


def _cli_train(args):
    from ..protocols.microcircuit_run import is_microcircuit_model
    from ..protocols.training import load_model, train, training_parameters

    layered, micro = _parameter_sets()
    microcircuit = bool(args.model) and is_microcircuit_model(args.model)
    pset = micro if microcircuit else layered
    fields = pset.fields()
    given = [name for name in _option_fields()
             if getattr(args, f"field:{name}", None) is not None]
    refused = [n for n in given if n not in fields]
    refused += [flag for flag, on in (("lagged", args.lagged), ("data_path", args.data_path))
                if on and microcircuit]
    if refused:
        option = "--" + refused[0].replace("_", "-")
        if microcircuit:
            raise ValueError(f"{option} does not apply to the microcircuit model "
                             f"{args.model!r} (its parameters: le_brian.params."
                             f"{pset.__name__})")
        raise ValueError(f"{option} applies to microcircuit models only (e.g. --model "
                         f"microcircuit_bars; le_brian.params.{micro.__name__})")
    values = field_values(args, fields)
    settings = parse_settings(args.set, fields)
    if microcircuit:
        from ..protocols.microcircuit_run import train_microcircuit

        history = train_microcircuit(args.model, args.out, resume=args.resume,
                                     overrides=values, settings=settings)
        last = history[-1]
        what = ("validation accuracy", "val_accuracy") if "val_accuracy" in last else (
            "validation loss", "val_loss")  # the mimic protocol: a regression
        print(f"done: {args.out} ({what[0]} {last[what[1]]:.4f})")
        return 0
    params = load_model(args.model) if args.model else {}
    params.update(values)
    params.update(settings)
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
