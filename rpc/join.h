// Copyright 2026 The weft Authors.
//
// How a client or a worker joins a scheduler: one handshake for both.
//
//   1. It opens its gRPC stream (which carries the cluster token) and sends
//      its hello (ClientMessage.hello or WorkerMessage.register), saying
//      whether it can use a frame stream (FrameStreamsWanted()).
//   2. The scheduler answers. If that answer offers a frame port and a key,
//      the peer connects there, presents the key (a FrameHello), and says
//      on gRPC whether it managed; the scheduler's first real message then
//      comes on the stream the peer will use: the frame stream, or gRPC if
//      it could not connect.
//
// The scheduler's side is scheduler/frame_rendezvous.h.

#ifndef WEFT_RPC_JOIN_H_
#define WEFT_RPC_JOIN_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "rpc/event_loop.h"
#include "rpc/frame_peer_stream.h"
#include "rpc/frame_stream.h"
#include "rpc/grpc_peer_stream.h"
#include "rpc/peer_stream.h"

namespace weft::rpc {

template <class Out, class In>
struct Joined {
  // The stream to use from now on (not serving yet).
  std::shared_ptr<PeerStream<Out, In>> stream;
  // The scheduler's first message on it.
  In first;
  // Why the peer stayed on gRPC after an offer of frames (empty if it did
  // not, or was not offered any).
  std::string frames_error;
};

// Runs the handshake on `grpc`, a fresh call to the scheduler at
// `scheduler_address` (for the frame port's host): sends `hello`, takes an
// offer of frames if one comes (served by `loop`), and returns the stream
// and the scheduler's first message. Errors: how the scheduler ended the
// call (UNAUTHENTICATED for a refused token, say), Unavailable if it went
// away or sent nothing on the new frame stream in time.
template <class Out, class In>
absl::StatusOr<Joined<Out, In>> Join(
    std::unique_ptr<GrpcClientPeerStream<Out, In>> grpc, const Out& hello,
    const std::string& scheduler_address, EventLoop& loop) {
  auto fail = [&]() -> absl::Status {
    absl::Status status = grpc->Finish();
    if (status.ok()) status = absl::UnavailableError("it closed the stream");
    return absl::Status(status.code(),
                        absl::StrCat("weft: the scheduler at ",
                                     scheduler_address, ": ",
                                     status.message()));
  };
  Joined<Out, In> joined;
  if (!grpc->Send(hello) || !grpc->Read(joined.first, absl::InfiniteFuture())) {
    return fail();
  }
  if (joined.first.frame_port() == 0) {
    joined.stream = std::move(grpc);
    return joined;
  }
  // An offer: take it (or say why not); the first real message then comes
  // on the stream this peer will use.
  absl::StatusOr<std::shared_ptr<FrameStream>> frames = ConnectWithKey(
      scheduler_address, static_cast<int>(joined.first.frame_port()),
      joined.first.frame_key(), kFrameConnectTimeout, loop);
  Out answer;
  if (frames.ok()) {
    answer.set_frames_connected(true);
  } else {
    joined.frames_error = std::string(frames.status().message());
    answer.set_frames_error(joined.frames_error);
  }
  if (!grpc->Send(answer)) return fail();
  joined.first.Clear();
  if (!frames.ok()) {
    if (!grpc->Read(joined.first, absl::InfiniteFuture())) return fail();
    joined.stream = std::move(grpc);
    return joined;
  }
  if (!(*frames)->Read(joined.first, absl::Now() + kFrameFirstMessageTimeout)) {
    const absl::Status s = (*frames)->status();
    grpc->Close(absl::ZeroDuration());
    return absl::UnavailableError(absl::StrCat(
        "weft: the scheduler at ", scheduler_address, ": ",
        s.ok() ? "no answer on the frame stream" : s.message()));
  }
  // From now on the frame stream carries everything; the gRPC call ends.
  joined.stream = std::make_shared<FramePeerStream<Out, In>>(*std::move(frames));
  return joined;
}

}  // namespace weft::rpc

#endif  // WEFT_RPC_JOIN_H_
