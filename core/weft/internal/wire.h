// Copyright 2026 The weft Authors.
//
// Task arguments as they cross a process boundary, independent of the RPC
// layer's message types, and the hooks a worker gives a registered function
// to read them and to place its result.

#ifndef WEFT_CORE_WEFT_INTERNAL_WIRE_H_
#define WEFT_CORE_WEFT_INTERNAL_WIRE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "weft/serialize.h"

namespace weft::internal {

// One argument, as the function's parameter expects it.
struct WireArg {
  enum class Kind {
    kValue,   // `value` holds the serialized parameter
    kRef,     // ids[0]'s value is the parameter
    kRefs,    // the values of `ids` form a vector parameter
  };
  Kind kind = Kind::kValue;
  std::string value;
  std::vector<uint64_t> ids;
};

// What a worker provides while a registered function decodes its arguments.
class ArgSource {
 public:
  virtual ~ArgSource() = default;
  // The serialized value of object `id`, which the worker fetched before the
  // call. The view stays valid for the duration of the call.
  virtual absl::StatusOr<std::string_view> Bytes(uint64_t id) = 0;
  // Resolves the object references (ObjectRef) inside argument values into
  // references this process holds; nullptr if it cannot, and then such an
  // argument does not decode.
  virtual RefResolver* refs() = 0;
  // Called once every argument is decoded, before the function runs; an
  // error fails the call instead (e.g. the references the arguments hold
  // could not be confirmed).
  virtual absl::Status ArgumentsDecoded() { return absl::OkStatus(); }
};

// Where a worker puts a registered function's serialized result: ordinary
// memory, or shared memory that same-host peers map without a copy.
class ResultSink {
 public:
  virtual ~ResultSink() = default;
  // Returns room for exactly `size` bytes, which the caller fills with the
  // encoded result before the call it is serving returns. Called at most
  // once per invocation. Never returns nullptr; may throw std::bad_alloc.
  virtual char* Allocate(size_t size) = 0;
  // Told of each object reference (ObjectRef) inside the result, as it is
  // written; nullptr if the caller does not care.
  virtual RefCollector* refs() { return nullptr; }
  // Called once the result is written, while it (and so every object it
  // references) is still alive: the moment to make the runtime keep those
  // objects for the result's sake, before the value lets go of them.
  virtual void Written() {}
};

// A ResultSink into a std::string.
class StringSink final : public ResultSink {
 public:
  char* Allocate(size_t size) override {
    bytes_.assign(size, '\0');
    return bytes_.data();
  }
  // The result written so far (empty before Allocate).
  std::string& bytes() { return bytes_; }

 private:
  std::string bytes_;
};

}  // namespace weft::internal

#endif  // WEFT_CORE_WEFT_INTERNAL_WIRE_H_
