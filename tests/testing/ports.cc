// Copyright 2026 The weft Authors.

#include "tests/testing/ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>

namespace weft::testing {
namespace {

// The first port of the kernel's ephemeral range (32768 if unreadable).
int EphemeralLow() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  int high = 0;
  if (in >> low >> high && low > 1024) return low;
  return 32768;
}

bool Bindable(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok =
      ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

int UnusedPort() {
  constexpr int kLowest = 10000;
  const int high = EphemeralLow() - 1;
  std::random_device seed;
  std::mt19937 random(seed());
  std::uniform_int_distribution<int> pick(kLowest, high);
  for (int i = 0; i < 1000; ++i) {
    const int port = pick(random);
    if (Bindable(port)) return port;
  }
  std::fprintf(stderr, "UnusedPort: no free port in %d-%d\n", kLowest, high);
  std::abort();
}

}  // namespace weft::testing
