// Copyright 2026 The weft Authors.

#include "weft/internal/client_impl.h"

#include <thread>
#include <utility>

#include "weft/client.h"
#include "weft/errors.h"
#include "weft/internal/embedded_runtime.h"
#include "weft/internal/mutex.h"
#include "weft/internal/task_context.h"

namespace weft::internal {
namespace {

Mutex default_mu;
std::weak_ptr<ClientImpl>& DefaultClient() {
  static auto* client = new std::weak_ptr<ClientImpl>;
  return *client;
}

}  // namespace

ClientImpl::ClientImpl(std::unique_ptr<Runtime> runtime)
    : runtime_(std::move(runtime)) {}

ClientImpl::~ClientImpl() = default;

std::shared_ptr<ClientImpl> ClientImpl::MakeLocal(int threads) {
  absl::Status registry = Registry::Global().Validate();
  if (!registry.ok()) throw UsageError(std::string(registry.message()));
  if (threads <= 0) {
    threads = static_cast<int>(std::thread::hardware_concurrency());
  }
  auto runtime = std::make_unique<EmbeddedRuntime>(threads);
  EmbeddedRuntime* raw = runtime.get();
  auto client = std::make_shared<ClientImpl>(std::move(runtime));
  raw->set_client(client);
  return client;
}

std::shared_ptr<ClientImpl> ClientImpl::Current() {
  if (TaskContext* context = TaskContext::Current()) {
    if (auto client = context->client()) return client;
  }
  {
    MutexLock lock(&default_mu);
    if (auto client = DefaultClient().lock()) return client;
  }
  // No live client: the process-wide embedded one. It lives until exit.
  static std::shared_ptr<ClientImpl>* implicit =
      new std::shared_ptr<ClientImpl>(MakeLocal(0));
  MutexLock lock(&default_mu);
  if (auto client = DefaultClient().lock()) return client;
  DefaultClient() = *implicit;
  return *implicit;
}

void ClientImpl::SetDefault(const std::shared_ptr<ClientImpl>& client) {
  MutexLock lock(&default_mu);
  DefaultClient() = client;
}

Client ClientImpl::Handle(std::shared_ptr<ClientImpl> impl) {
  return Client(std::move(impl));
}

const std::shared_ptr<ClientImpl>& ClientImpl::Of(const Client& client) {
  return client.impl_;
}

}  // namespace weft::internal
