#!/usr/bin/python3
"""The tutorial's two calc_mean variants (section 5.2) in NumPy, run serially.

Usage: /usr/bin/python3 examples/rng/calc_mean_numpy.py seedseq|jumped
Prints the 10 [mean, std] pairs with %.17g, the same format as the C++
examples; the outputs are checked in as calc_mean_{seedseq,jumped}.expected.
"""
import sys

import numpy as np

n = 1000
p = 10


def calc_mean_seedseq(i, n, seed_i):
    rng = np.random.default_rng(seed_i)
    data = rng.normal(size=n)
    return [np.mean(data), np.std(data)]


def calc_mean_jumped(i, n, rng):
    gen = np.random.Generator(rng.jumped(i))
    data = gen.normal(size=n)
    return [np.mean(data), np.std(data)]


def main():
    if sys.argv[1] == "seedseq":
        child_seeds = np.random.SeedSequence(1).spawn(p)
        results = [calc_mean_seedseq(i, n, child_seeds[i]) for i in range(p)]
    else:
        rng = np.random.PCG64(1)
        results = [calc_mean_jumped(i, n, rng) for i in range(p)]
    for mean, std in results:
        print("[%.17g, %.17g]" % (mean, std))


if __name__ == "__main__":
    main()
