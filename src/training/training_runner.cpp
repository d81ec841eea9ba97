// Training iterations on SimGrid: collective probes on the real groups, the pipeline on actors, gradients
// last.
#include "training/training_runner.hpp"

#include <cmath>
#include <fmt/format.h>
#include <functional>
#include <map>
#include <memory>
#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Host.hpp>

#include "core/units.hpp"
#include "cost/registry.hpp"
#include "sim/collectives.hpp"
#include "sim/comm.hpp"
#include "sim/engine.hpp"
#include "training/pipeline_runner.hpp"

namespace whatif::training {

namespace sg = simgrid::s4u;
using nlohmann::json;

namespace {

double ops_time(const std::vector<Op>& ops, const cost::CostRegistry& costs, Precision precision) {
  double t = 0;
  for (const Op& op : ops)
    t += costs.duration(op.name, {op.op_class, precision, op.flops, op.bytes, op.shape});
  return t;
}

// The node of each host, numbered 0..N-1 in order of first appearance (what hierarchical collectives need).
std::vector<int> nodes_of(const std::vector<sg::Host*>& hosts) {
  std::map<std::string, int> index;
  std::vector<int> out;
  for (sg::Host* h : hosts)
    out.push_back(index.emplace(h->get_property("node"), static_cast<int>(index.size())).first->second);
  return out;
}

// One step of a ring: send `bytes` to the next rank, receive the previous rank's.
void ring_exchange(sim::Communicator& c, int rank, double bytes) {
  const int n = c.size();
  if (n < 2 || bytes <= 0) return;
  sim::Request sent = c.isend(rank, (rank + 1) % n, static_cast<std::uint64_t>(bytes));
  c.recv(rank, (rank + n - 1) % n);
  sent.wait();
}

// Simulated time of one collective on a group of GPUs, memoised: the platform is symmetric, so one run per
// (operation, group size, bytes) on a representative group stands for all of them.
class CollectiveProbe {
 public:
  explicit CollectiveProbe(sim::SimEngine& engine) : engine_(engine) {}
  double time(sim::CollectiveOp op, const std::vector<std::string>& hosts, double bytes) {
    return measure(static_cast<int>(op), hosts, bytes, [&](sim::Communicator& comm) {
      sim::launch_collective(op, comm, static_cast<std::uint64_t>(bytes));
    });
  }
  // The same for one ring exchange of `bytes` per rank.
  double exchange_time(const std::vector<std::string>& hosts, double bytes) {
    return measure(-1, hosts, bytes, [&](sim::Communicator& comm) {
      sim::spawn_ranks(comm, "exchange", [&comm, bytes](int rank) { ring_exchange(comm, rank, bytes); });
    });
  }

 private:
  sim::SimEngine& engine_;
  std::map<std::tuple<int, std::vector<std::string>, std::uint64_t>, double> cache_;

  // Runs what `launch` starts on a communicator over `hosts` once per (kind, hosts, bytes).
  double measure(int kind, const std::vector<std::string>& hosts, double bytes,
                 const std::function<void(sim::Communicator&)>& launch) {
    if (hosts.size() < 2 || bytes <= 0) return 0.0;
    auto key = std::make_tuple(kind, hosts, static_cast<std::uint64_t>(bytes));
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    std::vector<sg::Host*> hs;
    for (const auto& h : hosts)
      hs.push_back(sg::Host::by_name(h));
    sim::Communicator comm("probe", hs, nodes_of(hs));
    const double start = engine_.now();
    launch(comm);
    engine_.run();
    return cache_[key] = engine_.now() - start;
  }
};

// Full mode's fused form of collectives that run back to back on one group: one ring exchange carrying what
// each rank sends its successor in the ring algorithms (2(n-1)/n S for an allreduce of S, (n-1)/n S for an
// allgather of S), then a wait for what the separate collectives take beyond that exchange when run alone
// (their latency terms and algorithm steps). Alone it takes as long as the collectives; among other traffic
// it loads the ring's links with the same bytes. Replacing 2(n-1) messages per collective and a dozen
// collectives per step by one message is what makes full mode affordable for thousands of GPUs. Where the
// ring is not a faithful stand-in (the exchange alone is slower than the collectives, e.g. a hierarchical
// allreduce across nodes), the group keeps its real collectives; `mode: full-exact` keeps them everywhere.
struct Fused {
  bool exact = true;  // run the real collectives
  double bytes = 0, extra = 0;
};

Fused fuse(CollectiveProbe& probe, const std::vector<std::string>& group,
           const std::vector<std::pair<sim::CollectiveOp, double>>& ops) {
  const double n = static_cast<double>(group.size());
  Fused f;
  if (n < 2) return f;
  double separate = 0;
  for (const auto& [op, bytes] : ops) {
    separate += probe.time(op, group, bytes);
    f.bytes += (op == sim::CollectiveOp::allreduce ? 2 : 1) * (n - 1) / n * bytes;
  }
  double exchange = probe.exchange_time(group, f.bytes);
  f.exact = exchange > separate * (1 + 1e-6);
  f.extra = std::max(0.0, separate - exchange);
  return f;
}

void run_fused(sim::Communicator& c, int rank, const Fused& f) {
  ring_exchange(c, rank, f.bytes);
  if (f.extra > 0) sg::this_actor::sleep_for(f.extra);
}

// Full mode: one actor per GPU. Each plays its pipeline device's schedule for its (tensor, data) replica,
// running every tensor-parallel allreduce and pipeline allgather as a real collective with its tensor group
// and sending its slice of each activation to the same tensor rank of the next stage; gradients go out over
// its data-parallel group, overlapped like the symmetric mode's (a helper actor sends the buckets as they
// become ready during the last backward step).
struct FullPlan {
  const TrainingSpec* spec;
  const Schedule* schedule;
  StepCost compute;  // per stage, without collectives
  StepCost planned;  // per stage, with the probes' collective times: when gradient buckets become ready
  std::vector<double> tp_forward, tp_backward;  // allreduce bytes per layer
  double boundary = 0, gather_bytes = 0;
  int layers_per_stage = 1;
  std::vector<int> buckets;
  std::vector<double> grad_bytes;
  // Fused collectives: a step's on its tensor group, by (pipeline device, forward, whether it gathers its
  // input), (device * 2 + forward) * 2 + gathers: the allgather of a scattered input and the tensor-parallel
  // allreduces; one gradient bucket's allreduce, by device.
  std::vector<Fused> step_fused, bucket_fused;
};

struct FullResult {
  ExecutionResult pipe;        // timings of replica (tensor 0, data 0)
  std::vector<double> finish;  // per pipeline device, the last of its GPUs to finish its gradients
};

FullResult run_full(const FullPlan& plan, sim::SimEngine& engine) {
  const TrainingSpec& spec = *plan.spec;
  const Schedule& s = *plan.schedule;
  const ParallelLayout& l = spec.layout;
  const int p = l.pipeline, t = l.tensor, d = l.data;
  const bool chimera = spec.schedule == ScheduleKind::chimera;
  const bool gather = spec.scatter_gather && t > 1;
  auto host = [&](int i, int j, int k) { return sg::Host::by_name(spec.gpu_hosts[gpu_of(l, {i, j, k})]); };
  auto make = [](const std::string& name, std::vector<sg::Host*> hosts) {
    auto nodes = nodes_of(hosts);
    return std::make_unique<sim::Communicator>(name, std::move(hosts), std::move(nodes));
  };
  // Communicators: tensor groups per (stage, replica), pipelines per (tensor rank, replica), gradient groups
  // per (tensor rank, stage pair).
  std::vector<std::unique_ptr<sim::Communicator>> tp(p * d), pp(t * d), dp(t * p);
  std::vector<int> dp_rank(static_cast<size_t>(t) * p * d);
  for (int j = 0; j < p; ++j)
    for (int k = 0; k < d; ++k) {
      std::vector<sg::Host*> hs;
      for (int i = 0; i < t; ++i)
        hs.push_back(host(i, j, k));
      tp[j * d + k] = make("tp", hs);
    }
  for (int i = 0; i < t; ++i)
    for (int k = 0; k < d; ++k) {
      std::vector<sg::Host*> hs;
      for (int j = 0; j < p; ++j)
        hs.push_back(host(i, j, k));
      pp[i * d + k] = make("pp", hs);
    }
  for (int i = 0; i < t; ++i)
    for (int j = 0; j < p; ++j) {
      int owner = chimera ? std::min(j, p - 1 - j) : j;
      if (owner != j) continue;
      std::vector<sg::Host*> hs;
      for (int k = 0; k < d; ++k) {
        dp_rank[(static_cast<size_t>(i) * p + j) * d + k] = static_cast<int>(hs.size());
        hs.push_back(host(i, j, k));
        if (chimera) {
          dp_rank[(static_cast<size_t>(i) * p + (p - 1 - j)) * d + k] = static_cast<int>(hs.size());
          hs.push_back(host(i, p - 1 - j, k));
        }
      }
      dp[i * p + j] = make("dp", hs);
      if (chimera) dp[i * p + (p - 1 - j)] = nullptr;
    }
  auto dp_comm = [&](int i, int j) -> sim::Communicator& {
    return *dp[i * p + (chimera ? std::min(j, p - 1 - j) : j)];
  };

  const BoundaryTags tags(s);
  FullResult r;
  r.pipe.timings.resize(p);
  for (int j = 0; j < p; ++j)
    r.pipe.timings[j].resize(s.steps[j].size());
  r.finish.assign(p, 0.0);
  const double start = engine.now();
  auto allreduce = [](sim::Communicator& c, int rank, double bytes) {
    sim::run_collective(sim::CollectiveOp::allreduce, c, rank, static_cast<std::uint64_t>(bytes));
  };

  for (int g = 0; g < l.gpus(); ++g) {
    RankCoord c = coord_of(l, g);
    sg::Host* h = host(c.tensor, c.pipeline, c.data);
    sg::Actor::create(fmt::format("gpu{}", g), h, [&, c, h] {
      const int i = c.tensor, j = c.pipeline, k = c.data;
      sim::Communicator& tpc = *tp[j * d + k];
      sim::Communicator& ppc = *pp[i * d + k];
      const double speed = h->get_speed();
      StageOutbox outbox(ppc, j, tags.fifo());
      sg::ActorPtr grads;
      const auto& steps = s.steps[j];
      for (size_t x = 0; x < steps.size(); ++x) {
        const Step& step = steps[x];
        const bool forward = step.kind == StepKind::forward;
        int from = forward ? step.stage - 1 : step.stage + 1;
        bool has_input = from >= 0 && from < s.stages();
        if (has_input && s.device_of(step.pipeline, from) != j)
          ppc.recv(j, s.device_of(step.pipeline, from),
                   tags.tag(step.pipeline, from, step.kind, step.micro_batch));
        double begin = sg::Engine::get_clock();
        if (x + 1 == steps.size() && plan.buckets[j] > 1) {
          // Gradient buckets become ready evenly over this last backward step.
          double planned = forward ? plan.planned.forward[step.stage] : plan.planned.backward[step.stage];
          int n = plan.buckets[j];
          double bytes = plan.grad_bytes[j] / n;
          sim::Communicator* dpc = &dp_comm(i, j);
          int rank = dp_rank[(static_cast<size_t>(i) * p + j) * d + k];
          grads = sg::Actor::create(fmt::format("grads{}", gpu_of(l, c)), h, [=] {
            for (int b = 0; b < n; ++b) {
              double ready = begin + planned * (b + 1) / n;
              if (sg::Engine::get_clock() < ready) sg::this_actor::sleep_until(ready);
              if (!plan.bucket_fused[j].exact)
                run_fused(*dpc, rank, plan.bucket_fused[j]);
              else
                sim::run_collective(sim::CollectiveOp::allreduce, *dpc, rank,
                                    static_cast<std::uint64_t>(bytes));
            }
          });
        }
        double seconds = forward ? plan.compute.forward[step.stage] : plan.compute.backward[step.stage];
        const bool gathers = gather && has_input;
        const Fused& fused = plan.step_fused[(j * 2 + forward) * 2 + gathers];
        if (!fused.exact) {
          // The collectives' latency excess runs with the compute; their bytes go out in one exchange.
          if (seconds + fused.extra > 0) sg::this_actor::execute((seconds + fused.extra) * speed);
          ring_exchange(tpc, i, fused.bytes);
        } else {
          if (gathers)
            sim::run_collective(sim::CollectiveOp::allgather, tpc, i,
                                static_cast<std::uint64_t>(plan.gather_bytes));
          if (seconds > 0) sg::this_actor::execute(seconds * speed);
          if (t > 1)
            for (int layer = 0; layer < plan.layers_per_stage; ++layer)
              for (double bytes : forward ? plan.tp_forward : plan.tp_backward)
                allreduce(tpc, i, bytes);
        }
        if (i == 0 && k == 0) r.pipe.timings[j][x] = {begin - start, sg::Engine::get_clock() - start};
        int to = forward ? step.stage + 1 : step.stage - 1;
        if (to >= 0 && to < s.stages() && s.device_of(step.pipeline, to) != j)
          outbox.send(s.device_of(step.pipeline, to), static_cast<std::uint64_t>(plan.boundary),
                      tags.tag(step.pipeline, step.stage, step.kind, step.micro_batch));
      }
      outbox.finish();
      const int rank = dp_rank[(static_cast<size_t>(i) * p + j) * d + k];
      if (grads)
        grads->join();
      else if (!plan.bucket_fused[j].exact)
        run_fused(dp_comm(i, j), rank, plan.bucket_fused[j]);
      else
        allreduce(dp_comm(i, j), rank, plan.grad_bytes[j]);
      double done = sg::Engine::get_clock() - start;
      r.finish[j] = std::max(r.finish[j], done);
    });
  }
  engine.run();

  summarise_timings(s, r.pipe);
  return r;
}

}  // namespace

report::WorkloadOutput run_training(const TrainingSpec& spec, const platform::PlatformSpec& platform,
                                    sim::SimEngine& engine) {
  const TransformerConfig& m = spec.model;
  const ParallelLayout& l = spec.layout;
  const platform::GpuModel& gpu = platform.gpus.at(spec.gpu_model);
  cost::CostRegistry costs(gpu);
  for (const auto& [op, c] : spec.op_costs)
    costs.use_kernel_trace(op, c.seconds, c.source);
  const cost::RooflineModel& roofline = costs.roofline();
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
  StepCost compute = StepCost::uniform(stages, 0, 0);  // the same steps without their collectives
  double tp_per_step_forward = 0, tp_per_step_backward = 0;
  for (int stage = 0; stage < stages; ++stage) {
    int device = schedule.device_of(0, stage);
    std::vector<std::string> group = tensor_group(device);
    double tp_f = 0, tp_b = 0;
    for (double bytes : layer.forward_allreduce_bytes)
      tp_f += probe.time(sim::CollectiveOp::allreduce, group, bytes * fraction);
    for (double bytes : layer.backward_allreduce_bytes)
      tp_b += probe.time(sim::CollectiveOp::allreduce, group, bytes * fraction);
    // Compute alone (what full mode executes), then with the collectives charged by their probes.
    double cf = layers_per_stage * ops_time(layer.forward, costs, m.precision) * fraction;
    double cb = layers_per_stage * ops_time(layer.backward, costs, m.precision) * fraction;
    double f = layers_per_stage * (ops_time(layer.forward, costs, m.precision) * fraction + tp_f);
    double b = layers_per_stage * (ops_time(layer.backward, costs, m.precision) * fraction + tp_b);
    auto add_ops = [&](const BlockOps& ops) {
      double of = ops_time(ops.forward, costs, m.precision) * fraction;
      double ob = ops_time(ops.backward, costs, m.precision) * fraction;
      f += of, cf += of, b += ob, cb += ob;
    };
    if (stage == 0) add_ops(embedding);
    if (stage == stages - 1) add_ops(output);
    if (spec.scatter_gather && t > 1) {
      double gather = probe.time(sim::CollectiveOp::allgather, group, boundary_full * fraction);
      if (stage > 0) f += gather;
      if (stage < stages - 1) b += gather;
    }
    cost.forward[stage] = f;
    cost.backward[stage] = b;
    compute.forward[stage] = cf;
    compute.backward[stage] = cb;
    tp_per_step_forward = std::max(tp_per_step_forward, layers_per_stage * tp_f);
    tp_per_step_backward = std::max(tp_per_step_backward, layers_per_stage * tp_b);
  }

  // The pipeline of replica 0, tensor rank 0 standing for its group.
  std::vector<std::string> devices;
  for (int dev = 0; dev < p; ++dev)
    devices.push_back(host_of(0, dev, 0));

  // Gradients: each GPU's share allreduced over its data-parallel group (and, in Chimera, over the devices
  // holding the other replica of its stages). With overlap, DDP-style buckets become ready evenly during the
  // device's last backward step and go out one after another; without, everything waits for that step.
  const bool chimera = spec.schedule == ScheduleKind::chimera;
  std::vector<double> grad_bytes(p), dp_time(p), dp_exposed(p), finish(p), bucket_time(p);
  std::vector<int> buckets(p);
  std::vector<MemoryBreakdown> mem(p);
  std::vector<int> in_flight = peak_in_flight(schedule);
  auto dp_group = [&](int dev, int tensor) {
    std::vector<std::string> group;
    for (int k = 0; k < d; ++k) {
      group.push_back(host_of(tensor, dev, k));
      if (chimera) group.push_back(host_of(tensor, p - 1 - dev, k));
    }
    return group;
  };
  double optimizer = 0;
  for (int dev = 0; dev < p; ++dev) {
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
    buckets[dev] = l.overlap_grad_allreduce
                       ? std::max(1, static_cast<int>(std::ceil(grad_bytes[dev] / l.bucket_bytes)))
                       : 1;
    bucket_time[dev] =
        probe.time(sim::CollectiveOp::allreduce, dp_group(dev, 0), grad_bytes[dev] / buckets[dev]);
    dp_time[dev] = bucket_time[dev] * buckets[dev];
    // Adam step: reads the 16-bit gradient and the fp32 master weight, momentum and variance, writes the
    // last three and the 16-bit weight: 2 + 12 + 12 + 2 = 28 bytes per parameter (its own share under
    // ZeRO-1).
    double params = mem[dev].parameters / (l.zero_stage == 1 ? d : 1);
    optimizer = std::max(
        optimizer, roofline.duration({OpClass::elementwise, Precision::fp32, 10 * params, 28 * params, {}}));
  }

  ExecutionResult pipe;
  if (!spec.full) {
    pipe = run_pipeline({&schedule, devices, cost, boundary}, engine);
    // A gradient bucket goes out when every member of its group has it: in Chimera the group also holds the
    // device with the other replica of the stage, whose last backward ends at another time.
    auto ready = [&](int dev, int b) {
      const auto& last = pipe.timings[dev].back();
      return buckets[dev] > 1 ? last.start + (last.end - last.start) * (b + 1) / buckets[dev] : last.end;
    };
    for (int dev = 0; dev < p; ++dev) {
      int partner = chimera ? p - 1 - dev : dev;
      double end = 0;
      for (int b = 0; b < buckets[dev]; ++b)
        end = std::max({end, ready(dev, b), ready(partner, b)}) + bucket_time[dev];
      finish[dev] = end;
    }
  } else {
    FullPlan plan{
        &spec,   &schedule,  compute, cost, {}, {}, boundary, boundary_full * fraction, layers_per_stage,
        buckets, grad_bytes, {},      {}};
    for (double bytes : layer.forward_allreduce_bytes)
      plan.tp_forward.push_back(bytes * fraction);
    for (double bytes : layer.backward_allreduce_bytes)
      plan.tp_backward.push_back(bytes * fraction);
    plan.step_fused.resize(4 * p);
    plan.bucket_fused.resize(p);
    if (spec.fused)
      for (int dev = 0; dev < p; ++dev) {
        std::vector<std::string> group = tensor_group(dev);
        for (bool forward : {false, true})
          for (bool gathers : {false, true}) {
            std::vector<std::pair<sim::CollectiveOp, double>> ops;
            if (gathers) ops.emplace_back(sim::CollectiveOp::allgather, plan.gather_bytes);
            for (int n = 0; n < layers_per_stage; ++n)
              for (double bytes : forward ? plan.tp_forward : plan.tp_backward)
                ops.emplace_back(sim::CollectiveOp::allreduce, bytes);
            plan.step_fused[(dev * 2 + forward) * 2 + gathers] = fuse(probe, group, ops);
          }
        plan.bucket_fused[dev] =
            fuse(probe, dp_group(dev, 0), {{sim::CollectiveOp::allreduce, grad_bytes[dev] / buckets[dev]}});
      }
    FullResult full = run_full(plan, engine);
    pipe = full.pipe;
    finish = full.finish;
  }
  for (int dev = 0; dev < p; ++dev)
    dp_exposed[dev] = finish[dev] - pipe.timings[dev].back().end;
  // What the pipeline's messages cost: the same steps executed with free communication.
  const ExecutionResult free_comm = execute_schedule(schedule, cost);
  double iteration = *std::max_element(finish.begin(), finish.end()) + optimizer;

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
  table.headers = {
      "stage GPU",         "fwd step (ms)",   "bwd step (ms)", "bubble", "TP comm per micro-batch (ms)",
      "DP allreduce (ms)", "DP exposed (ms)", "memory (GiB)"};
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
  for (const auto& line : costs.describe())
    out.summary_lines.push_back("op priced by a kernel trace: " + line);
  out.metrics = {{"model", m.name},
                 {"parameters", parameter_count(m)},
                 {"gpus", gpus},
                 {"tensor", t},
                 {"pipeline", p},
                 {"data", d},
                 {"virtual_stages", v},
                 {"schedule", std::string(to_string(spec.schedule))},
                 {"micro_batches", l.micro_batches()},
                 {"mode", spec.full ? "full" : "symmetric"},
                 {"iteration_time_s", iteration},
                 {"pipeline_time_s", pipe.makespan},
                 {"pipeline_time_free_communication_s", free_comm.makespan},
                 {"pipeline_communication_exposed_s", pipe.makespan - free_comm.makespan},
                 {"tensor_parallel_per_micro_batch_s", (tp_per_step_forward + tp_per_step_backward) * v},
                 {"optimizer_time_s", optimizer},
                 {"samples_per_s", l.global_batch / iteration},
                 {"tokens_per_s", static_cast<double>(l.global_batch) * m.sequence / iteration},
                 {"flops_per_iteration", flops},
                 {"model_tflops_per_gpu", tflops_per_gpu / 1e12},
                 {"percent_of_peak", 100.0 * tflops_per_gpu / peak},
                 {"mean_bubble_fraction", pipe.mean_bubble_fraction()},
                 {"op_costs", costs.describe()},
                 {"stages", stages_json}};
  out.tables.push_back(table);
  out.table_files.push_back("stages.csv");
  out.summary_lines.push_back(fmt::format(
      "pipeline {:.3f} s, of which {:.3f} s exposed pipeline communication (the same schedule with free "
      "messages takes {:.3f} s); gradient allreduce exposed {:.3f} s; optimizer {:.3f} s",
      pipe.makespan, pipe.makespan - free_comm.makespan, free_comm.makespan,
      *std::max_element(dp_exposed.begin(), dp_exposed.end()), optimizer));
  out.summary_lines.push_back(fmt::format(
      "iteration {:.3f} s, {:.1f} samples/s, {:.0f} tokens/s, {:.1f} TFLOP/s per GPU ({:.1f} % of {:.0f} "
      "TFLOP/s), "
      "bubble {:.3f}",
      iteration, l.global_batch / iteration, static_cast<double>(l.global_batch) * m.sequence / iteration,
      tflops_per_gpu / 1e12, 100.0 * tflops_per_gpu / peak, peak / 1e12, pipe.mean_bubble_fraction()));
  return out;
}

}  // namespace whatif::training
