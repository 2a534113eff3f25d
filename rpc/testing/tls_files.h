// Copyright 2026 The weft Authors.
//
// TLS files for tests, made at test time by the code behind `weft tls init`
// (no private key is kept in the tree): two clusters with CAs of their own,
// under the test's temporary directory.

#ifndef WEFT_RPC_TESTING_TLS_FILES_H_
#define WEFT_RPC_TESTING_TLS_FILES_H_

#include <string>

#include "rpc/tls.h"

namespace weft::rpc::testing {

// The directory of a test cluster's CA and certificates (made on the first
// call in this process; `name` tells clusters apart). Aborts the test
// process if they cannot be made. Thread-safe.
std::string TestTlsDirectory(const std::string& name = "cluster");

// TestTlsDirectory(name)'s cluster certificate, key and CA.
TlsFiles TestTlsFiles(const std::string& name = "cluster");

}  // namespace weft::rpc::testing

#endif  // WEFT_RPC_TESTING_TLS_FILES_H_
