package io.keyrotor.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.GetKeyRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.ListKeysRequest;
import io.keyrotor.api.v1.NodeRole;
import io.keyrotor.api.v1.TransferLeadershipRequest;
import io.keyrotor.api.v1.TransferLeadershipResponse;
import io.keyrotor.client.testing.FakeAdminService;
import io.keyrotor.client.testing.FakeKeyService;
import io.keyrotor.client.testing.FakeNode;
import io.keyrotor.client.testing.GrpcErrors;
import io.keyrotor.client.testing.ManualClock;
import io.keyrotor.client.testing.OpenResources;
import io.keyrotor.client.testing.TestPki;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * The SDK against real gRPC servers on loopback sockets whose services are scripted: followers that
 * redirect, nodes that are down, clusters in an election, servers that hang.
 */
class KeyrotorClientTest {

  @AutoClose private final OpenResources toClose = new OpenResources();
  private final ManualClock clock = new ManualClock(Instant.parse("2025-03-01T12:00:00Z"));
  private final AtomicInteger requestIds = new AtomicInteger();

  private FakeNode node(FakeKeyService keys, FakeAdminService admin) {
    return toClose.add(FakeNode.start(keys, admin));
  }

  private FakeNode node(FakeKeyService keys) {
    return node(keys, new FakeAdminService());
  }

  /**
   * A client on the manual clock: backoff sleeps advance the clock instead of waiting. Hedging,
   * which starts a second call after real time passes, is off: these tests count every attempt and
   * sleep of one call ({@link HedgedReadsTest} covers hedging).
   */
  private KeyrotorClient.Builder clientTo(String... endpoints) {
    return TestPki.clientBuilder()
        .hedgeReadsAfter(Duration.ZERO)
        .endpoints(endpoints)
        .deadline(Duration.ofSeconds(10))
        .attemptTimeout(Duration.ofSeconds(5))
        .clock(clock)
        .sleeper(clock.sleeper())
        .random(new SplittableRandom(7))
        .requestIds(() -> "request-" + requestIds.incrementAndGet());
  }

  private KeyrotorClient build(KeyrotorClient.Builder builder) {
    return toClose.add(builder.build());
  }

  private static CreateKeyRequest create(String name) {
    return CreateKeyRequest.newBuilder().setName(name).build();
  }

  @Test
  void write_toFollowerAnsweringNotLeader_followsHintAndRemembersLeader() {
    FakeKeyService leaderKeys = new FakeKeyService();
    FakeNode leader = node(leaderKeys);
    FakeKeyService followerKeys =
        new FakeKeyService().failEvery(request -> GrpcErrors.notLeader(leader.address(), "n1"));
    FakeNode follower = node(followerKeys);
    KeyrotorClient client =
        build(clientTo(follower.address(), leader.address()).leaderDiscovery(false));

    Key key = client.createKey(create("payments"));

    assertEquals("payments", key.getName());
    assertEquals(1, followerKeys.received(CreateKeyRequest.class).size());
    assertEquals(1, leaderKeys.received(CreateKeyRequest.class).size());
    assertEquals(
        followerKeys.received(CreateKeyRequest.class).get(0).getRequestId(),
        leaderKeys.received(CreateKeyRequest.class).get(0).getRequestId(),
        "the redirected write must carry the same request id");
    assertEquals(leader.address(), client.knownLeader().orElseThrow());
    assertTrue(clock.sleeps().isEmpty(), "a leader hint is followed without backoff");

    client.getKey("payments");
    assertEquals(1, followerKeys.received().size(), "later calls go straight to the leader");
  }

  @Test
  void call_withFirstEndpointDown_succeedsOnNextEndpoint() {
    FakeKeyService keys = new FakeKeyService();
    keys.put(Key.newBuilder().setName("orders").setZone("eu").build());
    FakeNode live = node(keys);
    KeyrotorClient client = build(clientTo(FakeNode.downAddress(), live.address()));

    assertEquals("eu", client.getKey("orders").getZone());
    assertTrue(clock.sleeps().isEmpty(), "the next endpoint is tried at once");

    client.getKey("orders");
    assertEquals(2, keys.received(GetKeyRequest.class).size());
  }

  @Test
  void createKey_retriedThroughElection_appliesOnceWithOneRequestId() {
    FakeKeyService keys =
        new FakeKeyService()
            .failNext(
                GrpcErrors.noLeader(),
                Status.UNAVAILABLE.withDescription("connection reset").asRuntimeException(),
                GrpcErrors.noLeader());
    FakeNode node = node(keys);
    KeyrotorClient client = build(clientTo(node.address()).leaderDiscovery(false));

    Key key = client.createKey(create("payments"));

    List<CreateKeyRequest> attempts = keys.received(CreateKeyRequest.class);
    assertEquals(4, attempts.size());
    for (CreateKeyRequest attempt : attempts) {
      assertEquals("request-1", attempt.getRequestId());
    }
    assertEquals("payments", key.getName());
    List<Duration> sleeps = clock.sleeps();
    assertEquals(3, sleeps.size(), "one backoff per failed round on a one-node cluster");
    for (int i = 0; i < sleeps.size(); i++) {
      Duration ceiling = Duration.ofMillis(50L << i);
      assertTrue(sleeps.get(i).compareTo(ceiling) <= 0, sleeps.get(i) + " > " + ceiling);
    }
  }

  @Test
  void createKey_firstAttemptAppliedButAnswerLost_retryReturnsSameOutcome() {
    FakeKeyService keys = new FakeKeyService();
    AtomicInteger calls = new AtomicInteger();
    // The first attempt applies on the server but the reply is lost; the retry must not fail
    // with KEY_EXISTS because the server recognises the request id.
    FakeKeyService lossy =
        new FakeKeyService() {
          @Override
          public void createKey(CreateKeyRequest request, StreamObserver<Key> observer) {
            if (calls.incrementAndGet() == 1) {
              keys.createKey(request, new DiscardingObserver<>());
              observer.onError(
                  Status.UNAVAILABLE.withDescription("reply lost").asRuntimeException());
              return;
            }
            keys.createKey(request, observer);
          }
        };
    FakeNode node = node(lossy);
    KeyrotorClient client = build(clientTo(node.address()).leaderDiscovery(false));

    Key key = client.createKey(create("payments"));

    assertEquals("payments", key.getName());
    List<CreateKeyRequest> applied = keys.received(CreateKeyRequest.class);
    assertEquals(2, applied.size());
    assertEquals(applied.get(0).getRequestId(), applied.get(1).getRequestId());
  }

  @Test
  void createKey_withCallerRequestId_keepsIt() {
    FakeKeyService keys = new FakeKeyService();
    FakeNode node = node(keys);
    KeyrotorClient client = build(clientTo(node.address()).leaderDiscovery(false));

    client.createKey(create("a").toBuilder().setRequestId("caller-chosen").build());
    client.createKey(create("b"));

    List<CreateKeyRequest> sent = keys.received(CreateKeyRequest.class);
    assertEquals("caller-chosen", sent.get(0).getRequestId());
    assertEquals("request-1", sent.get(1).getRequestId());
  }

  @Test
  void notFound_isThrownAtOnceWithReasonAndMetadata() {
    FakeKeyService keys = new FakeKeyService();
    FakeNode node = node(keys);
    KeyrotorClient client = build(clientTo(node.address()));

    KeyrotorException error =
        assertThrows(KeyrotorException.class, () -> client.getKey("payments"));

    assertEquals(Status.Code.NOT_FOUND, error.code());
    assertEquals("KEY_NOT_FOUND", error.reason());
    assertEquals(ErrorReason.KEY_NOT_FOUND, error.errorReason());
    assertEquals(KeyrotorException.DOMAIN, error.domain());
    assertEquals("payments", error.metadata().get("key"));
    assertEquals("key \"payments\" not found (KEY_NOT_FOUND)", error.getMessage());
    assertEquals(node.address(), error.endpoint());
    assertEquals(1, keys.received().size(), "NOT_FOUND is never retried");
    assertTrue(clock.sleeps().isEmpty());
  }

  @Test
  void alreadyExists_isNotRetried() {
    FakeKeyService keys = new FakeKeyService();
    FakeNode node = node(keys);
    KeyrotorClient client = build(clientTo(node.address()).leaderDiscovery(false));
    client.createKey(create("payments"));

    KeyrotorException error =
        assertThrows(KeyrotorException.class, () -> client.createKey(create("payments")));

    assertEquals(Status.Code.ALREADY_EXISTS, error.code());
    assertEquals("KEY_EXISTS", error.reason());
    assertEquals(2, keys.received().size());
  }

  @Test
  void allEndpointsDown_failsWithNoServerReachableWithinDeadline() {
    String down1 = FakeNode.downAddress();
    String down2 = FakeNode.downAddress();
    KeyrotorClient client = build(clientTo(down1, down2).deadline(Duration.ofSeconds(3)));

    KeyrotorException error =
        assertThrows(KeyrotorException.class, () -> client.getKey("payments"));

    assertEquals(Status.Code.UNAVAILABLE, error.code());
    assertEquals(ErrorReason.NO_SERVER_REACHABLE, error.errorReason());
    assertEquals("NO_SERVER_REACHABLE", error.reason());
    assertEquals("no server reachable at " + down1 + "," + down2, error.getMessage());
    Duration slept = clock.sleeps().stream().reduce(Duration.ZERO, Duration::plus);
    assertTrue(slept.compareTo(Duration.ofSeconds(3)) < 0, "slept " + slept);
    assertFalse(clock.sleeps().isEmpty(), "rounds over all endpoints are separated by backoff");
  }

  @Test
  void leaderHintToDeadNode_givesUpNamingTheDeadNodeAndTheLastServerAnswer() {
    String deadLeader = FakeNode.downAddress();
    FakeKeyService followerKeys =
        new FakeKeyService().failEvery(request -> GrpcErrors.notLeader(deadLeader, "n1"));
    FakeNode follower = node(followerKeys);
    KeyrotorClient client =
        build(
            clientTo(follower.address(), deadLeader)
                .deadline(Duration.ofSeconds(1))
                .leaderDiscovery(false));

    KeyrotorException error =
        assertThrows(KeyrotorException.class, () -> client.createKey(create("payments")));

    assertEquals(Status.Code.UNAVAILABLE, error.code());
    assertEquals(ErrorReason.NO_SERVER_REACHABLE, error.errorReason());
    assertEquals("NO_SERVER_REACHABLE", error.reason());
    assertTrue(error.getMessage().startsWith("cannot reach " + deadLeader), error.getMessage());
    assertTrue(error.getMessage().contains("(last server answer: "), error.getMessage());
    assertTrue(error.getMessage().endsWith("(NOT_LEADER))"), error.getMessage());
    assertTrue(followerKeys.received().size() > 1, "the follower is asked again each round");
  }

  /** A key service holding "payments" (zone eu) whose first {@code failures} calls fail. */
  private static FakeKeyService paymentsFailingFirst(int failures, StatusRuntimeException error) {
    AtomicInteger calls = new AtomicInteger();
    return new FakeKeyService()
        .put(Key.newBuilder().setName("payments").setZone("eu").build())
        .failEvery(request -> calls.getAndIncrement() < failures ? error : null);
  }

  /** GetKey {@code name} through a client of one node serving {@code keys}, no leader discovery. */
  private Key getFromOneNode(FakeKeyService keys, String name) {
    return build(clientTo(node(keys).address()).leaderDiscovery(false)).getKey(name);
  }

  @Test
  void quotaExceeded_waitsTheServersRetryDelay_thenAsksTheSameNodeAgain() {
    FakeKeyService keys = paymentsFailingFirst(2, GrpcErrors.quotaExceeded(Duration.ofMillis(750)));

    assertEquals("payments", getFromOneNode(keys, "payments").getName());

    assertEquals(List.of(Duration.ofMillis(750), Duration.ofMillis(750)), clock.sleeps());
    assertEquals(3, keys.received(GetKeyRequest.class).size());
  }

  @Test
  void hsmBusy_waitsTheServersRetryDelay_thenAsksAgain() {
    FakeKeyService keys = paymentsFailingFirst(1, GrpcErrors.hsmBusy(Duration.ofMillis(200)));

    assertEquals("payments", getFromOneNode(keys, "payments").getName());

    assertEquals(List.of(Duration.ofMillis(200)), clock.sleeps());
    assertEquals(2, keys.received(GetKeyRequest.class).size());
  }

  @Test
  void quotaExceeded_withARetryDelayPastTheDeadline_failsAtOnceWithTheDelay() {
    FakeKeyService keys =
        new FakeKeyService().failEvery(request -> GrpcErrors.quotaExceeded(Duration.ofMinutes(5)));
    FakeNode node = node(keys);
    KeyrotorClient client = build(clientTo(node.address()).leaderDiscovery(false));

    KeyrotorException error =
        assertThrows(KeyrotorException.class, () -> client.getKey("payments"));

    assertEquals(Status.Code.RESOURCE_EXHAUSTED, error.code());
    assertEquals(ErrorReason.QUOTA_EXCEEDED, error.errorReason());
    assertEquals(java.util.Optional.of(Duration.ofMinutes(5)), error.retryDelay());
    assertEquals(List.of(), clock.sleeps(), "no wait the deadline cannot cover");
    assertEquals(1, keys.received().size());
  }

  @Test
  void attemptCutShortByTheCallDeadline_givesUpWithTheServersLastAnswer() {
    AtomicInteger calls = new AtomicInteger();
    FakeKeyService keys =
        new FakeKeyService()
            .failEvery(
                request -> {
                  if (calls.getAndIncrement() == 0) {
                    // The call has 100 ms left after this answer, less than an attempt timeout.
                    clock.advance(Duration.ofMillis(9_900));
                    return GrpcErrors.noLeader();
                  }
                  sleepQuietly(Duration.ofMillis(600)); // outlives what is left of the call
                  return GrpcErrors.noLeader();
                });
    FakeNode node = node(keys);
    KeyrotorClient client = build(clientTo(node.address()).leaderDiscovery(false));

    KeyrotorException error =
        assertThrows(KeyrotorException.class, () -> client.getKey("payments"));

    assertEquals("NO_LEADER", error.reason(), error.getMessage());
    assertTrue(error.getMessage().contains("; gave up after "), error.getMessage());
    assertTrue(calls.get() >= 2, "the call tried again in the time it had left");
  }

  private static void sleepQuietly(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void endlessElection_givesUpAtDeadlineWithLastReason() {
    FakeKeyService keys = new FakeKeyService().failEvery(request -> GrpcErrors.noLeader());
    FakeNode node = node(keys);
    KeyrotorClient client =
        build(clientTo(node.address()).deadline(Duration.ofSeconds(2)).leaderDiscovery(false));

    KeyrotorException error =
        assertThrows(KeyrotorException.class, () -> client.getKey("payments"));

    assertEquals(Status.Code.UNAVAILABLE, error.code());
    assertEquals("NO_LEADER", error.reason());
    assertTrue(error.hasReason(ErrorReason.NO_LEADER));
    assertTrue(error.getMessage().contains("gave up after"), error.getMessage());
    Duration slept = clock.sleeps().stream().reduce(Duration.ZERO, Duration::plus);
    assertTrue(slept.compareTo(Duration.ofSeconds(2)) < 0, "slept " + slept + " past deadline");
    assertEquals(keys.received().size(), clock.sleeps().size() + 1);
    for (int i = 0; i < clock.sleeps().size(); i++) {
      Duration ceiling = new Backoff(Duration.ofMillis(50), Duration.ofSeconds(2), r()).ceiling(i);
      assertTrue(clock.sleeps().get(i).compareTo(ceiling) <= 0);
    }
  }

  private static SplittableRandom r() {
    return new SplittableRandom(1);
  }

  @Test
  void hangingEndpoint_attemptTimesOutAndNextEndpointAnswers() {
    FakeKeyService hanging =
        new FakeKeyService() {
          @Override
          public void getKey(GetKeyRequest request, StreamObserver<Key> observer) {
            // Never answers: a node that accepts connections but is stuck.
          }
        };
    FakeKeyService live = new FakeKeyService().put(Key.newBuilder().setName("orders").build());
    FakeNode stuck = node(hanging);
    FakeNode good = node(live);
    KeyrotorClient client =
        build(
            TestPki.clientBuilder()
                .endpoints(stuck.address(), good.address())
                .deadline(Duration.ofSeconds(10))
                .attemptTimeout(Duration.ofMillis(200)));

    assertEquals("orders", client.getKey("orders").getName());
  }

  @Test
  void transferLeadership_isNotRetriedOnDeadlineExceeded() {
    AtomicInteger calls = new AtomicInteger();
    FakeAdminService admin =
        new FakeAdminService() {
          @Override
          public void transferLeadership(
              TransferLeadershipRequest request,
              StreamObserver<TransferLeadershipResponse> observer) {
            calls.incrementAndGet();
            observer.onError(Status.DEADLINE_EXCEEDED.asRuntimeException());
          }
        };
    FakeNode node = node(new FakeKeyService(), admin);
    KeyrotorClient client = build(clientTo(node.address()).leaderDiscovery(false));

    KeyrotorException error =
        assertThrows(KeyrotorException.class, () -> client.transferLeadership("n2"));

    assertEquals(Status.Code.DEADLINE_EXCEEDED, error.code());
    assertEquals(1, calls.get());
  }

  @Test
  void write_learnsLeaderFromClusterStatusBeforeSending() {
    FakeKeyService leaderKeys = new FakeKeyService();
    FakeNode leader = node(leaderKeys);
    FakeKeyService followerKeys = new FakeKeyService();
    FakeAdminService followerAdmin = new FakeAdminService();
    FakeNode follower = node(followerKeys, followerAdmin);
    followerAdmin.clusterStatus(
        ClusterStatus.newBuilder()
            .setLeaderId("n2")
            .addNodes(
                FakeAdminService.member("n1", NodeRole.NODE_ROLE_FOLLOWER, follower.address()))
            .addNodes(FakeAdminService.member("n2", NodeRole.NODE_ROLE_LEADER, leader.address()))
            .build());
    KeyrotorClient client = build(clientTo(follower.address(), leader.address()));

    client.createKey(create("payments"));
    client.createKey(create("orders"));

    assertEquals(0, followerKeys.received().size());
    assertEquals(2, leaderKeys.received(CreateKeyRequest.class).size());
    assertEquals(1, followerAdmin.clusterStatusCalls(), "discovery runs once while leader known");
    assertEquals(leader.address(), client.knownLeader().orElseThrow());
  }

  @Test
  void listAllKeys_fetchesEveryPageLazily() {
    FakeKeyService keys = new FakeKeyService();
    for (String name : List.of("a", "b", "c", "d", "e")) {
      keys.put(Key.newBuilder().setName(name).build());
    }
    FakeNode node = node(keys);
    KeyrotorClient client = build(clientTo(node.address()));

    Iterator<Key> all = client.listAllKeys(ListKeysRequest.newBuilder().setPageSize(2).build());
    assertEquals(0, keys.received().size(), "nothing is fetched before the first hasNext");
    List<String> names = new ArrayList<>();
    all.forEachRemaining(key -> names.add(key.getName()));

    assertEquals(List.of("a", "b", "c", "d", "e"), names);
    assertEquals(3, keys.received(ListKeysRequest.class).size());
  }

  @Test
  void closedClient_refusesCalls() {
    FakeNode node = node(new FakeKeyService());
    KeyrotorClient client = clientTo(node.address()).build();
    client.close();

    assertThrows(IllegalStateException.class, () -> client.getKey("payments"));
  }

  @Test
  void builder_withoutEndpoints_isRejected() {
    assertThrows(IllegalArgumentException.class, () -> KeyrotorClient.builder().build());
    assertThrows(
        IllegalArgumentException.class, () -> KeyrotorClient.builder().endpoints("no-port"));
  }

  /** Swallows a reply (the server applied the write but the answer never reached the client). */
  private static final class DiscardingObserver<T> implements StreamObserver<T> {
    @Override
    public void onNext(T value) {}

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}
  }
}
