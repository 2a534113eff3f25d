// Must not compile: a struct without a serialize function.
#include <string>

#include "weft/serialize.h"

struct NoSerialize {
  int x = 0;
};

std::string Bad() { return weft::Serialize(NoSerialize{}); }
