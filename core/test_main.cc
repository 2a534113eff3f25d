// Copyright 2026 The weft Authors.
//
// main() for test binaries that start LocalClusters: the cluster's workers
// are this binary, and weft::Init turns them into workers before GoogleTest
// sees the command line.

#include "gtest/gtest.h"
#include "weft/weft.h"

int main(int argc, char** argv) {
  weft::Init(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
