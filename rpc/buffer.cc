// Copyright 2026 The weft Authors.

#include "rpc/buffer.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <utility>

#include "absl/strings/str_cat.h"

namespace weft::rpc {

Buffer::Buffer(std::string bytes) {
  auto owned = std::make_shared<const std::string>(std::move(bytes));
  view_ = *owned;
  owner_ = std::move(owned);
}

Buffer::Buffer(std::unique_ptr<SharedRegion> region) {
  std::shared_ptr<const SharedRegion> owned = std::move(region);
  view_ = std::string_view(owned->data(), owned->size());
  region_ = owned.get();
  owner_ = std::move(owned);
}

Buffer::Buffer(std::unique_ptr<PageBlock> block) {
  std::shared_ptr<const PageBlock> owned = std::move(block);
  view_ = std::string_view(owned->data(), owned->size());
  owner_ = std::move(owned);
}

Buffer::Buffer(Buffer&& other) noexcept
    : owner_(std::move(other.owner_)),
      view_(std::exchange(other.view_, {})),
      region_(std::exchange(other.region_, nullptr)) {}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    owner_ = std::move(other.owner_);
    view_ = std::exchange(other.view_, {});
    region_ = std::exchange(other.region_, nullptr);
  }
  return *this;
}

namespace {

// Where a maker's failure to get memory goes: Allocate's callers expect
// std::bad_alloc, as from operator new.
BufferBuilder OrThrowBadAlloc(absl::StatusOr<BufferBuilder> builder) {
  if (!builder.ok()) throw std::bad_alloc();
  return *std::move(builder);
}

}  // namespace

BufferBuilder BufferBuilder::Allocate(size_t size, bool shared) {
  return OrThrowBadAlloc(Make(size, shared, Room::kCleared));
}

BufferBuilder BufferBuilder::AllocateForOverwrite(size_t size) {
  return OrThrowBadAlloc(Make(size, /*shared=*/false, Room::kForOverwrite));
}

absl::StatusOr<BufferBuilder> BufferBuilder::Reserve(size_t size, bool shared) {
  return Make(size, shared, Room::kReserved);
}

absl::Status BufferBuilder::Append(std::string_view bytes) {
  if (bytes.size() > size() - filled_) {
    return absl::OutOfRangeError(
        absl::StrCat("more than the ", size(), " bytes announced"));
  }
  const size_t end = filled_ + bytes.size();
  if (region_ != nullptr && end > region_->committed()) {
    // Ahead of the bytes by at most what has come, so that a large object
    // commits its memory in a few steps.
    const size_t ahead =
        std::max({end, 2 * region_->committed(), kSharedMinBytes});
    if (absl::Status s = region_->Commit(ahead); !s.ok()) return s;
  }
  if (!bytes.empty()) std::memcpy(data() + filled_, bytes.data(), bytes.size());
  filled_ = end;
  return absl::OkStatus();
}

absl::StatusOr<BufferBuilder> BufferBuilder::Make(size_t size, bool shared,
                                                  Room room) {
  BufferBuilder builder;
  if (shared && size >= kSharedMinBytes) {
    absl::StatusOr<std::unique_ptr<SharedRegion>> region =
        room == Room::kReserved ? SharedRegion::Reserve(size)
                                : SharedRegion::Create(size);
    if (region.ok()) {  // else ordinary memory, quietly
      builder.region_ = *std::move(region);
      return builder;
    }
  }
  if (size >= kPageBlockMinBytes) {
    absl::StatusOr<std::unique_ptr<PageBlock>> block;
    switch (room) {
      case Room::kCleared:
        block = PageBlock::Create(size);
        break;
      case Room::kForOverwrite:
        block = PageBlock::CreateForOverwrite(size);
        break;
      case Room::kReserved:
        block = PageBlock::Reserve(size);
        break;
    }
    if (!block.ok()) return block.status();
    builder.block_ = *std::move(block);
    return builder;
  }
  builder.string_.assign(size, '\0');  // under kPageBlockMinBytes
  return builder;
}

char* BufferBuilder::data() {
  if (region_ != nullptr) return region_->mutable_data();
  if (block_ != nullptr) return block_->data();
  return string_.data();
}

size_t BufferBuilder::size() const {
  if (region_ != nullptr) return region_->size();
  if (block_ != nullptr) return block_->size();
  return string_.size();
}

Buffer BufferBuilder::Finish() && {
  if (region_ != nullptr) {
    if (region_->Seal().ok()) return Buffer(std::move(region_));
    string_.assign(region_->data(), region_->size());
    region_.reset();
  }
  if (block_ != nullptr) return Buffer(std::move(block_));
  return Buffer(std::move(string_));
}

std::string BufferBuilder::TakeString() && {
  if (region_ != nullptr) {
    std::string copy(region_->data(), region_->size());
    region_.reset();
    return copy;
  }
  if (block_ != nullptr) {
    std::string copy(block_->data(), block_->size());
    block_.reset();
    return copy;
  }
  return std::move(string_);
}

}  // namespace weft::rpc
