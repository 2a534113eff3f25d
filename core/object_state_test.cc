// Copyright 2026 The weft Authors.

#include "weft/internal/object_state.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "weft/internal/error_info.h"

namespace weft::internal {
namespace {

using namespace std::chrono_literals;

class CountingListener final : public ReadyListener {
 public:
  void OnReady(ObjectState&) override { ++calls; }
  std::atomic<int> calls{0};
};

class FakeProducer final : public Producer {
 public:
  void Cancel() override { ++cancels; }
  int cancels = 0;
};

class RecordingHook final : public ObjectOwner {
 public:
  void Release(uint64_t id) override { released.push_back(id); }
  std::vector<uint64_t> released;
};

class FakeBytes final : public RemoteBytes {
 public:
  absl::StatusOr<std::string> Fetch(uint64_t id) override {
    ++fetches;
    if (fail_next) {
      fail_next = false;
      return absl::UnavailableError("holder gone");
    }
    return "fetched-" + std::to_string(id);
  }
  int fetches = 0;
  bool fail_next = false;
};

std::shared_ptr<const ErrorInfo> SomeError() {
  return MakeError(ErrorKind::kTaskFailed, "f", "f-1", "boom");
}

TEST(ObjectStateTest, IsSmall) {
  // One pending task costs one of these on the client: with make_shared's
  // 16-byte control block it fits jemalloc's 96-byte size class.
  EXPECT_LE(sizeof(ObjectState), 80u);
}

TEST(ObjectStateTest, NameAndKey) {
  ObjectState s(0x2a, "Square");
  EXPECT_EQ(s.id(), 0x2au);
  EXPECT_EQ(s.name(), "Square");
  EXPECT_EQ(s.key(), "Square-000000000000002a");
  ObjectState t(1, InternedName("Square"));
  EXPECT_EQ(&t.name(), &s.name());  // one shared copy
}

TEST(ObjectStateTest, ValueOnce) {
  auto s = std::make_shared<ObjectState>(1, "f");
  EXPECT_FALSE(s->done());
  EXPECT_TRUE(s->SetValue(AnyValue::Make(7)));
  EXPECT_TRUE(s->done());
  EXPECT_EQ(s->error(), nullptr);
  EXPECT_EQ(*s->value().Get<int>(), 7);
  EXPECT_FALSE(s->SetValue(AnyValue::Make(8)));
  EXPECT_FALSE(s->SetError(SomeError()));
  EXPECT_EQ(*s->value().Get<int>(), 7);
  EXPECT_EQ(s->TakeOrCopy<int>(s), 7);
}

TEST(ObjectStateTest, ErrorOnce) {
  ObjectState s(1, "f");
  auto error = SomeError();
  EXPECT_TRUE(s.SetError(error));
  EXPECT_TRUE(s.done());
  EXPECT_EQ(s.error(), error);
  EXPECT_FALSE(s.SetValue(AnyValue::Make(1)));
  EXPECT_EQ(s.error(), error);
}

TEST(ObjectStateTest, ListenersAreToldOnce) {
  ObjectState s(1, "f");
  auto a = std::make_shared<CountingListener>();
  auto b = std::make_shared<CountingListener>();
  EXPECT_TRUE(s.AddListener(a));
  EXPECT_TRUE(s.AddListener(b));
  EXPECT_TRUE(s.AddListener(a));
  s.SetValue(AnyValue::Make(1));
  EXPECT_EQ(a->calls, 2);
  EXPECT_EQ(b->calls, 1);
  EXPECT_FALSE(s.AddListener(b));  // already done: not called
  EXPECT_EQ(b->calls, 1);
}

TEST(ObjectStateTest, ProducerUntilDone) {
  ObjectState s(1, "f");
  EXPECT_EQ(s.producer(), nullptr);
  auto p = std::make_shared<FakeProducer>();
  s.set_producer(p);
  EXPECT_EQ(s.producer(), p);
  s.SetValue(AnyValue::Make(1));
  EXPECT_EQ(s.producer(), nullptr);
  s.set_producer(p);  // too late: ignored
  EXPECT_EQ(s.producer(), nullptr);
}

TEST(ObjectStateTest, OwnerIsToldOfTheRelease) {
  auto hook = std::make_shared<RecordingHook>();
  {
    ObjectState s(42, "f");
    s.set_owner(hook);
  }
  EXPECT_EQ(hook->released, std::vector<uint64_t>{42});
}

TEST(ObjectStateTest, WaitAcrossThreads) {
  auto s = std::make_shared<ObjectState>(1, "f");
  EXPECT_FALSE(s->WaitUntil(std::chrono::steady_clock::now() + 10ms));
  std::thread setter([s] {
    std::this_thread::sleep_for(20ms);
    s->SetValue(AnyValue::Make(std::string("v")));
  });
  s->Wait();
  EXPECT_EQ(*s->value().Get<std::string>(), "v");
  EXPECT_TRUE(s->WaitUntil(std::chrono::steady_clock::now()));
  s->Wait();  // done: returns at once
  setter.join();
}

TEST(ObjectStateTest, PublishLetsTheWaiterTakeTheValue) {
  auto s = std::make_shared<ObjectState>(1, "f");
  std::weak_ptr<ObjectState> weak = s;
  std::thread producer([self = s]() mutable {
    std::this_thread::sleep_for(10ms);
    ObjectState::Publish(std::move(self), AnyValue::Make(5), nullptr);
  });
  s->Wait();
  producer.join();
  EXPECT_EQ(s.use_count(), 1);
  EXPECT_EQ(s->TakeOrCopy<int>(s), 5);
}

// Records how many references to the object are left when it is told to
// wake its waiter: a compute() woken by a listener must be able to move the
// value out, so the publisher's reference must be gone by then.
class UseCountAtWake final : public ReadyListener {
 public:
  explicit UseCountAtWake(std::weak_ptr<ObjectState> object)
      : object_(std::move(object)) {}
  void OnReady(ObjectState&) override { at_ready = object_.use_count(); }
  void Wake() override { at_wake = object_.use_count(); }
  long at_ready = -1;
  long at_wake = -1;

 private:
  std::weak_ptr<ObjectState> object_;
};

TEST(ObjectStateTest, PublishDropsItsReferenceBeforeListenersWake) {
  auto s = std::make_shared<ObjectState>(1, "f");
  auto listener = std::make_shared<UseCountAtWake>(s);
  ASSERT_TRUE(s->AddListener(listener));
  std::shared_ptr<ObjectState> producer_ref = s;
  ObjectState::Publish(std::move(producer_ref), AnyValue::Make(5), nullptr);
  EXPECT_EQ(listener->at_ready, 2);  // the waiter's and the publisher's
  EXPECT_EQ(listener->at_wake, 1);   // the waiter's alone
  EXPECT_EQ(s->TakeOrCopy<int>(s), 5);
}

TEST(ObjectStateTest, PublishRemoteDropsItsReferenceBeforeListenersWake) {
  auto s = std::make_shared<ObjectState>(1, "f");
  auto listener = std::make_shared<UseCountAtWake>(s);
  ASSERT_TRUE(s->AddListener(listener));
  ObjectState::PublishRemote(std::shared_ptr<ObjectState>(s), nullptr, "x",
                             /*has_inline=*/true);
  EXPECT_EQ(listener->at_wake, 1);
  EXPECT_TRUE(s->is_remote());
}

TEST(ObjectStateTest, ListenerWakesEvenWhenPublisherHeldTheLastReference) {
  auto s = std::make_shared<ObjectState>(1, "f");
  auto listener = std::make_shared<UseCountAtWake>(s);
  ASSERT_TRUE(s->AddListener(listener));
  ObjectState::Publish(std::move(s), AnyValue::Make(5), nullptr);
  EXPECT_EQ(listener->at_ready, 1);
  EXPECT_EQ(listener->at_wake, 0);  // destroyed before the wake-up, safely
}

TEST(ObjectStateTest, RemoteInline) {
  ObjectState s(7, "f");
  EXPECT_FALSE(s.is_remote());
  EXPECT_FALSE(s.Bytes().ok());
  EXPECT_TRUE(s.SetRemote(nullptr, "abc", /*has_inline=*/true));
  EXPECT_TRUE(s.done());
  EXPECT_TRUE(s.is_remote());
  EXPECT_EQ(*s.Bytes(), "abc");
  int decodes = 0;
  auto decode = [&](std::string_view bytes, RefResolver*) -> absl::StatusOr<AnyValue> {
    ++decodes;
    return AnyValue::Make(std::string(bytes));
  };
  EXPECT_TRUE(s.Materialize(decode).ok());
  EXPECT_TRUE(s.Materialize(decode).ok());
  EXPECT_EQ(decodes, 1);
  EXPECT_EQ(*s.value().Get<std::string>(), "abc");
  EXPECT_FALSE(s.SetRemote(nullptr, "x", true));
}

TEST(ObjectStateTest, RemoteFetchedRetriesAFailedFetch) {
  auto source = std::make_shared<FakeBytes>();
  ObjectState s(7, "f");
  EXPECT_TRUE(s.SetRemote(source, "", /*has_inline=*/false));
  EXPECT_EQ(*s.Bytes(), "fetched-7");
  auto decode = [](std::string_view bytes, RefResolver*) -> absl::StatusOr<AnyValue> {
    return AnyValue::Make(std::string(bytes));
  };
  source->fail_next = true;
  EXPECT_FALSE(s.Materialize(decode).ok());
  EXPECT_TRUE(s.Materialize(decode).ok());
  EXPECT_EQ(*s.value().Get<std::string>(), "fetched-7");
}

TEST(ObjectStateTest, DecodeErrorIsKept) {
  ObjectState s(7, "f");
  s.SetRemote(nullptr, "abc", true);
  int decodes = 0;
  auto decode = [&](std::string_view, RefResolver*) -> absl::StatusOr<AnyValue> {
    ++decodes;
    return absl::InvalidArgumentError("bad bytes");
  };
  EXPECT_EQ(s.Materialize(decode).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.Materialize(decode).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(decodes, 1);
}

TEST(ObjectStateTest, ConcurrentMaterializeFetchesOnce) {
  // A slow source: callers that arrive while one fetches wait for it.
  class SlowBytes final : public RemoteBytes {
   public:
    absl::StatusOr<std::string> Fetch(uint64_t) override {
      ++fetches;
      std::this_thread::sleep_for(20ms);
      return std::string("slow");
    }
    std::atomic<int> fetches{0};
  };
  auto source = std::make_shared<SlowBytes>();
  ObjectState s(9, "f");
  s.SetRemote(source, "", false);
  std::atomic<int> decodes{0};
  auto decode = [&](std::string_view bytes, RefResolver*) -> absl::StatusOr<AnyValue> {
    ++decodes;
    return AnyValue::Make(std::string(bytes));
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      ASSERT_TRUE(s.Materialize(decode).ok());
      EXPECT_EQ(*s.value().Get<std::string>(), "slow");
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(source->fetches, 1);
  EXPECT_EQ(decodes, 1);
}

// A source that holds every fetch until released, and passes the caller's
// deadline on as FetchView's contract says.
class GateBytes final : public RemoteBytes {
 public:
  absl::StatusOr<std::string> Fetch(uint64_t) override {
    return absl::InternalError("FetchView only");
  }
  absl::StatusOr<FetchedBytes> FetchView(
      uint64_t,
      std::optional<std::chrono::steady_clock::time_point> deadline) override {
    std::unique_lock<std::mutex> lock(mu);
    ++fetches;
    const auto until =
        deadline.value_or(std::chrono::steady_clock::now() + 10s);
    if (!cv.wait_until(lock, until, [&] { return open; })) {
      return absl::DeadlineExceededError("no copy in time");
    }
    auto owner = std::make_shared<const std::string>("gated");
    return FetchedBytes{*owner, owner};
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
    cv.notify_all();
  }
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  int fetches = 0;
};

TEST(ObjectStateTest, MaterializeGivesUpAtItsDeadlineAndLaterCallsRetry) {
  auto source = std::make_shared<GateBytes>();
  ObjectState s(11, "f");
  s.SetRemote(source, "", false);
  auto decode = [](std::string_view bytes,
                   RefResolver*) -> absl::StatusOr<AnyValue> {
    return AnyValue::Make(std::string(bytes));
  };
  // The fetch itself: the source is told the deadline.
  EXPECT_EQ(s.Materialize(decode, std::chrono::steady_clock::now() + 20ms)
                .code(),
            absl::StatusCode::kDeadlineExceeded);
  // Waiting for another caller's fetch: bounded too.
  std::thread first([&] { EXPECT_TRUE(s.Materialize(decode).ok()); });
  while (true) {
    std::lock_guard<std::mutex> lock(source->mu);
    if (source->fetches == 2) break;
  }
  EXPECT_EQ(s.Materialize(decode, std::chrono::steady_clock::now() + 20ms)
                .code(),
            absl::StatusCode::kDeadlineExceeded);
  source->Open();
  first.join();
  ASSERT_TRUE(s.Materialize(decode).ok());
  EXPECT_EQ(*s.value().Get<std::string>(), "gated");
  EXPECT_EQ(source->fetches, 2);
}

// Objects share a fixed set of locks. Nothing runs under one, so objects
// whose values, listeners or hooks free other objects cannot deadlock,
// whichever locks they share.
class FreeOnReady final : public ReadyListener {
 public:
  explicit FreeOnReady(std::shared_ptr<ObjectState> other)
      : other_(std::move(other)) {}
  void OnReady(ObjectState&) override { other_.reset(); }

 private:
  std::shared_ptr<ObjectState> other_;
};

class FreeOnRelease final : public ObjectOwner {
 public:
  explicit FreeOnRelease(std::shared_ptr<ObjectState> other)
      : other_(std::move(other)) {}
  void Release(uint64_t) override { other_.reset(); }

 private:
  std::shared_ptr<ObjectState> other_;
};

TEST(ObjectStateTest, FreeingOtherObjectsUnderSharedLocksDoesNotDeadlock) {
  for (int i = 0; i < 2000; ++i) {
    auto inner = std::make_shared<ObjectState>(i, "inner");
    inner->set_owner(
        std::make_shared<FreeOnRelease>(std::make_shared<ObjectState>(i, "x")));
    auto outer = std::make_shared<ObjectState>(i, "outer");
    outer->AddListener(
        std::make_shared<FreeOnReady>(std::make_shared<ObjectState>(i, "y")));
    outer->set_owner(std::make_shared<FreeOnRelease>(inner));
    outer->SetValue(AnyValue::Make(std::move(inner)));  // value frees it
  }
}

TEST(ObjectStateTest, ManyThreadsManyObjects) {
  constexpr int kObjects = 2000;
  std::vector<std::shared_ptr<ObjectState>> states;
  for (int i = 0; i < kObjects; ++i) {
    states.push_back(std::make_shared<ObjectState>(i, "f"));
  }
  auto listener = std::make_shared<CountingListener>();
  std::thread waiter([&] {
    for (int i = 0; i < kObjects; i += 2) states[i]->Wait();
  });
  std::thread registrar([&] {
    for (int i = 1; i < kObjects; i += 2) {
      if (!states[i]->AddListener(listener)) ++listener->calls;
    }
  });
  std::thread setter_a([&] {
    for (int i = 0; i < kObjects; i += 2) {
      states[i]->SetValue(AnyValue::Make(i));
    }
  });
  std::thread setter_b([&] {
    for (int i = 1; i < kObjects; i += 2) {
      if (i % 3 == 0) {
        states[i]->SetError(SomeError());
      } else {
        states[i]->SetRemote(nullptr, std::to_string(i), true);
      }
    }
  });
  for (auto* t : {&waiter, &registrar, &setter_a, &setter_b}) t->join();
  EXPECT_EQ(listener->calls, kObjects / 2);
  for (int i = 0; i < kObjects; i += 2) {
    EXPECT_EQ(*states[i]->value().Get<int>(), i);
  }
}

}  // namespace
}  // namespace weft::internal
