// Simulation tests of the pipeline runner: with free communication it must reproduce the exact schedule
// executor step for step; with real messages its times must match a hand computation. One engine per process.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "platform/builder.hpp"
#include "platform/spec.hpp"
#include "sim/engine.hpp"
#include "cost/roofline.hpp"
#include "training/pipeline_runner.hpp"
#include "training/training_runner.hpp"

using namespace whatif;
using namespace whatif::training;

namespace {

sim::SimEngine* the_engine = nullptr;

std::vector<std::string> first_gpus(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i)
    out.push_back(platform::gpu_host_name(fmt::format("{}{}", prefix, i), 0));
  return out;
}

void expect_same_timeline(const ExecutionResult& simulated, const ExecutionResult& exact,
                          const std::string& what) {
  ASSERT_EQ(simulated.timings.size(), exact.timings.size()) << what;
  for (size_t d = 0; d < exact.timings.size(); ++d)
    for (size_t i = 0; i < exact.timings[d].size(); ++i) {
      EXPECT_NEAR(simulated.timings[d][i].start, exact.timings[d][i].start, 1e-9)
          << what << " dev" << d << " step " << i;
      EXPECT_NEAR(simulated.timings[d][i].end, exact.timings[d][i].end, 1e-9)
          << what << " dev" << d << " step " << i;
    }
  EXPECT_NEAR(simulated.makespan, exact.makespan, 1e-9) << what;
  for (size_t d = 0; d < exact.bubble_fraction.size(); ++d)
    EXPECT_NEAR(simulated.bubble_fraction[d], exact.bubble_fraction[d], 1e-9) << what;
}

}  // namespace

// zero-latency-star-8.yaml: empty messages cost nothing, so every schedule's simulated timeline must be the
// executor's, for equal and unequal stages (forward 1 ms, backward 2 ms; stage k of the unequal case takes
// (k + 1) ms forward).
TEST(PipelineRunner, FreeCommunicationReproducesTheExecutor) {
  platform::build_platform(platform::load_platform("tests/data/platforms/zero-latency-star-8.yaml"));
  struct Case {
    ScheduleKind kind;
    int devices, micro_batches, chunks;
    ChimeraVariant variant;
  };
  // GPipe with 64 micro-batches: in the unequal case each stage's outbox holds dozens of activations its
  // slower successor has not taken yet.
  std::vector<Case> cases = {{ScheduleKind::gpipe, 4, 8, 1, ChimeraVariant::direct},
                             {ScheduleKind::gpipe, 4, 64, 1, ChimeraVariant::direct},
                             {ScheduleKind::one_f_one_b, 4, 8, 1, ChimeraVariant::direct},
                             {ScheduleKind::one_f_one_b, 8, 3, 1, ChimeraVariant::direct},
                             {ScheduleKind::interleaved_1f1b, 4, 8, 2, ChimeraVariant::direct},
                             {ScheduleKind::chimera, 4, 4, 1, ChimeraVariant::direct},
                             {ScheduleKind::chimera, 4, 8, 1, ChimeraVariant::forward_doubling}};
  for (const Case& c : cases) {
    Schedule s = generate_schedule(c.kind, c.devices, c.micro_batches, c.chunks, c.variant);
    for (bool unequal : {false, true}) {
      StepCost cost = StepCost::uniform(s.stages(), 1e-3, 2e-3);
      if (unequal)
        for (int k = 0; k < s.stages(); ++k)
          cost.forward[k] = (k + 1) * 1e-3, cost.backward[k] = 2 * (k + 1) * 1e-3;
      PipelineRunInput in{&s, first_gpus("z", c.devices), cost, 0};
      std::string what = fmt::format("{} D={} N={} v={}{}", to_string(c.kind), c.devices, c.micro_batches,
                                     c.chunks, unequal ? " unequal" : "");
      expect_same_timeline(run_pipeline(in, *the_engine), execute_schedule(s, cost), what);
    }
  }
}

// GPipe and 1F1B receive from each neighbour in sending order, so one FIFO mailbox per device pair is enough;
// the check must say so, and must not for an order that is not FIFO (the free-communication test above runs
// every schedule through whichever way the check picks).
TEST(PipelineRunner, FifoMailboxesOnlyWhenTheOrderAllowsIt) {
  EXPECT_TRUE(BoundaryTags(generate_schedule(ScheduleKind::gpipe, 8, 32)).fifo());
  EXPECT_TRUE(BoundaryTags(generate_schedule(ScheduleKind::one_f_one_b, 8, 32)).fifo());
  Schedule swapped = generate_schedule(ScheduleKind::gpipe, 2, 2);
  std::swap(swapped.steps[1][0], swapped.steps[1][1]);  // device 1 takes micro-batch 1 before 0
  BoundaryTags tags(swapped);
  EXPECT_FALSE(tags.fifo());
  EXPECT_NE(tags.tag(0, 0, StepKind::forward, 0), tags.tag(0, 0, StepKind::forward, 1));
}

// uniform-star-8.yaml: a message of S bytes between two GPUs takes 2 us + S / 10 GB/s; S = 1e6 B -> 102 us.
// 1F1B over 2 devices, 1 micro-batch, forward 1 ms, backward 2 ms:
//   dev0 F0 [0, 1 ms] -> activation 102 us -> dev1 F0 [1.102, 2.102] -> dev1 B0 [2.102, 4.102]
//   -> gradient 102 us -> dev0 B0 [4.204, 6.204]; makespan 6.204 ms.
TEST(PipelineRunner, MessagesBetweenStagesByHand) {
  platform::build_platform(platform::load_platform("tests/data/platforms/uniform-star-8.yaml"));
  Schedule s = generate_schedule(ScheduleKind::one_f_one_b, 2, 1);
  PipelineRunInput in{&s, first_gpus("n", 2), StepCost::uniform(2, 1e-3, 2e-3), 1e6};
  ExecutionResult r = run_pipeline(in, *the_engine);
  EXPECT_NEAR(r.timings[0][0].end, 1e-3, 1e-12);
  EXPECT_NEAR(r.timings[1][0].start, 1.102e-3, 1e-12);
  EXPECT_NEAR(r.timings[1][1].end, 4.102e-3, 1e-12);
  EXPECT_NEAR(r.timings[0][1].start, 4.204e-3, 1e-12);
  EXPECT_NEAR(r.makespan, 6.204e-3, 1e-12);
}

// Pure data parallelism on uniform-star-8.yaml (alpha = 2 us, beta = 10 GB/s between GPUs), no overlap: one
// iteration is m micro-batches of forward + backward (the roofline's times for the model's ops), then the
// ring allreduce of the fp16 gradients over the 8 GPUs, 2(n-1) alpha + 2(n-1)/n G / beta, then the Adam step
// (28 bytes per parameter at the roofline's memory rate).
TEST(TrainingRunner, DataParallelIterationByHand) {
  platform::PlatformSpec spec = platform::load_platform("tests/data/platforms/uniform-star-8.yaml");
  platform::build_platform(spec);
  TrainingSpec t;
  t.model = {"tiny", 8, 512, 8, 256, 8192, 0, Precision::fp16};
  t.layout.data = 8, t.layout.micro_batch = 2, t.layout.global_batch = 64;  // m = 64 / (2 x 8) = 4
  t.layout.overlap_grad_allreduce = false;
  t.gpu_model = "V100-SXM2-16GB";
  t.gpus_per_node = 1;
  t.gpu_hosts = first_gpus("n", 8);
  report::WorkloadOutput out = run_training(t, spec, *the_engine);

  cost::RooflineModel roofline(spec.gpus.at("V100-SXM2-16GB"));
  auto time = [&](const std::vector<Op>& ops) {
    double sum = 0;
    for (const Op& op : ops)
      sum += roofline.duration({op.op_class, Precision::fp16, op.flops, op.bytes, op.shape});
    return sum;
  };
  BlockOps layer = layer_ops(t.model, 2, 1, Recompute::none);
  BlockOps emb = embedding_ops(t.model, 2, 1), outp = output_ops(t.model, 2, 1);
  double f = 8 * time(layer.forward) + time(emb.forward) + time(outp.forward);
  double b = 8 * time(layer.backward) + time(emb.backward) + time(outp.backward);
  StageMemoryInput smi;
  smi.layers = 8, smi.data = 8, smi.micro_batch = 2, smi.first_stage = smi.last_stage = true;
  double params = stage_memory(t.model, smi).parameters;
  double G = 2 * params;
  ASSERT_GT(G, 8.0 * 1048576);  // large enough for auto to pick the ring
  double allreduce = 14 * 2e-6 + 1.75 * G / 1e10;
  double adam = roofline.duration({OpClass::elementwise, Precision::fp32, 10 * params, 28 * params, {}});
  double expected = 4 * (f + b) + allreduce + adam;
  EXPECT_NEAR(out.metrics["iteration_time_s"].get<double>(), expected, 1e-3 * expected);
  EXPECT_NEAR(out.metrics["tokens_per_s"].get<double>(), 64.0 * 256 / expected, 1e-3 * 64.0 * 256 / expected);
  EXPECT_EQ(out.metrics["mean_bubble_fraction"].get<double>(), 0.0);
}

// An op priced by a kernel trace costs what the spec says wherever it runs: with layernorm-1 (once per layer,
// forward) fixed at 1 ms, the 8-layer single stage's forward step grows by 8 x (1 ms - its roofline time)
// and its backward step not at all.
TEST(TrainingRunner, KernelTraceCostReplacesTheRoofline) {
  platform::PlatformSpec spec = platform::load_platform("tests/data/platforms/uniform-star-8.yaml");
  platform::build_platform(spec);
  TrainingSpec t;
  t.model = {"tiny", 8, 512, 8, 256, 8192, 0, Precision::fp16};
  t.layout.data = 8, t.layout.micro_batch = 2, t.layout.global_batch = 64;
  t.gpu_model = "V100-SXM2-16GB";
  t.gpus_per_node = 1;
  t.gpu_hosts = first_gpus("n", 8);
  auto step = [&](const char* which) {
    return run_training(t, spec, *the_engine).metrics["stages"][0][which].get<double>();
  };
  const double f0 = step("forward_s"), b0 = step("backward_s");
  t.op_costs["layernorm-1"] = {1e-3, "test"};
  const double f1 = step("forward_s"), b1 = step("backward_s");
  cost::RooflineModel roofline(spec.gpus.at("V100-SXM2-16GB"));
  double roofline_time = -1;
  for (const Op& op : layer_ops(t.model, 2, 1, Recompute::none).forward)
    if (op.name == "layernorm-1")
      roofline_time = roofline.duration({op.op_class, Precision::fp16, op.flops, op.bytes, op.shape});
  ASSERT_GT(roofline_time, 0);
  EXPECT_NEAR(f1 - f0, 8 * (1e-3 - roofline_time), 1e-12);
  EXPECT_NEAR(b1, b0, 1e-15);
}

// On a symmetric platform (two DGX A100 nodes) the symmetric mode, which simulates one replica's pipeline and
// charges each collective by a probe on its real group, must agree with the full mode, which simulates all 16
// GPUs, with fused collectives and with every collective message by message (full-exact). All run in this
// one engine, one after the other. They are not bit-identical:
// in full mode a GPU's tensor-parallel allreduces share its NVLink with the pipeline messages still in
// flight, which the probes measure alone (measured gap: 1e-5 for 1F1B, 1.2e-3 for Chimera, whose two
// pipelines keep more messages in flight); 0.5 % bounds it.
TEST(TrainingRunner, SymmetricModeAgreesWithFullMode) {
  platform::PlatformSpec spec = platform::load_platform("platforms/dgx-a100.yaml", {{"nodes", "2"}});
  platform::build_platform(spec);
  TrainingSpec t;
  t.model = {"small", 16, 1024, 16, 512, 8192, 0, Precision::bf16};
  t.gpu_model = "A100-SXM4-80GB";
  t.gpus_per_node = 8;
  for (const char* node : {"dgx0", "dgx1"})
    for (int g = 0; g < 8; ++g)
      t.gpu_hosts.push_back(platform::gpu_host_name(node, g));
  struct Case {
    ScheduleKind kind;
    int tensor, pipeline, data, virtual_stages;
    bool overlap;
  };
  for (Case c :
       {Case{ScheduleKind::one_f_one_b, 2, 4, 2, 1, true}, Case{ScheduleKind::one_f_one_b, 2, 2, 4, 1, false},
        Case{ScheduleKind::interleaved_1f1b, 1, 4, 4, 2, true}, Case{ScheduleKind::chimera, 2, 4, 2, 1, true},
        Case{ScheduleKind::gpipe, 4, 4, 1, 1, true}}) {
    t.schedule = c.kind;
    t.layout.tensor = c.tensor, t.layout.pipeline = c.pipeline, t.layout.data = c.data;
    t.layout.virtual_stages = c.virtual_stages;
    t.layout.micro_batch = 2;
    t.layout.global_batch = 2 * c.data * 8;  // 8 micro-batches per pipeline
    t.layout.overlap_grad_allreduce = c.overlap;
    t.layout.bucket_bytes = 8e6;
    std::string what = fmt::format("{} t={} p={} d={} v={}", to_string(c.kind), c.tensor, c.pipeline, c.data,
                                   c.virtual_stages);
    t.full = false;
    double symmetric = run_training(t, spec, *the_engine).metrics["iteration_time_s"].get<double>();
    t.full = true;
    for (bool fused : {true, false}) {
      t.fused = fused;
      double full = run_training(t, spec, *the_engine).metrics["iteration_time_s"].get<double>();
      EXPECT_NEAR(full, symmetric, 5e-3 * symmetric) << what << (fused ? " full" : " full-exact");
    }
  }
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  sim::SimEngine engine;
  the_engine = &engine;
  return RUN_ALL_TESTS();
}
