// Must not compile: deserializing a type without a default constructor.
#include <string_view>

#include "weft/serialize.h"

struct NoDefault {
  explicit NoDefault(int v) : x(v) {}
  int x;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(x);
  }
};

bool Bad(std::string_view bytes) {
  return weft::Deserialize<NoDefault>(bytes).ok();
}
