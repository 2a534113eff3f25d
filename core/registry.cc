// Copyright 2026 The weft Authors.

#include "weft/registry.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "weft/internal/error_info.h"

namespace weft {

Registry& Registry::Global() {
  static Registry* registry = new Registry;  // never destroyed
  return *registry;
}

void Registry::Register(std::string name, const void* address,
                        std::string signature, Invoker invoke) {
  internal::MutexLock lock(&mu_);
  auto it = by_name_.find(name);
  if (it != by_name_.end()) {
    if (it->second->address != address) {
      duplicates_.push_back(absl::StrCat("'", name, "' (", signature, " and ",
                                         it->second->signature, ")"));
    }
    return;
  }
  auto entry = std::make_unique<Entry>(
      Entry{std::move(name), address, std::move(signature), invoke});
  by_name_[entry->name] = entry.get();
  by_address_.try_emplace(address, entry.get());
  entries_.push_back(std::move(entry));
}

const Registry::Entry* Registry::FindByName(std::string_view name) const {
  internal::MutexLock lock(&mu_);
  auto it = by_name_.find(absl::string_view(name.data(), name.size()));
  return it == by_name_.end() ? nullptr : it->second;
}

const Registry::Entry* Registry::FindByAddress(const void* address) const {
  internal::MutexLock lock(&mu_);
  auto it = by_address_.find(address);
  return it == by_address_.end() ? nullptr : it->second;
}

absl::Status Registry::Validate() const {
  internal::MutexLock lock(&mu_);
  if (duplicates_.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "weft: names registered twice (WEFT_REMOTE, WEFT_ACTOR): ",
      absl::StrJoin(duplicates_, ", "),
      ". Give one of them another name (WEFT_REMOTE_NAMED for a function)."));
}

void Registry::RegisterActor(ActorClass entry) {
  internal::MutexLock lock(&mu_);
  auto it = actors_by_name_.find(entry.name);
  if (it != actors_by_name_.end()) {
    if (it->second->type != entry.type ||
        it->second->signature != entry.signature) {
      duplicates_.push_back(absl::StrCat("actor class '", entry.name, "' (",
                                         entry.signature, " and ",
                                         it->second->signature, ")"));
    }
    return;
  }
  auto owned = std::make_unique<ActorClass>(std::move(entry));
  actors_by_name_[owned->name] = owned.get();
  actors_by_type_.try_emplace(owned->type, owned.get());
  actor_classes_.push_back(std::move(owned));
}

const Registry::ActorClass* Registry::FindActorClass(
    std::string_view name) const {
  internal::MutexLock lock(&mu_);
  auto it = actors_by_name_.find(absl::string_view(name.data(), name.size()));
  return it == actors_by_name_.end() ? nullptr : it->second;
}

const Registry::ActorClass* Registry::FindActorClass(
    std::type_index type) const {
  internal::MutexLock lock(&mu_);
  auto it = actors_by_type_.find(type);
  return it == actors_by_type_.end() ? nullptr : it->second;
}

const Registry::ActorMethod* Registry::ActorClass::FindMethod(
    std::string_view name) const {
  for (const ActorMethod& m : methods) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::vector<std::string> Registry::Names() const {
  internal::MutexLock lock(&mu_);
  std::vector<std::string> names;
  for (const auto& e : entries_) names.push_back(e->name);
  std::sort(names.begin(), names.end());
  return names;
}

namespace internal {

std::vector<std::string> SplitFunctionList(std::string_view text) {
  std::vector<std::string> parts;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    char c = i < text.size() ? text[i] : ',';
    if (c == '(' || c == '<' || c == '[') ++depth;
    if (c == ')' || c == '>' || c == ']') --depth;
    if (c == ',' && depth <= 0) {
      std::string_view part = text.substr(start, i - start);
      parts.emplace_back(absl::StripAsciiWhitespace(
          absl::string_view(part.data(), part.size())));
      start = i + 1;
    }
  }
  return parts;
}

std::string SignatureOf(const std::type_info& type) {
  return Demangle(type.name());
}

}  // namespace internal
}  // namespace weft
