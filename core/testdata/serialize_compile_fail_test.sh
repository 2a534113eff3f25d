#!/bin/bash
# Checks that serializing an unsupported type fails to compile with weft's
# explanation rather than a wall of template errors.
set -u

# The runfiles tree holds core/weft/..., so core/ is the include directory.
include_dir="${TEST_SRCDIR}/weft/core"
testdata="${include_dir}/testdata"
failures=0

# expect_compile_error SNIPPET MESSAGE
expect_compile_error() {
  local snippet="$1" message="$2" log
  log="$(/usr/bin/g++ -std=c++20 -fsyntax-only -I"${include_dir}" \
      "${testdata}/${snippet}" 2>&1)"
  if [[ $? -eq 0 ]]; then
    echo "FAIL: ${snippet} compiled, but it must not"
    failures=$((failures + 1))
  elif ! grep -qF -- "${message}" <<<"${log}"; then
    echo "FAIL: ${snippet} failed without the expected message:"
    echo "  ${message}"
    echo "--- compiler output ---"
    echo "${log}" | head -40
    failures=$((failures + 1))
  else
    echo "PASS: ${snippet}"
  fi
}

expect_compile_error serialize_fail_pointer.cc \
  "weft: raw pointers cannot be serialized"
expect_compile_error serialize_fail_unsupported.cc \
  "weft: this type cannot be serialized. Give it a member"
expect_compile_error serialize_fail_no_default.cc \
  "weft: this type has a serialize function but cannot be deserialized"

exit "${failures}"
