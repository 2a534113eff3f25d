// Copyright 2026 The weft Authors.
//
// Running the programs weft drives to deploy itself (sbatch, squeue,
// scancel, ssh): with input, captured output and a deadline, from any
// thread of a program that may have many (posix_spawn, no fork).

#ifndef WEFT_DEPLOY_RUN_COMMAND_H_
#define WEFT_DEPLOY_RUN_COMMAND_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace weft::deploy {

struct CommandResult {
  int exit_code = 0;  // the program's exit status; 128 + N if signal N
  std::string out;    // its standard output
  std::string err;    // its standard error
};

// Runs `argv` (argv[0] is looked up in PATH) with `input` on its standard
// input and this process's environment, in a process group of its own,
// and waits for it. A non-zero exit is a result, not an error. Errors:
// InvalidArgument (empty argv), NotFound (no such program), DeadlineExceeded
// if it runs past `timeout` (its group is then killed; the message has its
// output so far), Internal (pipes, spawn). Thread-safe.
absl::StatusOr<CommandResult> RunCommand(
    const std::vector<std::string>& argv, const std::string& input = "",
    absl::Duration timeout = absl::Seconds(60));

// `word` quoted for /bin/sh: itself if it has only safe characters
// ([A-Za-z0-9_./:=@%+,-]), else in single quotes.
std::string ShellQuote(const std::string& word);

// The words of `argv`, each ShellQuote()d, joined by spaces.
std::string ShellCommand(const std::vector<std::string>& argv);

}  // namespace weft::deploy

#endif  // WEFT_DEPLOY_RUN_COMMAND_H_
