#include "tests/differential/json.h"

#include "gtest/gtest.h"

namespace paodin::differential {
namespace {

TEST(JsonTest, ParsesPrometheusVectorResponse) {
  absl::StatusOr<JsonValue> doc = ParseJson(
      R"({"status":"success","data":{"resultType":"vector","result":[)"
      R"({"metric":{"__name__":"up","job":"a\"b\u00e9"},"value":[1701381600.123,"NaN"]}]}})");
  ASSERT_TRUE(doc.ok()) << doc.status();
  const JsonValue* data = doc->Find("data");
  ASSERT_NE(data, nullptr);
  const JsonValue* result = data->Find("result");
  ASSERT_NE(result, nullptr);
  ASSERT_EQ(result->items.size(), 1u);
  const JsonValue& elem = result->items[0];
  EXPECT_EQ(elem.Find("metric")->Find("job")->text, "a\"b\xc3\xa9");
  const JsonValue* value = elem.Find("value");
  ASSERT_EQ(value->items.size(), 2u);
  EXPECT_EQ(value->items[0].kind, JsonValue::Kind::kNumber);
  EXPECT_EQ(value->items[0].text, "1701381600.123");
  EXPECT_EQ(value->items[1].text, "NaN");
  EXPECT_EQ(doc->Find("missing"), nullptr);
}

TEST(JsonTest, ParsesLiteralsAndSurrogatePairs) {
  absl::StatusOr<JsonValue> doc = ParseJson(R"( [true, false, null, -1.5e3, "\ud83d\ude00", {}] )");
  ASSERT_TRUE(doc.ok()) << doc.status();
  ASSERT_EQ(doc->items.size(), 6u);
  EXPECT_TRUE(doc->items[0].boolean);
  EXPECT_EQ(doc->items[1].kind, JsonValue::Kind::kBool);
  EXPECT_EQ(doc->items[2].kind, JsonValue::Kind::kNull);
  EXPECT_EQ(doc->items[3].text, "-1.5e3");
  EXPECT_EQ(doc->items[4].text, "\xf0\x9f\x98\x80");
  EXPECT_EQ(doc->items[5].kind, JsonValue::Kind::kObject);
}

TEST(JsonTest, RejectsMalformedDocuments) {
  for (const char* bad : {"", "{", "[1,]", "{\"a\" 1}", "\"abc", "[1] x", "\"\\q\"", "tru",
                          "{\"a\":1,}", "\"\\u12G4\""}) {
    EXPECT_FALSE(ParseJson(bad).ok()) << bad;
  }
}

TEST(JsonTest, RejectsDeepNesting) {
  std::string deep(100, '[');
  deep += std::string(100, ']');
  EXPECT_FALSE(ParseJson(deep).ok());
}

}  // namespace
}  // namespace paodin::differential
