// Copyright 2026 The weft Authors.
//
// Client construction, visualize and this_task.

#include "weft/api.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "absl/strings/match.h"
#include "weft/internal/task_context.h"
#include "weft/internal/throw_status.h"

namespace weft {

Client Client::Local(int threads) {
  Client client(internal::ClientImpl::MakeLocal(threads));
  client.make_default();
  return client;
}

Client Client::Current() { return Client(internal::ClientImpl::Current()); }

void Client::make_default() const { internal::ClientImpl::SetDefault(impl_); }

void Client::wait_for_workers(int n, Duration timeout) const {
  internal::ThrowIfError(impl_->runtime().WaitForWorkers(
      n, std::chrono::duration_cast<std::chrono::milliseconds>(timeout)));
}

bool visualize(const std::string& dot, const std::string& path) {
  const bool render = absl::EndsWith(path, ".png") ||
                      absl::EndsWith(path, ".svg") ||
                      absl::EndsWith(path, ".pdf");
  const std::string dot_path = render ? path + ".dot" : path;
  {
    std::ofstream out(dot_path);
    out << dot;
    if (!out) {
      std::cerr << "weft: cannot write " << dot_path << std::endl;
      return false;
    }
  }
  if (!render) return true;
  const std::string format = path.substr(path.size() - 3);
  const std::string command =
      "dot -T" + format + " -o '" + path + "' '" + dot_path + "'";
  if (std::system(command.c_str()) != 0) {
    std::cerr << "weft: could not render " << path
              << " (is Graphviz installed? apt-get install graphviz); the "
                 "DOT text is in "
              << dot_path << std::endl;
    return false;
  }
  std::remove(dot_path.c_str());
  return true;
}

namespace this_task {

bool active() { return internal::TaskContext::Current() != nullptr; }

int num_cpus() {
  internal::TaskContext* context = internal::TaskContext::Current();
  return context != nullptr ? context->num_cpus() : 1;
}

std::string key() {
  internal::TaskContext* context = internal::TaskContext::Current();
  return context != nullptr ? context->key() : "";
}

bool cancelled() {
  internal::TaskContext* context = internal::TaskContext::Current();
  return context != nullptr && context->cancelled();
}

}  // namespace this_task

namespace internal {

void ThrowEmpty(const char* call, const char* what) {
  throw UsageError(std::string("weft: ") + call + " was given an empty " +
                   what +
                   " (default-constructed: it names nothing); pass one that "
                   "weft returned");
}

}  // namespace internal
}  // namespace weft
