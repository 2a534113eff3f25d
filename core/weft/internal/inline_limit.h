// Copyright 2026 The weft Authors.
//
// How large a value may be and still travel inside the scheduler's
// messages: a task result a worker reports, a put() from a client, an input
// sent along with an assignment. Larger values stay where they were made and
// are fetched from there (rpc/data_client.h). One limit for every party, so
// that what one side sends inline the other expects inline.

#ifndef WEFT_CORE_WEFT_INTERNAL_INLINE_LIMIT_H_
#define WEFT_CORE_WEFT_INTERNAL_INLINE_LIMIT_H_

#include <cstddef>

namespace weft::internal {

// Values of at most this many serialized bytes travel inline.
inline constexpr size_t kInlineValueBytes = 64 * 1024;

}  // namespace weft::internal

#endif  // WEFT_CORE_WEFT_INTERNAL_INLINE_LIMIT_H_
