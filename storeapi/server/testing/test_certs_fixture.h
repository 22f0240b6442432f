// A gtest fixture holding TestCerts made before each test; the test is skipped when openssl is
// missing. Header-only: only tests include it.
#ifndef PAODIN_STOREAPI_SERVER_TESTING_TEST_CERTS_FIXTURE_H_
#define PAODIN_STOREAPI_SERVER_TESTING_TEST_CERTS_FIXTURE_H_

#include <memory>
#include <utility>

#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "storeapi/server/testing/test_certs.h"

namespace paodin::storeapi::testing {

class TestCertsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<TestCerts>> certs = TestCerts::Make();
    if (absl::IsUnavailable(certs.status())) {
      GTEST_SKIP() << certs.status();
    }
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = *std::move(certs);
  }

  std::unique_ptr<TestCerts> certs_;
};

}  // namespace paodin::storeapi::testing

#endif  // PAODIN_STOREAPI_SERVER_TESTING_TEST_CERTS_FIXTURE_H_
