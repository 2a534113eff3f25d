#!/usr/bin/python3
"""The tutorial's calc_mean variants in NumPy, run serially.

Usage: /usr/bin/python3 examples/rng/calc_mean_numpy.py seedseq|jumped|default_rng
Prints the 10 [mean, std] pairs with %.17g, the same format as the C++
examples. seedseq and jumped are section 5.2 (checked in as
calc_mean_{seedseq,jumped}.expected); default_rng is sections 4.1 and 4.2,
default_rng(i) per task (checked in as
examples/calc_mean_default_rng.expected).
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


def calc_mean_default_rng(i, n):
    rng = np.random.default_rng(i)
    data = rng.normal(size=n)
    return [np.mean(data), np.std(data)]


def main():
    if sys.argv[1] == "default_rng":
        results = [calc_mean_default_rng(i, n) for i in range(p)]
    elif sys.argv[1] == "seedseq":
        child_seeds = np.random.SeedSequence(1).spawn(p)
        results = [calc_mean_seedseq(i, n, child_seeds[i]) for i in range(p)]
    else:
        rng = np.random.PCG64(1)
        results = [calc_mean_jumped(i, n, rng) for i in range(p)]
    for mean, std in results:
        print("[%.17g, %.17g]" % (mean, std))


if __name__ == "__main__":
    main()
