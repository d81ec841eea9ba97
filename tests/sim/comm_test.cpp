// Communicator tests: point-to-point timing on the star platform, bounded sends, lazy mailboxes, validation.
#include <gtest/gtest.h>

#include "test_platform.hpp"

#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Engine.hpp>

#include <stdexcept>
#include <vector>

namespace whatif::sim::test {
namespace {

namespace sg4 = simgrid::s4u;

TEST(Comm, SendTakesAlphaPlusSizeOverBeta) {
  Communicator comm = star_comm(2);
  // 1e6 B over one pair: alpha + S/beta = 1e-6 + 1e6/1e9 = 1.001e-3 s.
  const double t = timed_run([&] {
    sg4::Actor::create("a", comm.host(0), [&] { comm.send(0, 1, 1000000); });
    sg4::Actor::create("b", comm.host(1), [&] { comm.recv(1, 0); });
  });
  EXPECT_NEAR(t, 1.001e-3, 1e-9);
}

TEST(Comm, ConcurrentSendsShareTheUplink) {
  Communicator comm = star_comm(3);
  // Rank 0 isends 1e6 B to ranks 1 and 2 at once: both cross rank 0's uplink, so each gets beta/2:
  // alpha + 2 S/beta = 1e-6 + 2e-3 = 2.001e-3 s.
  const double t = timed_run([&] {
    sg4::Actor::create("a", comm.host(0), [&] {
      std::vector<Request> out;
      out.push_back(comm.isend(0, 1, 1000000));
      out.push_back(comm.isend(0, 2, 1000000));
      wait_all(out);
    });
    sg4::Actor::create("b", comm.host(1), [&] { comm.recv(1, 0); });
    sg4::Actor::create("c", comm.host(2), [&] { comm.irecv(2, 0).wait(); });
  });
  EXPECT_NEAR(t, 2.001e-3, 1e-9);
}

TEST(Comm, ExchangeUsesBothDirectionsAtFullSpeed) {
  Communicator comm = star_comm(2);
  // Split-duplex links: 0 -> 1 and 1 -> 0 at once each take alpha + S/beta = 1.001e-3 s.
  const double t = timed_run([&] {
    for (int r = 0; r < 2; ++r)
      sg4::Actor::create("x", comm.host(r), [&comm, r] {
        Request in = comm.irecv(r, 1 - r);
        Request out = comm.isend(r, 1 - r, 1000000);
        out.wait();
        in.wait();
        in.wait();  // waiting twice is harmless
      });
  });
  EXPECT_NEAR(t, 1.001e-3, 1e-9);
}

TEST(Comm, MessagesOfOnePairArriveInOrderPerTag) {
  Communicator comm = star_comm(2);
  // Tag 1 carries 1e6 B, tag 2 carries 0 B. The receiver takes tag 2 first: it must get the empty message at
  // alpha (1e-6 s) rather than the first-posted large one. The large one is matched only then, when the
  // receiver asks for tag 1: 1e-6 + (1e-6 + 1e-3) = 1.002e-3 s.
  double small_at = -1;
  const double t = timed_run([&] {
    sg4::Actor::create("a", comm.host(0), [&] {
      Request big = comm.isend(0, 1, 1000000, 1);
      comm.send(0, 1, 0, 2);
      big.wait();
    });
    sg4::Actor::create("b", comm.host(1), [&] {
      const double start = sg4::Engine::get_clock();
      comm.recv(1, 0, 2);
      small_at = sg4::Engine::get_clock() - start;
      comm.recv(1, 0, 1);
    });
  });
  EXPECT_NEAR(small_at, 1e-6, 1e-12);
  EXPECT_NEAR(t, 1.002e-3, 1e-9);
}

TEST(Comm, OutstandingSendsAreBounded) {
  Communicator comm = star_comm(2);
  comm.set_max_outstanding_sends(2);
  EXPECT_EQ(comm.max_outstanding_sends(), 2u);
  // The receiver sleeps 1 s before taking anything, so no send can complete before t = 1 s. The first two
  // isends return at once; the third must first wait for the oldest, delivered at 1 s + alpha (0-byte sends).
  std::vector<double> returned;
  timed_run([&] {
    sg4::Actor::create("a", comm.host(0), [&] {
      std::vector<Request> out;
      for (int i = 0; i < 3; ++i) {
        out.push_back(comm.isend(0, 1, 0));
        returned.push_back(sg4::Engine::get_clock());
      }
      wait_all(out);
    });
    sg4::Actor::create("b", comm.host(1), [&] {
      sg4::this_actor::sleep_for(1.0);
      for (int i = 0; i < 3; ++i)
        comm.recv(1, 0);
    });
  });
  ASSERT_EQ(returned.size(), 3u);
  EXPECT_DOUBLE_EQ(returned[1], returned[0]);
  EXPECT_GE(returned[2] - returned[0], 1.0);
  EXPECT_THROW(comm.set_max_outstanding_sends(0), std::invalid_argument);
}

TEST(Comm, MailboxesAreCreatedLazily) {
  // 4096 ranks (all on one host: placement does not matter here) create no mailbox up front.
  std::vector<simgrid::s4u::Host*> hosts(4096, star_hosts(1)[0]);
  Communicator big("big", hosts);
  EXPECT_EQ(big.size(), 4096);
  EXPECT_EQ(big.mailbox_count(), 0u);

  Communicator comm = star_comm(4);
  // A ring allreduce on 4 ranks talks to the right neighbour only: 4 mailboxes (one tag), not 4 x 4.
  time_collective(CollectiveOp::allreduce, comm, 4000, {.algorithm = Algorithm::ring});
  EXPECT_EQ(comm.mailbox_count(), 4u);
}

TEST(Comm, RejectsBadMessages) {
  Communicator comm = star_comm(2);
  // Checked before any SimGrid call, so these throw even outside an actor.
  EXPECT_THROW(comm.send(0, 0, 1), std::invalid_argument);
  EXPECT_THROW(comm.send(0, 2, 1), std::invalid_argument);
  EXPECT_THROW(comm.recv(-1, 0), std::invalid_argument);
  EXPECT_THROW(comm.isend(0, 1, 1, -3), std::invalid_argument);
}

TEST(Comm, NodeLayout) {
  auto hosts = star_hosts(6);
  Communicator comm("layout", hosts, {0, 0, 1, 1, 2, 2});
  EXPECT_EQ(comm.node_count(), 3);
  EXPECT_EQ(comm.ranks_per_node(), 2);
  EXPECT_EQ(comm.local_rank(3), 1);
  EXPECT_EQ(comm.node_ranks(2), (std::vector<int>{4, 5}));

  Communicator uneven("uneven", hosts, {0, 0, 0, 1, 1, 2});
  EXPECT_EQ(uneven.ranks_per_node(), 0);

  Communicator flat("flat", hosts);
  EXPECT_EQ(flat.node_count(), 6);
  EXPECT_EQ(flat.ranks_per_node(), 1);

  EXPECT_THROW(Communicator("empty", {}), std::invalid_argument);
  EXPECT_THROW(Communicator("size", hosts, {0, 1}), std::invalid_argument);
  EXPECT_THROW(Communicator("gap", hosts, {0, 0, 2, 2, 3, 3}), std::invalid_argument);
  EXPECT_THROW(Communicator("null", {hosts[0], nullptr}), std::invalid_argument);
}

}  // namespace
}  // namespace whatif::sim::test
