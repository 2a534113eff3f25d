// Copyright 2026 The weft Authors.
//
// NoDefault: a type with a serialize function but no default constructor,
// so it can be serialized and never deserialized. serialize_test checks
// kIsSerializable on it; serialize_fail_no_default.cc must not compile.

#ifndef WEFT_CORE_TESTDATA_NO_DEFAULT_H_
#define WEFT_CORE_TESTDATA_NO_DEFAULT_H_

struct NoDefault {
  explicit NoDefault(int v) : x(v) {}
  int x;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(x);
  }
};

#endif  // WEFT_CORE_TESTDATA_NO_DEFAULT_H_
