// Copyright 2026 The weft Authors.

#include "worker/scheduler_connector.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "rpc/data_client.h"
#include "rpc/event_loop.h"
#include "rpc/grpc_peer_stream.h"
#include "rpc/join.h"
#include "rpc/status.h"
#include "rpc/tls.h"
#include "rpc/tls_probe.h"
#include "rpc/token.h"
#include "rpc/weft.grpc.pb.h"

namespace weft::worker {
namespace {

class GrpcConnector final : public SchedulerConnector {
 public:
  explicit GrpcConnector(std::string address) : address_(std::move(address)) {}

  absl::StatusOr<Registered> Register(const rpc::WorkerMessage& hello,
                                      const std::string& token,
                                      absl::Time deadline) override {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
        rpc::ProcessChannelCredentials();
    if (!credentials.ok()) return credentials.status();
    std::shared_ptr<grpc::Channel> channel =
        grpc::CreateCustomChannel(address_, *credentials, rpc::ChannelArgs());
    if (!channel->WaitForConnected(absl::ToChronoTime(deadline))) {
      const std::string tls = rpc::DiagnoseTls(address_, deadline);
      return absl::UnavailableError(
          tls.empty() ? "nothing answers there yet"
                      : absl::StrCat("its TLS and this worker's differ", tls));
    }
    std::unique_ptr<rpc::Scheduler::Stub> stub =
        rpc::Scheduler::NewStub(channel);
    auto context = std::make_unique<grpc::ClientContext>();
    rpc::AttachToken(*context, token);
    auto call = stub->WorkerStream(context.get());
    auto grpc = std::make_unique<rpc::GrpcClientPeerStream<
        rpc::WorkerMessage, rpc::SchedulerToWorker>>(
        std::move(channel), std::move(context), std::move(call), address_);
    absl::StatusOr<rpc::Joined<rpc::WorkerMessage, rpc::SchedulerToWorker>>
        joined = rpc::Join(std::move(grpc), hello, address_,
                           rpc::EventLoop::Shared());
    if (!joined.ok()) return joined.status();
    Registered out;
    out.stream = std::move(joined->stream);
    out.first = std::move(joined->first);
    if (!joined->frames_error.empty()) {
      out.warning = absl::StrCat("no frame stream to the scheduler (",
                                 joined->frames_error,
                                 "); tasks come over gRPC");
    }
    return out;
  }

  absl::StatusOr<std::unique_ptr<rpc::ClusterRuntime>> ConnectClient(
      const std::string& token, const std::string& name,
      absl::Time deadline) override {
    const auto timeout = std::chrono::milliseconds(std::max<int64_t>(
        1, absl::ToInt64Milliseconds(deadline - absl::Now())));
    return rpc::ClusterRuntime::Connect(
        address_, rpc::TokenSource::Literal(token), timeout, name);
  }

 private:
  const std::string address_;
};

}  // namespace

std::unique_ptr<SchedulerConnector> GrpcSchedulerConnector(
    std::string scheduler_address) {
  return std::make_unique<GrpcConnector>(std::move(scheduler_address));
}

}  // namespace weft::worker
