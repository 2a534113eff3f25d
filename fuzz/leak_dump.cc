// Copyright 2026 The weft Authors.

#include "fuzz/leak_dump.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

// The sanitizer runtime's interface, weak: absent without a sanitizer
// (the replay build under gcc without ASan), and then nothing is done.
extern "C" {
int __lsan_do_recoverable_leak_check(void) __attribute__((weak));
void __sanitizer_set_report_path(const char* path) __attribute__((weak));
void __sanitizer_set_report_fd(void* fd) __attribute__((weak));
}

namespace weft::fuzz {

void DumpLeakedObjects() {
  const char* path = std::getenv("WEFT_FUZZ_LEAK_DUMP");
  if (path == nullptr || __lsan_do_recoverable_leak_check == nullptr ||
      __sanitizer_set_report_path == nullptr) {
    return;
  }
  const std::string report_path = std::string(path) + ".report";
  __sanitizer_set_report_path(report_path.c_str());
  const bool leaked = __lsan_do_recoverable_leak_check() != 0;
  // Back to stderr for the check at exit.
  if (__sanitizer_set_report_fd != nullptr) {
    __sanitizer_set_report_fd(reinterpret_cast<void*>(2));
  }
  FILE* out = std::fopen(path, "a");
  if (out == nullptr) return;
  if (!leaked) {
    std::fprintf(out, "no leak\n");
    std::fclose(out);
    return;
  }
  // The runtime appends the pid to the report's path.
  std::ifstream report(report_path + "." + std::to_string(getpid()));
  std::stringstream text;
  text << report.rdbuf();
  // report_objects=1 lists "0x602000001234 (24 bytes)" per object.
  static const std::regex kObject("(0x[0-9a-f]+) \\(([0-9]+) bytes\\)");
  const std::string s = text.str();
  int objects = 0;
  for (auto it = std::sregex_iterator(s.begin(), s.end(), kObject);
       it != std::sregex_iterator() && objects < 64; ++it, ++objects) {
    const uintptr_t address =
        std::strtoull((*it)[1].str().c_str(), nullptr, 16);
    const size_t size = std::strtoull((*it)[2].str().c_str(), nullptr, 10);
    std::fprintf(out, "object 0x%" PRIxPTR " (%zu bytes):\n", address, size);
    for (size_t i = 0; i < 8 && (i + 1) * 8 <= size; ++i) {
      uintptr_t word;
      std::memcpy(&word, reinterpret_cast<const void*>(address + 8 * i), 8);
      Dl_info info;
      std::fprintf(out, "  [%zu] 0x%016" PRIxPTR, i, word);
      if (word > 4096 && dladdr(reinterpret_cast<void*>(word), &info) != 0) {
        // A symbol and the offset from it; without one, the offset from
        // the file's base (look it up in nm -C FILE).
        const bool named = info.dli_sname != nullptr;
        std::fprintf(out, "  %s %s+0x%" PRIxPTR, info.dli_fname,
                     named ? info.dli_sname : "(base)",
                     word - reinterpret_cast<uintptr_t>(
                                named ? info.dli_saddr : info.dli_fbase));
      }
      std::fprintf(out, "\n");
    }
  }
  std::fprintf(out, "%d objects listed (of the report's %zu bytes)\n", objects,
               s.size());
  std::fclose(out);
}

}  // namespace weft::fuzz
