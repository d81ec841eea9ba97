// Communicator: a named group of ranks placed on SimGrid hosts, and the point-to-point messages between them.
#pragma once

#include <simgrid/forward.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace whatif::sim {

// An asynchronous send or receive in flight. Wait on it before the rank relies on the transfer being over.
// Waiting twice is harmless; a default-constructed Request is already complete.
class Request {
 public:
  Request() = default;
  explicit Request(simgrid::s4u::CommPtr comm);
  Request(Request&&) noexcept;
  Request& operator=(Request&&) noexcept;
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;
  ~Request();

  void wait();
  bool pending() const { return static_cast<bool>(comm_); }
  // True once the message has been delivered (or when there is none).
  bool done() const;

 private:
  simgrid::s4u::CommPtr comm_;
};

void wait_all(std::span<Request> requests);

// Ranks 0..n-1, rank r running on hosts[r]; node_of_rank[r] is the node (machine) holding rank r, which
// hierarchical algorithms use to tell cheap intra-node links from the network. Nodes are numbered 0..N-1
// and every node holds at least one rank; an empty node_of_rank puts every rank on its own node.
//
// The message functions are called from inside the actor playing `src` (send) or `dst` (recv). Messages
// between one (src, dst, tag) triple are delivered in the order they were posted, like MPI's
// non-overtaking rule. Payloads carry no data: only their size costs time. A rank never sends to itself.
class Communicator {
 public:
  // Each rank may have at most this many isends not yet delivered; the next isend first waits for the
  // oldest one. Unmatched sends piling up in a mailbox make SimGrid 3.32 slow (DESIGN.md), and a bound this
  // size never binds for the collectives here (they keep at most a few sends in flight per rank).
  static constexpr std::size_t kDefaultMaxOutstandingSends = 64;

  Communicator(std::string name, std::vector<simgrid::s4u::Host*> hosts, std::vector<int> node_of_rank = {});
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;
  Communicator(Communicator&&) noexcept;
  Communicator& operator=(Communicator&&) noexcept;
  ~Communicator();

  const std::string& name() const { return name_; }
  int size() const { return static_cast<int>(hosts_.size()); }
  simgrid::s4u::Host* host(int rank) const { return hosts_.at(static_cast<std::size_t>(rank)); }
  int node_of(int rank) const { return node_of_rank_.at(static_cast<std::size_t>(rank)); }
  int node_count() const { return static_cast<int>(node_members_.size()); }
  // Position of `rank` among the ranks of its node, in rank order.
  int local_rank(int rank) const { return local_rank_.at(static_cast<std::size_t>(rank)); }
  // Ranks of one node, in rank order.
  const std::vector<int>& node_ranks(int node) const {
    return node_members_.at(static_cast<std::size_t>(node));
  }
  // The number of ranks on every node, or 0 when nodes hold different numbers of ranks.
  int ranks_per_node() const { return ranks_per_node_; }

  // Mailboxes created so far (one per (src, dst, tag) used), for tests of the lazy cache.
  std::size_t mailbox_count() const { return mailboxes_.size(); }

  std::size_t max_outstanding_sends() const { return max_outstanding_sends_; }
  void set_max_outstanding_sends(std::size_t limit);  // limit >= 1

  // Tags separate independent message streams between the same pair; they must be >= 0.
  void send(int src, int dst, std::uint64_t bytes, int tag = 0);
  void recv(int dst, int src, int tag = 0);
  Request isend(int src, int dst, std::uint64_t bytes, int tag = 0);
  Request irecv(int dst, int src, int tag = 0);

 private:
  simgrid::s4u::Mailbox* mailbox(int src, int dst, int tag);
  simgrid::s4u::Mailbox* create_mailbox(std::uint64_t key, int src, int dst, int tag);

  std::string name_;
  std::string
      mailbox_prefix_;  // unique per instance, so two communicators with one name never share mailboxes
  std::vector<simgrid::s4u::Host*> hosts_;
  std::vector<int> node_of_rank_;
  std::vector<int> local_rank_;
  std::vector<std::vector<int>> node_members_;
  int ranks_per_node_ = 0;
  // Filled on first use of a pair: alltoall over 4096 ranks would need 16 M mailboxes if built up front.
  std::unordered_map<std::uint64_t, simgrid::s4u::Mailbox*> mailboxes_;
  std::vector<std::vector<simgrid::s4u::CommPtr>> sends_in_flight_;  // per source rank, oldest first
  std::size_t max_outstanding_sends_ = kDefaultMaxOutstandingSends;
};

// Starts one actor per rank, on that rank's host, running body(rank). The actors run at the next engine run.
void spawn_ranks(const Communicator& comm, const std::string& actor_prefix, std::function<void(int)> body);

}  // namespace whatif::sim
