// The README's demo. Until the engine lands it reports, truthfully, what this
// build links against and that the pieces it stands on work on this machine.

#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "boost/fiber/all.hpp"
#include "boost/version.hpp"
#include "google/protobuf/stubs/common.h"
#include "grpcpp/grpcpp.h"

int main() {
  std::cout << "weft build\n"
            << "  compiler   g++ " << __VERSION__ << ", C++ " << __cplusplus
            << "\n"
            << "  gRPC       " << grpc::Version() << "\n"
            << "  Protobuf   "
            << google::protobuf::internal::VersionString(
                   GOOGLE_PROTOBUF_VERSION)
            << "\n"
            << "  Boost      " << BOOST_VERSION / 100000 << "."
            << BOOST_VERSION / 100 % 1000 << "\n"
            << "  cores      " << std::thread::hardware_concurrency() << "\n";

  // Two fibers on one thread, to show Boost.Fiber works here.
  int sum = 0;
  boost::fibers::fiber a([&] { sum += 1; });
  boost::fibers::fiber b([&] { sum += 2; });
  a.join();
  b.join();
  std::cout << "  fibers     " << (sum == 3 ? "ok" : "BROKEN") << "\n";
  return sum == 3 ? 0 : 1;
}
