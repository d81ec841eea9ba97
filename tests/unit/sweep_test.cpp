// Sweep files: the constraint language, reading, and expansion into points (no process runs here).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/diagnostics.hpp"
#include "sweep/expr.hpp"
#include "sweep/plan.hpp"
#include "sweep/store.hpp"

namespace whatif::sweep {
namespace {

namespace fs = std::filesystem;

Value eval(const std::string& text, const std::map<std::string, Value>& vars = {}) {
  return Expr::parse(text).evaluate([&](const std::string& n) -> std::optional<Value> {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  });
}

TEST(SweepExpr, ArithmeticPrecedenceAndLogic) {
  EXPECT_EQ(std::get<double>(eval("1 + 2 * 3")), 7);
  EXPECT_EQ(std::get<double>(eval("(1 + 2) * 3")), 9);
  EXPECT_EQ(std::get<double>(eval("2 ** 3 ** 2")), 512);  // right-associative
  EXPECT_EQ(std::get<double>(eval("-2 ** 2")), -4);
  EXPECT_EQ(std::get<double>(eval("17 % 5")), 2);
  EXPECT_EQ(std::get<double>(eval("t * p * d == 8", {{"t", 2.0}, {"p", 2.0}, {"d", 2.0}})), 1);
  EXPECT_EQ(std::get<double>(eval("t * p * d == 8", {{"t", 2.0}, {"p", 4.0}, {"d", 2.0}})), 0);
  EXPECT_EQ(std::get<double>(eval("a != 'ring' or n <= 4", {{"a", std::string("ring")}, {"n", 8.0}})), 0);
  EXPECT_EQ(std::get<double>(eval("not (x > 1) && x >= 0", {{"x", 0.5}})), 1);
  EXPECT_EQ(std::get<double>(eval("min(3, 4) + max(3, 4) + abs(-1) + log2(8) + floor(1.5) + ceil(1.5)")),
            3 + 4 + 1 + 3 + 1 + 2);
  EXPECT_EQ(std::get<std::string>(eval("'tree'")), "tree");
  // Short-circuit: the right side is not evaluated (its unknown name would throw).
  EXPECT_EQ(std::get<double>(eval("0 and nope")), 0);
}

TEST(SweepExpr, ErrorsNameTheColumnOrTheProblem) {
  auto parse_error = [](const std::string& text) {
    try {
      Expr::parse(text);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(parse_error("1 + * 2"), "column 5: expected a value, found '*'");
  EXPECT_EQ(parse_error("(1 + 2"), "column 7: expected ')'");
  EXPECT_EQ(parse_error("'open"), "column 1: text without its closing quote");
  EXPECT_NE(parse_error("sqrt(4)").find("unknown function 'sqrt'"), std::string::npos);
  EXPECT_NE(parse_error("min(1)").find("min() takes 2 arguments"), std::string::npos);
  EXPECT_EQ(parse_error("1 2"), "column 3: unexpected '2'");
  EXPECT_THROW(eval("x + 1"), std::invalid_argument);                                // unknown name
  EXPECT_THROW(eval("a + 1", {{"a", std::string("ring")}}), std::invalid_argument);  // text in arithmetic
  EXPECT_THROW(eval("a < 1", {{"a", std::string("ring")}}), std::invalid_argument);  // text vs number
  EXPECT_THROW(eval("1 / 0"), std::invalid_argument);
  EXPECT_EQ(Expr::parse("a * b + a").names(), (std::vector<std::string>{"a", "b"}));
}

TEST(SweepExpr, ValuesOfParameterText) {
  EXPECT_EQ(std::get<double>(value_of("64")), 64);
  EXPECT_EQ(std::get<double>(value_of("-1.5e3")), -1500);
  EXPECT_EQ(std::get<std::string>(value_of("64KiB")), "64KiB");
  EXPECT_EQ(std::get<std::string>(value_of("0x10")), "0x10");
  EXPECT_EQ(std::get<std::string>(value_of("")), "");
}

// A sweep file next to a trivial base experiment (only its existence and text matter to the plan).
class SweepFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("whatif-sweep-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "base.yaml") << "format: whatif-experiment/1\nname: base\n";
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& body) {
    std::string f = (dir_ / "s.yaml").string();
    std::ofstream(f) << "format: whatif-sweep/1\nname: s\nexperiment: base.yaml\n" << body;
    return f;
  }
  std::string error_of(const std::string& body) {
    try {
      SweepSpec s = load_sweep(write(body));
      expand(s);
    } catch (const core::InputError& e) {
      return e.what();
    }
    return "no error";
  }
  static std::vector<std::string> column(const std::vector<Point>& pts, std::size_t k) {
    std::vector<std::string> out;
    for (const auto& p : pts)
      out.push_back(p.values[k]);
    return out;
  }
  fs::path dir_;
};

TEST_F(SweepFile, GridIsTheCartesianProductFirstParameterSlowest) {
  SweepSpec s = load_sweep(
      write("parameters:\n  - {path: workload.algorithm, values: [ring, tree]}\n"
            "  - {path: workload.sizes.from, name: size, unit: B, range: {from: 1, to: 100, factor: 10}}\n"));
  auto pts = expand(s);
  ASSERT_EQ(pts.size(), 6u);
  EXPECT_EQ(column(pts, 0), (std::vector<std::string>{"ring", "ring", "ring", "tree", "tree", "tree"}));
  EXPECT_EQ(column(pts, 1), (std::vector<std::string>{"1B", "10B", "100B", "1B", "10B", "100B"}));
  EXPECT_EQ(s.parameters[0].name, "algorithm");  // the path's last key by default
  EXPECT_EQ(assignments(s, pts[4]),
            (std::vector<std::string>{"workload.algorithm=tree", "workload.sizes.from=10B"}));
  EXPECT_EQ(pts[5].index, 5u);
}

TEST_F(SweepFile, RangesLinearGeometricAndSteps) {
  SweepSpec s =
      load_sweep(write("parameters:\n  - {path: a, range: {from: 0, to: 1, steps: 5}}\n  - {path: b, range: "
                       "{from: 2, to: 10, step: 4}}\n"
                       "  - {path: c, range: {from: 1, to: 1000, steps: 4, scale: geometric}}\n"
                       "  - {path: d, range: {from: 1024, to: 8192, factor: 2}}\n"));
  EXPECT_EQ(s.parameters[0].values, (std::vector<std::string>{"0", "0.25", "0.5", "0.75", "1"}));
  EXPECT_EQ(s.parameters[1].values, (std::vector<std::string>{"2", "6", "10"}));
  EXPECT_EQ(s.parameters[2].values, (std::vector<std::string>{"1", "10", "100", "1000"}));
  EXPECT_EQ(s.parameters[3].values, (std::vector<std::string>{"1024", "2048", "4096", "8192"}));
  EXPECT_EQ(expand(s).size(), 5u * 3 * 4 * 4);
}

TEST_F(SweepFile, ZipGroupsAdvanceTogetherAndCrossTheRest) {
  SweepSpec s =
      load_sweep(write("parameters:\n  - {path: p, values: [2, 4, 8], zip: layout}\n  - {path: d, values: "
                       "[8, 4, 2], zip: layout}\n"
                       "  - {path: s, values: [x, y]}\n"));
  auto pts = expand(s);
  ASSERT_EQ(pts.size(), 6u);
  for (const auto& p : pts)
    EXPECT_EQ(std::stoi(p.values[0]) * std::stoi(p.values[1]), 16);
  SweepSpec all = load_sweep(
      write("combine: zip\nparameters:\n  - {path: p, values: [1, 2]}\n  - {path: q, values: [3, 4]}\n"));
  EXPECT_EQ(expand(all).size(), 2u);
  EXPECT_NE(
      error_of("combine: zip\nparameters:\n  - {path: p, values: [1, 2]}\n  - {path: q, values: [3, 4, 5]}\n")
          .find("zipped with 'p' but has 3 values where 'p' has 2"),
      std::string::npos);
}

TEST_F(SweepFile, ConstraintsAndDerivedParameters) {
  SweepSpec s = load_sweep(
      write("parameters:\n  - {path: t, values: [1, 2, 4, 8]}\n  - {path: p, values: [1, 2, 4, 8]}\n"
            "  - {name: mb, values: [4, 8]}\n  - {name: gb, path: w.global_batch, expr: 'mb * 8 / t / p'}\n"
            "constraints:\n  - 't * p <= 8'\n  - 'mb % p == 0 or p == 1'\n"));
  std::uint64_t dropped = 0;
  auto pts = expand(s, &dropped);
  std::uint64_t kept = 0;
  for (int t : {1, 2, 4, 8})
    for (int p : {1, 2, 4, 8})
      for (int mb : {4, 8})
        if (t * p <= 8 && (mb % p == 0 || p == 1)) ++kept;
  EXPECT_EQ(pts.size(), kept);
  EXPECT_EQ(dropped, 32 - kept);
  for (const auto& pt : pts) {
    EXPECT_LE(std::stoi(pt.values[0]) * std::stoi(pt.values[1]), 8);
    EXPECT_EQ(std::stod(pt.values[3]),
              std::stod(pt.values[2]) * 8 / std::stod(pt.values[0]) / std::stod(pt.values[1]));
  }
  // A variable without a path sets nothing.
  EXPECT_EQ(assignments(s, pts[0]).size(), 3u);
  EXPECT_EQ(pts.back().index, kept - 1);
}

TEST_F(SweepFile, RepetitionsGetDistinctStableSeedsAndKeys) {
  SweepSpec s = load_sweep(write("repetitions: 3\nseed: 9\nparameters:\n  - {path: a, values: [1, 2]}\n"));
  auto pts = expand(s), again = expand(s);
  ASSERT_EQ(pts.size(), 6u);
  std::set<std::uint64_t> seeds;
  std::set<std::string> keys;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    seeds.insert(pts[i].seed);
    keys.insert(pts[i].key);
    EXPECT_EQ(pts[i].seed, again[i].seed);
    EXPECT_EQ(pts[i].key, again[i].key);
    EXPECT_EQ(pts[i].repetition, static_cast<int>(i % 3));
    EXPECT_LT(pts[i].seed, 1ull << 63);
  }
  EXPECT_EQ(seeds.size(), 6u);
  EXPECT_EQ(keys.size(), 6u);
  // A point keeps its key when values are added around it: resuming an extended sweep reuses its results.
  SweepSpec more =
      load_sweep(write("repetitions: 3\nseed: 9\nparameters:\n  - {path: a, values: [0, 1, 2]}\n"));
  auto wider = expand(more);
  EXPECT_EQ(wider[3].key, pts[0].key);
  EXPECT_EQ(wider[3].seed, pts[0].seed);
}

TEST_F(SweepFile, RandomAndLatinHypercubeSamples) {
  SweepSpec s = load_sweep(write(
      "samples: {method: latin-hypercube, count: 10, seed: 4}\nparameters:\n"
      "  - {path: x, sample: {low: 0, high: 1}}\n  - {path: y, sample: {low: 1, high: 1000, log: true}}\n"
      "  - {path: n, sample: {low: 1, high: 10, integer: true}}\n"));
  auto pts = expand(s);
  ASSERT_EQ(pts.size(), 10u);
  // One value in each tenth of the range per parameter (in log space for y).
  std::set<int> xs, ys;
  for (const auto& p : pts) {
    double x = std::stod(p.values[0]), y = std::stod(p.values[1]);
    xs.insert(static_cast<int>(x * 10));
    ys.insert(static_cast<int>(std::log10(y) / 3 * 10));
    EXPECT_EQ(p.values[2].find('.'), std::string::npos);
  }
  EXPECT_EQ(xs.size(), 10u);
  EXPECT_EQ(ys.size(), 10u);
  auto same = expand(load_sweep(write(
      "samples: {method: latin-hypercube, count: 10, seed: 4}\nparameters:\n"
      "  - {path: x, sample: {low: 0, high: 1}}\n  - {path: y, sample: {low: 1, high: 1000, log: true}}\n"
      "  - {path: n, sample: {low: 1, high: 10, integer: true}}\n")));
  EXPECT_EQ(same[7].values, pts[7].values);
  SweepSpec r = load_sweep(
      write("samples: {count: 200, seed: 1}\nparameters:\n  - {path: x, sample: {low: 5, high: 6}}\n"
            "  - {path: k, values: [a, b]}\n"));
  auto rp = expand(r);
  EXPECT_EQ(rp.size(), 400u);  // the samples cross the other parameters
  for (const auto& p : rp) {
    EXPECT_GE(std::stod(p.values[0]), 5);
    EXPECT_LE(std::stod(p.values[0]), 6);
  }
}

TEST_F(SweepFile, BadFilesNameTheLineAndField) {
  EXPECT_NE(error_of("parameters:\n  - {path: a, values: []}\n").find("s.yaml:5:"), std::string::npos);
  EXPECT_NE(error_of("parameters:\n  - {path: a, values: []}\n").find("'values': expected a non-empty list"),
            std::string::npos);
  EXPECT_NE(error_of("parameters:\n  - {path: a, values: [1], range: {from: 1, to: 2, steps: 2}}\n")
                .find("exactly one of 'values', 'range', 'sample' or 'expr'"),
            std::string::npos);
  EXPECT_NE(
      error_of("parameters:\n  - {path: a, range: {from: 1, to: 2}}\n").find("give exactly one of 'steps'"),
      std::string::npos);
  EXPECT_NE(
      error_of("parameters:\n  - {path: a, range: {from: 0, to: 2, factor: 2}}\n").find("positive bounds"),
      std::string::npos);
  EXPECT_NE(error_of("parameters:\n  - {path: a, values: [1]}\nconstraints: ['b > 1']\n")
                .find("'b' is not a parameter"),
            std::string::npos);
  EXPECT_NE(error_of("parameters:\n  - {path: a, values: [1]}\nconstraints: ['a >']\n").find("column 4"),
            std::string::npos);
  EXPECT_NE(error_of("parameters:\n  - {path: a, values: [1]}\n  - {path: x.a, values: [2]}\n")
                .find("two parameters are named 'a'"),
            std::string::npos);
  EXPECT_NE(error_of("parameters:\n  - {path: a, name: status, values: [1]}\n").find("is a fixed column"),
            std::string::npos);
  EXPECT_NE(error_of("parameters:\n  - {path: a, sample: {low: 0, high: 1}}\n").find("need 'samples"),
            std::string::npos);
  EXPECT_NE(error_of("parameters:\n  - {path: a..b, values: [1]}\n").find("expected a dotted path"),
            std::string::npos);
  EXPECT_NE(
      error_of("parameters:\n  - {path: a, values: [1]}\nparamters: 1\n").find("did you mean 'parameters'"),
      std::string::npos);
  EXPECT_NE(error_of("parameters:\n  - {path: a, values: [x]}\nconstraints: ['a > 1']\n")
                .find("compares 'x' with 1"),
            std::string::npos);
  std::ofstream(dir_ / "nobase.yaml")
      << "format: whatif-sweep/1\nname: s\nexperiment: nope.yaml\nparameters: []\n";
  try {
    load_sweep((dir_ / "nobase.yaml").string());
    FAIL() << "no error";
  } catch (const core::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no such experiment file"), std::string::npos);
  }
}

TEST(SweepStore, MetricsFlattenToScalarColumns) {
  nlohmann::json m = {{"time_s", 1.5},
                      {"name", "x"},
                      {"nested", {{"a", 1}, {"b", {{"c", true}}}}},
                      {"sizes", {{{"bytes", 1024}, {"busbw_Bps", 2e9}}}},
                      {"many", {1, 2, 3}},
                      {"stages", {{{"i", 0}}, {{"i", 1}}}}};
  nlohmann::json f = flatten_metrics(m);
  EXPECT_EQ(f, (nlohmann::json{{"time_s", 1.5},
                               {"name", "x"},
                               {"nested_a", 1},
                               {"nested_b_c", true},
                               {"sizes_bytes", 1024},
                               {"sizes_busbw_Bps", 2e9}}));
}

}  // namespace
}  // namespace whatif::sweep
