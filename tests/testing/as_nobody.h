// Copyright 2026 The weft Authors.
//
// Running a piece of a test without root, for tests (run as root in CI)
// that check what a helper says to a user who is not root.

#ifndef WEFT_TESTS_TESTING_AS_NOBODY_H_
#define WEFT_TESTS_TESTING_AS_NOBODY_H_

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"

namespace weft::testing {

// Runs `f` in a forked child that has given up root (real, effective and
// saved user id 65534, "nobody"; the group ids are kept) and returns the
// string `f` returned there. `f` runs in a copy of this process: what it
// changes stays in the child.
// Errors: kInternal if the fork, the pipe or the change of user failed, or
// the child did not exit normally (it crashed, or `f` threw).
// REQUIRES: `f` touches no lock another thread of this process may hold at
// the fork (only the forking thread lives on in the child); the child ends
// with _exit and runs no atexit handler.
absl::StatusOr<std::string> RunAsNobody(absl::FunctionRef<std::string()> f);

}  // namespace weft::testing

#endif  // WEFT_TESTS_TESTING_AS_NOBODY_H_
