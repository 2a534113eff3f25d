// Copyright 2026 The weft Authors.

#include "rpc/tls.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace weft::rpc {
namespace {

using ::testing::HasSubstr;

// A fresh directory under the test's temporary directory.
std::string NewDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", name, "-", ::getpid());
  return dir;
}

// A new directory `name` with the certificates of one cluster.
std::string NewTlsDir(const std::string& name) {
  std::string dir = NewDir(name);
  EXPECT_TRUE(MakeTlsDirectory(dir).ok());
  return dir;
}

// The certificates of two clusters, each made once for the whole test.
const std::string& ClusterDir() {
  static const std::string dir = NewTlsDir("cluster");
  return dir;
}
const std::string& OtherClusterDir() {
  static const std::string dir = NewTlsDir("other");
  return dir;
}

TEST(TlsTest, MadeFilesLoad) {
  const TlsFiles files = TlsFilesInDirectory(ClusterDir());
  absl::StatusOr<std::shared_ptr<const TlsContext>> tls =
      TlsContext::Load(files);
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_EQ((*tls)->files().cert, files.cert);
  EXPECT_NE((*tls)->GrpcServerCredentials(), nullptr);
  EXPECT_NE((*tls)->GrpcChannelCredentials(), nullptr);
  // Private keys are the owner's only.
  struct stat st {};
  ASSERT_EQ(::stat(files.key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(absl::StrCat(ClusterDir(), "/ca.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(TlsTest, InitRefusesToOverwriteAndAddsNamedCertificates) {
  const std::string dir = NewDir("named");
  ASSERT_TRUE(MakeTlsDirectory(dir).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(MakeTlsDirectory(dir)));
  ASSERT_TRUE(MakeTlsDirectory(dir, "node7").ok());
  // node7's certificate is from the same CA and is a cluster member.
  absl::StatusOr<std::shared_ptr<const TlsContext>> tls =
      TlsContext::Load(TlsFilesInDirectory(dir, "node7"));
  EXPECT_TRUE(tls.ok()) << tls.status();
  EXPECT_TRUE(absl::IsInvalidArgument(MakeTlsDirectory(dir, "a/b")));
}

// Loading the cluster's files with one replaced (`field` set to `path`)
// is refused as InvalidArgument, naming `path` and saying `why`.
void ExpectRefusedWith(std::string TlsFiles::*field, const std::string& path,
                       const std::string& why) {
  TlsFiles files = TlsFilesInDirectory(ClusterDir());
  files.*field = path;
  absl::Status s = TlsContext::Load(files).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(s.message(), HasSubstr(path));
  EXPECT_THAT(s.message(), HasSubstr(why));
}

TEST(TlsTest, MissingFileIsNamed) {
  ExpectRefusedWith(&TlsFiles::key, ClusterDir() + "/nope.key", "No such file");
}

TEST(TlsTest, NotPemIsNamed) {
  const std::string path = NewDir("garbage.pem");
  std::ofstream(path) << "hello\n";
  ExpectRefusedWith(&TlsFiles::cert, path, "no PEM certificate");
}

TEST(TlsTest, KeyOfAnotherCertificateIsRefused) {
  ExpectRefusedWith(&TlsFiles::key, TlsFilesInDirectory(OtherClusterDir()).key,
                    "does not match the certificate");
}

TEST(TlsTest, CertificateOfAnotherCaIsRefused) {
  ExpectRefusedWith(&TlsFiles::ca, TlsFilesInDirectory(OtherClusterDir()).ca,
                    "is not signed by the CA");
}

TEST(TlsTest, EnvironmentNeedsAllThree) {
  ::setenv(kTlsCertEnv, "/x.pem", 1);
  ::unsetenv(kTlsKeyEnv);
  ::unsetenv(kTlsCaEnv);
  absl::Status s = TlsFilesFromEnvironment().status();
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_THAT(s.message(), HasSubstr("WEFT_TLS_KEY and WEFT_TLS_CA not set"));
  ::unsetenv(kTlsCertEnv);
  absl::StatusOr<TlsFiles> none = TlsFilesFromEnvironment();
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(TlsTest, ConfigureSetsTheEnvironmentForChildren) {
  const TlsFiles files = TlsFilesInDirectory(ClusterDir());
  ASSERT_TRUE(ConfigureProcessTls(files).ok());
  EXPECT_EQ(std::string(std::getenv(kTlsCertEnv)), files.cert);
  EXPECT_EQ(std::string(std::getenv(kTlsCaEnv)), files.ca);
  absl::StatusOr<std::shared_ptr<const TlsContext>> tls = ProcessTls();
  ASSERT_TRUE(tls.ok());
  ASSERT_NE(*tls, nullptr);
  // A broken configuration changes nothing.
  TlsFiles broken = files;
  broken.key = "/nonexistent.key";
  EXPECT_FALSE(ConfigureProcessTls(broken).ok());
  EXPECT_EQ(std::string(std::getenv(kTlsKeyEnv)), files.key);
  ASSERT_TRUE(ConfigureProcessTls(TlsFiles()).ok());
  EXPECT_EQ(std::getenv(kTlsCertEnv), nullptr);
  tls = ProcessTls();
  ASSERT_TRUE(tls.ok());
  EXPECT_EQ(*tls, nullptr);
}

// Both sides of a handshake over a socket pair.
struct HandshakeResult {
  absl::Status server;
  absl::Status client;
};

HandshakeResult Handshake(const TlsContext& server_tls,
                          const TlsContext& client_tls) {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  HandshakeResult result;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  std::thread server([&] {
    auto session = server_tls.NewSession(fds[0], /*server=*/true);
    result.server = (*session)->HandshakeBy(deadline, "client");
    if (result.server.ok()) {
      // The client learns of a refusal only as it reads (TLS 1.3).
      const char hello[] = "hi";
      (*session)->Send(hello, 2);
    }
    ::shutdown(fds[0], SHUT_RDWR);
  });
  auto session = client_tls.NewSession(fds[1], /*server=*/false);
  result.client = (*session)->HandshakeBy(deadline, "server");
  if (result.client.ok()) {
    char got[2];
    ssize_t n;
    while ((n = (*session)->Recv(got, 2)) < 0 && errno == EAGAIN) {
      ::usleep(1000);
    }
    if (n != 2) {
      result.client = absl::UnavailableError((*session)->error());
    }
  }
  server.join();
  ::close(fds[0]);
  ::close(fds[1]);
  return result;
}

TEST(TlsSessionTest, SameCaShakesHands) {
  auto tls = TlsContext::Load(TlsFilesInDirectory(ClusterDir()));
  ASSERT_TRUE(tls.ok());
  HandshakeResult r = Handshake(**tls, **tls);
  EXPECT_TRUE(r.server.ok()) << r.server;
  EXPECT_TRUE(r.client.ok()) << r.client;
}

TEST(TlsSessionTest, AnotherCaIsRefusedOnBothSides) {
  auto tls = TlsContext::Load(TlsFilesInDirectory(ClusterDir()));
  auto other = TlsContext::Load(TlsFilesInDirectory(OtherClusterDir()));
  ASSERT_TRUE(tls.ok());
  ASSERT_TRUE(other.ok());
  HandshakeResult r = Handshake(**tls, **other);
  EXPECT_FALSE(r.server.ok());
  EXPECT_FALSE(r.client.ok());
  EXPECT_THAT(r.client.message(), HasSubstr("not one of this cluster's"));
}

}  // namespace
}  // namespace weft::rpc
