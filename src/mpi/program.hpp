// The meaning of a rank's calls, without SimGrid: signatures compiled into replay operations, and the
// per-rank tables (datatype sizes, communicator membership) that turn their symbolic arguments into bytes
// and world ranks.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mpi/pilgrim.hpp"
#include "mpi/signature.hpp"

namespace whatif::mpi {

enum class OpKind : std::uint8_t {
  local,  // no communication, no effect on the tables (Comm_rank, Get_count, ...)
  send,
  recv,
  isend,
  irecv,
  sendrecv,
  wait,  // Wait, Waitall, Waitany, Waitsome and the Test family: `requests`, how many completed
  probe,
  collective,
  comm_create,
  comm_free,
  type_create,
  type_free,
  persistent_init,  // Send_init, Recv_init, ...
  start,            // Start (one) and Startall (`outcount` of them)
  request_free,
  cancel,
};

enum class Collective : std::uint8_t {
  barrier,
  bcast,
  reduce,
  allreduce,
  allgather,
  allgatherv,
  gather,
  gatherv,
  scatter,
  scatterv,
  alltoall,
  alltoallv,
  alltoallw,
  reduce_scatter,
  reduce_scatter_block,
  scan,
  exscan,
};
std::string_view to_string(Collective c);

// How a wait- or test-like call completes its requests during replay.
enum class Completion : std::uint8_t {
  all,   // Wait, Waitall, Test/Testall that found them complete: block until every request is done
  any,   // Waitany, Testany with flag: block until one is done
  some,  // Waitsome, Testsome with outcount > 0: block until `outcount` are done
  none,  // a Test that found nothing complete: look, do not block
};

struct CallOp {
  int function = -1;
  OpKind kind = OpKind::local;
  Collective collective = Collective::barrier;
  bool nonblocking = false;  // I-collectives, Issend...: the request completes with the operation
  bool synchronous = false;  // Ssend/Issend: always waits for the receiver (rendezvous)
  bool tracked = false;      // a request id was recorded (Isend, Irecv, Recv_init)
  int comm = kCommWorld;
  // Point-to-point: the send side (Send, Isend, Sendrecv) and the receive side (Recv, Irecv, Sendrecv,
  // Probe).
  std::int32_t dest = 0, source = 0;  // as recorded: encoded (my world rank - peer) or kAnySource/kProcNull
  int send_tag = 0, recv_tag = 0;
  std::int64_t send_count = 0, recv_count = 0;
  int send_type = -1, recv_type = -1;
  int root = 0;
  int request = kRequestNull;  // Isend, Irecv, Recv_init
  std::vector<int> requests;   // wait/test family, in the recorded order
  Completion completion = Completion::all;
  int outcount = 0;                                    // Waitsome/Testsome/Startall
  std::vector<std::int64_t> send_counts, recv_counts;  // v-collectives (per communicator rank)
  std::vector<int> send_types, recv_types;             // alltoallw
  // Communicator creation: the new id, the parent and what the trace keeps of the rule.
  int new_comm = kCommNull;
  std::vector<std::int64_t> dims, periods_or_remain;  // Cart_create dims/periods, Cart_sub remain_dims
  // Datatype creation: new id, and size = count * (sum of blocklengths) * size(old) summed over old types.
  int new_type = -1;
  std::vector<int> old_types;
  std::vector<std::int64_t> type_elements;  // per old type: elements of it in one new element
};

// Every signature of a trace decoded, indexed by terminal id (signatures are decoded once, not per call).
std::vector<Signature> decode_signatures(const PilgrimTrace& trace);

// Compiles one decoded signature. Unknown or undecodable signatures compile to OpKind::local with a note.
CallOp compile_call(const Signature& signature);

// The members of one communicator (world ranks in local-rank order) and an id equal on every member.
struct CommGroup {
  int context = 0;
  std::vector<int> members;
  int local_rank_of(int world_rank) const;  // -1 when not a member
};

// Membership of user communicators that the trace cannot carry: for a communicator id (Pilgrim's per-rank
// creation counter), the groups the creating call produced. Loaded from a `whatif-mpi-comms/1` file.
struct CommMap {
  std::string file;
  std::map<int, std::vector<std::vector<int>>> groups_by_id;
};
CommMap load_comm_map(const std::string& file, int ranks);

// Hands out contexts so that every member of a new communicator gets the same one: the key is the parent's
// context, how many communicators the caller has created from that parent before, and the members.
class CommRegistry {
 public:
  explicit CommRegistry(int ranks, const CommMap* map = nullptr);
  int ranks() const { return ranks_; }
  const CommMap* map() const { return map_; }
  std::shared_ptr<const CommGroup> world() const { return world_; }
  std::shared_ptr<const CommGroup> self(int rank) const;
  std::shared_ptr<const CommGroup> group(int parent_context, int sequence, std::vector<int> members);
  std::size_t count() const { return groups_.size(); }

 private:
  int ranks_;
  const CommMap* map_;
  std::shared_ptr<const CommGroup> world_;
  std::vector<std::shared_ptr<const CommGroup>> selves_;
  std::map<std::tuple<int, int, std::vector<int>>, std::shared_ptr<const CommGroup>> groups_;
  int next_context_ = 0;
};

// One rank's view: datatype sizes and communicators, updated by the calls that create and free them.
class RankState {
 public:
  RankState(int rank, CommRegistry& registry);
  int rank() const { return rank_; }

  // Bytes of `count` elements of datatype `type`; unknown types count 1 byte per element and are noted once.
  std::int64_t bytes(std::int64_t count, int type);
  // The communicator behind a recorded id; unknown ids fall back to WORLD and are noted once.
  const CommGroup& comm(int id);
  // World rank of a recorded peer (encoded my world rank - local peer) on communicator `id`; -1 for
  // MPI_PROC_NULL, kAnySource for the wildcard, -2 when it decodes outside the communicator.
  int world_peer(int comm_id, std::int32_t encoded);
  // Applies a communicator or datatype creation / free. Returns false for other ops.
  bool apply(const CallOp& op);
  // Things the trace did not say and the state had to assume (unknown datatype 7, split rule, ...).
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  void note(std::string text);
  int rank_;
  CommRegistry& registry_;
  std::map<int, std::int64_t> type_sizes_;
  std::map<int, std::shared_ptr<const CommGroup>> comms_;
  std::map<int, int> created_from_;  // parent context -> communicators created from it so far
  std::map<int, std::vector<std::int64_t>> cart_dims_;  // Cartesian communicators: their dims
  std::vector<std::string> notes_;
  std::vector<std::string> noted_;  // de-duplication keys
};

}  // namespace whatif::mpi
