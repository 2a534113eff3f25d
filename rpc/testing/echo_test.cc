// Round trips over loopback through generated code: a unary call, a
// bidirectional stream, and the errors a caller sees for a wrong address.

#include <memory>
#include <string>

#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "rpc/testing/echo.grpc.pb.h"

namespace weft::rpc::testing {
namespace {

class EchoService final : public Echo::Service {
 public:
  grpc::Status Say(grpc::ServerContext*, const EchoRequest* req,
                   EchoReply* reply) override {
    if (req->text() == "fail") {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "asked to fail");
    }
    reply->set_text("echo: " + req->text());
    reply->set_payload_size(req->payload().size());
    return grpc::Status::OK;
  }

  grpc::Status Chat(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<EchoReply, EchoRequest>* stream) override {
    EchoRequest req;
    while (stream->Read(&req)) {
      EchoReply reply;
      reply.set_text(req.text());
      reply.set_payload_size(req.payload().size());
      if (!stream->Write(reply)) break;
    }
    return grpc::Status::OK;
  }
};

class EchoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                                   grpc::InsecureChannelCredentials());
    stub_ = Echo::NewStub(channel_);
  }

  void TearDown() override { server_->Shutdown(); }

  static std::unique_ptr<grpc::ClientContext> ContextWithDeadline() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(10));
    return ctx;
  }

  EchoService service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<Echo::Stub> stub_;
};

TEST_F(EchoTest, UnaryRoundTrip) {
  EchoRequest req;
  req.set_text("hello");
  req.set_payload(std::string(1000, 'x'));
  EchoReply reply;
  auto ctx = ContextWithDeadline();
  grpc::Status s = stub_->Say(ctx.get(), req, &reply);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reply.text(), "echo: hello");
  EXPECT_EQ(reply.payload_size(), 1000u);
}

TEST_F(EchoTest, ServerErrorReachesCaller) {
  EchoRequest req;
  req.set_text("fail");
  EchoReply reply;
  auto ctx = ContextWithDeadline();
  grpc::Status s = stub_->Say(ctx.get(), req, &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "asked to fail");
}

TEST_F(EchoTest, BidirectionalStream) {
  auto ctx = ContextWithDeadline();
  auto stream = stub_->Chat(ctx.get());
  for (int i = 0; i < 5; ++i) {
    EchoRequest req;
    req.set_text("m" + std::to_string(i));
    ASSERT_TRUE(stream->Write(req));
    EchoReply reply;
    ASSERT_TRUE(stream->Read(&reply));
    EXPECT_EQ(reply.text(), "m" + std::to_string(i));
  }
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST(EchoNoServerTest, WrongAddressFailsWithinDeadline) {
  // Port 1 on loopback has no listener: the call must fail, not hang.
  auto channel = grpc::CreateChannel("127.0.0.1:1",
                                     grpc::InsecureChannelCredentials());
  auto stub = Echo::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(500));
  EchoRequest req;
  EchoReply reply;
  grpc::Status s = stub->Say(&ctx, req, &reply);
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.error_code() == grpc::StatusCode::UNAVAILABLE ||
              s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
      << s.error_code();
}

}  // namespace
}  // namespace weft::rpc::testing
