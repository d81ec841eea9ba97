// Training iterations on SimGrid: collective probes on the real groups, the pipeline on actors, gradients
// last.
#include "training/training_runner.hpp"

#include <cmath>
#include <fmt/format.h>
#include <map>
#include <simgrid/s4u/Host.hpp>

#include "core/units.hpp"
#include "cost/roofline.hpp"
#include "sim/collectives.hpp"
#include "sim/comm.hpp"
#include "sim/engine.hpp"
#include "training/pipeline_runner.hpp"

namespace whatif::training {

namespace sg = simgrid::s4u;
using nlohmann::json;

namespace {

double ops_time(const std::vector<Op>& ops, const cost::RooflineModel& roofline, Precision precision) {
  double t = 0;
  for (const Op& op : ops)
    t += roofline.duration({op.op_class, precision, op.flops, op.bytes, op.shape});
  return t;
}

// Simulated time of one collective on a group of GPUs, memoised: the platform is symmetric, so one run per
// (operation, group size, bytes) on a representative group stands for all of them.
class CollectiveProbe {
 public:
  explicit CollectiveProbe(sim::SimEngine& engine) : engine_(engine) {}
  double time(sim::CollectiveOp op, const std::vector<std::string>& hosts, double bytes) {
    if (hosts.size() < 2 || bytes <= 0) return 0.0;
    auto key = std::make_tuple(static_cast<int>(op), hosts, static_cast<std::uint64_t>(bytes));
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    std::vector<sg::Host*> hs;
    std::vector<int> nodes;
    std::map<std::string, int> node_index;
    for (const auto& h : hosts) {
      sg::Host* host = sg::Host::by_name(h);
      hs.push_back(host);
      nodes.push_back(
          node_index.emplace(host->get_property("node"), static_cast<int>(node_index.size())).first->second);
    }
    sim::Communicator comm("probe", hs, nodes);
    double start = engine_.now();
    sim::launch_collective(op, comm, static_cast<std::uint64_t>(bytes));
    engine_.run();
    double t = engine_.now() - start;
    cache_[key] = t;
    return t;
  }

 private:
  sim::SimEngine& engine_;
  std::map<std::tuple<int, std::vector<std::string>, std::uint64_t>, double> cache_;
};

}  // namespace

report::WorkloadOutput run_training(const TrainingSpec& spec, const platform::PlatformSpec& platform,
                                    sim::SimEngine& engine) {
  const TransformerConfig& m = spec.model;
  const ParallelLayout& l = spec.layout;
  const platform::GpuModel& gpu = platform.gpus.at(spec.gpu_model);
  cost::RooflineModel roofline(gpu);
  const int p = l.pipeline, t = l.tensor, d = l.data, v = l.virtual_stages;
  Schedule schedule = generate_schedule(spec.schedule, p, l.micro_batches(), v, spec.variant);
  const double fraction = schedule.micro_batch_fraction;
  const int stages = schedule.stages();
  const int layers_per_stage = m.layers / stages;
  CollectiveProbe probe(engine);

  auto host_of = [&](int tensor, int pipe, int data) {
    return spec.gpu_hosts[gpu_of(l, {tensor, pipe, data})];
  };
  auto tensor_group = [&](int pipe) {
    std::vector<std::string> hs;
    for (int i = 0; i < t; ++i)
      hs.push_back(host_of(i, pipe, 0));
    return hs;
  };

  // Per-stage step costs: compute by the roofline, plus the tensor-parallel allreduces, which Megatron runs
  // between the GEMMs of a layer (not overlapped), plus the allgather that rebuilds a scattered activation.
  BlockOps layer = layer_ops(m, l.micro_batch, t, l.recompute);
  BlockOps embedding = embedding_ops(m, l.micro_batch, t);
  BlockOps output = output_ops(m, l.micro_batch, t);
  const double boundary_full =
      static_cast<double>(m.sequence) * l.micro_batch * m.hidden * bytes_per_element(m.precision);
  const double boundary = (spec.scatter_gather && t > 1 ? boundary_full / t : boundary_full) * fraction;
  StepCost cost = StepCost::uniform(stages, 0, 0);
  double tp_per_step_forward = 0, tp_per_step_backward = 0;
  for (int stage = 0; stage < stages; ++stage) {
    int device = schedule.device_of(0, stage);
    std::vector<std::string> group = tensor_group(device);
    double tp_f = 0, tp_b = 0;
    for (double bytes : layer.forward_allreduce_bytes)
      tp_f += probe.time(sim::CollectiveOp::allreduce, group, bytes * fraction);
    for (double bytes : layer.backward_allreduce_bytes)
      tp_b += probe.time(sim::CollectiveOp::allreduce, group, bytes * fraction);
    double f = layers_per_stage * (ops_time(layer.forward, roofline, m.precision) * fraction + tp_f);
    double b = layers_per_stage * (ops_time(layer.backward, roofline, m.precision) * fraction + tp_b);
    if (stage == 0) {
      f += ops_time(embedding.forward, roofline, m.precision) * fraction;
      b += ops_time(embedding.backward, roofline, m.precision) * fraction;
    }
    if (stage == stages - 1) {
      f += ops_time(output.forward, roofline, m.precision) * fraction;
      b += ops_time(output.backward, roofline, m.precision) * fraction;
    }
    if (spec.scatter_gather && t > 1) {
      double gather = probe.time(sim::CollectiveOp::allgather, group, boundary_full * fraction);
      if (stage > 0) f += gather;
      if (stage < stages - 1) b += gather;
    }
    cost.forward[stage] = f;
    cost.backward[stage] = b;
    tp_per_step_forward = std::max(tp_per_step_forward, layers_per_stage * tp_f);
    tp_per_step_backward = std::max(tp_per_step_backward, layers_per_stage * tp_b);
  }

  // The pipeline of replica 0, tensor rank 0 standing for its group.
  std::vector<std::string> devices;
  for (int dev = 0; dev < p; ++dev)
    devices.push_back(host_of(0, dev, 0));
  PipelineRunInput input{&schedule, devices, cost, boundary};
  double pipeline_start = engine.now();
  ExecutionResult pipe = run_pipeline(input, engine);

  // Gradients: each GPU's share allreduced over its data-parallel group (and, in Chimera, over the devices
  // holding the other replica of its stages). With overlap, DDP-style buckets become ready evenly during the
  // device's last backward step and go out one after another; without, everything waits for that step.
  std::vector<double> grad_bytes(p), dp_time(p), dp_exposed(p), finish(p), memory(p);
  std::vector<MemoryBreakdown> mem(p);
  std::vector<int> in_flight = pipe.peak_in_flight;
  double optimizer = 0;
  for (int dev = 0; dev < p; ++dev) {
    bool chimera = spec.schedule == ScheduleKind::chimera;
    StageMemoryInput smi;
    smi.layers = layers_per_stage * v * (chimera ? 2 : 1);
    smi.tensor = t;
    smi.data = d;
    smi.micro_batch = l.micro_batch;
    smi.micro_batches_in_flight = static_cast<double>(in_flight[dev]) / v * fraction;
    smi.recompute = l.recompute;
    smi.zero_stage = l.zero_stage;
    smi.first_stage = schedule.device_of(0, 0) == dev || (chimera && schedule.device_of(1, 0) == dev);
    smi.last_stage =
        schedule.device_of(0, stages - 1) == dev || (chimera && schedule.device_of(1, stages - 1) == dev);
    mem[dev] = stage_memory(m, smi);
    grad_bytes[dev] = mem[dev].parameters * bytes_per_element(m.precision);
    std::vector<std::string> group;
    for (int k = 0; k < d; ++k) {
      group.push_back(host_of(0, dev, k));
      if (chimera) group.push_back(host_of(0, p - 1 - dev, k));
    }
    int buckets = l.overlap_grad_allreduce
                      ? std::max(1, static_cast<int>(std::ceil(grad_bytes[dev] / l.bucket_bytes)))
                      : 1;
    double bucket_time = probe.time(sim::CollectiveOp::allreduce, group, grad_bytes[dev] / buckets);
    dp_time[dev] = bucket_time * buckets;
    const auto& last = pipe.timings[dev].back();
    double end = last.end;
    if (l.overlap_grad_allreduce && buckets > 1) {
      double duration = last.end - last.start;
      end = last.start;
      for (int i = 0; i < buckets; ++i)
        end = std::max(end, last.start + duration * (i + 1) / buckets) + bucket_time;
    } else {
      end = last.end + bucket_time;
    }
    dp_exposed[dev] = end - last.end;
    finish[dev] = end;
    // Adam step: reads the 16-bit gradient and the fp32 master weight, momentum and variance, writes the
    // last three and the 16-bit weight: 2 + 12 + 12 + 2 = 28 bytes per parameter (its own share under
    // ZeRO-1).
    double params = mem[dev].parameters / (l.zero_stage == 1 ? d : 1);
    optimizer = std::max(
        optimizer, roofline.duration({OpClass::elementwise, Precision::fp32, 10 * params, 28 * params, {}}));
  }
  double iteration = *std::max_element(finish.begin(), finish.end()) + optimizer;
  (void)pipeline_start;

  // Report.
  report::WorkloadOutput out;
  double flops = megatron_flops(m, l.global_batch, l.recompute);
  int gpus = l.gpus();
  double tflops_per_gpu = flops / (iteration * gpus);
  double peak = roofline.peak_flops(OpClass::gemm, m.precision);
  report::Table table;
  table.title = fmt::format(
      "{} on {} GPUs (t={}, p={}, d={}, v={}), {} schedule, {} micro-batches of {}: one iteration", m.name,
      gpus, t, p, d, v, to_string(spec.schedule), l.micro_batches(), l.micro_batch);
  table.headers = {"stage GPU",         "fwd step (ms)",     "bwd step (ms)",   "bubble",
                   "TP comm/step (ms)", "DP allreduce (ms)", "DP exposed (ms)", "memory (GiB)"};
  table.right_align = {false, true, true, true, true, true, true, true};
  json stages_json = json::array();
  for (int dev = 0; dev < p; ++dev) {
    double f = 0, b = 0;
    for (int c = 0; c < v; ++c) {
      int stage = dev + c * p;
      if (spec.schedule == ScheduleKind::chimera) stage = dev;
      f += cost.forward[stage];
      b += cost.backward[stage];
    }
    double mem_total = mem[dev].total();
    table.rows.push_back({devices[dev], fmt::format("{:.3f}", f * 1e3), fmt::format("{:.3f}", b * 1e3),
                          fmt::format("{:.4f}", pipe.bubble_fraction[dev]),
                          fmt::format("{:.3f}", (tp_per_step_forward + tp_per_step_backward) * v * 1e3),
                          fmt::format("{:.3f}", dp_time[dev] * 1e3),
                          fmt::format("{:.3f}", dp_exposed[dev] * 1e3),
                          fmt::format("{:.2f}", mem_total / 1073741824.0)});
    stages_json.push_back({{"device", dev},
                           {"host", devices[dev]},
                           {"forward_s", f},
                           {"backward_s", b},
                           {"bubble_fraction", pipe.bubble_fraction[dev]},
                           {"dp_allreduce_s", dp_time[dev]},
                           {"dp_exposed_s", dp_exposed[dev]},
                           {"gradient_bytes", grad_bytes[dev]},
                           {"memory_bytes", mem_total},
                           {"activation_bytes", mem[dev].activations},
                           {"micro_batches_in_flight", in_flight[dev]}});
    if (mem_total > gpu.memory_size.value)
      out.warnings.push_back(fmt::format("stage {} needs {} per GPU, more than the {} of a {}", dev,
                                         core::format_quantity(mem_total, core::Dimension::size),
                                         core::format_quantity(gpu.memory_size.value, core::Dimension::size),
                                         gpu.name));
    for (size_t i = 0; i < schedule.steps[dev].size(); ++i) {
      const Step& s = schedule.steps[dev][i];
      out.timeline.add(devices[dev], step_label(schedule, s),
                       s.kind == StepKind::forward ? "forward" : "backward", pipe.timings[dev][i].start,
                       pipe.timings[dev][i].end);
    }
    if (finish[dev] > pipe.timings[dev].back().end)
      out.timeline.add(devices[dev], "gradient allreduce", "data-parallel", pipe.timings[dev].back().end,
                       finish[dev]);
  }
  for (const auto& w : spec.warnings)
    out.warnings.push_back(w);
  out.metrics = {{"model", m.name},
                 {"parameters", parameter_count(m)},
                 {"gpus", gpus},
                 {"tensor", t},
                 {"pipeline", p},
                 {"data", d},
                 {"virtual_stages", v},
                 {"schedule", std::string(to_string(spec.schedule))},
                 {"micro_batches", l.micro_batches()},
                 {"mode", "symmetric"},
                 {"iteration_time_s", iteration},
                 {"pipeline_time_s", pipe.makespan},
                 {"optimizer_time_s", optimizer},
                 {"samples_per_s", l.global_batch / iteration},
                 {"tokens_per_s", static_cast<double>(l.global_batch) * m.sequence / iteration},
                 {"flops_per_iteration", flops},
                 {"model_tflops_per_gpu", tflops_per_gpu / 1e12},
                 {"percent_of_peak", 100.0 * tflops_per_gpu / peak},
                 {"mean_bubble_fraction", pipe.mean_bubble_fraction()},
                 {"stages", stages_json}};
  out.tables.push_back(table);
  out.table_files.push_back("stages.csv");
  out.summary_lines.push_back(fmt::format(
      "iteration {:.3f} s, {:.1f} samples/s, {:.0f} tokens/s, {:.1f} TFLOP/s per GPU ({:.1f} % of {:.0f} "
      "TFLOP/s), "
      "bubble {:.3f}",
      iteration, l.global_batch / iteration, static_cast<double>(l.global_batch) * m.sequence / iteration,
      tflops_per_gpu / 1e12, 100.0 * tflops_per_gpu / peak, peak / 1e12, pipe.mean_bubble_fraction()));
  return out;
}

}  // namespace whatif::training
