// Unit tests of diagnostics formatting, collection and "did you mean".
#include <gtest/gtest.h>

#include "core/diagnostics.hpp"

using namespace whatif::core;

TEST(Diagnostics, FormatHasEveryPart) {
  Diagnostics diag;
  diag.error({"p.yaml", 3, 7}, "node type", "dgx", "gpus", "unknown GPU model 'X'");
  diag.warning({"p.yaml", 0, 0}, "", "", "", "careful");
  EXPECT_EQ(diag.items()[0].format(), "p.yaml:3:7: error: node type 'dgx': 'gpus': unknown GPU model 'X'");
  EXPECT_EQ(diag.items()[1].format(), "p.yaml: warning: careful");
}

TEST(Diagnostics, CollectsAllBeforeThrowing) {
  Diagnostics diag;
  diag.warning({"a", 1, 1}, "", "", "", "w");
  EXPECT_NO_THROW(diag.throw_if_errors());
  diag.error({"a", 2, 1}, "", "", "x", "first");
  diag.error({"a", 3, 1}, "", "", "y", "second");
  EXPECT_EQ(diag.error_count(), 2u);
  try {
    diag.throw_if_errors();
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.diagnostics().size(), 3u);
    EXPECT_NE(std::string(e.what()).find("a:3:1: error: 'y': second"), std::string::npos);
  }
}

TEST(Diagnostics, DidYouMean) {
  std::vector<std::string> keys{"bandwidth", "latency", "name", "kind"};
  EXPECT_EQ(closest_match("bandwith", keys), "bandwidth");
  EXPECT_EQ(closest_match("Latency", keys), "latency");
  EXPECT_EQ(closest_match("zzzzzzzz", keys), "");
  EXPECT_EQ(did_you_mean("nmae", keys), ", did you mean 'name'?");
}
