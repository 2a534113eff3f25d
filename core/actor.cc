// Copyright 2026 The weft Authors.

#include "weft/actor.h"

#include <iterator>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "weft/actor_status.h"
#include "weft/errors.h"
#include "weft/internal/actor_call.h"
#include "weft/internal/enum_name.h"

namespace weft {

const char* ActorStateName(ActorState state) {
  static constexpr const char* kNames[] = {"pending", "alive", "restarting",
                                           "dead"};
  static_assert(std::size(kNames) ==
                static_cast<size_t>(ActorState::kDead) + 1);
  return internal::EnumName(state, kNames);
}

namespace internal {
namespace {

thread_local void* current_instance = nullptr;

std::string Trimmed(std::string_view text) {
  return std::string(absl::StripAsciiWhitespace(
      absl::string_view(text.data(), text.size())));
}

}  // namespace

void* CurrentActorInstance() { return current_instance; }

ActorInstanceScope::ActorInstanceScope(void* instance)
    : previous_(current_instance) {
  current_instance = instance;
}

ActorInstanceScope::~ActorInstanceScope() { current_instance = previous_; }

std::string ActorClassName(std::string_view constructor_text) {
  return Trimmed(constructor_text.substr(0, constructor_text.find('(')));
}

std::string MethodName(std::string_view method_text) {
  std::string name = Trimmed(method_text);
  if (!name.empty() && name[0] == '&') name = Trimmed(name.substr(1));
  return name;
}

}  // namespace internal
}  // namespace weft
