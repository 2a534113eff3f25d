// Must not compile: deserializing a type without a default constructor.
#include <string_view>

#include "no_default.h"
#include "weft/serialize.h"

bool Bad(std::string_view bytes) {
  return weft::Deserialize<NoDefault>(bytes).ok();
}
