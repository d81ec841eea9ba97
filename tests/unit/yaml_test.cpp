// Unit tests of the strict YAML reader: positions, unknown keys, parameters, sourced values.
#include <gtest/gtest.h>

#include "core/yaml.hpp"

using namespace whatif::core;

namespace {
YAML::Node parse(const std::string& text, Diagnostics& diag) {
  return *parse_yaml_text(text, "t.yaml", diag);
}
}  // namespace

TEST(Yaml, UnknownKeyWithSuggestionAndPosition) {
  Diagnostics diag;
  YAML::Node n = parse("name: a\nbandwith: 1GBps\n", diag);
  MapReader r(n, {"t.yaml", "link", "a", &diag, nullptr});
  r.string("name", true);
  r.quantity("bandwidth", Dimension::bandwidth);
  r.finish();
  ASSERT_EQ(diag.items().size(), 1u);
  EXPECT_EQ(diag.items()[0].format(),
            "t.yaml:2:1: error: link 'a': 'bandwith': unknown field, did you mean 'bandwidth'?");
}

TEST(Yaml, TypedFieldErrors) {
  Diagnostics diag;
  YAML::Node n = parse("count: many\nbw: -5GBps\nflag: maybe\nlist: [1]\n", diag);
  MapReader r(n, {"t.yaml", "x", "", &diag, nullptr});
  EXPECT_FALSE(r.integer("count", 0, 10));
  EXPECT_FALSE(r.quantity("bw", Dimension::bandwidth));
  EXPECT_FALSE(r.boolean("flag"));
  EXPECT_FALSE(r.string("list"));
  EXPECT_FALSE(r.string("missing", true));
  ASSERT_EQ(diag.error_count(), 5u);
  EXPECT_EQ(diag.items()[0].format(), "t.yaml:1:8: error: x: 'count': expected an integer, got 'many'");
  EXPECT_EQ(diag.items()[1].format(), "t.yaml:2:5: error: x: 'bw': must be positive, got '-5GBps'");
  EXPECT_EQ(diag.items()[3].format(), "t.yaml:4:7: error: x: 'list': expected a value, got a list");
}

TEST(Yaml, ParameterSubstitution) {
  Diagnostics diag;
  Parameters params{{"nodes", "16"}};
  YAML::Node n = parse("count: ${nodes}\nother: ${nodez}\n", diag);
  MapReader r(n, {"t.yaml", "group", "g", &diag, &params});
  EXPECT_EQ(r.integer("count", 1, 100).value_or(0), 16);
  EXPECT_FALSE(r.integer("other", 1, 100));
  ASSERT_EQ(diag.error_count(), 1u);
  EXPECT_NE(diag.items()[0].message.find("unknown parameter 'nodez', did you mean 'nodes'?"),
            std::string::npos);
}

TEST(Yaml, SourcedValues) {
  Diagnostics diag;
  YAML::Node n = parse("bw: {value: 25GBps, source: datasheet}\nlat: {value: 1us}\n", diag);
  MapReader r(n, {"t.yaml", "link", "l", &diag, nullptr});
  auto bw = r.sourced("bw", Dimension::bandwidth, true);
  ASSERT_TRUE(bw);
  EXPECT_DOUBLE_EQ(bw->value, 25e9);
  EXPECT_EQ(bw->source, "datasheet");
  EXPECT_FALSE(r.sourced("lat", Dimension::time, true));
  EXPECT_EQ(diag.error_count(), 1u);
}

TEST(Yaml, BadFiles) {
  Diagnostics diag;
  EXPECT_FALSE(parse_yaml_text(std::string("a: 1\0b", 6), "bin.yaml", diag));
  EXPECT_FALSE(parse_yaml_text("", "empty.yaml", diag));
  EXPECT_FALSE(parse_yaml_text("a: [1, 2\n", "broken.yaml", diag));
  EXPECT_FALSE(load_yaml_file("/nonexistent/file.yaml", diag));
  ASSERT_EQ(diag.error_count(), 4u);
  EXPECT_EQ(diag.items()[0].format(), "bin.yaml: error: not a YAML text file (it contains NUL bytes)");
  EXPECT_NE(diag.items()[2].format().find("broken.yaml:"), std::string::npos);
}
