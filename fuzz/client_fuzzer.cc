// Copyright 2026 The weft Authors.
//
// Fuzzes the client's handler of the scheduler's messages (the cluster
// runtime, rpc/cluster_runtime.h) with what a broken or hostile scheduler
// could send. Each input is a sequence of events read with
// FuzzedDataProvider, run against a fresh client connected through the
// in-process link (rpc/local_link.h) to a fake scheduler made here:
//   - the program submits tasks of four result types (an int64, a string,
//     a vector of doubles, a vector of ObjectRefs), some depending on
//     earlier ones, drops and cancels references, and calls get() with a
//     short timeout (none for an object nothing was said of), wait(), and
//     workers() (whose answer the input writes: thread counts up to
//     2^31 - 1, negative ones, any strings);
//   - the scheduler answers: objects done with the value's true encoding,
//     with bytes from the input (inline or announcing more than it sends,
//     up to 2^64 - 1 bytes), twice, or for ids nobody asked for; failures
//     with any error kind (numbers this build does not know included);
//     replies to requests nobody made; the input's bytes parsed as a
//     message; and the link closing.
// Everything runs on the fuzzer's thread except the batch writer's linger
// flush, which only sends to the fake scheduler; an input replays the same
// way.
//
// Checks, besides ASan/LSan: get() returns the value sent (when it was the
// true encoding) or throws only weft's documented exceptions, never another
// (std::bad_alloc included); a failure reaches get() as a TaskError of the
// kind sent (an unknown kind reads as kTaskFailed); after the link closes,
// get() of a pending object fails at once (not by its timeout); and
// workers() reports the rows sent, with thread counts within
// [0, rpc::kMaxWorkerThreads] and num_slots() their sum.

#include <fuzzer/FuzzedDataProvider.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "fuzz/exit_leaks.h"
#include "fuzz/fuzz_check.h"
#include "rpc/cluster_runtime.h"
#include "rpc/local_link.h"
#include "rpc/report_limits.h"
#include "rpc/weft.pb.h"
#include "weft/internal/client_impl.h"
#include "weft/weft.h"

namespace {

int64_t FuzzInt(int64_t x) { return x + 1; }
std::string FuzzText(int64_t x) { return std::string(size_t(x & 63), 'x'); }
std::vector<double> FuzzDoubles(int64_t x) {
  return std::vector<double>(size_t(x & 63), 0.5);
}
std::vector<weft::ObjectRef<int64_t>> FuzzRefs(int64_t) { return {}; }
WEFT_REMOTE(FuzzInt, FuzzText, FuzzDoubles, FuzzRefs);

constexpr int kMaxEvents = 40;
// get() waits this long for an object the fake scheduler said is done but
// not inline (its fetch from kAddresses must end, by error or timeout);
// for one nothing was said of, get() is given no time at all: the answer is
// the same (a TimeoutError, or at once a failure once the link is closed),
// and the target runs four times faster than with a millisecond for each.
constexpr auto kFetchTimeout = std::chrono::milliseconds(1);
const char* const kAddresses[] = {"127.0.0.1:1", "", "not an address",
                                  "[::1]:1"};

// The scheduler's side of the link: it keeps the client's peer, takes the
// client's batches (its submissions need no answer here: the input says
// when objects are done) and answers requests at once, with the reply the
// input prepared.
class FakeScheduler final : public weft::rpc::LocalLink {
 public:
  absl::StatusOr<uint64_t> Connect(
      const std::string&,
      std::shared_ptr<weft::rpc::LocalClientPeer> peer) override {
    std::lock_guard<std::mutex> lock(mu_);
    peer_ = std::move(peer);
    return 1;
  }
  bool Deliver(uint64_t, const weft::rpc::ClientMessage& message) override {
    std::shared_ptr<weft::rpc::LocalClientPeer> peer;
    weft::rpc::SchedulerToClient reply;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return false;
      if (message.request_id() == 0) return true;
      reply = next_reply_;
      reply.set_request_id(message.request_id());
      peer = peer_;
    }
    peer->OnMessage(reply);
    return true;
  }
  // The client closed its stream: its peer is let go, as the scheduler
  // service does (the peer holds this link: keeping it would be a cycle).
  void Disconnect(uint64_t) override {
    std::shared_ptr<weft::rpc::LocalClientPeer> peer;
    std::lock_guard<std::mutex> lock(mu_);
    peer.swap(peer_);
    closed_ = true;
  }

  // What the next request is answered with (its request id is set then).
  void SetNextReply(weft::rpc::SchedulerToClient reply) {
    std::lock_guard<std::mutex> lock(mu_);
    next_reply_ = std::move(reply);
  }
  // A message from the scheduler, unasked. Dropped once closed.
  void Send(const weft::rpc::SchedulerToClient& message) {
    std::shared_ptr<weft::rpc::LocalClientPeer> peer;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return;
      peer = peer_;
    }
    peer->OnMessage(message);
  }
  // The scheduler shuts down.
  void Close() {
    std::shared_ptr<weft::rpc::LocalClientPeer> peer;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (closed_) return;
      closed_ = true;
      peer = std::move(peer_);
    }
    peer->OnClosed("the fuzzed scheduler shut down");
  }
  bool closed() {
    std::lock_guard<std::mutex> lock(mu_);
    return closed_;
  }

 private:
  std::mutex mu_;
  std::shared_ptr<weft::rpc::LocalClientPeer> peer_;
  weft::rpc::SchedulerToClient next_reply_;
  bool closed_ = false;
};

// One reference the program holds, and what the fuzzer told the client of
// its object.
struct Held {
  enum class Outcome {
    kPending,   // nothing said, or said in a way the client cannot use yet
    kValue,     // done with the true encoding of `expected` inline
    kBytes,     // done with the input's bytes inline: any outcome but a crash
    kUnknown,   // done, not inline (get() would fetch from the addresses),
                // or said in a way not tracked here: any end but a crash
    kFailed,    // failed with `kind`
  };
  std::variant<weft::ObjectRef<int64_t>, weft::ObjectRef<std::string>,
               weft::ObjectRef<std::vector<double>>,
               weft::ObjectRef<std::vector<weft::ObjectRef<int64_t>>>>
      ref;
  int64_t arg = 0;
  Outcome outcome = Outcome::kPending;
  weft::ErrorKind kind = weft::ErrorKind::kTaskFailed;
  std::string message;
};

uint64_t IdOf(const Held& h) {
  return std::visit([](const auto& r) { return r.id(); }, h.ref);
}

// The true encoding of the value task `h` computes.
std::string TrueEncoding(const Held& h) {
  switch (h.ref.index()) {
    case 0:
      return weft::Serialize(FuzzInt(h.arg));
    case 1:
      return weft::Serialize(FuzzText(h.arg));
    case 2:
      return weft::Serialize(FuzzDoubles(h.arg));
    default:
      return weft::Serialize(FuzzRefs(h.arg));
  }
}

// get(ref) with a short timeout, checked against what the client was told.
void CheckGet(const Held& h, bool link_closed) {
  try {
    std::visit(
        [&](const auto& r) {
          auto value = weft::get(r, h.outcome == Held::Outcome::kPending
                                        ? std::chrono::milliseconds(0)
                                        : kFetchTimeout);
          using V = decltype(value);
          FUZZ_CHECK(h.outcome == Held::Outcome::kValue ||
                     h.outcome == Held::Outcome::kBytes ||
                     h.outcome == Held::Outcome::kUnknown);
          if (h.outcome == Held::Outcome::kValue) {
            if constexpr (std::is_same_v<V, int64_t>) {
              FUZZ_CHECK(value == FuzzInt(h.arg));
            } else if constexpr (std::is_same_v<V, std::string>) {
              FUZZ_CHECK(value == FuzzText(h.arg));
            } else if constexpr (std::is_same_v<V, std::vector<double>>) {
              FUZZ_CHECK(value == FuzzDoubles(h.arg));
            } else {
              FUZZ_CHECK(value.empty());
            }
          }
        },
        h.ref);
  } catch (const weft::TimeoutError&) {
    // Only an object nothing usable was said of may still be waited for,
    // and not once the scheduler is gone.
    FUZZ_CHECK(h.outcome == Held::Outcome::kPending ||
               h.outcome == Held::Outcome::kUnknown);
    FUZZ_CHECK(!link_closed || h.outcome == Held::Outcome::kUnknown);
  } catch (const weft::TaskError& e) {
    FUZZ_CHECK(h.outcome != Held::Outcome::kValue);
    if (h.outcome == Held::Outcome::kFailed) {
      FUZZ_CHECK(e.info().kind == h.kind);
    }
  } catch (const weft::UsageError&) {
    // A value that does not decode as the type asked for.
    FUZZ_CHECK(h.outcome == Held::Outcome::kBytes ||
               h.outcome == Held::Outcome::kUnknown);
  }
  // Any other exception escapes and fails the input.
}

// Submits one task of result type `type` on `arg` (or, for an int64 task,
// on an earlier int64 result when `on` is set).
Held Submit(int type, int64_t arg, const weft::ObjectRef<int64_t>* on) {
  Held h;
  h.arg = arg;
  switch (type) {
    case 0:
      h.ref = on != nullptr ? weft::remote(FuzzInt)(*on)
                            : weft::remote(FuzzInt)(arg);
      break;
    case 1:
      h.ref = weft::remote(FuzzText)(arg);
      break;
    case 2:
      h.ref = weft::remote(FuzzDoubles)(arg);
      break;
    default:
      h.ref = weft::remote(FuzzRefs)(arg);
      break;
  }
  return h;
}

weft::rpc::Error::Kind FuzzKind(FuzzedDataProvider& in) {
  // Mostly known kinds; sometimes a number from a newer build.
  return static_cast<weft::rpc::Error::Kind>(in.ConsumeBool()
      ? in.ConsumeIntegralInRange<int>(0, 5)
      : in.ConsumeIntegral<int32_t>());
}

weft::ErrorKind KindAsRead(weft::rpc::Error::Kind kind) {
  const int k = static_cast<int>(kind);
  return k >= 0 && k <= static_cast<int>(weft::kLastErrorKind)
             ? static_cast<weft::ErrorKind>(k)
             : weft::ErrorKind::kTaskFailed;
}

void Run(FuzzedDataProvider& in) {
  auto scheduler = std::make_shared<FakeScheduler>();
  absl::StatusOr<std::unique_ptr<weft::rpc::ClusterRuntime>> runtime =
      weft::rpc::ClusterRuntime::ConnectLocal(scheduler, "fuzz-scheduler:1",
                                              "token", "client_fuzzer");
  FUZZ_CHECK(runtime.ok());
  weft::Client client = weft::internal::ClientImpl::Handle(
      std::make_shared<weft::internal::ClientImpl>(*std::move(runtime)));
  client.make_default();
  std::vector<Held> held;

  for (int event = 0; event < kMaxEvents && in.remaining_bytes() > 0;
       ++event) {
    const bool closed = scheduler->closed();
    const size_t pick =
        held.empty() ? 0 : in.ConsumeIntegralInRange<size_t>(0, held.size() - 1);
    switch (in.ConsumeIntegralInRange<int>(0, 11)) {
      case 0: {  // the program submits a task
        const int type = in.ConsumeIntegralInRange<int>(0, 3);
        const weft::ObjectRef<int64_t>* on = nullptr;
        if (type == 0 && !held.empty() && held[pick].ref.index() == 0 &&
            in.ConsumeBool()) {
          on = &std::get<0>(held[pick].ref);
        }
        Held h = Submit(type, in.ConsumeIntegralInRange<int64_t>(0, 1000), on);
        if (on != nullptr) h.arg = -1;  // its value is not known here
        held.push_back(std::move(h));
        break;
      }
      case 1: {  // done, with the value's true encoding inline
        if (held.empty()) break;
        Held& h = held[pick];
        if (h.arg < 0 || h.outcome != Held::Outcome::kPending) break;
        weft::rpc::SchedulerToClient m;
        weft::rpc::ObjectDone* d = m.add_done();
        d->set_id(IdOf(h));
        const std::string bytes = TrueEncoding(h);
        d->mutable_location()->set_id(IdOf(h));
        d->mutable_location()->set_size(bytes.size());
        d->mutable_location()->set_inline_value(bytes);
        scheduler->Send(m);
        if (!closed) h.outcome = Held::Outcome::kValue;
        break;
      }
      case 2: {  // done, with the input's bytes, inline or not
        weft::rpc::SchedulerToClient m;
        weft::rpc::ObjectDone* d = m.add_done();
        const bool known = !held.empty() && in.ConsumeBool();
        d->set_id(known ? IdOf(held[pick]) : in.ConsumeIntegral<uint64_t>());
        weft::rpc::Location* l = d->mutable_location();
        l->set_id(d->id());
        l->set_inline_value(in.ConsumeRandomLengthString(64));
        const bool is_inline = in.ConsumeBool();
        l->set_size(is_inline ? l->inline_value().size()
                              : in.ConsumeIntegral<uint64_t>());
        const int addresses = in.ConsumeIntegralInRange<int>(0, 2);
        for (int i = 0; i < addresses; ++i) {
          l->add_addresses(in.PickValueInArray(kAddresses));
        }
        scheduler->Send(m);
        if (known && !closed &&
            held[pick].outcome == Held::Outcome::kPending) {
          held[pick].outcome = l->size() == l->inline_value().size()
                                   ? Held::Outcome::kBytes
                                   : Held::Outcome::kUnknown;
        }
        break;
      }
      case 3: {  // failed, with any kind
        weft::rpc::SchedulerToClient m;
        weft::rpc::ObjectDone* d = m.add_done();
        const bool known = !held.empty() && in.ConsumeBool();
        d->set_id(known ? IdOf(held[pick]) : in.ConsumeIntegral<uint64_t>());
        d->set_failed(true);
        weft::rpc::Error* e = d->mutable_error();
        e->set_kind(FuzzKind(in));
        e->set_task_name(in.ConsumeRandomLengthString(16));
        e->set_exception_type(in.ConsumeRandomLengthString(16));
        e->set_message(in.ConsumeRandomLengthString(32));
        scheduler->Send(m);
        if (known && !closed &&
            held[pick].outcome == Held::Outcome::kPending) {
          held[pick].outcome = Held::Outcome::kFailed;
          held[pick].kind = KindAsRead(e->kind());
        }
        break;
      }
      case 4: {  // the input's bytes as a message
        weft::rpc::SchedulerToClient m;
        if (m.ParseFromString(in.ConsumeRandomLengthString(256))) {
          // Its `done` entries could name held objects: what they say is
          // not tracked, so those objects may end any way but a crash.
          for (const weft::rpc::ObjectDone& d : m.done()) {
            for (Held& h : held) {
              if (IdOf(h) == d.id() && !closed &&
                  h.outcome == Held::Outcome::kPending) {
                h.outcome = Held::Outcome::kUnknown;
              }
            }
          }
          scheduler->Send(m);
        }
        break;
      }
      case 5: {  // a reply nobody asked for
        weft::rpc::SchedulerToClient m;
        m.set_request_id(in.ConsumeIntegral<uint64_t>());
        const int n = in.ConsumeIntegralInRange<int>(0, 3);
        for (int i = 0; i < n; ++i) {
          weft::rpc::Location* l = m.add_located();
          l->set_id(in.ConsumeIntegral<uint64_t>());
          l->add_addresses(in.PickValueInArray(kAddresses));
        }
        scheduler->Send(m);
        break;
      }
      case 6: {  // the program asks for the workers
        weft::rpc::SchedulerToClient reply;
        const int n = in.ConsumeIntegralInRange<int>(0, 4);
        for (int i = 0; i < n; ++i) {
          weft::rpc::WorkerInfo* w = reply.add_workers();
          w->set_id(in.ConsumeIntegral<uint64_t>());
          w->set_address(in.PickValueInArray(kAddresses));
          w->set_host(in.ConsumeRandomLengthString(8));
          w->set_nthreads(in.ConsumeBool()
                              ? std::numeric_limits<int32_t>::max()
                              : in.ConsumeIntegral<int32_t>());
          w->set_processing(in.ConsumeIntegral<int32_t>());
          w->set_memory_bytes(in.ConsumeIntegral<uint64_t>());
        }
        scheduler->SetNextReply(reply);
        try {
          const std::vector<weft::WorkerStatus> workers = client.workers();
          FUZZ_CHECK(!closed);
          FUZZ_CHECK(workers.size() == static_cast<size_t>(n));
          int64_t slots = 0;
          for (const weft::WorkerStatus& w : workers) {
            FUZZ_CHECK(w.nthreads >= 0 &&
                       w.nthreads <= weft::rpc::kMaxWorkerThreads);
            slots += w.nthreads;
          }
          FUZZ_CHECK(client.num_slots() == slots);
        } catch (const weft::UsageError&) {
          FUZZ_CHECK(closed);
        }
        break;
      }
      case 7:  // get() of one object
        if (!held.empty()) CheckGet(held[pick], closed);
        break;
      case 8: {  // wait() for all int64 results, no time at all
        std::vector<weft::ObjectRef<int64_t>> refs;
        for (const Held& h : held) {
          if (h.ref.index() == 0) refs.push_back(std::get<0>(h.ref));
        }
        if (refs.empty()) break;
        const auto result =
            weft::wait(refs, refs.size(), std::chrono::milliseconds(0));
        FUZZ_CHECK(result.ready.size() + result.not_ready.size() ==
                   refs.size());
        break;
      }
      case 9:  // the program drops a reference
        if (!held.empty()) held.erase(held.begin() + pick);
        break;
      case 10:  // the program cancels one
        if (!held.empty()) {
          std::visit([](const auto& r) { weft::cancel(r); }, held[pick].ref);
          // The fake scheduler's answer says nothing of the object.
          if (held[pick].outcome == Held::Outcome::kPending) {
            held[pick].outcome = Held::Outcome::kUnknown;
          }
        }
        break;
      case 11:  // the scheduler shuts down
        scheduler->Close();
        for (Held& h : held) {
          if (h.outcome == Held::Outcome::kPending) {
            h.outcome = Held::Outcome::kFailed;
            h.kind = weft::ErrorKind::kShutdown;
          }
        }
        break;
    }
  }
  // Every object the program still holds ends as it was told.
  for (const Held& h : held) CheckGet(h, scheduler->closed());
}

}  // namespace

// At exit, LeakSanitizer's check, with the arguments of threads gRPC was
// starting excused (fuzz/exit_leaks.h).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  weft::fuzz::KeepReportStream();  // before -close_fd_mask=2 takes stderr
  std::atexit(weft::fuzz::ExcuseLibraryLeaks);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  Run(in);
  return 0;
}
