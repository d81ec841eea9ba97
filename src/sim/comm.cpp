// Communicator: lazily created mailboxes per (src, dst, tag) and bounded asynchronous sends.
#include "sim/comm.hpp"

#include <fmt/format.h>
#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Comm.hpp>
#include <simgrid/s4u/Mailbox.hpp>

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace whatif::sim {

namespace {

// SimGrid wants a payload pointer but whatif's messages only have a size; every message points here.
char payload_dummy = 0;
// An irecv's payload pointer must outlive the Request, which may move: every receiver writes the dummy here.
void* payload_sink = nullptr;

// Keeps mailbox names unique across communicators created in one process, in a deterministic order.
std::uint64_t next_communicator_id = 0;

bool is_finished(const simgrid::s4u::CommPtr& comm) {
  return comm->get_state() == simgrid::s4u::Activity::State::FINISHED;
}

}  // namespace

Request::Request(simgrid::s4u::CommPtr comm) : comm_(std::move(comm)) {}
Request::Request(Request&&) noexcept = default;
Request& Request::operator=(Request&&) noexcept = default;
Request::~Request() = default;

void Request::wait() {
  if (!comm_) return;
  comm_->wait();
  comm_ = nullptr;
}

bool Request::done() const {
  return !comm_ || is_finished(comm_);
}

void wait_all(std::span<Request> requests) {
  for (auto& request : requests)
    request.wait();
}

Communicator::Communicator(std::string name, std::vector<simgrid::s4u::Host*> hosts,
                           std::vector<int> node_of_rank)
    : name_(std::move(name)), hosts_(std::move(hosts)), node_of_rank_(std::move(node_of_rank)) {
  const std::size_t n = hosts_.size();
  if (n == 0) throw std::invalid_argument(fmt::format("communicator '{}': needs at least one rank", name_));
  for (std::size_t r = 0; r < n; ++r)
    if (hosts_[r] == nullptr)
      throw std::invalid_argument(fmt::format("communicator '{}': rank {} has no host", name_, r));
  if (node_of_rank_.empty()) {
    node_of_rank_.resize(n);
    for (std::size_t r = 0; r < n; ++r)
      node_of_rank_[r] = static_cast<int>(r);
  }
  if (node_of_rank_.size() != n)
    throw std::invalid_argument(
        fmt::format("communicator '{}': {} hosts but {} node indices", name_, n, node_of_rank_.size()));
  int max_node = -1;
  for (std::size_t r = 0; r < n; ++r) {
    if (node_of_rank_[r] < 0 || node_of_rank_[r] >= static_cast<int>(n))
      throw std::invalid_argument(fmt::format("communicator '{}': rank {} has node index {}, expected 0..{}",
                                              name_, r, node_of_rank_[r], n - 1));
    max_node = std::max(max_node, node_of_rank_[r]);
  }
  node_members_.resize(static_cast<std::size_t>(max_node) + 1);
  local_rank_.resize(n);
  for (std::size_t r = 0; r < n; ++r) {
    auto& members = node_members_[static_cast<std::size_t>(node_of_rank_[r])];
    local_rank_[r] = static_cast<int>(members.size());
    members.push_back(static_cast<int>(r));
  }
  ranks_per_node_ = static_cast<int>(node_members_.front().size());
  for (std::size_t g = 0; g < node_members_.size(); ++g) {
    if (node_members_[g].empty())
      throw std::invalid_argument(fmt::format(
          "communicator '{}': node {} holds no rank (nodes must be numbered 0..N-1 without gaps)", name_, g));
    if (static_cast<int>(node_members_[g].size()) != ranks_per_node_) ranks_per_node_ = 0;
  }
  mailbox_prefix_ = fmt::format("{}#{}:", name_, next_communicator_id++);
  sends_in_flight_.resize(n);
}

Communicator::Communicator(Communicator&&) noexcept = default;
Communicator& Communicator::operator=(Communicator&&) noexcept = default;
Communicator::~Communicator() = default;

void Communicator::set_max_outstanding_sends(std::size_t limit) {
  if (limit == 0) throw std::invalid_argument("max outstanding sends must be at least 1");
  max_outstanding_sends_ = limit;
}

simgrid::s4u::Mailbox* Communicator::mailbox(int src, int dst, int tag) {
  const auto n = static_cast<std::uint64_t>(hosts_.size());
  if (src < 0 || dst < 0 || static_cast<std::uint64_t>(src) >= n || static_cast<std::uint64_t>(dst) >= n ||
      tag < 0 || src == dst)
    throw std::invalid_argument(fmt::format("communicator '{}' ({} ranks): invalid message {} -> {} tag {}",
                                            name_, n, src, dst, tag));
  const std::uint64_t key = (static_cast<std::uint64_t>(tag) * n + static_cast<std::uint64_t>(src)) * n +
                            static_cast<std::uint64_t>(dst);
  auto it = mailboxes_.find(key);
  if (it != mailboxes_.end()) return it->second;
  return create_mailbox(key, src, dst, tag);
}

// Kept out of the hot path: the name is formatted once per mailbox, never per message.
simgrid::s4u::Mailbox* Communicator::create_mailbox(std::uint64_t key, int src, int dst, int tag) {
  auto* box = simgrid::s4u::Mailbox::by_name(fmt::format("{}{}>{}:{}", mailbox_prefix_, src, dst, tag));
  mailboxes_.emplace(key, box);
  return box;
}

void Communicator::send(int src, int dst, std::uint64_t bytes, int tag) {
  mailbox(src, dst, tag)->put(&payload_dummy, bytes);
}

void Communicator::recv(int dst, int src, int tag) {
  mailbox(src, dst, tag)->get<void>();
}

Request Communicator::isend(int src, int dst, std::uint64_t bytes, int tag) {
  auto* box = mailbox(src, dst, tag);
  auto& in_flight = sends_in_flight_[static_cast<std::size_t>(src)];
  // Completions are roughly in posting order, so trimming finished sends from the front keeps this short.
  auto done = std::find_if_not(in_flight.begin(), in_flight.end(), is_finished);
  in_flight.erase(in_flight.begin(), done);
  if (in_flight.size() >= max_outstanding_sends_) {
    std::erase_if(in_flight, is_finished);
    while (in_flight.size() >= max_outstanding_sends_) {
      in_flight.front()->wait();
      in_flight.erase(in_flight.begin());
    }
  }
  auto comm = box->put_async(&payload_dummy, bytes);
  in_flight.push_back(comm);
  return Request(std::move(comm));
}

Request Communicator::irecv(int dst, int src, int tag) {
  auto* box = mailbox(src, dst, tag);
  auto comm = box->get_init()->set_dst_data(&payload_sink, sizeof(void*));
  comm->start();
  return Request(std::move(comm));
}

void spawn_ranks(const Communicator& comm, const std::string& actor_prefix, std::function<void(int)> body) {
  for (int rank = 0; rank < comm.size(); ++rank)
    simgrid::s4u::Actor::create(fmt::format("{}{}", actor_prefix, rank), comm.host(rank),
                                [body, rank] { body(rank); });
}

}  // namespace whatif::sim
