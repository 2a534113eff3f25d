// Copyright 2026 The weft Authors.
//
// Bulk transfers: a large object's bytes between hosts on a plain TCP
// connection of its own, written straight from the holder's memory and
// read straight into the requester's buffer. The gRPC data plane
// (rpc/data_client.h) moves objects in 1 MiB protobuf chunks, each copied
// and parsed on both sides, which caps a stream well below what the wire
// carries; this path leaves only the kernel's copies.
//
// Admission is by ticket. A requester asks the holder over the
// authenticated gRPC Fetch; for a large object the holder answers with the
// port of its BulkServer and a ticket: 16 random bytes naming that object,
// good for one read of each stripe within a short time. The requester
// reads a large object as several stripes on parallel connections, each
// sending the ticket and which stripe it wants: one TCP stream is bounded
// by what one core copies (between this project's test hosts, a plain C
// sender and receiver moved 100 MB at 1.3-1.5 GB/s on one connection and
// 2.8-3.6 GB/s on two or four), and a stripe per core gets past that. A
// connection without a valid ticket gets nothing and is closed; a stranger
// learns nothing from the port.
//
//   holder:    BulkServer server = *BulkServer::Start("10.0.0.2", 0);
//              std::string ticket = server->Offer(bytes);   // in Fetch
//   requester: Buffer b = *BulkFetch("10.0.0.2", port, ticket, size, ...);
//
// With TLS on (rpc/tls.h) each connection is a mutual TLS session first,
// and everything below goes through it.
//
// Wire format: the requester sends the 16-byte ticket, the stripe's index
// and the number of stripes (one byte each; 1 <= count <= kBulkMaxStripes,
// index < count, the same count on every stripe of a ticket); the holder
// sends the object's whole size (8 bytes, little-endian), then the bytes of
// the stripe, [size * index / count, size * (index + 1) / count), and
// closes. An object in a sealed shared region (rpc/shared_region.h) is sent
// from its file with sendfile, without TLS: the kernel takes the pages
// themselves, with no copy on the holder's side.

#ifndef WEFT_RPC_BULK_TRANSFER_H_
#define WEFT_RPC_BULK_TRANSFER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rpc/buffer.h"
#include "rpc/tls.h"
#include "weft/internal/mutex.h"

namespace weft::rpc {

// Objects smaller than this go on the gRPC stream: a connection of their
// own costs more than the copies it saves.
inline constexpr uint64_t kBulkMinBytes = 1 << 20;
// The size of a ticket, in bytes.
inline constexpr size_t kBulkTicketBytes = 16;
// At most this many stripes per object.
inline constexpr int kBulkMaxStripes = 8;
// How many stripes BulkFetch reads an object of `size` bytes in: one per
// 16 MiB, at least 1 and at most 4.
int BulkStripesFor(uint64_t size);

class BulkServer {
 public:
  struct Options {
    // How long an offer waits for its connection.
    absl::Duration ticket_ttl = absl::Seconds(30);
    // How long a connection may take to present its ticket.
    absl::Duration ticket_read_timeout = absl::Seconds(5);
    // Connections served at once (a thread each). More wait for a slot,
    // in the order they came: up to max_waiting of them, each for at most
    // slot_wait. A connection beyond those, or one that waited longer, is
    // closed unserved, and its requester falls back to the gRPC stream.
    // (Each stripe is a connection: 6 fetches of a large object at once
    // are 24.)
    int max_transfers = 16;
    int max_waiting = 256;
    absl::Duration slot_wait = absl::Seconds(5);
  };

  // Listens on host:port (0: any free port). With this process's TLS on
  // (rpc/tls.h, read now) every connection must complete a mutual TLS
  // handshake within options.ticket_read_timeout before its ticket is
  // read, and the bytes go encrypted. Errors: Unavailable (cannot listen
  // there, naming why), InvalidArgument (broken TLS files).
  static absl::StatusOr<std::unique_ptr<BulkServer>> Start(
      const std::string& host, int port, Options options);
  static absl::StatusOr<std::unique_ptr<BulkServer>> Start(
      const std::string& host, int port) {
    return Start(host, port, Options());
  }
  // Stops accepting, cuts transfers in progress, and waits for their
  // threads.
  ~BulkServer();

  BulkServer(const BulkServer&) = delete;
  BulkServer& operator=(const BulkServer&) = delete;

  int port() const { return port_; }

  // Makes `bytes` readable once per stripe, by connections that present
  // the returned ticket within options.ticket_ttl (the stripe count is
  // fixed by the first of them). Thread-safe.
  std::string Offer(Buffer bytes);

  // Offers not yet taken (expired ones are dropped as offers come), and
  // transfers served so far: a stripe counts once its last send()
  // returned, which may be after its fetcher has every byte. Thread-safe;
  // for tests.
  size_t pending_offers() const;
  uint64_t transfers_served() const;
  // Of those, the ones sent from a sealed shared region's file with
  // sendfile (no copy on this side; only without TLS). Thread-safe.
  uint64_t transfers_served_from_file() const;

 private:
  struct Offered {
    Buffer bytes;
    absl::Time expires;
    int stripes = 0;        // fixed by the first request; 0 before it
    uint32_t served = 0;    // a bit per stripe taken
  };

  BulkServer(int fd, int port, Options options,
             std::shared_ptr<const TlsContext> tls);
  void AcceptLoop();
  // Serves `fd`, then the waiting connections, until none waits; then
  // gives up its slot.
  void ServeConnections(int fd);
  void Serve(int fd);
  // The next waiting connection to serve (closing those that waited too
  // long), or -1 after giving up the caller's slot.
  int NextWaiting();
  // Stripe `index` of `count` of the offer under `ticket`, taken (the
  // offer goes once every stripe is); nullopt if none, expired, taken
  // already, or `count` differs from the offer's first request.
  std::optional<Buffer> Take(std::string_view ticket, int index, int count);

  const Options options_;
  const std::shared_ptr<const TlsContext> tls_;  // null: plaintext
  const int listen_fd_;
  const int port_;
  // A pipe whose read end wakes the accept loop and the transfers to stop.
  int stop_pipe_[2] = {-1, -1};
  std::thread acceptor_;

  mutable internal::Mutex mu_;
  absl::flat_hash_map<std::string, Offered> offers_ ABSL_GUARDED_BY(mu_);
  // Slots taken: connections being served, each on a detached thread
  // (the destructor waits until none is).
  int active_ ABSL_GUARDED_BY(mu_) = 0;
  // Connections accepted while every slot was taken, oldest first.
  struct Waiting {
    int fd;
    absl::Time since;
  };
  std::deque<Waiting> waiting_ ABSL_GUARDED_BY(mu_);
  std::condition_variable_any idle_;
  uint64_t served_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t served_from_file_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

// Reads the object offered under `ticket` by the BulkServer at host:port,
// which must be exactly `size` bytes, by `deadline`, in BulkStripesFor(size)
// stripes on parallel connections, into private memory of
// this process (a PageBlock when large: filling a fresh shared region costs
// more than receiving the bytes on machines where page faults are dear, and
// an object from another host is rarely wanted by a same-host peer, which
// then gets it over the bulk port; rpc/page_block.h). With this process's
// TLS on, each connection shakes hands first (a failed handshake is
// Unavailable). Errors:
// Unavailable (cannot connect: e.g. a firewall; the caller falls back to
// the gRPC stream), NotFound (no such offer: the holder closed without a
// size), DataLoss (another size, or the connection ended early),
// DeadlineExceeded, ResourceExhausted (no memory for `size` bytes).
absl::StatusOr<Buffer> BulkFetch(const std::string& host, int port,
                                 std::string_view ticket, uint64_t size,
                                 absl::Time deadline);

}  // namespace weft::rpc

#endif  // WEFT_RPC_BULK_TRANSFER_H_
