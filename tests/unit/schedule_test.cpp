// Unit tests of the pipeline schedules: structure, exact bubbles against the papers' formulas, memory,
// printing.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "core/diagnostics.hpp"
#include "training/schedule.hpp"

using whatif::core::InputError;
using namespace whatif::training;

namespace {

constexpr double exact = 1e-12;

// The message of the single diagnostic `f` throws as InputError (what() prefixes it with "error: ").
template <typename F>
std::string input_error(F f) {
  try {
    f();
  } catch (const InputError& e) {
    EXPECT_EQ(e.diagnostics().size(), 1u);
    EXPECT_EQ(std::string(e.what()), "error: " + e.diagnostics().front().message);
    return e.diagnostics().front().message;
  }
  ADD_FAILURE() << "no InputError thrown";
  return "";
}

template <typename F>
std::string logic_error(F f) {
  try {
    f();
  } catch (const std::logic_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no std::logic_error thrown";
  return "";
}

// Every micro-batch gets exactly one forward and one backward at every stage of exactly one pipeline, on the
// device that holds that stage, and a device runs a stage's forward of a micro-batch before its backward.
void expect_complete(const Schedule& s) {
  SCOPED_TRACE(render_schedule(s));
  std::map<std::tuple<int, int, int>, int> forward_at,
      backward_at;  // (micro-batch, pipeline, stage) -> position
  std::map<int, int> pipeline_of;
  for (int d = 0; d < s.devices; ++d) {
    const auto& list = s.steps[static_cast<std::size_t>(d)];
    for (int i = 0; i < static_cast<int>(list.size()); ++i) {
      const Step& st = list[static_cast<std::size_t>(i)];
      ASSERT_EQ(s.device_of(st.pipeline, st.stage), d);
      ASSERT_EQ(st.chunk, st.stage / s.devices);
      auto [it, fresh] = pipeline_of.emplace(st.micro_batch, st.pipeline);
      ASSERT_EQ(it->second, st.pipeline) << "micro-batch " << st.micro_batch << " is in both pipelines";
      auto& where = st.kind == StepKind::forward ? forward_at : backward_at;
      ASSERT_TRUE(where.emplace(std::tuple{st.micro_batch, st.pipeline, st.stage}, i).second)
          << "duplicate step";
    }
  }
  ASSERT_EQ(static_cast<int>(pipeline_of.size()), s.micro_batches);
  for (auto [m, p] : pipeline_of) {
    for (int stage = 0; stage < s.stages(); ++stage) {
      auto f = forward_at.find({m, p, stage});
      auto b = backward_at.find({m, p, stage});
      ASSERT_NE(f, forward_at.end()) << "no forward of " << m << " at stage " << stage;
      ASSERT_NE(b, backward_at.end()) << "no backward of " << m << " at stage " << stage;
      EXPECT_LT(f->second, b->second);
    }
  }
  EXPECT_EQ(s.total_steps(), static_cast<std::size_t>(2 * s.micro_batches * s.stages()));
}

void expect_bubble(const ExecutionResult& r, double expected) {
  ASSERT_FALSE(r.bubble_fraction.empty());
  for (std::size_t d = 0; d < r.bubble_fraction.size(); ++d)
    EXPECT_NEAR(r.bubble_fraction[d], expected, exact) << "device " << d;
}

}  // namespace

TEST(ScheduleNames, ParseAndPrintRoundTrip) {
  for (auto kind : {ScheduleKind::gpipe, ScheduleKind::one_f_one_b, ScheduleKind::interleaved_1f1b,
                    ScheduleKind::chimera})
    EXPECT_EQ(parse_schedule_kind(to_string(kind)), kind);
  for (auto v : {ChimeraVariant::direct, ChimeraVariant::forward_doubling, ChimeraVariant::backward_halving})
    EXPECT_EQ(parse_chimera_variant(to_string(v)), v);
  EXPECT_EQ(to_string(ScheduleKind::one_f_one_b), "1f1b");
  EXPECT_EQ(to_string(ScheduleKind::interleaved_1f1b), "interleaved-1f1b");
  EXPECT_EQ(to_string(ChimeraVariant::forward_doubling), "forward-doubling");
  EXPECT_EQ(
      input_error([] { parse_schedule_kind("gpip"); }),
      "unknown pipeline schedule 'gpip' (expected gpipe, 1f1b, interleaved-1f1b or chimera), did you mean "
      "'gpipe'?");
  EXPECT_EQ(input_error([] { parse_chimera_variant("halving"); }),
            "unknown chimera variant 'halving' (expected direct, forward-doubling or backward-halving)");
}

TEST(ScheduleValidation, InvalidParametersAreInputErrorsWithTheirReason) {
  EXPECT_EQ(input_error([] { generate_schedule(ScheduleKind::gpipe, 0, 4); }),
            "the pipeline depth must be at least 1 (got 0)");
  EXPECT_EQ(input_error([] { generate_schedule(ScheduleKind::one_f_one_b, 4, 0); }),
            "the micro-batch count must be at least 1 (got 0)");
  EXPECT_EQ(input_error([] { generate_schedule(ScheduleKind::interleaved_1f1b, 4, 6, 2); }),
            "interleaved-1f1b needs the micro-batch count (6) to be a multiple of the pipeline depth (4)");
  EXPECT_EQ(input_error([] { generate_schedule(ScheduleKind::interleaved_1f1b, 4, 8, 0); }),
            "interleaved-1f1b needs at least 1 virtual stage per device (got 0)");
  EXPECT_EQ(input_error([] { generate_schedule(ScheduleKind::gpipe, 4, 8, 2); }),
            "virtual stages per device (2) apply only to interleaved-1f1b; gpipe needs 1");
  EXPECT_EQ(
      input_error([] { generate_schedule(ScheduleKind::chimera, 3, 6); }),
      "chimera needs an even pipeline depth (got 3): each device holds a stage of both of its pipelines");
  EXPECT_EQ(input_error([] { generate_schedule(ScheduleKind::chimera, 4, 6); }),
            "chimera needs the micro-batch count (6) to be a multiple of the pipeline depth (4)");
  EXPECT_EQ(
      input_error([] { chimera_schedule(4, 12, ChimeraVariant::forward_doubling); }),
      "chimera forward-doubling needs the micro-batch count (12) to equal the pipeline depth (4) or to be a "
      "multiple of twice it (8)");
  EXPECT_EQ(input_error([] { generate_schedule(ScheduleKind::gpipe, 100000, 100000); }),
            "a pipeline of 100000 devices with 100000 micro-batches would have 20000000000 steps; at most "
            "100000000 "
            "are supported");
  // The individual generators validate too.
  EXPECT_THROW(interleaved_1f1b_schedule(4, 6, 2), InputError);
  EXPECT_THROW(one_f_one_b_schedule(-1, 4), InputError);
}

TEST(ScheduleStructure, EveryMicroBatchHasOneForwardAndOneBackwardPerStage) {
  for (int d = 1; d <= 8; ++d)
    for (int n = 1; n <= 12; ++n) {
      expect_complete(gpipe_schedule(d, n));
      expect_complete(one_f_one_b_schedule(d, n));
    }
  for (int p = 1; p <= 6; ++p)
    for (int v = 1; v <= 4; ++v)
      for (int m = p; m <= 4 * p; m += p)
        expect_complete(interleaved_1f1b_schedule(p, m, v));
  for (int d = 2; d <= 10; d += 2)
    for (int k = 1; k <= 4; ++k) {
      expect_complete(chimera_schedule(d, k * d, ChimeraVariant::direct));
      expect_complete(chimera_schedule(d, k * d, ChimeraVariant::backward_halving));
      if (k == 1 || k % 2 == 0) expect_complete(chimera_schedule(d, k * d, ChimeraVariant::forward_doubling));
    }
}

TEST(ScheduleStructure, StagePlacement) {
  Schedule inter = interleaved_1f1b_schedule(4, 4, 3);
  EXPECT_EQ(inter.stages(), 12);
  EXPECT_EQ(inter.device_of(0, 9), 1);  // device i holds stages i, i+4, i+8
  Schedule chimera = chimera_schedule(4, 4, ChimeraVariant::direct);
  EXPECT_EQ(chimera.pipelines, 2);
  EXPECT_EQ(chimera.device_of(0, 1), 1);  // down pipeline: stage i on device i
  EXPECT_EQ(chimera.device_of(1, 1), 2);  // up pipeline: stage i on device D-1-i
}

// GPipe and 1F1B: bubble (D-1)/(N+D-1) on every device, whatever the backward/forward ratio, also for N < D.
TEST(ScheduleBubble, GpipeAndOneFOneBMatchTheFormulaExactly) {
  for (int d = 1; d <= 12; ++d)
    for (int n = 1; n <= 24; ++n)
      for (double backward : {1.0, 2.0}) {
        SCOPED_TRACE(testing::Message() << "D=" << d << " N=" << n << " backward=" << backward);
        double expected = static_cast<double>(d - 1) / (n + d - 1);
        for (const Schedule& s : {gpipe_schedule(d, n), one_f_one_b_schedule(d, n)}) {
          ExecutionResult r = execute_schedule(s, StepCost::uniform(d, 1.0, backward));
          expect_bubble(r, expected);
          EXPECT_DOUBLE_EQ(r.makespan, (n + d - 1) * (1.0 + backward));
        }
      }
  // Non-integer durations as a cost model gives them.
  for (auto [d, n] : {std::pair{4, 8}, std::pair{8, 3}, std::pair{16, 64}}) {
    double expected = static_cast<double>(d - 1) / (n + d - 1);
    expect_bubble(execute_schedule(one_f_one_b_schedule(d, n), StepCost::uniform(d, 1.7e-3, 3.4e-3)),
                  expected);
    expect_bubble(execute_schedule(gpipe_schedule(d, n), StepCost::uniform(d, 0.3, 0.3)), expected);
  }
}

// Interleaved 1F1B: (p-1)/(v*m+p-1), with each chunk taking 1/v of a full device's time (here forward 1 per
// chunk, so v per device, backward 2 or 1 per chunk). Includes Megatron's m == p case (all warm-up).
TEST(ScheduleBubble, InterleavedMatchesMegatronsFormulaExactly) {
  for (int p = 1; p <= 8; ++p)
    for (int v = 1; v <= 4; ++v)
      for (int m = p; m <= 6 * p; m += p)
        for (double backward : {1.0, 2.0}) {
          SCOPED_TRACE(testing::Message()
                       << "p=" << p << " m=" << m << " v=" << v << " backward=" << backward);
          ExecutionResult r =
              execute_schedule(interleaved_1f1b_schedule(p, m, v), StepCost::uniform(p * v, 1.0, backward));
          expect_bubble(r, static_cast<double>(p - 1) / (v * m + p - 1));
        }
  // Fractional per-chunk times: a device's forward of 1.0 split over v = 3 chunks.
  ExecutionResult r =
      execute_schedule(interleaved_1f1b_schedule(4, 16, 3), StepCost::uniform(12, 1.0 / 3, 2.0 / 3));
  expect_bubble(r, 3.0 / (3 * 16 + 3));
}

// Chimera, D = N = 4, drawn by hand (one character column group per time unit; down pipeline micro-batches
// 0 and 1 enter at device 0, up pipeline micro-batches 2 and 3 at device 3):
//
// backward = forward (1 unit each), makespan 10:
//   t     0    1    2    3    4    5    6    7    8    9
//   dev0  F0d  F1d  .    F2u  B2u  F3u  B3u  B0d  .    B1d
//   dev1  .    F0d  F2u  F1d  F3u  B2u  B0d  B3u  B1d  .
//   dev2  .    F2u  F0d  F3u  F1d  B0d  B2u  B1d  B3u  .
//   dev3  F2u  F3u  .    F0d  B0d  F1d  B1d  B2u  .    B3u
// Each device idles D-2 = 2 units of 10: bubble 0.2 = (D-2)/(2N+D-2), against 1F1B's 3/7 = 0.429.
//
// backward = 2 x forward, same order, makespan 16 (each backward spans two columns, "==" its second unit):
//   t     0   1   2   3   4   5   6   7   8   9   10  11  12  13  14  15
//   dev0  F0d F1d .   F2u B2u ==  F3u B3u ==  .   B0d ==  .   .   B1d ==
//   dev1  .   F0d F2u F1d F3u .   B2u ==  B0d ==  B3u ==  B1d ==  .   .
//   dev2  .   F2u F0d F3u F1d .   B0d ==  B2u ==  B1d ==  B3u ==  .   .
//   dev3  F2u F3u .   F0d B0d ==  F1d B1d ==  .   B2u ==  .   .   B3u ==
// Each device works 4 + 4*2 = 12 of 16 units: bubble 0.25, not 0.2. A branch-and-bound search over every
// order of these 32 steps (with this split of micro-batches between the pipelines) finds no makespan below
// 16, so 0.2 is out of reach here: the formula (D-2)/(2N+D-2) counts equal cells and holds when
// backward = forward. With backward = 2 x forward the basic unit gives 2(D-2)/(5D-4) (0.25 for D = 4,
// 0.333 for D = 8), still below 1F1B's (D-1)/(2D-1) (0.429, 0.467).
TEST(ScheduleChimera, HandDrawnBasicUnitForFourDevices) {
  Schedule s = chimera_schedule(4, 4, ChimeraVariant::direct);
  EXPECT_EQ(render_schedule(s),
            "dev0: F0d F1d F2u B2u F3u B3u B0d B1d\n"
            "dev1: F0d F2u F1d F3u B2u B0d B3u B1d\n"
            "dev2: F2u F0d F3u F1d B0d B2u B1d B3u\n"
            "dev3: F2u F3u F0d B0d F1d B1d B2u B3u\n");
  // The variant does not matter for the basic unit.
  EXPECT_EQ(render_schedule(chimera_schedule(4, 4, ChimeraVariant::forward_doubling)), render_schedule(s));
  EXPECT_EQ(render_schedule(chimera_schedule(4, 4, ChimeraVariant::backward_halving)), render_schedule(s));

  ExecutionResult equal = execute_schedule(s, StepCost::uniform(4, 1.0, 1.0));
  EXPECT_DOUBLE_EQ(equal.makespan, 10.0);
  expect_bubble(equal, 0.2);
  EXPECT_EQ(render_timeline(s, equal),
            "dev0 [F0d][F1d].....[F2u][B2u][F3u][B3u][B0d].....[B1d]\n"
            "dev1 .....[F0d][F2u][F1d][F3u][B2u][B0d][B3u][B1d].....\n"
            "dev2 .....[F2u][F0d][F3u][F1d][B0d][B2u][B1d][B3u].....\n"
            "dev3 [F2u][F3u].....[F0d][B0d][F1d][B1d][B2u].....[B3u]\n"
            "scale: one cell is 1 time unit, makespan 10\n");

  ExecutionResult doubled = execute_schedule(s, StepCost::uniform(4, 1.0, 2.0));
  EXPECT_DOUBLE_EQ(doubled.makespan, 16.0);
  expect_bubble(doubled, 0.25);
  EXPECT_EQ(render_timeline(s, doubled),
            "dev0 [F0d][F1d].....[F2u][B2u     ][F3u][B3u     ].....[B0d     ]..........[B1d     ]\n"
            "dev1 .....[F0d][F2u][F1d][F3u].....[B2u     ][B0d     ][B3u     ][B1d     ]..........\n"
            "dev2 .....[F2u][F0d][F3u][F1d].....[B0d     ][B2u     ][B1d     ][B3u     ]..........\n"
            "dev3 [F2u][F3u].....[F0d][B0d     ][F1d][B1d     ].....[B2u     ]..........[B3u     ]\n"
            "scale: one cell is 1 time unit, makespan 16\n");

  // The reference's comparison: 1F1B with the same D = N = 4 idles 3/7 = 0.429 of the time.
  expect_bubble(execute_schedule(one_f_one_b_schedule(4, 4), StepCost::uniform(4, 1.0, 1.0)), 3.0 / 7.0);
}

// The reference's checks (D = N = 4: 0.200, D = N = 8: 0.273, D = N = 32: 0.319) hold exactly with
// backward = forward; with backward = 2 x forward the same schedules give 2(D-2)/(5D-4).
TEST(ScheduleChimera, BasicUnitBubbleAgainstTheFormula) {
  for (int d = 2; d <= 32; d += 2) {
    SCOPED_TRACE(testing::Message() << "D=N=" << d);
    Schedule s = chimera_schedule(d, d, ChimeraVariant::direct);
    expect_bubble(execute_schedule(s, StepCost::uniform(d, 1.0, 1.0)), (d - 2.0) / (2.0 * d + d - 2.0));
    expect_bubble(execute_schedule(s, StepCost::uniform(d, 1.0, 2.0)), 2.0 * (d - 2) / (5.0 * d - 4));
  }
  EXPECT_NEAR(execute_schedule(chimera_schedule(8, 8, ChimeraVariant::direct), StepCost::uniform(8, 1, 1))
                  .max_bubble_fraction(),
              6.0 / 22.0, exact);  // 0.273 vs 1F1B 7/15 = 0.467
  EXPECT_NEAR(execute_schedule(chimera_schedule(8, 8, ChimeraVariant::direct), StepCost::uniform(8, 1, 2))
                  .max_bubble_fraction(),
              1.0 / 3.0, exact);
  EXPECT_NEAR(execute_schedule(chimera_schedule(32, 32, ChimeraVariant::direct), StepCost::uniform(32, 1, 1))
                  .max_bubble_fraction(),
              30.0 / 94.0, exact);  // 0.319
}

// N > D. Direct concatenation is seamless when backward = forward ((D-2)/(2N+D-2) exactly) and leaves
// intermediate bubbles when backward = 2 x forward. Forward doubling removes them: with backward = 2 x
// forward (and also with backward = forward) it gives (D-2)/(2N+D-2) exactly. Backward halving runs the
// forward doubling grid over 2N half micro-batches (each step costs half), so in the schedule's own
// micro-batches it is the same formula with N' = 2N.
TEST(ScheduleChimera, MoreMicroBatchesThanStages) {
  for (int d : {2, 4, 6, 8, 16})
    for (int k : {2, 4, 8}) {
      int n = k * d;
      SCOPED_TRACE(testing::Message() << "D=" << d << " N=" << n);
      double formula = (d - 2.0) / (2.0 * n + d - 2.0);
      Schedule direct = chimera_schedule(d, n, ChimeraVariant::direct);
      expect_bubble(execute_schedule(direct, StepCost::uniform(d, 1.0, 1.0)), formula);
      ExecutionResult direct_doubled = execute_schedule(direct, StepCost::uniform(d, 1.0, 2.0));
      if (d > 2) {
        EXPECT_GT(direct_doubled.max_bubble_fraction(), formula + 0.01);
      }

      Schedule doubling = chimera_schedule(d, n, ChimeraVariant::forward_doubling);
      EXPECT_EQ(doubling.micro_batch_fraction, 1.0);
      expect_bubble(execute_schedule(doubling, StepCost::uniform(d, 1.0, 2.0)), formula);
      expect_bubble(execute_schedule(doubling, StepCost::uniform(d, 1.0, 1.0)), formula);

      Schedule halving = chimera_schedule(d, n, ChimeraVariant::backward_halving);
      EXPECT_EQ(halving.micro_batches, 2 * n);
      EXPECT_EQ(halving.micro_batch_fraction, 0.5);
      expect_bubble(execute_schedule(halving, StepCost::uniform(d, 0.5, 1.0)),
                    (d - 2.0) / (2.0 * (2 * n) + d - 2.0));
    }
  // Measured intermediate bubbles of direct concatenation with backward = 2 x forward, D = 4: each unit
  // after the first costs 28 units for 24 of work.
  Schedule direct = chimera_schedule(4, 16, ChimeraVariant::direct);
  ExecutionResult r = execute_schedule(direct, StepCost::uniform(4, 1.0, 2.0));
  EXPECT_DOUBLE_EQ(r.makespan, 58.0);
  // Backward halving also works where forward doubling cannot (N an odd multiple of D).
  expect_complete(chimera_schedule(4, 12, ChimeraVariant::backward_halving));
  EXPECT_EQ(render_schedule(chimera_schedule(4, 8, ChimeraVariant::backward_halving)).substr(0, 53),
            "dev0: F0d F1d F2d F3d F4u F5u B4u F6u F7u B5u B0d B6u");
}

// Activation memory: forwards held before their backward, per device.
TEST(ScheduleMemory, PeakInFlightMicroBatches) {
  for (int d = 1; d <= 8; ++d)
    for (int n = 1; n <= 12; ++n) {
      EXPECT_EQ(peak_in_flight(gpipe_schedule(d, n)), std::vector<int>(static_cast<std::size_t>(d), n));
      std::vector<int> peaks = peak_in_flight(one_f_one_b_schedule(d, n));
      for (int i = 0; i < d; ++i)
        EXPECT_EQ(peaks[static_cast<std::size_t>(i)], std::min(d - i, n));
    }
  // Interleaved (in chunk activations, 1/v of a device's layers each): Megatron's warm-up plus one, capped.
  for (int p = 1; p <= 6; ++p)
    for (int v = 1; v <= 3; ++v)
      for (int m = p; m <= 3 * p; m += p) {
        std::vector<int> peaks = peak_in_flight(interleaved_1f1b_schedule(p, m, v));
        for (int i = 0; i < p; ++i) {
          int total = m * v;
          int warmup = m == p ? total : std::min((p - i - 1) * 2 + (v - 1) * p, total);
          EXPECT_EQ(peaks[static_cast<std::size_t>(i)], std::min(warmup + 1, total))
              << p << " " << m << " " << v;
        }
      }
  // Chimera (in stage activations): between D/2+1 and D, as the reference's table says; forward doubling
  // doubles it (less one at the ends).
  EXPECT_EQ(peak_in_flight(chimera_schedule(4, 4, ChimeraVariant::direct)), (std::vector<int>{3, 4, 4, 3}));
  EXPECT_EQ(peak_in_flight(chimera_schedule(8, 32, ChimeraVariant::direct)),
            (std::vector<int>{5, 6, 7, 8, 8, 7, 6, 5}));
  EXPECT_EQ(peak_in_flight(chimera_schedule(4, 8, ChimeraVariant::forward_doubling)),
            (std::vector<int>{7, 8, 8, 7}));
  // Backward halving: the same count, but of half micro-batches.
  EXPECT_EQ(peak_in_flight(chimera_schedule(4, 4 * 3, ChimeraVariant::backward_halving)),
            (std::vector<int>{7, 8, 8, 7}));
  // The executor reports the same numbers.
  Schedule s = one_f_one_b_schedule(4, 8);
  EXPECT_EQ(execute_schedule(s, StepCost::uniform(4, 1, 2)).peak_in_flight, peak_in_flight(s));
}

TEST(ScheduleExecutor, UnequalStagesByHand) {
  // GPipe, D = 2, N = 2, stage 1 three times slower (forward 1 | 3, backward 2 | 6):
  // dev0 F0 [0,1) F1 [1,2); dev1 F0 [1,4) F1 [4,7) B1 [7,13) B0 [13,19); dev0 B1 [13,15) B0 [19,21).
  Schedule s = gpipe_schedule(2, 2);
  ExecutionResult r = execute_schedule(s, StepCost{{1, 3}, {2, 6}});
  EXPECT_DOUBLE_EQ(r.makespan, 21.0);
  EXPECT_DOUBLE_EQ(r.timings[0][2].start, 13.0);
  EXPECT_DOUBLE_EQ(r.timings[0][3].start, 19.0);
  EXPECT_DOUBLE_EQ(r.timings[1][3].end, 19.0);
  EXPECT_DOUBLE_EQ(r.busy[0], 6.0);
  EXPECT_DOUBLE_EQ(r.busy[1], 18.0);
  EXPECT_NEAR(r.bubble_fraction[0], 1.0 - 6.0 / 21.0, exact);
  EXPECT_NEAR(r.bubble_fraction[1], 1.0 - 18.0 / 21.0, exact);
  EXPECT_NEAR(r.mean_bubble_fraction(), 1.0 - 12.0 / 21.0, exact);
  EXPECT_EQ(render_timeline(s, r),
            "dev0 [F0][F1]............................................[B1    ]................[B0    ]\n"
            "dev1 ....[F0        ][F1        ][B1                    ][B0                    ]........\n"
            "scale: one cell is 1 time unit, makespan 21\n");
}

TEST(ScheduleExecutor, RejectsCostsThatDoNotFitTheSchedule) {
  Schedule s = one_f_one_b_schedule(4, 8);
  EXPECT_EQ(input_error([&] { execute_schedule(s, StepCost::uniform(3, 1, 2)); }),
            "step costs give 3 forward and 3 backward durations for a schedule of 4 stages");
  StepCost negative = StepCost::uniform(4, 1, 2);
  negative.backward[2] = -1;
  EXPECT_EQ(input_error([&] { execute_schedule(s, negative); }),
            "stage 2 backward duration must be finite and non-negative (got -1)");
}

TEST(ScheduleExecutor, DetectsDeadlocksAndMalformedSchedules) {
  // Device 1 puts the backward of micro-batch 0 before its forward; device 0, waiting for B1 from device 1,
  // is only a bystander, and the message follows the wait to device 1.
  Schedule s = gpipe_schedule(2, 2);
  s.steps[1] = {Step{StepKind::forward, 1, 0, 0, 1}, Step{StepKind::backward, 0, 0, 0, 1},
                Step{StepKind::forward, 0, 0, 0, 1}, Step{StepKind::backward, 1, 0, 0, 1}};
  EXPECT_EQ(
      logic_error([&] { execute_schedule(s, StepCost::uniform(2, 1, 2)); }),
      "schedule deadlock: device 1 cannot run its step 1, B0 (stage 1): it needs F0 (stage 1), which comes "
      "later in its own order");

  Schedule missing = one_f_one_b_schedule(2, 1);
  missing.steps[1].erase(missing.steps[1].begin());  // F0 at stage 1 is gone
  EXPECT_EQ(
      logic_error([&] { execute_schedule(missing, StepCost::uniform(2, 1, 1)); }),
      "schedule deadlock: device 1 cannot run its step 0, B0 (stage 1): it needs F0 (stage 1), which no "
      "device runs");

  Schedule twice = gpipe_schedule(2, 2);
  twice.steps[0].push_back(twice.steps[0].front());
  EXPECT_EQ(logic_error([&] { execute_schedule(twice, StepCost::uniform(2, 1, 1)); }),
            "schedule runs F0 (stage 0) twice");

  Schedule misplaced = gpipe_schedule(2, 2);
  misplaced.steps[0][0].stage = 1;
  EXPECT_EQ(logic_error([&] { execute_schedule(misplaced, StepCost::uniform(2, 1, 1)); }),
            "schedule puts F0 (stage 1) on device 0, but that stage is on device 1");
  Schedule mislabelled = interleaved_1f1b_schedule(2, 2, 2);
  mislabelled.steps[1][0].chunk = 1;
  EXPECT_EQ(logic_error([&] { execute_schedule(mislabelled, StepCost::uniform(4, 1, 1)); }),
            "schedule gives F0.1 (stage 1) chunk 1, but that stage is chunk 0 of device 1");
}

TEST(ScheduleRender, PerDeviceOrder) {
  EXPECT_EQ(render_schedule(one_f_one_b_schedule(3, 4)),
            "dev0: F0 F1 F2 B0 F3 B1 B2 B3\n"
            "dev1: F0 F1 B0 F2 B1 F3 B2 B3\n"
            "dev2: F0 B0 F1 B1 F2 B2 F3 B3\n");
  // GPipe runs the backwards last micro-batch first.
  EXPECT_EQ(render_schedule(gpipe_schedule(2, 3)),
            "dev0: F0 F1 F2 B2 B1 B0\n"
            "dev1: F0 F1 F2 B2 B1 B0\n");
  // Megatron's interleaving, p = 2, m = 4, v = 2: chunk 0 of micro-batches 0 and 1, then chunk 1 of the same,
  // then 2 and 3; warm-up 4 forwards on device 0, 2 on device 1; backwards visit the chunks in reverse.
  EXPECT_EQ(render_schedule(interleaved_1f1b_schedule(2, 4, 2)),
            "dev0: F0.0 F1.0 F0.1 F1.1 F2.0 B0.1 F3.0 B1.1 F2.1 B0.0 F3.1 B1.0 B2.1 B3.1 B2.0 B3.0\n"
            "dev1: F0.0 F1.0 F0.1 B0.1 F1.1 B1.1 F2.0 B0.0 F3.0 B1.0 F2.1 B2.1 F3.1 B3.1 B2.0 B3.0\n");
  // m == p: Megatron runs every forward first.
  EXPECT_EQ(render_schedule(interleaved_1f1b_schedule(2, 2, 2)),
            "dev0: F0.0 F1.0 F0.1 F1.1 B0.1 B1.1 B0.0 B1.0\n"
            "dev1: F0.0 F1.0 F0.1 F1.1 B0.1 B1.1 B0.0 B1.0\n");
  // Device names are padded so that the steps line up past ten devices.
  std::string wide = render_schedule(gpipe_schedule(11, 1));
  EXPECT_EQ(wide.substr(0, 15), "dev0:  F0 B0\nde");
}

TEST(ScheduleRender, TimelineGrid) {
  // 1F1B, D = 3, N = 4, backward = 2 x forward: makespan (4 + 2) * 3 = 18.
  Schedule s = one_f_one_b_schedule(3, 4);
  ExecutionResult r = execute_schedule(s, StepCost::uniform(3, 1, 2));
  EXPECT_EQ(render_timeline(s, r),
            "dev0 [F0][F1][F2]................[B0    ][F3][B1    ]....[B2    ]....[B3    ]\n"
            "dev1 ....[F0][F1]........[B0    ][F2][B1    ][F3][B2    ]....[B3    ]........\n"
            "dev2 ........[F0][B0    ][F1][B1    ][F2][B2    ][F3][B3    ]................\n"
            "scale: one cell is 1 time unit, makespan 18\n");
  // Non-integer times: one cell per shortest step (0.5 here).
  Schedule g = gpipe_schedule(2, 1);
  EXPECT_EQ(render_timeline(g, execute_schedule(g, StepCost::uniform(2, 0.5, 1.0))),
            "dev0 [F0]............[B0    ]\n"
            "dev1 ....[F0][B0    ]........\n"
            "scale: one cell is 0.5 time units, makespan 3\n");
  EXPECT_THROW(render_timeline(g, r), InputError);
}

// Not a timing assertion (performance targets live in benchmarks): the sizes the issue names must run in
// linear time; a quadratic executor would take minutes here.
TEST(SchedulePerformance, LargePipelinesRunInLinearTime) {
  auto t0 = std::chrono::steady_clock::now();
  Schedule g = gpipe_schedule(64, 2048);
  ExecutionResult rg = execute_schedule(g, StepCost::uniform(64, 1.0, 2.0));
  auto t1 = std::chrono::steady_clock::now();
  Schedule o = one_f_one_b_schedule(64, 512);
  ExecutionResult ro = execute_schedule(o, StepCost::uniform(64, 1.0, 2.0));
  auto t2 = std::chrono::steady_clock::now();
  expect_bubble(rg, 63.0 / (2048 + 63));
  expect_bubble(ro, 63.0 / (512 + 63));
  EXPECT_EQ(g.total_steps(), 64u * 2048u * 2u);
  RecordProperty("gpipe_64x2048_ms",
                 std::to_string(std::chrono::duration<double, std::milli>(t1 - t0).count()));
  RecordProperty("1f1b_64x512_ms",
                 std::to_string(std::chrono::duration<double, std::milli>(t2 - t1).count()));
  std::printf("gpipe 64x2048 generate+execute: %.1f ms; 1f1b 64x512: %.1f ms\n",
              std::chrono::duration<double, std::milli>(t1 - t0).count(),
              std::chrono::duration<double, std::milli>(t2 - t1).count());
}
