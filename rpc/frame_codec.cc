// Copyright 2026 The weft Authors.

#include "rpc/frame_codec.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace weft::rpc {
namespace {

constexpr size_t kMinReadBytes = 64 * 1024;
// A buffer grown past this for a large frame is let go once empty.
constexpr size_t kKeepBytes = size_t{1} << 20;

// Buffers past kKeepBytes are mapped pages, so that freeing one gives its
// memory back at once (an allocator would keep the pages resident for
// reuse, and a 100 MB frame would leave 100 MB behind).
char* Allocate(size_t capacity) {
  if (capacity <= kKeepBytes) return new char[capacity];
  void* p = ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return static_cast<char*>(p);
}

void Free(char* p, size_t capacity) {
  if (p == nullptr) return;
  if (capacity <= kKeepBytes) {
    delete[] p;
  } else {
    ::munmap(p, capacity);
  }
}

size_t ReadHeader(const char* p) {
  const auto* u = reinterpret_cast<const uint8_t*>(p);
  size_t size = 0;
  for (size_t i = 0; i < kFrameHeaderBytes; ++i) size |= size_t{u[i]} << (8 * i);
  return size;
}

}  // namespace

void AppendFrame(const google::protobuf::MessageLite& message,
                 size_t message_size, std::string& out) {
  const size_t at = out.size();
  out.resize(at + kFrameHeaderBytes + message_size);
  auto* p = reinterpret_cast<uint8_t*>(out.data() + at);
  for (size_t i = 0; i < kFrameHeaderBytes; ++i) {
    p[i] = static_cast<uint8_t>(message_size >> (8 * i));
  }
  message.SerializeWithCachedSizesToArray(p + kFrameHeaderBytes);
}

FrameDecoder::~FrameDecoder() { Free(data_, capacity_); }

void FrameDecoder::Resize(size_t capacity) {
  char* bigger = capacity > 0 ? Allocate(capacity) : nullptr;
  if (buffered() > 0) std::memcpy(bigger, data_ + begin_, buffered());
  Free(data_, capacity_);
  end_ = buffered();
  begin_ = 0;
  data_ = bigger;
  capacity_ = capacity;
}

absl::Span<char> FrameDecoder::Room() {
  if (begin_ == end_) {
    begin_ = end_ = 0;
    if (capacity_ > kKeepBytes) Resize(0);  // a large frame's pages go back
  } else if (begin_ > 0 && capacity_ - end_ < kMinReadBytes) {
    std::memmove(data_, data_ + begin_, buffered());
    end_ -= begin_;
    begin_ = 0;
  }
  // Room for a whole pending frame, and at least kMinReadBytes.
  size_t want = kMinReadBytes;
  size_t size = 0;
  if (NextSize(&size) && buffered() < kFrameHeaderBytes + size) {
    want = std::max(want, kFrameHeaderBytes + size - buffered());
  }
  if (capacity_ - end_ < want) Resize(std::max(capacity_ * 2, buffered() + want));
  return absl::Span<char>(data_ + end_, capacity_ - end_);
}

void FrameDecoder::Commit(size_t n) { end_ += n; }

bool FrameDecoder::NextSize(size_t* size) const {
  if (buffered() < kFrameHeaderBytes) return false;
  *size = ReadHeader(data_ + begin_);
  return true;
}

FrameDecoder::Result FrameDecoder::Peek(size_t offset, size_t limit,
                                        std::string_view* frame,
                                        size_t* next) const {
  if (buffered() < offset + kFrameHeaderBytes) return Result::kNeedMore;
  const size_t size = ReadHeader(data_ + begin_ + offset);
  if (size > limit) return Result::kTooLarge;
  if (buffered() - offset - kFrameHeaderBytes < size) return Result::kNeedMore;
  *frame = std::string_view(data_ + begin_ + offset + kFrameHeaderBytes, size);
  *next = offset + kFrameHeaderBytes + size;
  return Result::kFrame;
}

void FrameDecoder::Consume(size_t bytes) { begin_ += bytes; }

void FrameDecoder::Release() {
  if (begin_ == end_ && capacity_ > kKeepBytes) Resize(0);
}

}  // namespace weft::rpc
