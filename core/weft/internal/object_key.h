// Copyright 2026 The weft Authors.
//
// The readable key of an object, as users meet it in errors, logs, the
// dashboard and ObjectRef::key(): the task's name, a dash, and the object id
// as 16 lower-case hex digits ("Square-000000000000001f"). The client, the
// scheduler and the workers all spell keys with this one function.

#ifndef WEFT_CORE_WEFT_INTERNAL_OBJECT_KEY_H_
#define WEFT_CORE_WEFT_INTERNAL_OBJECT_KEY_H_

#include <cstdint>
#include <string>

namespace weft::internal {

// Returns "<name>-<id as 16 hex digits>". Thread-safe.
std::string MakeKey(const std::string& name, uint64_t id);

}  // namespace weft::internal

#endif  // WEFT_CORE_WEFT_INTERNAL_OBJECT_KEY_H_
