// Copyright 2026 The weft Authors.

#include "weft/delayed.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace weft::internal {

namespace {

thread_local std::vector<const DelayedNode*>* deferred_deletions = nullptr;

// Locks for DelayedNode's submission record, shared by all nodes and picked
// by address (a node holds one only for a few instructions).
constexpr size_t kNumSubmissionLocks = 64;
Mutex& SubmissionLock(const DelayedNode* node) {
  static Mutex* locks = new Mutex[kNumSubmissionLocks];  // never destroyed
  const uintptr_t a = reinterpret_cast<uintptr_t>(node) >> 4;
  return locks[(a ^ (a >> 8)) % kNumSubmissionLocks];
}

bool Cancelled(const ObjectState& state) {
  if (!state.done()) return false;
  std::shared_ptr<const ErrorInfo> error = state.error();
  return error != nullptr && error->kind == ErrorKind::kCancelled;
}

}  // namespace

std::shared_ptr<ObjectState> DelayedNode::Submitted(
    const ClientImpl& client) const {
  std::shared_ptr<ObjectState> state;
  {
    MutexLock lock(&SubmissionLock(this));
    if (submitted_by_ != &client) return nullptr;
    state = submitted_.lock();
  }
  // A cancelled result is not reused: computing again runs it again.
  if (state != nullptr && Cancelled(*state)) return nullptr;
  return state;
}

uint64_t DelayedNode::ClaimObjectId() const {
  MutexLock lock(&SubmissionLock(this));
  if (id_claimed_) return 0;
  id_claimed_ = true;
  return id_;
}

void DelayedNode::SetSubmitted(const ClientImpl& client,
                               const std::shared_ptr<ObjectState>& state) const {
  MutexLock lock(&SubmissionLock(this));
  submitted_ = state;
  submitted_by_ = &client;
}

namespace {

// Submits `node` unless it was submitted to `client` before and its object
// still lives (then that object is the result).
std::shared_ptr<ObjectState> SubmitOnce(ClientImpl& client,
                                        const DelayedNode& node,
                                        const SubmitMemo& memo) {
  if (std::shared_ptr<ObjectState> prior = node.Submitted(client)) {
    return prior;
  }
  std::shared_ptr<ObjectState> state =
      node.Submit(client, memo, node.ClaimObjectId());
  node.SetSubmitted(client, state);
  return state;
}

}  // namespace

void DelayedNode::Unref() const {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  const DelayedNode* node = this;
  if (deferred_deletions != nullptr) {
    deferred_deletions->push_back(node);  // an outer loop deletes it
    return;
  }
  std::vector<const DelayedNode*> pending = {node};
  deferred_deletions = &pending;
  while (!pending.empty()) {
    const DelayedNode* next = pending.back();
    pending.pop_back();
    delete next;  // may append its children to `pending`
  }
  deferred_deletions = nullptr;
}

std::vector<std::shared_ptr<ObjectState>> SubmitGraph(
    ClientImpl& client, const std::vector<const DelayedNode*>& roots) {
  SubmitBatch batch(client.runtime());  // the graph goes over as one batch
  SubmitMemo memo;
  // Iterative post-order: a node is submitted after all its children.
  struct Frame {
    const DelayedNode* node;
    bool expanded;
  };
  std::vector<Frame> stack;
  std::vector<const DelayedNode*> children;
  std::vector<std::shared_ptr<ObjectState>> out;
  out.reserve(roots.size());
  // Leaves submitted without a memo entry (see below).
  absl::flat_hash_set<const DelayedNode*> direct;
  // Roots in order, each with what it needs, so that with equal priorities
  // the first roots' tasks are submitted (and run) first.
  for (size_t i = 0; i < roots.size(); ++i) {
    const DelayedNode* root = roots[i];
    if (!memo.nodes.contains(root) && !root->pure() &&
        root->refs_.load(std::memory_order_acquire) == 1) {
      children.clear();
      root->Children(children);
      if (children.empty()) {
        // A leaf whose only reference is the caller's is no other node's
        // child, so only the roots can name it again (compute(d, d)).
        // Recording it in `direct` (8 bytes) instead of the memo (a
        // shared_ptr more) keeps a million-leaf persist small.
        if (direct.insert(root).second) {
          out.push_back(SubmitOnce(client, *root, memo));
        } else {
          const size_t first =
              std::find(roots.begin(), roots.end(), root) - roots.begin();
          out.push_back(out[first]);
        }
        continue;
      }
    }
    stack.push_back({root, false});
    while (!stack.empty()) {
      Frame frame = stack.back();
      if (memo.nodes.contains(frame.node)) {
        stack.pop_back();
        continue;
      }
      if (!frame.expanded) {
        stack.back().expanded = true;
        children.clear();
        frame.node->Children(children);
        for (const DelayedNode* c : children) {
          if (!memo.nodes.contains(c)) stack.push_back({c, false});
        }
        continue;
      }
      stack.pop_back();
      std::shared_ptr<ObjectState> state;
      if (frame.node->pure()) {
        auto it = memo.pure.find(frame.node->id());
        if (it != memo.pure.end()) state = it->second;
      }
      if (state == nullptr) {
        state = SubmitOnce(client, *frame.node, memo);
        if (frame.node->pure()) memo.pure[frame.node->id()] = state;
      }
      memo.nodes[frame.node] = std::move(state);
    }
    out.push_back(memo.nodes.at(root));
  }
  return out;
}

std::string GraphToDot(const std::vector<const DelayedNode*>& roots) {
  std::string out = "digraph weft {\n  rankdir=BT;\n  node [shape=box];\n";
  absl::flat_hash_set<const DelayedNode*> seen;
  absl::flat_hash_set<uint64_t> emitted;
  std::vector<const DelayedNode*> stack(roots.begin(), roots.end());
  std::vector<const DelayedNode*> children;
  auto quote = [](const std::string& s) {
    return absl::StrCat("\"", absl::StrReplaceAll(s, {{"\"", "\\\""}}), "\"");
  };
  while (!stack.empty()) {
    const DelayedNode* node = stack.back();
    stack.pop_back();
    if (!seen.insert(node).second) continue;
    if (emitted.insert(node->id()).second) {
      absl::StrAppend(&out, "  ", quote(node->key()),
                      " [label=", quote(node->name()), "];\n");
    }
    children.clear();
    node->Children(children);
    for (const DelayedNode* c : children) {
      absl::StrAppend(&out, "  ", quote(c->key()), " -> ",
                      quote(node->key()), ";\n");
      stack.push_back(c);
    }
  }
  out += "}\n";
  return out;
}

}  // namespace weft::internal
