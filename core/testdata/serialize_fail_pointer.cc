// Must not compile: a raw pointer nested in a container.
#include <string>
#include <vector>

#include "weft/serialize.h"

std::string Bad() {
  std::vector<const char*> names = {"a", "b"};
  return weft::Serialize(names);
}
