// Minimal command-line flags for the example programs: `--name=value`.
//
//   weft::examples::Flags flags(argc, argv);
//   const int n = flags.Int("n", 200);           // --n=50
//   flags.Done();                                 // rejects unknown flags
//
// The examples keep to Debian's Abseil link line, which has no absl::flags,
// so this header parses the few integer and string flags they need.

#ifndef WEFT_EXAMPLES_FLAGS_H_
#define WEFT_EXAMPLES_FLAGS_H_

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

namespace weft::examples {

class Flags {
 public:
  // Reads every `--name=value` argument. Exits with status 2 on anything
  // else (positional arguments, `--name` without a value).
  Flags(int argc, char** argv) : program_(argc > 0 ? argv[0] : "example") {
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      const size_t eq = arg.find('=');
      if (arg.rfind("--", 0) != 0 || eq == std::string::npos || eq == 2) {
        Fail("expected --name=value, got '" + arg + "'");
      }
      values_[arg.substr(2, eq - 2)] = arg.substr(eq + 1);
    }
  }

  // The integer value of --name, or `default_value` if absent.
  int64_t Int(const std::string& name, int64_t default_value) {
    auto it = values_.find(name);
    if (it == values_.end()) return default_value;
    char* end = nullptr;
    const int64_t value = std::strtoll(it->second.c_str(), &end, 10);
    if (it->second.empty() || *end != '\0') {
      Fail("--" + name + " wants an integer, got '" + it->second + "'");
    }
    values_.erase(it);
    return value;
  }

  // The text of --name, or `default_value` if absent.
  std::string String(const std::string& name, std::string default_value) {
    auto it = values_.find(name);
    if (it == values_.end()) return default_value;
    std::string value = it->second;
    values_.erase(it);
    return value;
  }

  // Exits with status 2 if a flag was given that no Int()/String() read.
  void Done() const {
    if (!values_.empty()) Fail("unknown flag --" + values_.begin()->first);
  }

 private:
  [[noreturn]] void Fail(const std::string& message) const {
    std::cerr << program_ << ": " << message << "\n";
    std::exit(2);
  }

  std::string program_;
  std::map<std::string, std::string> values_;
};

// A path the user gave, made relative to the directory `bazel run` was
// started from (Bazel runs programs inside their runfiles tree).
inline std::string UserPath(const std::string& path) {
  const char* dir = std::getenv("BUILD_WORKING_DIRECTORY");
  if (path.empty() || path[0] == '/' || dir == nullptr) return path;
  return std::string(dir) + "/" + path;
}

}  // namespace weft::examples

#endif  // WEFT_EXAMPLES_FLAGS_H_
