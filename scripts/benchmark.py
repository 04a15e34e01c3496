#!/usr/bin/env python
"""Speed benchmark of le_brian (the same as ``le-brian benchmark``): steps/s and synapse
updates/s of LE networks (784-100-10, 784-300-100-10, 784-1000-1000-10), learning on and
off, on every available device (runtime, cpp_standalone, cuda_standalone when a GPU is
present), dense and plain projection paths, float64 and float32, each against a dense
NumPy Euler loop of the same equations run in the same process; and the bars
microcircuit (9-30-3) against its NumPy loop. Build time and rerun time are reported
separately. Writes a JSON file with every figure and the machine (rewritten after
every entry) and, with --markdown, the README's table.

Example: python scripts/benchmark.py --out figures/benchmark.json --markdown figures/benchmark.md
"""

import sys

from le_brian.cli import main

if __name__ == "__main__":
    sys.exit(main(["benchmark", *sys.argv[1:]]))
