// MPI replay on SimGrid: point-to-point matching as MPI defines it (communicator, source, tag, wildcards,
// non-overtaking), eager and rendezvous transfers, requests, collectives through the shared library.
#include "mpi/replay.hpp"

#include <fmt/format.h>
#include <simgrid/Exception.hpp>
#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Comm.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Semaphore.hpp>
#include <simgrid/s4u/Host.hpp>

#include <algorithm>
#include <cmath>
#include <deque>
#include <exception>
#include <fstream>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <stdexcept>
#include <unordered_map>

#include "core/diagnostics.hpp"
#include "mpi/functions.hpp"
#include "mpi/program.hpp"
#include "mpi/signature.hpp"
#include "sim/collectives.hpp"
#include "sim/comm.hpp"

namespace whatif::mpi {

namespace sg = simgrid::s4u;

std::string_view to_string(MpiLibrary library) {
  return library == MpiLibrary::mpich ? "mpich" : "openmpi";
}

MpiLibrary parse_mpi_library(std::string_view name) {
  if (name == "mpich") return MpiLibrary::mpich;
  if (name == "openmpi" || name == "open-mpi") return MpiLibrary::openmpi;
  throw std::invalid_argument(fmt::format("unknown MPI library '{}' (one of: mpich, openmpi)", name));
}

std::vector<std::string> place_ranks(const platform::PlatformSpec& platform, int ranks,
                                     const std::string& map, std::vector<std::string>& warnings) {
  struct Socket {
    std::string host;
    long node;
    int cores;
  };
  std::vector<Socket> sockets;
  for (const auto& node : platform::node_instances(platform)) {
    const auto& cpu = platform.cpus.at(node.type->cpu_model);
    for (int c = 0; c < node.type->cpu_count; ++c)
      sockets.push_back(
          {platform::cpu_host_name(node.name, c), node.index, static_cast<int>(cpu.cores.value)});
  }
  if (sockets.empty())
    throw core::InputError(platform.file + ": the platform has no CPU sockets to run ranks on");
  std::vector<std::string> hosts;
  long slots = 0;
  for (const auto& s : sockets)
    slots += s.cores;
  if (map == "block") {
    for (int r = 0; hosts.size() < static_cast<std::size_t>(ranks); ++r) {
      long slot = r % slots;
      for (const auto& s : sockets) {
        if (slot < s.cores) {
          hosts.push_back(s.host);
          break;
        }
        slot -= s.cores;
      }
    }
  } else if (map == "round-robin") {
    // Nodes in turn; within a node, its sockets' cores in order.
    std::map<long, std::vector<std::string>> node_slots;
    for (const auto& s : sockets)
      for (int c = 0; c < s.cores; ++c)
        node_slots[s.node].push_back(s.host);
    std::vector<std::vector<std::string>> by_node;
    for (auto& [n, v] : node_slots)
      by_node.push_back(std::move(v));
    for (int r = 0; r < ranks; ++r) {
      const auto& v = by_node[static_cast<std::size_t>(r) % by_node.size()];
      hosts.push_back(v[(static_cast<std::size_t>(r) / by_node.size()) % v.size()]);
    }
  } else {
    std::ifstream in(map);
    if (!in)
      throw core::InputError(
          fmt::format("--map: '{}' is neither block, round-robin nor a readable file", map));
    std::string line;
    int number = 0;
    core::Diagnostics diag;
    while (std::getline(in, line)) {
      ++number;
      auto hash = line.find('#');
      if (hash != std::string::npos) line.resize(hash);
      auto b = line.find_first_not_of(" \t\r");
      if (b == std::string::npos) continue;
      auto e = line.find_last_not_of(" \t\r");
      std::string host = line.substr(b, e - b + 1);
      bool known =
          std::any_of(sockets.begin(), sockets.end(), [&](const Socket& s) { return s.host == host; });
      if (!known) {
        std::vector<std::string> names;
        for (const auto& s : sockets)
          names.push_back(s.host);
        diag.error({map, number, static_cast<int>(b) + 1}, "rank", std::to_string(hosts.size()), "host",
                   fmt::format("'{}' is not a CPU host of {}{}", host, platform.name,
                               core::did_you_mean(host, names)));
      }
      hosts.push_back(host);
    }
    diag.throw_if_errors();
    if (hosts.size() != static_cast<std::size_t>(ranks))
      throw core::InputError(core::Location{map, number, 0},
                             fmt::format("lists {} host(s) but the trace has {} ranks", hosts.size(), ranks));
  }
  if (ranks > slots)
    warnings.push_back(fmt::format("{} ranks on {} cores: ranks share cores (oversubscribed)", ranks, slots));
  return hosts;
}

namespace {

// Default eager limits (bytes): MPICH's CH4 shared-memory transport switches to its large-message path above
// 64 KiB (MPIR_CVAR_CH4_SHM_POSIX_EAGER... cell size); Open MPI's vader BTL has btl_vader_eager_limit 4 KiB.
// Across nodes both use about 16 KiB (MPICH ch4:ofi, Open MPI ob1 over TCP/verbs).
double default_eager_threshold(MpiLibrary library, bool shared_memory) {
  if (shared_memory) return library == MpiLibrary::mpich ? 64 * 1024 : 4 * 1024;
  return 16 * 1024;
}

// The library's default algorithm for a collective of S bytes on n ranks, among those whatif implements.
sim::Algorithm default_algorithm(MpiLibrary library, sim::CollectiveOp op, double bytes, int n) {
  bool pow2 = n > 0 && (n & (n - 1)) == 0;
  switch (op) {
    case sim::CollectiveOp::allreduce:
      // MPICH: recursive doubling up to 2 KiB, Rabenseifner beyond. Open MPI (tuned): recursive doubling
      // below 10 000 B, ring above.
      if (library == MpiLibrary::mpich)
        return bytes <= 2048 ? sim::Algorithm::recursive_doubling : sim::Algorithm::rabenseifner;
      return bytes < 10000 ? sim::Algorithm::recursive_doubling : sim::Algorithm::ring;
    case sim::CollectiveOp::broadcast:
      // MPICH: binomial below 12 KiB or 8 ranks; its scatter + allgather for larger ones is replaced by the
      // pipelined chain. Open MPI: binomial below 2 KiB, pipelined above.
      if (library == MpiLibrary::mpich)
        return (bytes < 12288 || n < 8) ? sim::Algorithm::binomial : sim::Algorithm::pipelined;
      return bytes < 2048 ? sim::Algorithm::binomial : sim::Algorithm::pipelined;
    case sim::CollectiveOp::allgather:
      return (bytes < 81920 && pow2) ? sim::Algorithm::recursive_doubling : sim::Algorithm::ring;
    case sim::CollectiveOp::reduce:
      return sim::Algorithm::binomial;
    case sim::CollectiveOp::alltoall:
      return sim::Algorithm::pairwise;
    case sim::CollectiveOp::reduce_scatter:
      return sim::Algorithm::ring;
  }
  return sim::Algorithm::automatic;
}

struct Request;
using RequestPtr = std::shared_ptr<Request>;

struct Request {
  bool send = false;
  bool matched = false;  // has a partner (a receive: its message; a send: its receive, or eager)
  bool done = false;
  sg::CommPtr transfer;  // the data moving (null: nothing to move, e.g. a self message)
  int owner = 0;
  int id = kRequestNull;  // the recorded id it is remembered under (kRequestNull: none)
  // A receive's pattern (world ranks) and what a send carries.
  int context = 0, source = 0, tag = 0;
  double bytes = 0;
  // Persistent requests keep their parameters between starts.
  bool persistent = false;
  RequestPtr current;  // a persistent request's started instance (null while inactive)
  int dest = 0;
  bool synchronous = false;
};

struct Envelope {
  int context, source, tag;
  double bytes;
  RequestPtr send;  // its request (also for eager sends, whose request is already complete)
  sg::CommPtr transfer;
};

struct RankRuntime {
  sg::SemaphorePtr wakeup = sg::Semaphore::create(0);
  bool waiting = false;       // blocked on wakeup until a match or an arrival concerns it
  std::uint64_t episode = 0;  // counts the blocking waits that a transfer watcher may end
  std::list<Envelope> unexpected;
  std::list<RequestPtr> posted;
  std::unordered_map<int, std::deque<RequestPtr>> by_id;  // recorded id -> outstanding requests, oldest first
  std::deque<RequestPtr> untracked;
  std::vector<RequestPtr> persistent;  // in creation order
  std::size_t next_persistent = 0;
  // Where the rank is, for the deadlock report.
  std::uint64_t position = 0;
  int terminal = -1;  // the call being played
  bool finished = false;
};

bool matches(const Request& r, const Envelope& e) {
  return r.context == e.context && (r.source == kAnySource || r.source == e.source) &&
         (r.tag == kAnyTag || r.tag == e.tag);
}

class Replayer {
 public:
  Replayer(const PilgrimTrace& trace, const ReplayOptions& options, std::vector<std::string> hosts,
           const CommMap* comm_map)
      : trace_(trace), options_(options), host_names_(std::move(hosts)), registry_(trace.ranks, comm_map) {
    for (const auto& h : host_names_)
      hosts_.push_back(sg::Host::by_name(h));
    std::map<std::string, int> node_ids;
    for (auto* h : hosts_) {
      const char* node = h->get_property("node");  // platforms built by whatif name each host's node
      auto [it, fresh] = node_ids.emplace(node ? node : h->get_cname(), static_cast<int>(node_ids.size()));
      node_of_rank_.push_back(it->second);
    }
    bool all_one_host =
        std::all_of(hosts_.begin(), hosts_.end(), [&](sg::Host* h) { return h == hosts_.front(); });
    eager_ = options.eager_threshold >= 0 ? options.eager_threshold
                                          : default_eager_threshold(options.library, all_one_host);
    runtime_.resize(static_cast<std::size_t>(trace.ranks));
    report_.ranks.resize(static_cast<std::size_t>(trace.ranks));
    report_.eager_threshold = eager_;
    signatures_ = decode_signatures(trace);
    for (const Signature& s : signatures_)
      ops_.push_back(compile_call(s));
  }

  ReplayReport run(const std::function<void()>& run_engine) {
    for (int r = 0; r < trace_.ranks; ++r) {
      report_.ranks[r].rank = r;
      report_.ranks[r].host = host_names_[r];
      sg::Actor::create(fmt::format("rank{}", r), hosts_[r], [this, r] {
        // An error met while playing (a timing file cut short, a grammar found corrupt) ends the whole replay
        // and reaches the caller instead of escaping the actor, which SimGrid would turn into an abort.
        try {
          play(r);
        } catch (const simgrid::ForcefulKillException&) {
          throw;
        } catch (...) {
          if (!failure_) failure_ = std::current_exception();
          sg::Actor::kill_all();
        }
      });
    }
    try {
      run_engine();
    } catch (const sim::SimulationError&) {
      if (failure_) std::rethrow_exception(failure_);
      throw ReplayDeadlock(deadlock_report());
    }
    if (failure_) std::rethrow_exception(failure_);
    // SimGrid kills the actors of a deadlocked simulation, so the engine may return with ranks unfinished.
    if (std::any_of(runtime_.begin(), runtime_.end(), [](const RankRuntime& rt) { return !rt.finished; }))
      throw ReplayDeadlock(deadlock_report());
    for (auto& rr : report_.ranks) {
      report_.application_time = std::max(report_.application_time, rr.end);
      report_.calls += rr.calls;
      report_.messages += rr.messages;
    }
    report_.run_time = report_.application_time + options_.launch_overhead;
    for (auto& state : states_)
      for (const auto& n : state->notes())
        note(n);
    return std::move(report_);
  }

 private:
  void note(const std::string& text) {
    if (std::find(report_.notes.begin(), report_.notes.end(), text) == report_.notes.end())
      report_.notes.push_back(text);
  }

  std::string deadlock_report() const {
    std::string text = "replay deadlock: ranks wait for messages or partners that never come";
    for (int r = 0; r < trace_.ranks; ++r) {
      const auto& rt = runtime_[r];
      if (rt.finished) continue;
      text += fmt::format("\n  rank {} blocked in {} (call {} of {})", r,
                          rt.terminal < 0 ? std::string("its first call") : describe(r, rt.terminal),
                          rt.position, trace_.calls(r));
    }
    return text;
  }

  void record(int rank, std::string_view name, std::string_view category, double start, double end) {
    if (options_.timeline_limit == 0 || end <= start) return;
    if (report_.timeline.size() >= options_.timeline_limit) {
      report_.timeline_truncated = true;
      return;
    }
    report_.timeline.add(fmt::format("rank {}", rank), name, category, start, end);
  }

  // --- matching -------------------------------------------------------------------------------------------

  void wake(int rank) {
    auto& rt = runtime_[rank];
    if (rt.waiting) {
      rt.waiting = false;
      rt.wakeup->release();
    }
  }

  // Blocks the calling rank until something concerning it happens (a match, an arrival).
  void block(int rank) {
    runtime_[rank].waiting = true;
    runtime_[rank].wakeup->acquire();
  }

  sg::CommPtr start_transfer(int from, int to, double bytes) {
    if (from == to) return nullptr;
    // At least one byte: SimGrid 3.32 leaves a zero-byte sendto in STARTING until someone waits on it, so it
    // would only leave when received instead of when sent.
    auto size = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(bytes)));
    return sg::Comm::sendto_async(hosts_[from], hosts_[to], size);
  }

  void pair(const RequestPtr& recv, Envelope& env) {
    if (!env.transfer && !env.send->matched) {  // rendezvous: the data moves once both sides are there
      env.transfer = start_transfer(env.source, recv->owner, env.bytes);
      env.send->transfer = env.transfer;
      env.send->matched = true;
      wake(env.send->owner);
    }
    recv->transfer = env.transfer;
    recv->matched = true;
    recv->source = env.source;
    recv->tag = env.tag;
    wake(recv->owner);
  }

  RequestPtr post_send(int rank, int dest, int context, int tag, double bytes, bool synchronous) {
    auto req = std::make_shared<Request>();
    req->send = true;
    req->owner = rank;
    req->context = context;
    req->tag = tag;
    req->bytes = bytes;
    req->dest = dest;
    req->synchronous = synchronous;
    if (dest < 0) {  // MPI_PROC_NULL
      req->matched = req->done = true;
      return req;
    }
    ++report_.ranks[rank].messages;
    report_.ranks[rank].bytes_sent += bytes;
    Envelope env{context, rank, tag, bytes, req, nullptr};
    if (bytes <= eager_ && !synchronous) {
      env.transfer = start_transfer(rank, dest, bytes);
      req->transfer = nullptr;  // the sender is done once the data is handed over
      req->matched = true;
    }
    auto& rt = runtime_[dest];
    for (auto it = rt.posted.begin(); it != rt.posted.end(); ++it) {
      if (matches(**it, env)) {
        RequestPtr recv = *it;
        rt.posted.erase(it);
        pair(recv, env);
        return req;
      }
    }
    rt.unexpected.push_back(std::move(env));
    wake(dest);  // a probe may be waiting for it
    return req;
  }

  RequestPtr post_recv(int rank, int source, int context, int tag, double bytes) {
    auto req = std::make_shared<Request>();
    req->owner = rank;
    req->context = context;
    req->source = source;
    req->tag = tag;
    req->bytes = bytes;
    if (source == -1) {  // MPI_PROC_NULL
      req->matched = req->done = true;
      return req;
    }
    auto& rt = runtime_[rank];
    for (auto it = rt.unexpected.begin(); it != rt.unexpected.end(); ++it) {
      if (matches(*req, *it)) {
        Envelope env = std::move(*it);
        rt.unexpected.erase(it);
        pair(req, env);
        return req;
      }
    }
    rt.posted.push_back(req);
    return req;
  }

  bool test(const RequestPtr& r) {
    if (r->done) return true;
    if (!r->matched) return false;
    if (r->transfer && !r->transfer->test()) return false;
    r->done = true;
    return true;
  }

  void wait(int rank, const RequestPtr& r) {
    while (!r->matched)
      block(rank);
    // wait_any rather than wait: SimGrid 3.32's Comm::wait keeps one host-failure sleep action per side, and
    // the sender and the receiver of a rendezvous both wait on one transfer, which leaked the first waiter's
    // action.
    if (r->transfer) sg::Comm::wait_any({r->transfer});
    r->done = true;
  }

  // Blocks until `needed` of `reqs` are complete.
  void wait_some(int rank, const std::vector<RequestPtr>& reqs, std::size_t needed) {
    for (;;) {
      std::size_t done = 0;
      bool unmatched = false;
      std::vector<sg::CommPtr> moving;
      for (const auto& r : reqs) {
        if (test(r)) {
          ++done;
        } else if (!r->matched) {
          unmatched = true;
        } else {
          moving.push_back(r->transfer);
        }
      }
      if (done >= std::min(needed, reqs.size())) return;
      if (moving.empty()) {
        if (unmatched) block(rank);
      } else if (!unmatched || needed >= reqs.size()) {
        sg::Comm::wait_any(moving);  // no match can end the wait before a moving transfer does
      } else {
        // A match may complete the wait before any moving transfer does: block, and let a watcher wake this
        // rank when a transfer ends first. A watcher of an episode that ended already wakes nobody.
        auto& rt = runtime_[rank];
        const std::uint64_t episode = ++rt.episode;
        sg::Actor::create("watch", hosts_[rank], [this, rank, episode, moving] {
          sg::Comm::wait_any(moving);
          if (runtime_[rank].episode == episode) wake(rank);
        });
        block(rank);
        ++rt.episode;
      }
    }
  }

  // --- requests by recorded id ----------------------------------------------------------------------------

  void remember(int rank, int id, const RequestPtr& r) {
    if (id == kRequestNull) return;
    r->id = id;
    (id < 0 ? runtime_[rank].untracked : runtime_[rank].by_id[id]).push_back(r);
  }

  // The outstanding requests a recorded id can stand for, oldest first (Pilgrim reuses ids per call
  // signature, so two live requests can share one; -1 stands for any request of a call that records none).
  // Null, with a note, when nothing is outstanding under the id.
  std::deque<RequestPtr>* queue_of(int rank, int id) {
    auto& rt = runtime_[rank];
    std::deque<RequestPtr>* queue = nullptr;
    if (id < 0) {
      queue = &rt.untracked;
    } else if (auto it = rt.by_id.find(id); it != rt.by_id.end()) {
      queue = &it->second;
    }
    if (queue != nullptr && !queue->empty()) return queue;
    note(fmt::format("a wait or test names request {} with nothing outstanding under that id; ignored", id));
    return nullptr;
  }

  // MPI_Request_free: forget the oldest request under the id.
  void free_request(int rank, int id) {
    if (id == kRequestNull) return;
    if (auto* queue = queue_of(rank, id); queue && !queue->front()->persistent) queue->pop_front();
  }

  // The request a wait or test entry names: the oldest under its id not yet complete and not named by an
  // earlier entry of the same call (`taken`), since one call can hold two live requests that share an id.
  RequestPtr peek(int rank, int id, const std::vector<RequestPtr>& taken) {
    if (id == kRequestNull) return nullptr;
    auto* queue = queue_of(rank, id);
    if (queue == nullptr) return nullptr;
    auto free = [&](const RequestPtr& r) { return std::find(taken.begin(), taken.end(), r) == taken.end(); };
    for (const auto& r : *queue)
      if ((!r->done || r->persistent) && free(r)) return r;
    for (const auto& r : *queue)
      if (free(r)) return r;
    return queue->front();
  }

  void complete_requests(int rank, const CallOp& op) {
    // A test that found nothing only looks at its requests: no effect on the replay.
    if (op.completion == Completion::none) return;
    std::vector<RequestPtr> named, reqs;
    for (int id : op.requests) {
      RequestPtr r = peek(rank, id, named);
      if (!r) continue;
      named.push_back(r);
      if (r->persistent) r = r->current;  // waiting on a persistent request waits on its instance
      if (r) reqs.push_back(r);
    }
    std::size_t needed = op.completion == Completion::all   ? reqs.size()
                         : op.completion == Completion::any ? 1
                                                            : static_cast<std::size_t>(op.outcount);
    wait_some(rank, reqs, needed);
    // Retire what completed (for any/some, the ones the simulation finished, as many as the trace says).
    std::size_t retired = 0;
    for (auto& r : reqs) {
      if (retired >= needed) break;
      if (!r->done) continue;
      retire(rank, r);
      ++retired;
    }
  }

  void retire(int rank, const RequestPtr& r) {
    if (r->id == kRequestNull) return;  // a persistent request's instance, in no queue
    auto& rt = runtime_[rank];
    auto& q = r->id < 0 ? rt.untracked : rt.by_id[r->id];
    if (auto it = std::find(q.begin(), q.end(), r); it != q.end()) q.erase(it);
  }

  // --- collectives ----------------------------------------------------------------------------------------

  sim::Communicator& communicator(const CommGroup& g) {
    auto it = comms_.find(g.context);
    if (it != comms_.end()) return *it->second;
    std::vector<sg::Host*> hosts;
    std::vector<int> nodes;
    for (int m : g.members) {
      hosts.push_back(hosts_[m]);
      nodes.push_back(node_of_rank_[m]);
    }
    std::map<int, int> compact;
    for (int& n : nodes)
      n = compact.emplace(n, static_cast<int>(compact.size())).first->second;
    auto c = std::make_unique<sim::Communicator>(fmt::format("comm{}", g.context), hosts, nodes);
    return *comms_.emplace(g.context, std::move(c)).first->second;
  }

  void library_collective(sim::CollectiveOp op, sim::Communicator& comm, int me, double bytes, int root) {
    sim::CollectiveOptions o;
    o.root = root;
    auto b = static_cast<std::uint64_t>(std::llround(std::max(0.0, bytes)));
    o.algorithm = default_algorithm(options_.library, op, static_cast<double>(b), comm.size());
    try {
      sim::validate_collective(op, comm, b, o);
    } catch (const std::invalid_argument&) {
      o.algorithm = sim::resolve_algorithm(op, comm, b, sim::Algorithm::automatic);
    }
    sim::run_collective(op, comm, me, b, o);
  }

  void collective(RankState& st, const CallOp& op) {
    const CommGroup& g = st.comm(op.comm);
    int n = static_cast<int>(g.members.size());
    int me = g.local_rank_of(st.rank());
    if (me < 0 || n == 1) return;
    sim::Communicator& comm = communicator(g);
    ++report_.collectives;
    auto sum_bytes = [&](const std::vector<std::int64_t>& counts, int type) {
      double s = 0;
      for (auto c : counts)
        s += static_cast<double>(st.bytes(c, type));
      return s;
    };
    int root = std::clamp(op.root, 0, n - 1);
    switch (op.collective) {
      case Collective::barrier:
        // A dissemination-like exchange of empty messages: log2(n) latencies.
        library_collective(sim::CollectiveOp::allreduce, comm, me, 0, 0);
        break;
      case Collective::bcast:
        library_collective(sim::CollectiveOp::broadcast, comm, me, st.bytes(op.send_count, op.send_type),
                           root);
        break;
      case Collective::reduce:
        library_collective(sim::CollectiveOp::reduce, comm, me, st.bytes(op.send_count, op.send_type), root);
        break;
      case Collective::allreduce:
        library_collective(sim::CollectiveOp::allreduce, comm, me, st.bytes(op.send_count, op.send_type), 0);
        break;
      case Collective::allgather:
        library_collective(sim::CollectiveOp::allgather, comm, me,
                           static_cast<double>(n) * st.bytes(op.recv_count, op.recv_type), 0);
        break;
      case Collective::allgatherv:
        library_collective(sim::CollectiveOp::allgather, comm, me, sum_bytes(op.recv_counts, op.recv_type),
                           0);
        break;
      case Collective::alltoall:
        library_collective(sim::CollectiveOp::alltoall, comm, me,
                           static_cast<double>(n) * st.bytes(op.send_count, op.send_type), 0);
        break;
      case Collective::reduce_scatter_block:
        library_collective(sim::CollectiveOp::reduce_scatter, comm, me,
                           static_cast<double>(n) * st.bytes(op.recv_count, op.recv_type), 0);
        break;
      case Collective::reduce_scatter:
        library_collective(sim::CollectiveOp::reduce_scatter, comm, me,
                           sum_bytes(op.recv_counts, op.recv_type), 0);
        break;
      case Collective::gather:
      case Collective::gatherv:
        // Linear: every rank sends its block to the root (Open MPI's basic linear algorithm).
        if (me == root) {
          std::vector<sim::Request> rs;
          for (int p = 0; p < n; ++p)
            if (p != root) rs.push_back(comm.irecv(me, p));
          sim::wait_all(rs);
        } else {
          comm.send(me, root, static_cast<std::uint64_t>(st.bytes(op.send_count, op.send_type)));
        }
        break;
      case Collective::scatter:
      case Collective::scatterv:
        if (me == root) {
          std::vector<sim::Request> rs;
          for (int p = 0; p < n; ++p) {
            if (p == root) continue;
            std::int64_t count = op.collective == Collective::scatter
                                     ? op.send_count
                                     : (p < std::ssize(op.send_counts) ? op.send_counts[p] : 0);
            rs.push_back(comm.isend(me, p, static_cast<std::uint64_t>(st.bytes(count, op.send_type))));
          }
          sim::wait_all(rs);
        } else {
          comm.recv(me, root);
        }
        break;
      case Collective::alltoallv:
      case Collective::alltoallw:
        // Pairwise exchange with each rank's own counts: step k sends to me+k and receives from me-k.
        for (int k = 1; k < n; ++k) {
          int to = (me + k) % n, from = (me - k + n) % n;
          std::int64_t count = to < std::ssize(op.send_counts) ? op.send_counts[to] : 0;
          int type = op.collective == Collective::alltoallw && to < std::ssize(op.send_types)
                         ? op.send_types[to]
                         : op.send_type;
          sim::Request s = comm.isend(me, to, static_cast<std::uint64_t>(st.bytes(count, type)));
          comm.recv(me, from);
          s.wait();
        }
        break;
      case Collective::scan:
      case Collective::exscan: {
        // Recursive doubling, as MPICH does: log2(n) exchanges of the whole buffer.
        auto bytes = static_cast<std::uint64_t>(st.bytes(op.send_count, op.send_type));
        for (int mask = 1; mask < n; mask <<= 1) {
          int partner = me ^ mask;
          if (partner >= n) continue;
          sim::Request s = comm.isend(me, partner, bytes);
          comm.recv(me, partner);
          s.wait();
        }
        break;
      }
    }
  }

  // --- one rank -------------------------------------------------------------------------------------------

  void play(int rank) {
    auto state = std::make_unique<RankState>(rank, registry_);
    RankState& st = *state;
    states_.push_back(std::move(state));
    RankRuntime& rt = runtime_[rank];
    RankReport& rep = report_.ranks[rank];
    CallStream calls(trace_, rank);
    TimingStream times(trace_, rank);
    const bool timed = times.available();
    const double host_speed = hosts_[rank]->get_speed();
    double scale = options_.compute_scale;
    if (options_.traced_core_speed > 0) scale *= options_.traced_core_speed / host_speed;
    double pending = 0;  // compute owed before the next call that interacts with other ranks
    auto compute = [&] {
      if (pending <= 0) return;
      double c0 = sg::Engine::get_clock();
      sg::this_actor::execute(pending * host_speed);
      double c1 = sg::Engine::get_clock();
      rep.compute += c1 - c0;
      record(rank, "compute", "compute", c0, c1);
      pending = 0;
    };
    double previous_end = 0;
    int terminal = 0;
    CallTime t;
    while (calls.next(terminal)) {
      rt.position = calls.position();
      ++rep.calls;
      double gap = options_.call_gap;
      if (timed && times.next(t)) {
        gap = std::max(0.0, t.start - previous_end - options_.tracing_overhead);
        previous_end = t.end;
      }
      pending += gap * scale;
      const CallOp& op = ops_[static_cast<std::size_t>(terminal)];
      // Calls that only change this rank's tables, and tests that found nothing, take no simulated time.
      if (op.kind == OpKind::local || st.apply(op)) continue;
      if (op.kind == OpKind::wait && op.completion == Completion::none) continue;
      compute();
      rt.terminal = terminal;
      double t0 = sg::Engine::get_clock();
      double* bucket = execute(st, rank, op);
      double t1 = sg::Engine::get_clock();
      if (bucket) *bucket += t1 - t0;
      record(rank, function_name(op.function), "mpi", t0, t1);
    }
    compute();
    rep.end = sg::Engine::get_clock();
    rt.finished = true;
  }

  std::string describe(int rank, int terminal) const {
    const Signature& s = signatures_[static_cast<std::size_t>(terminal)];
    return fmt::format("{}({})", function_name(s.function), format_arguments(s, rank));
  }

  // Plays one call; returns the bucket its time belongs to.
  double* execute(RankState& st, int rank, const CallOp& op) {
    RankReport& rep = report_.ranks[rank];
    RankRuntime& rt = runtime_[rank];
    switch (op.kind) {
      // The send and receive sides of Send, Isend, Recv, Irecv and Sendrecv (Sendrecv is never synchronous).
      case OpKind::send:
      case OpKind::isend:
      case OpKind::recv:
      case OpKind::irecv:
      case OpKind::sendrecv: {
        int context = st.comm(op.comm).context;
        bool sends = op.kind == OpKind::send || op.kind == OpKind::isend || op.kind == OpKind::sendrecv;
        bool receives = op.kind == OpKind::recv || op.kind == OpKind::irecv || op.kind == OpKind::sendrecv;
        RequestPtr in = receives ? post_recv(rank, st.world_peer(op.comm, op.source), context, op.recv_tag,
                                             static_cast<double>(st.bytes(op.recv_count, op.recv_type)))
                                 : nullptr;
        RequestPtr out = sends ? post_send(rank, st.world_peer(op.comm, op.dest), context, op.send_tag,
                                           static_cast<double>(st.bytes(op.send_count, op.send_type)),
                                           op.synchronous && op.kind != OpKind::sendrecv)
                               : nullptr;
        if (op.kind == OpKind::isend || op.kind == OpKind::irecv) {
          remember(rank, op.request, out ? out : in);
        } else {
          if (out) wait(rank, out);
          if (in) wait(rank, in);
        }
        return &rep.point_to_point;
      }
      case OpKind::wait:
        complete_requests(rank, op);
        return &rep.waiting;
      case OpKind::probe: {
        int source = st.world_peer(op.comm, op.source);
        if (source == -1) return nullptr;
        int context = st.comm(op.comm).context;
        Request pattern;
        pattern.context = context;
        pattern.source = source;
        pattern.tag = op.recv_tag;
        for (;;) {
          bool found = std::any_of(rt.unexpected.begin(), rt.unexpected.end(),
                                   [&](const Envelope& e) { return matches(pattern, e); });
          if (found) break;
          block(rank);
        }
        return &rep.point_to_point;
      }
      case OpKind::collective: {
        collective(st, op);
        if (op.nonblocking) remember(rank, kUntrackedRequest, completed());
        return &rep.collectives;
      }
      case OpKind::persistent_init: {
        auto r = std::make_shared<Request>();
        r->persistent = true;
        r->owner = rank;
        r->send = op.function != fid::recv_init;
        r->context = st.comm(op.comm).context;
        if (r->send) {
          r->dest = st.world_peer(op.comm, op.dest);
          r->tag = op.send_tag;
          r->bytes = static_cast<double>(st.bytes(op.send_count, op.send_type));
          r->synchronous = op.synchronous;
        } else {
          r->source = st.world_peer(op.comm, op.source);
          r->tag = op.recv_tag;
          r->bytes = static_cast<double>(st.bytes(op.recv_count, op.recv_type));
        }
        rt.persistent.push_back(r);
        remember(rank, op.request, r);
        return nullptr;
      }
      case OpKind::start: {
        // Start records no request: start the persistent requests in creation order, round robin.
        if (rt.persistent.empty()) {
          note("MPI_Start/Startall without a recorded persistent request; ignored");
          return nullptr;
        }
        for (int k = 0; k < op.outcount; ++k) {
          RequestPtr p = rt.persistent[rt.next_persistent++ % rt.persistent.size()];
          RequestPtr live = p->send ? post_send(rank, p->dest, p->context, p->tag, p->bytes, p->synchronous)
                                    : post_recv(rank, p->source, p->context, p->tag, p->bytes);
          p->current = live;
        }
        note("MPI_Start records no request: persistent requests are started in creation order");
        return &rep.point_to_point;
      }
      case OpKind::request_free:
        for (int id : op.requests)
          free_request(rank, id);
        return nullptr;
      case OpKind::cancel:
        // Pilgrim records no argument: cancel the newest receive of this rank that has not matched (programs
        // cancel the receive they posted last, e.g. HPCC RandomAccess's wildcard receive).
        if (!rt.posted.empty()) {
          RequestPtr r = rt.posted.back();
          rt.posted.pop_back();
          r->matched = r->done = true;
          note("MPI_Cancel records no request: the rank's newest unmatched receive is cancelled");
        }
        return nullptr;
      default:
        return nullptr;
    }
  }

  static RequestPtr completed() {
    auto r = std::make_shared<Request>();
    r->matched = r->done = true;
    return r;
  }

  const PilgrimTrace& trace_;
  const ReplayOptions& options_;
  std::vector<std::string> host_names_;
  std::vector<sg::Host*> hosts_;
  std::vector<int> node_of_rank_;
  double eager_ = 0;
  CommRegistry registry_;
  std::vector<Signature> signatures_;
  std::vector<CallOp> ops_;
  std::vector<RankRuntime> runtime_;
  std::vector<std::unique_ptr<RankState>> states_;
  std::map<int, std::unique_ptr<sim::Communicator>> comms_;
  ReplayReport report_;
  std::exception_ptr failure_;  // the first error a rank met, rethrown once the engine stops
};

}  // namespace

ReplayReport replay_trace(const PilgrimTrace& trace, const platform::PlatformSpec& platform,
                          const ReplayOptions& options, sim::SimEngine& engine) {
  std::vector<std::string> warnings;
  std::vector<std::string> hosts = place_ranks(platform, trace.ranks, options.map, warnings);
  // Ranks sharing a socket need its shared-memory transport.
  std::map<std::string, int> per_host;
  for (const auto& h : hosts)
    ++per_host[h];
  for (const auto& node : platform::node_instances(platform))
    for (int c = 0; c < node.type->cpu_count; ++c) {
      auto it = per_host.find(platform::cpu_host_name(node.name, c));
      if (it != per_host.end() && it->second > 1 && node.type->cpu_shared_memory.empty())
        throw core::InputError(
            core::Location{platform.file, node.type->location.line, node.type->location.column},
            fmt::format("node type '{}': {} ranks share socket '{}' but its 'cpus' has no "
                        "'shared_memory' link for messages between them",
                        node.type->name, it->second, it->first));
    }
  std::unique_ptr<CommMap> map;
  if (!options.comms_file.empty())
    map = std::make_unique<CommMap>(load_comm_map(options.comms_file, trace.ranks));
  Replayer replayer(trace, options, hosts, map.get());
  ReplayReport report = replayer.run([&] { engine.run(); });
  report.notes.insert(report.notes.begin(), warnings.begin(), warnings.end());
  return report;
}

ReplayReport replay_on_hosts(const PilgrimTrace& trace, const ReplayOptions& options,
                             const std::vector<std::string>& hosts) {
  Replayer replayer(trace, options, hosts, nullptr);
  return replayer.run([] { sg::Engine::get_instance()->run(); });
}

}  // namespace whatif::mpi
