// Copyright 2026 The weft Authors.
//
// TaskErrorOf: the weft::TaskError a call throws, for tests that check
// how a task failed.

#ifndef WEFT_CORE_TESTING_TASK_ERROR_H_
#define WEFT_CORE_TESTING_TASK_ERROR_H_

#include <optional>

#include "gtest/gtest.h"
#include "weft/errors.h"

namespace weft::testing {

// Runs `call` (typically a get() that must fail) and returns the TaskError
// it throws. If it returns instead, the test fails and the result is
// empty; any other exception propagates (and fails the test).
template <class Call>
std::optional<TaskError> TaskErrorOf(Call call) {
  try {
    call();
  } catch (const TaskError& e) {
    return e;
  }
  ADD_FAILURE() << "expected a weft::TaskError";
  return std::nullopt;
}

}  // namespace weft::testing

#endif  // WEFT_CORE_TESTING_TASK_ERROR_H_
