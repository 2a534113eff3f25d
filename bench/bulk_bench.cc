// Copyright 2026 The weft Authors.
//
// The bulk path alone (rpc/bulk_transfer.h): one process offers an object
// from its BulkServer, another fetches it with BulkFetch, again and again,
// with nothing of weft's around them (no scheduler, no task, no Fetch
// call). Cross-host W5 (bench/crosshost.sh) times the same move inside two
// tasks, as the difference of two medians; this times it directly, so a
// change to the bulk path can be measured in seconds, many times over,
// between two test hosts.
//
//   bulk_bench --serve=HOST:PORT [--megabytes=100] [--private]
//   bulk_bench --fetch=HOST:PORT [--megabytes=100] [--count=30]
//
// The server listens for control connections on HOST:PORT and its
// BulkServer on HOST (any port); for each byte a control connection sends,
// it offers its object (random bytes, in a sealed shared region as a
// worker holds a large result, or with --private in ordinary memory) and
// answers with the ticket, the BulkServer's port and the size. It runs
// until killed. The fetcher prints one JSON line: the median, lowest and
// highest MB/s over `count` fetches, each timed from the request on the
// control connection to BulkFetch's return.

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "rpc/buffer.h"
#include "rpc/bulk_transfer.h"

namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "bulk_bench: %s: %s\n", what.c_str(),
               std::strerror(errno));
  std::exit(1);
}

bool ReadAll(int fd, char* out, size_t size) {
  return ::recv(fd, out, size, MSG_WAITALL) == static_cast<ssize_t>(size);
}

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

sockaddr_in Address(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0) {
    Die("resolving " + host);
  }
  sockaddr_in address = *reinterpret_cast<sockaddr_in*>(found->ai_addr);
  ::freeaddrinfo(found);
  address.sin_port = htons(static_cast<uint16_t>(port));
  return address;
}

// A control connection: each byte asks for an offer of `object`.
void Answer(int fd, weft::rpc::BulkServer* server,
            const weft::rpc::Buffer& object) {
  char request;
  while (ReadAll(fd, &request, 1)) {
    std::string reply = server->Offer(object);
    const uint32_t port = static_cast<uint32_t>(server->port());
    const uint64_t size = object.size();
    reply.append(reinterpret_cast<const char*>(&port), sizeof(port));
    reply.append(reinterpret_cast<const char*>(&size), sizeof(size));
    if (!WriteAll(fd, reply.data(), reply.size())) break;
  }
  ::close(fd);
}

int Serve(const std::string& host, int port, size_t size, bool in_private) {
  // In a sealed shared region, as a worker holds a large result (which
  // the BulkServer sends with sendfile), or in ordinary memory.
  weft::rpc::BufferBuilder room =
      weft::rpc::BufferBuilder::Allocate(size, /*shared=*/!in_private);
  std::mt19937_64 gen(1);
  for (size_t i = 0; i + 8 <= size; i += 8) {
    const uint64_t x = gen();
    std::memcpy(room.data() + i, &x, 8);
  }
  const weft::rpc::Buffer object = std::move(room).Finish();
  absl::StatusOr<std::unique_ptr<weft::rpc::BulkServer>> server =
      weft::rpc::BulkServer::Start(host, 0);
  if (!server.ok()) {
    std::fprintf(stderr, "bulk_bench: %s\n",
                 server.status().ToString().c_str());
    return 1;
  }
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) Die("socket");
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in address = Address(host, port);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address),
             sizeof(address)) != 0) {
    Die("bind");
  }
  if (::listen(listener, 16) != 0) Die("listen");
  std::fprintf(stderr, "bulk_bench: serving %zu bytes (%s) on %s:%d\n", size,
               object.region() != nullptr ? "a shared region" : "private",
               host.c_str(), port);
  while (true) {
    const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::thread(Answer, fd, server->get(), std::cref(object)).detach();
  }
}

int Fetch(const std::string& host, int port, size_t size, int count) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) Die("socket");
  sockaddr_in address = Address(host, port);
  for (int tries = 0;; ++tries) {
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) ==
        0) {
      break;
    }
    if (tries == 100) Die("connect");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  std::vector<double> seconds;
  for (int i = 0; i < count; ++i) {
    const auto start = std::chrono::steady_clock::now();
    char reply[weft::rpc::kBulkTicketBytes + 4 + 8];
    if (!WriteAll(fd, "x", 1) || !ReadAll(fd, reply, sizeof(reply))) {
      Die("control connection");
    }
    uint32_t bulk_port;
    uint64_t announced;
    std::memcpy(&bulk_port, reply + weft::rpc::kBulkTicketBytes, 4);
    std::memcpy(&announced, reply + weft::rpc::kBulkTicketBytes + 4, 8);
    if (announced != size) {
      std::fprintf(stderr, "bulk_bench: the server offers %llu bytes\n",
                   static_cast<unsigned long long>(announced));
      return 1;
    }
    absl::StatusOr<weft::rpc::Buffer> got = weft::rpc::BulkFetch(
        host, static_cast<int>(bulk_port),
        std::string_view(reply, weft::rpc::kBulkTicketBytes), size,
        absl::Now() + absl::Seconds(60));
    if (!got.ok()) {
      std::fprintf(stderr, "bulk_bench: %s\n", got.status().ToString().c_str());
      return 1;
    }
    seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count());
  }
  std::sort(seconds.begin(), seconds.end());
  const double mb = static_cast<double>(size) / 1e6;
  std::printf(
      "{\"system\": \"bulk\", \"megabytes\": %.0f, \"count\": %d, "
      "\"stripes\": %d, \"median_mb_s\": %.0f, \"min_mb_s\": %.0f, "
      "\"max_mb_s\": %.0f, \"median_seconds\": %.5f}\n",
      mb, count, weft::rpc::BulkStripesFor(size),
      mb / seconds[seconds.size() / 2], mb / seconds.back(),
      mb / seconds.front(), seconds[seconds.size() / 2]);
  return 0;
}

bool SplitHostPort(const std::string& text, std::string* host, int* port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) return false;
  *host = text.substr(0, colon);
  return absl::SimpleAtoi(text.substr(colon + 1), port) && *port > 0 &&
         *port < 65536;
}

}  // namespace

int main(int argc, char** argv) {
  std::string serve, fetch;
  int megabytes = 100;
  int count = 30;
  bool in_private = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (absl::StartsWith(arg, "--serve=")) {
      serve = arg.substr(8);
    } else if (absl::StartsWith(arg, "--fetch=")) {
      fetch = arg.substr(8);
    } else if (arg == "--private") {
      in_private = true;
    } else if (absl::StartsWith(arg, "--megabytes=") &&
               absl::SimpleAtoi(arg.substr(12), &megabytes) && megabytes > 0) {
    } else if (absl::StartsWith(arg, "--count=") &&
               absl::SimpleAtoi(arg.substr(8), &count) && count > 0) {
    } else {
      std::fprintf(stderr,
                   "usage: bulk_bench --serve=HOST:PORT [--megabytes=100] "
                   "[--private]\n"
                   "       bulk_bench --fetch=HOST:PORT [--megabytes=100] "
                   "[--count=30]\n");
      return 2;
    }
  }
  const size_t size = static_cast<size_t>(megabytes) * 1000 * 1000;
  std::string host;
  int port = 0;
  if (!serve.empty() && SplitHostPort(serve, &host, &port)) {
    return Serve(host, port, size, in_private);
  }
  if (!fetch.empty() && SplitHostPort(fetch, &host, &port)) {
    return Fetch(host, port, size, count);
  }
  std::fprintf(stderr,
               "bulk_bench: give --serve=HOST:PORT or --fetch=HOST:PORT\n");
  return 2;
}
