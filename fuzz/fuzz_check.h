// Copyright 2026 The weft Authors.
//
// FUZZ_CHECK(cond): a fuzz target's own check. When `cond` is false it
// prints the file, line and condition on stderr and aborts, which libFuzzer
// (and the corpus replay tests) report as a finding. Checked in every
// build, unlike assert().

#ifndef WEFT_FUZZ_FUZZ_CHECK_H_
#define WEFT_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                  \
  do {                                                                    \
    if (!(cond)) {                                                        \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                   #cond);                                                \
      std::abort();                                                       \
    }                                                                     \
  } while (false)

#endif  // WEFT_FUZZ_FUZZ_CHECK_H_
