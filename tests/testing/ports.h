// Copyright 2026 The weft Authors.
//
// Ports for tests that must name one before a process listens on it (a
// scheduler started, stopped and started again on the same port; a
// dashboard port given as a flag).

#ifndef WEFT_TESTS_TESTING_PORTS_H_
#define WEFT_TESTS_TESTING_PORTS_H_

namespace weft::testing {

// A TCP port of 127.0.0.1 that nothing is bound to now, chosen at random
// below the kernel's ephemeral range (/proc/sys/net/ipv4/ip_local_port_range,
// from 10000 up). A port the kernel picked for a socket and that was then
// released is free for any outgoing connection on the machine to take as
// its local port, and one often does while tests run side by side; a
// listener that binds it later (a restarted scheduler) then fails with
// "Address already in use". Ports below that range are never handed out
// that way. Another test may still pick the same port: the range is wide
// and the pick random. Aborts if no port is free after 1000 tries.
int UnusedPort();

}  // namespace weft::testing

#endif  // WEFT_TESTS_TESTING_PORTS_H_
