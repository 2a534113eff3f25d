// Copyright 2026 The weft Authors.
//
// The wire floor under cross-host W5: one plain TCP connection moving N
// bytes from memory on one test host into a buffer on another, with no
// weft protocol (no Fetch call, no ticket, no header), into the memory
// weft's bulk path receives into: a kept rpc::PageBlock, not cleared
// (CreateForOverwrite), with the huge pages a kept block gets
// (rpc/page_block.h). The first transfer takes a fresh block.
// bench/crosshost.sh runs it between the two worker hosts in each round and
// reports it beside weft and Dask as "TCP floor".
//
//   stream_floor --serve=PORT [--megabytes=100] [--count=5]
//   stream_floor --fetch=HOST:PORT [--megabytes=100] [--count=5]
//
// The server sends `count` transfers (one per connection, after a one-byte
// request) of random bytes and exits. The fetcher prints one JSON line in
// the shape of bench/workloads' W5 records (system "tcp-floor", data
// "random"): the median seconds and MB/s over `count` transfers, each timed
// from taking the buffer to the last byte.

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "rpc/page_block.h"

namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "stream_floor: %s: %s\n", what.c_str(),
               std::strerror(errno));
  std::exit(1);
}

int Serve(int port, size_t size, int count) {
  std::vector<char> bytes(size);
  std::mt19937_64 gen(1);
  for (size_t i = 0; i + 8 <= size; i += 8) {
    const uint64_t x = gen();
    std::memcpy(&bytes[i], &x, 8);
  }
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listener < 0) Die("socket");
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address),
             sizeof(address)) != 0) {
    Die("bind");
  }
  if (::listen(listener, 8) != 0) Die("listen");
  std::fprintf(stderr, "stream_floor: serving on port %d\n", port);
  for (int i = 0; i < count; ++i) {
    const int fd = ::accept(listener, nullptr, nullptr);
    if (fd < 0) Die("accept");
    char request;
    if (::recv(fd, &request, 1, MSG_WAITALL) != 1) Die("reading a request");
    size_t sent = 0;
    while (sent < size) {
      const ssize_t n = ::send(fd, bytes.data() + sent, size - sent, 0);
      if (n <= 0) Die("send");
      sent += static_cast<size_t>(n);
    }
    ::close(fd);
  }
  ::close(listener);
  return 0;
}

int Fetch(const std::string& target, size_t size, int count, int megabytes) {
  std::vector<std::string> parts = absl::StrSplit(target, ':');
  int port = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[1], &port)) {
    std::fprintf(stderr, "stream_floor: --fetch wants HOST:PORT\n");
    return 2;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, parts[0].c_str(), &address.sin_addr) != 1) {
    std::fprintf(stderr, "stream_floor: %s is not an IPv4 address\n",
                 parts[0].c_str());
    return 2;
  }
  std::vector<double> seconds;
  for (int i = 0; i < count; ++i) {
    // The block given back by the last transfer is ready (weft's fetches
    // are further apart than its conversion to huge pages takes).
    weft::rpc::PageBlock::AwaitKept();
    const auto start = std::chrono::steady_clock::now();
    auto block = weft::rpc::PageBlock::CreateForOverwrite(size);
    if (!block.ok()) Die(std::string(block.status().message()));
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) Die("socket");
    // The server may still be starting: retry for up to 10 s.
    int attempts = 0;
    while (::connect(fd, reinterpret_cast<sockaddr*>(&address),
                     sizeof(address)) != 0) {
      if (++attempts > 100) Die("connect to " + target);
      ::usleep(100 * 1000);
    }
    if (::send(fd, "x", 1, 0) != 1) Die("send");
    size_t got = 0;
    while (got < size) {
      const ssize_t n = ::recv(fd, (*block)->data() + got, size - got, 0);
      if (n <= 0) Die("recv");
      got += static_cast<size_t>(n);
    }
    ::close(fd);
    seconds.push_back(std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - start)
                          .count());
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  std::printf(
      "{\"system\": \"tcp-floor\", \"workload\": \"W5_data\", "
      "\"data\": \"random\", \"megabytes\": %d, \"repetitions\": %d, "
      "\"move_seconds\": %.4f, \"mb_per_second\": %.1f, \"note\": \"one "
      "plain TCP connection between the two worker hosts, %d MB from memory "
      "into a kept rpc::PageBlock as weft's fetch takes, no weft protocol "
      "(bench/"
      "stream_floor.cc); median of %d\"}\n",
      megabytes, count, median, megabytes / median, megabytes, count);
  return 0;
}

}  // namespace

int Usage() {
  std::fprintf(stderr,
               "usage: stream_floor --serve=PORT | --fetch=HOST:PORT "
               "[--megabytes=N] [--count=N]\n");
  return 2;
}

int main(int argc, char** argv) {
  int serve = 0, megabytes = 100, count = 5;
  std::string fetch;
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    absl::string_view rest = arg;
    if (absl::ConsumePrefix(&rest, "--serve=")) {
      if (!absl::SimpleAtoi(rest, &serve) || serve <= 0) return Usage();
    } else if (absl::ConsumePrefix(&rest, "--fetch=")) {
      fetch = std::string(rest);
    } else if (absl::ConsumePrefix(&rest, "--megabytes=")) {
      if (!absl::SimpleAtoi(rest, &megabytes) || megabytes <= 0) {
        return Usage();
      }
    } else if (absl::ConsumePrefix(&rest, "--count=")) {
      if (!absl::SimpleAtoi(rest, &count) || count <= 0) return Usage();
    } else {
      return Usage();
    }
  }
  const size_t size = static_cast<size_t>(megabytes) * 1000 * 1000;
  if (serve > 0) return Serve(serve, size, count);
  if (!fetch.empty()) return Fetch(fetch, size, count, megabytes);
  return Usage();
}
