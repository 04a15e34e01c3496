#!/usr/bin/env python
"""Paper Fig. 2c-e analogue: test accuracy against presentation time T for LE LeNet-5,
its lagged baseline (prospective off) and backprop LeNet-5 (NumPy,
`le_brian.numpy_reference.train_backprop_conv`, the same online schedule; one value per
seed, drawn as a band) on the embedded MNIST subset (model ``lenet5_mnist5k``), plus a
row for HIGGS (``higgs``), full MNIST (``lenet5_mnist``) and CIFAR-10
(``lenet5_cifar10``) when their files are found (``$LE_BRIAN_DATA/<name>``); a dataset
without its files is skipped with one line.

The machinery is that of the Fig. 2b script (`le_brian.protocols.accuracy_vs_T`): one
run folder per (dataset, variant, T, seed) under ``<out>/data/conv_vs_T/``, resumed if
it exists; the summary ``<out>/conv_accuracy_vs_T.json`` is rewritten after every run
and a summary of other settings is never reused (--restart starts afresh); --workers /
--scheduler run the LE and lagged runs as a Dask sweep. At each T, dt = min(T / 10,
--dt-max) and the learning rates are scaled by T_model / T (same change per sample).

The defaults are a REDUCED run (LeNet-5 on the fused cpp_standalone conv path runs at
~1,500-2,300 learning steps/s on the 2-core development machine; the plain Brian2 path,
--device runtime or synapses="plain", at ~30-50): 3 seeds, 4 epochs, all 4000 training
images and the 500 test images of the subset, no validation split, T in {1, 10, 100} ms with
dt = T / 10 (10 Euler steps per sample at every T; --dt-max 10 ms), about 25 minutes here.
The paper's setting is --n-train 0 --n-eval 0 --epochs 0 --dt-max 0.1ms (the model's 10
epochs). The models' learning rates were chosen on a validation split (docs/model.md §3.3).
--fast: a smoke run (1 seed, 4 + 4 images, T in {1, 10} ms) writing
``conv_accuracy_vs_T_fast.*``.
"""

import argparse
from pathlib import Path

from le_brian.cli.script_helpers import (add_accuracy_vs_T_arguments,
                                         finish_accuracy_vs_T_arguments, resume_results)
from le_brian.protocols.accuracy_vs_T import (available_datasets, n_classes, plot,
                                              print_table, run_settings, sweep)

DATASETS = ("lenet5_mnist5k", "higgs", "lenet5_mnist", "lenet5_cifar10")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_accuracy_vs_T_arguments(
        p, datasets=DATASETS, times_ms=(1.0, 10.0, 100.0), seeds=3, dt_max_ms=10.0,
        device="cpp_standalone", epochs=4, n_train=0, n_eval=500,
        fast_help="smoke run: lenet5_mnist5k, T in {1, 10} ms, 1 seed, 1 epoch, 4 training "
                  "and 4 test images")
    p.add_argument("--n-val", type=int, default=0,
                   help="validation samples (default 0: the figure reports test accuracy)")
    args = finish_accuracy_vs_T_arguments(p.parse_args(argv))  # times in ms
    if args.fast:
        args.datasets, args.times, args.seeds, args.epochs = ["lenet5_mnist5k"], [1.0, 10.0], 1, 1
        args.n_train, args.n_eval, args.n_val = 4, 4, 0
    args.name = "conv_accuracy_vs_T_fast" if args.fast else "conv_accuracy_vs_T"
    args.datasets = available_datasets(args.datasets, args)
    if not args.datasets:
        raise SystemExit("error: no dataset of --datasets could be read")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary_path = out / f"{args.name}.json"
    summary = resume_results(summary_path, run_settings(args), restart=args.restart, empty={})
    summary = sweep(args, summary, summary_path, data_dir="conv_vs_T", log_backprop=True)
    classes = {d: n_classes(d) for d in args.datasets}
    plot(summary, args, out / f"{args.name}.png", classes=classes)
    print_table(summary, args, classes)
    print(f"wrote {out / args.name}.png")
    return summary


if __name__ == "__main__":
    main()
