// Copyright 2026 The weft Authors.
//
// The nodes behind Delayed<T> (weft/delayed.h): one lazy call each, shared
// through an intrusive count, with the deterministic ids of pure calls and
// DelayedFunction, what weft::delayed(f) returns. Not part of the API.

#ifndef WEFT_CORE_WEFT_INTERNAL_DELAYED_NODE_H_
#define WEFT_CORE_WEFT_INTERNAL_DELAYED_NODE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "weft/internal/client_impl.h"
#include "weft/internal/function_traits.h"
#include "weft/internal/interned_name.h"
#include "weft/object_ref.h"
#include "weft/options.h"

namespace weft {

template <class T>
class Delayed;

namespace internal {

class DelayedNode;

// How weft's own code (compute, persist, to_dot) reads the graph node
// behind a Delayed; programs cannot.
struct DelayedAccess {
  template <class T>
  static const DelayedNode* Node(const Delayed<T>& d) {
    return d.node_.get();
  }
};

// Objects already submitted during one compute()/persist() call.
struct SubmitMemo {
  absl::flat_hash_map<const DelayedNode*, std::shared_ptr<ObjectState>> nodes;
  absl::flat_hash_map<uint64_t, std::shared_ptr<ObjectState>> pure;
};

// One lazy call in a graph. Immutable once built; shared by every Delayed
// (and every parent node) that refers to it, through NodeRef.
//
// Memory: a graph can hold millions of nodes, so a node is small (80 bytes
// for a one-argument call with default options): an intrusive count
// instead of a shared_ptr control block, an interned name, and options
// stored only when they differ from the defaults.
//
// A node remembers the object it was last submitted as (and to which
// client), so that a later compute() or persist() on that client reuses it
// while it lives instead of running the call again.
class DelayedNode {
 public:
  DelayedNode(uint64_t id, InternedName name, bool pure)
      : pure_(pure), id_(id), name_(std::move(name)) {}
  virtual ~DelayedNode() = default;
  DelayedNode(const DelayedNode&) = delete;
  DelayedNode& operator=(const DelayedNode&) = delete;

  uint64_t id() const { return id_; }
  const std::string& name() const { return name_.str(); }
  bool pure() const { return pure_; }
  std::string key() const { return MakeKey(name(), id_); }

  // Appends the nodes this call's arguments refer to.
  virtual void Children(std::vector<const DelayedNode*>& out) const = 0;
  // Submits the call as object `object_id` (0: a fresh id).
  // REQUIRES: every child is in `memo`.
  virtual std::shared_ptr<ObjectState> Submit(ClientImpl& client,
                                              const SubmitMemo& memo,
                                              uint64_t object_id) const = 0;

  // The object this node was submitted as on `client`, if it still lives
  // and was not cancelled; else nullptr. Thread-safe.
  std::shared_ptr<ObjectState> Submitted(const ClientImpl& client) const;
  // The object id to submit this node with: its own id the first time,
  // 0 (a fresh id) after that, since a cluster's scheduler may still know
  // the earlier object by it. Thread-safe.
  uint64_t ClaimObjectId() const;
  // Records that this node was submitted as `state` on `client`.
  // Thread-safe.
  void SetSubmitted(const ClientImpl& client,
                    const std::shared_ptr<ObjectState>& state) const;

 private:
  friend class NodeRef;
  friend std::vector<std::shared_ptr<ObjectState>> SubmitGraph(
      ClientImpl& client, const std::vector<const DelayedNode*>& roots);

  void Ref() const { refs_.fetch_add(1, std::memory_order_relaxed); }
  // Drops a reference; the last one deletes the node. Deleting a node that
  // holds the last reference to a child defers the child's deletion to a
  // loop, so a chain of a million lazy calls is destroyed in constant
  // stack.
  void Unref() const;

  mutable std::atomic<uint32_t> refs_{0};
  const bool pure_;
  // ClaimObjectId() was called (guarded as submitted_; beside pure_ so it
  // takes no room of its own).
  mutable bool id_claimed_ = false;
  const uint64_t id_;
  const InternedName name_;
  // The last submission (guarded by a lock picked by the node's address;
  // see delayed.cc). submitted_by_ is only compared, never dereferenced.
  mutable std::weak_ptr<ObjectState> submitted_;
  mutable const ClientImpl* submitted_by_ = nullptr;
};

// A counted reference to a node. Thread-safe to copy and destroy.
class NodeRef {
 public:
  NodeRef() = default;
  // Takes a reference to `node` (which may be new, with no references yet).
  explicit NodeRef(const DelayedNode* node) : node_(node) {
    if (node_ != nullptr) node_->Ref();
  }
  NodeRef(const NodeRef& other) : NodeRef(other.node_) {}
  NodeRef(NodeRef&& other) noexcept
      : node_(std::exchange(other.node_, nullptr)) {}
  NodeRef& operator=(NodeRef other) noexcept {
    std::swap(node_, other.node_);
    return *this;
  }
  ~NodeRef() {
    if (node_ != nullptr) node_->Unref();
  }

  const DelayedNode* get() const { return node_; }
  const DelayedNode* operator->() const { return node_; }

 private:
  const DelayedNode* node_ = nullptr;
};

// Submits every node reachable from `roots` once (children first, without
// recursion, so deep chains are fine) and returns the roots' states.
std::vector<std::shared_ptr<ObjectState>> SubmitGraph(
    ClientImpl& client, const std::vector<const DelayedNode*>& roots);

// Graphviz DOT text for the graph reachable from `roots`.
std::string GraphToDot(const std::vector<const DelayedNode*>& roots);

template <class T>
struct IsDelayed : std::false_type {};
template <class T>
struct IsDelayed<Delayed<T>> : std::true_type {};

template <class T>
struct IsDelayedVector : std::false_type {};
template <class T>
struct IsDelayedVector<std::vector<Delayed<T>>> : std::true_type {};

// Hash tokens for deterministic keys. 0 means "no stable token".
template <class A>
uint64_t Token(const A& arg);

template <class F>
uint64_t FunctionToken(const F& f) {
  if constexpr (std::is_pointer_v<F>) {
    return absl::Hash<const void*>{}(reinterpret_cast<const void*>(f));
  } else if constexpr (std::is_empty_v<F>) {
    return typeid(F).hash_code();
  } else {
    return 0;  // a lambda with captures: its state is invisible to us
  }
}

template <class F, class... A>
class CallNode final : public DelayedNode {
 public:
  template <class... X>
  CallNode(uint64_t id, InternedName name, bool pure, F f,
           const TaskOptions& options, X&&... args)
      : DelayedNode(id, std::move(name), pure),
        f_(std::move(f)),
        options_(HasDefaults(options)
                     ? nullptr
                     : std::make_unique<const TaskOptions>(options)),
        args_(std::forward<X>(args)...) {}

  void Children(std::vector<const DelayedNode*>& out) const override {
    std::apply([&](const auto&... a) { (AddChildren(a, out), ...); }, args_);
  }

  std::shared_ptr<ObjectState> Submit(ClientImpl& client,
                                      const SubmitMemo& memo,
                                      uint64_t object_id) const override {
    TaskOptions options = options_ != nullptr ? *options_ : TaskOptions{};
    options.name = name();
    options.pure = pure();
    return RefAccess::State(std::apply(
        [&](const auto&... a) {
          return client.Call(f_, options, object_id, Resolve(a, memo)...);
        },
        args_));
  }

 private:
  // True if nothing in `options` but the name and purity (which the node
  // keeps itself) differs from the defaults.
  static bool HasDefaults(const TaskOptions& options) {
    TaskOptions rest = options;
    rest.name.clear();
    rest.pure = false;
    return rest == TaskOptions{};
  }

  template <class X>
  static void AddChildren(const X& a, std::vector<const DelayedNode*>& out) {
    if constexpr (IsDelayed<X>::value) {
      out.push_back(DelayedAccess::Node(a));
    } else if constexpr (IsDelayedVector<X>::value) {
      for (const auto& d : a) out.push_back(DelayedAccess::Node(d));
    }
  }

  template <class X>
  static decltype(auto) Resolve(const X& a, const SubmitMemo& memo) {
    if constexpr (IsDelayed<X>::value) {
      using U = typename X::value_type;
      return RefAccess::Make<U>(memo.nodes.at(DelayedAccess::Node(a)));
    } else if constexpr (IsDelayedVector<X>::value) {
      using U = typename X::value_type::value_type;
      std::vector<ObjectRef<U>> refs;
      refs.reserve(a.size());
      for (const auto& d : a) {
        refs.push_back(
            RefAccess::Make<U>(memo.nodes.at(DelayedAccess::Node(d))));
      }
      return refs;
    } else {
      return (a);
    }
  }

  const F f_;
  const std::unique_ptr<const TaskOptions> options_;  // null: the defaults
  const std::tuple<A...> args_;
};

template <class A>
uint64_t Token(const A& arg) {
  if constexpr (IsDelayed<A>::value) {
    return DelayedAccess::Node(arg)->id();
  } else if constexpr (IsObjectRef<A>::value) {
    return RefAccess::Required(arg, "delayed()")->id();
  } else if constexpr (IsDelayedVector<A>::value || IsRefVector<A>::value) {
    uint64_t h = arg.size();
    for (const auto& x : arg)
      h = absl::Hash<std::pair<uint64_t, uint64_t>>{}({h, Token(x)});
    return h;
  } else if constexpr (absl::hash_internal::is_hashable<A>::value) {
    return absl::Hash<A>{}(arg) | 1;  // never 0
  } else {
    return 0;
  }
}

// The node id: a hash of the function and argument tokens for pure calls
// whose parts all have tokens (top bit set), else a fresh id.
template <class F, class... A>
uint64_t NodeId(bool pure, const F& f, const A&... args) {
  if (pure) {
    uint64_t tokens[] = {FunctionToken(f), Token(args)..., 0};
    bool stable = true;
    for (size_t i = 0; i < sizeof...(A) + 1; ++i) stable &= tokens[i] != 0;
    if (stable) {
      uint64_t h = absl::Hash<std::vector<uint64_t>>{}(
          std::vector<uint64_t>(std::begin(tokens), std::end(tokens)));
      return h | (uint64_t{1} << 63);
    }
  }
  return NewObjectId();
}

// The result of weft::delayed(f, options): call it to record a lazy call.
template <class F>
class DelayedFunction {
 public:
  DelayedFunction(F f, TaskOptions options)
      : f_(std::move(f)), options_(std::move(options)) {
    CheckDeducible<F>();
  }

  template <class... A>
  Delayed<Stored<ResultOf<F>>> operator()(A&&... args) const {
    InternedName name(options_.name.empty() ? FunctionName(f_) : options_.name);
    const uint64_t id = NodeId(options_.pure, f_, args...);
    return Delayed<Stored<ResultOf<F>>>(
        NodeRef(new CallNode<F, std::decay_t<A>...>(id, std::move(name),
                                                    options_.pure, f_, options_,
                                                    std::forward<A>(args)...)));
  }

 private:
  F f_;
  TaskOptions options_;
};

}  // namespace internal
}  // namespace weft

#endif  // WEFT_CORE_WEFT_INTERNAL_DELAYED_NODE_H_
