package io.keyrotor.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.GetKeyRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.client.testing.FakeKeyService;
import io.keyrotor.client.testing.FakeNode;
import io.keyrotor.client.testing.GrpcErrors;
import io.keyrotor.client.testing.OpenResources;
import io.keyrotor.client.testing.TestPki;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * Hedged idempotent reads against real gRPC servers on loopback: a node that takes every call and
 * never answers (stuck, or a host gone behind a live connection) and a node that answers.
 */
class HedgedReadsTest {
  @AutoClose private final OpenResources toClose = new OpenResources();

  /** Takes GetKey and CreateKey calls and never answers them; counts them and their cancels. */
  private static final class SilentKeyService extends FakeKeyService {
    final AtomicInteger calls = new AtomicInteger();
    final CountDownLatch cancelled = new CountDownLatch(1);

    private void hold(StreamObserver<?> observer) {
      calls.incrementAndGet();
      ((ServerCallStreamObserver<?>) observer).setOnCancelHandler(cancelled::countDown);
    }

    @Override
    public void getKey(GetKeyRequest request, StreamObserver<Key> observer) {
      hold(observer);
    }

    @Override
    public void createKey(CreateKeyRequest request, StreamObserver<Key> observer) {
      hold(observer);
    }
  }

  private FakeNode node(FakeKeyService keys) {
    return toClose.add(FakeNode.start(keys));
  }

  private KeyrotorClient client(Duration hedgeAfter, Duration deadline, String... endpoints) {
    KeyrotorClient client =
        TestPki.clientBuilder()
            .endpoints(endpoints)
            .deadline(deadline)
            .attemptTimeout(deadline)
            .leaderDiscovery(false)
            .hedgeReadsAfter(hedgeAfter)
            .build();
    toClose.add(client);
    return client;
  }

  @Test
  void getKey_firstNodeSilent_hedgeOnAnotherNodeAnswers_andTheFirstCallIsCancelled()
      throws Exception {
    SilentKeyService silent = new SilentKeyService();
    FakeKeyService live = new FakeKeyService().put(Key.newBuilder().setName("orders").build());
    FakeNode stuck = node(silent);
    FakeNode good = node(live);
    // The deadline is the attempt timeout: unhedged, the read would wait on the silent node.
    KeyrotorClient client =
        client(Duration.ofMillis(50), Duration.ofSeconds(60), stuck.address(), good.address());

    assertEquals("orders", client.getKey("orders").getName());

    assertEquals(1, silent.calls.get(), "the first call went to the first endpoint");
    assertEquals(1, live.received(GetKeyRequest.class).size(), "one hedge, to the other node");
    assertTrue(
        silent.cancelled.await(30, TimeUnit.SECONDS), "the losing call is cancelled, not leaked");
    assertEquals(1, client.calls.hedging().hedgesSent());
  }

  @Test
  void getKey_answeredBeforeTheHedgeDelay_isSentOnce() {
    FakeKeyService live = new FakeKeyService().put(Key.newBuilder().setName("orders").build());
    FakeKeyService other = new FakeKeyService().put(Key.newBuilder().setName("orders").build());
    FakeNode first = node(live);
    FakeNode second = node(other);
    KeyrotorClient client =
        client(Duration.ofSeconds(60), Duration.ofSeconds(30), first.address(), second.address());

    for (int i = 0; i < 3; i++) {
      assertEquals("orders", client.getKey("orders").getName());
    }

    assertEquals(3, live.received(GetKeyRequest.class).size());
    assertEquals(0, other.received().size(), "no hedge while the first node answers in time");
    assertEquals(0, client.calls.hedging().hedgesSent());
  }

  @Test
  void createKey_isNeverHedged() {
    SilentKeyService silent = new SilentKeyService();
    FakeKeyService live = new FakeKeyService();
    FakeNode stuck = node(silent);
    FakeNode good = node(live);
    KeyrotorClient client =
        client(Duration.ofMillis(50), Duration.ofSeconds(2), stuck.address(), good.address());

    KeyrotorException error =
        assertThrows(
            KeyrotorException.class,
            () -> client.createKey(CreateKeyRequest.newBuilder().setName("payments").build()));

    assertEquals(Status.Code.DEADLINE_EXCEEDED, error.code(), error.getMessage());
    assertEquals(1, silent.calls.get());
    assertEquals(0, live.received().size(), "a write is sent to one node at a time");
  }

  @Test
  void hedgeFails_theFirstCallsOutcomeIsReported() {
    SilentKeyService silent = new SilentKeyService();
    FakeKeyService denied =
        new FakeKeyService()
            .failEvery(r -> Status.NOT_FOUND.withDescription("hedge").asRuntimeException());
    FakeNode first = node(silent);
    FakeNode second = node(denied);
    KeyrotorClient client =
        client(Duration.ofMillis(50), Duration.ofSeconds(2), first.address(), second.address());

    KeyrotorException error = assertThrows(KeyrotorException.class, () -> client.getKey("orders"));

    assertEquals(1, denied.received(GetKeyRequest.class).size(), "the hedge was sent");
    assertEquals(
        Status.Code.DEADLINE_EXCEEDED,
        error.code(),
        "the first call decides once the hedge failed: " + error.getMessage());
  }

  @Test
  void noLeaderThroughAnElection_pollsWithoutGrowingTheBackoff() {
    FakeKeyService electing =
        new FakeKeyService()
            .failNext(
                GrpcErrors.noLeader(),
                GrpcErrors.noLeader(),
                GrpcErrors.noLeader(),
                GrpcErrors.noLeader(),
                GrpcErrors.noLeader(),
                GrpcErrors.noLeader())
            .put(Key.newBuilder().setName("orders").build());
    FakeNode node = node(electing);
    List<Duration> sleeps = new ArrayList<>();
    KeyrotorClient client =
        TestPki.clientBuilder()
            .endpoints(node.address())
            .leaderDiscovery(false)
            .hedgeReadsAfter(Duration.ZERO)
            .sleeper(sleeps::add)
            .build();
    toClose.add(client);

    assertEquals("orders", client.getKey("orders").getName());

    assertEquals(6, sleeps.size(), "one poll per NO_LEADER answer");
    Duration ceiling =
        new Backoff(Duration.ofMillis(50), Duration.ofSeconds(2), () -> 0L)
            .ceiling(CallRunner.ELECTION_POLL_STEPS);
    for (Duration slept : sleeps) {
      assertTrue(slept.compareTo(ceiling) <= 0, slept + " > " + ceiling);
    }
  }
}
