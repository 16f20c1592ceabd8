package io.keyrotor.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.keyrotor.api.v1.KeyEvent;
import io.keyrotor.api.v1.KeyEventType;
import io.keyrotor.api.v1.WatchKeyEventsRequest;
import io.keyrotor.client.testing.FakeAdminService;
import io.keyrotor.client.testing.FakeKeyService;
import io.keyrotor.client.testing.FakeNode;
import io.keyrotor.client.testing.GrpcErrors;
import io.keyrotor.client.testing.OpenResources;
import io.keyrotor.client.testing.TestPki;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The SDK's event watch against real gRPC servers on loopback sockets whose services are scripted:
 * streams that fail and reconnect from their cursor, nodes that end a slow watcher or have too
 * many, final errors reported to the listener.
 */
class KeyrotorClientWatchTest {

  @AutoClose private final OpenResources toClose = new OpenResources();

  private FakeNode node(FakeKeyService keys, FakeAdminService admin) {
    return toClose.add(FakeNode.start(keys, admin));
  }

  private FakeNode node(FakeKeyService keys) {
    return node(keys, new FakeAdminService());
  }

  private KeyrotorClient build(KeyrotorClient.Builder builder) {
    return toClose.add(builder.build());
  }

  @Test
  void watchKeyEvents_afterStreamFailure_reconnectsFromLastCursor() throws Exception {
    List<WatchKeyEventsRequest> watchRequests = new CopyOnWriteArrayList<>();
    FakeKeyService keys =
        answeringWatches(
            watchRequests,
            observer -> {
              if (watchRequests.size() == 1) {
                observer.onNext(event("c1", 1));
                observer.onNext(event("c2", 2));
                observer.onError(GrpcErrors.noLeader());
              } else {
                observer.onNext(event("c3", 3));
                // Stays open until the client closes it.
              }
            });
    KeyrotorClient client = watchClient(node(keys));
    List<KeyEvent> events = new CopyOnWriteArrayList<>();
    CountDownLatch three = new CountDownLatch(3);

    try (KeyEventSubscription subscription =
        client.watchKeyEvents(
            WatchKeyEventsRequest.newBuilder().addKeyNames("payments").build(),
            event -> {
              events.add(event);
              three.countDown();
            })) {
      assertTrue(three.await(10, TimeUnit.SECONDS), "events: " + events);
      assertEquals("c3", subscription.lastCursor());
    }

    assertEquals(List.of(1L, 2L, 3L), events.stream().map(KeyEvent::getLogIndex).toList());
    assertEquals("", watchRequests.get(0).getCursor());
    assertEquals("c2", watchRequests.get(1).getCursor());
    assertEquals(List.of("payments"), watchRequests.get(1).getKeyNamesList());
  }

  @Test
  void watchKeyEvents_serverCursorsAcrossAReconnect_deliversEachEventOnceInOrder()
      throws Exception {
    FakeKeyService keys =
        new FakeKeyService()
            .events(
                serverEvent("41.0", "payments", 41),
                serverEvent("41.1", "payments", 41),
                serverEvent("41.2", "ledger", 41),
                serverEvent("57.0", "payments", 57))
            .watchFailsAfter(2);
    KeyrotorClient client = watchClient(node(keys));
    List<String> cursors = new CopyOnWriteArrayList<>();
    CountDownLatch three = new CountDownLatch(3);

    try (KeyEventSubscription subscription =
        client.watchKeyEvents(
            WatchKeyEventsRequest.newBuilder().addKeyNames("payments").setCursor("40.3").build(),
            event -> {
              cursors.add(event.getCursor());
              three.countDown();
            })) {
      assertTrue(three.await(10, TimeUnit.SECONDS), "events: " + cursors);
      assertEquals("57.0", subscription.lastCursor());
    }

    assertEquals(List.of("41.0", "41.1", "57.0"), cursors);
    List<WatchKeyEventsRequest> requests = keys.received(WatchKeyEventsRequest.class);
    assertEquals("40.3", requests.get(0).getCursor());
    assertEquals("41.1", requests.get(1).getCursor(), "resumes after the last delivered event");
    assertEquals(List.of("payments"), requests.get(1).getKeyNamesList());
  }

  @Test
  void watchKeyEvents_endedAsTooSlow_resumesFromItsCursor_andFromTheNodesWhenNoneArrived()
      throws Exception {
    List<WatchKeyEventsRequest> watchRequests = new CopyOnWriteArrayList<>();
    FakeKeyService keys =
        answeringWatches(
            watchRequests,
            observer -> {
              switch (watchRequests.size()) {
                case 1 -> // started "from now"; the node ended it before any event arrived
                    observer.onError(tooSlow("9.0"));
                case 2 -> {
                  observer.onNext(serverEvent("10.0", "payments", 10));
                  observer.onError(tooSlow("10.0"));
                }
                default -> observer.onNext(serverEvent("11.0", "payments", 11));
              }
            });
    KeyrotorClient client = watchClient(node(keys));
    Recorder recorder = new Recorder(2);

    try (KeyEventSubscription subscription =
        client.watchKeyEvents(WatchKeyEventsRequest.getDefaultInstance(), recorder)) {
      assertTrue(recorder.events.await(10, TimeUnit.SECONDS), "events: " + recorder.cursors);
      assertEquals("11.0", subscription.lastCursor());
    }

    assertEquals(List.of(), recorder.errors);
    assertEquals(List.of("10.0", "11.0"), recorder.cursors);
    assertEquals("", watchRequests.get(0).getCursor());
    assertEquals("9.0", watchRequests.get(1).getCursor(), "where the node's \"now\" was");
    assertEquals("10.0", watchRequests.get(2).getCursor(), "after the last delivered event");
  }

  private static StatusRuntimeException tooSlow(String cursor) {
    return GrpcErrors.error(
        Status.Code.UNAVAILABLE,
        "WATCHER_TOO_SLOW",
        "this watcher stopped reading; resume from cursor " + cursor,
        java.util.Map.of("cursor", cursor));
  }

  @Test
  void watchKeyEvents_nodeWithTooManyWatchers_isPassedOverForAnotherNode() throws Exception {
    FakeKeyService full =
        refusingWatches(
            GrpcErrors.error(
                Status.Code.RESOURCE_EXHAUSTED,
                "TOO_MANY_WATCHERS",
                "this node serves at most 256 event watchers; use another node",
                java.util.Map.of()));
    FakeKeyService other = new FakeKeyService().events(serverEvent("7.0", "payments", 7));
    KeyrotorClient client = watchClient(node(full), node(other));
    Recorder recorder = new Recorder(1);

    try (KeyEventSubscription subscription =
        client.watchKeyEvents(WatchKeyEventsRequest.getDefaultInstance(), recorder)) {
      assertTrue(recorder.events.await(10, TimeUnit.SECONDS), "no event from the second node");
      assertEquals("7.0", subscription.lastCursor());
    }
    assertEquals(List.of(), recorder.errors);
    assertEquals(1, full.received(WatchKeyEventsRequest.class).size());
  }

  @Test
  void watchKeyEvents_finalError_isReportedToListener() throws Exception {
    FakeNode node =
        node(
            refusingWatches(
                GrpcErrors.error(
                    Status.Code.PERMISSION_DENIED,
                    "PERMISSION_DENIED",
                    "not allowed to watch",
                    java.util.Map.of())));
    KeyrotorClient client = build(TestPki.clientBuilder().endpoints(node.address()));
    Recorder recorder = new Recorder(0);

    KeyEventSubscription subscription =
        client.watchKeyEvents(WatchKeyEventsRequest.getDefaultInstance(), recorder);
    try {
      assertTrue(recorder.failed.await(10, TimeUnit.SECONDS));
      assertEquals(Status.Code.PERMISSION_DENIED, recorder.errors.get(0).code());
    } finally {
      subscription.close();
    }
    assertFalse(subscription.isActive());
  }

  /**
   * A node whose gRPC server is shut down now, with the stream open (what a node's stop does to the
   * streams still open when its grace period ends): the subscription resumes on the other node
   * after the last delivered cursor, tells the listener of the break, and reports no error.
   */
  @Test
  void watchKeyEvents_nodeServerShutDownMidStream_resumesOnAnotherNodeFromTheCursor()
      throws Exception {
    List<WatchKeyEventsRequest> firstRequests = new CopyOnWriteArrayList<>();
    List<WatchKeyEventsRequest> secondRequests = new CopyOnWriteArrayList<>();
    FakeNode first =
        node(answeringWatches(firstRequests, observer -> observer.onNext(event("c1", 1))));
    FakeNode second =
        node(answeringWatches(secondRequests, observer -> observer.onNext(event("c2", 2))));
    KeyrotorClient client = watchClient(first, second);
    Recorder recorder = new Recorder(2);

    try (KeyEventSubscription subscription =
        client.watchKeyEvents(WatchKeyEventsRequest.getDefaultInstance(), recorder)) {
      waitFor(() -> recorder.cursors.contains("c1"), "the first event");
      first.close(); // Server.shutdownNow: open streams are cancelled
      assertTrue(recorder.events.await(10, TimeUnit.SECONDS), "events: " + recorder.cursors);
      assertTrue(subscription.isActive());
    }

    assertEquals(List.of(), recorder.errors);
    assertEquals(List.of("c1", "c2"), recorder.cursors);
    assertEquals("c1", secondRequests.get(0).getCursor(), "resumed after the last event");
    assertEquals(1, recorder.interruptions.size(), "" + recorder.interruptions);
  }

  /**
   * How a stream ends decides whether the subscription goes on: statuses that mean its node went
   * away or the stream was torn down (gRPC's own, without a keyrotor reason) resume it from the
   * cursor; a node's refusal (with its reason) ends it.
   */
  @ParameterizedTest(name = "{0} {1}: resumed={2}")
  @CsvSource({
    "UNAVAILABLE, SHUTTING_DOWN, true",
    "UNAVAILABLE, , true",
    "DEADLINE_EXCEEDED, , true",
    "CANCELLED, , true",
    "INTERNAL, , true",
    "INTERNAL, INTERNAL, false",
    "PERMISSION_DENIED, PERMISSION_DENIED, false",
    "UNAUTHENTICATED, , false",
    "INVALID_ARGUMENT, INVALID_CURSOR, false",
    "NOT_FOUND, KEY_NOT_FOUND, false",
    "UNKNOWN, , false",
  })
  void watchKeyEvents_streamEnd_resumesOnlyWhenTheNodeWentAway(
      Status.Code code, String reason, boolean resumed) throws Exception {
    StatusRuntimeException end =
        reason == null
            ? Status.fromCode(code)
                .withDescription("RST_STREAM closed stream. HTTP/2 error code: CANCEL")
                .asRuntimeException()
            : GrpcErrors.error(code, reason, "the stream ended", java.util.Map.of());
    List<WatchKeyEventsRequest> watchRequests = new CopyOnWriteArrayList<>();
    FakeKeyService keys =
        answeringWatches(
            watchRequests,
            observer -> {
              if (watchRequests.size() == 1) {
                observer.onNext(event("c1", 1));
                observer.onError(end);
              } else {
                observer.onNext(event("c2", 2));
              }
            });
    KeyrotorClient client = watchClient(node(keys));
    Recorder recorder = new Recorder(2);

    KeyEventSubscription subscription =
        client.watchKeyEvents(WatchKeyEventsRequest.getDefaultInstance(), recorder);
    try {
      if (resumed) {
        assertTrue(recorder.events.await(10, TimeUnit.SECONDS), "events: " + recorder.cursors);
        assertEquals(List.of(), recorder.errors);
        assertEquals(List.of(code + " after c1"), recorder.interruptions);
        assertEquals("c1", watchRequests.get(1).getCursor());
        assertTrue(subscription.isActive());
      } else {
        assertTrue(recorder.failed.await(10, TimeUnit.SECONDS), "no final error");
        assertEquals(code, recorder.errors.get(0).code());
        assertEquals(List.of(), recorder.interruptions);
        assertEquals(1, watchRequests.size(), "not asked again");
      }
    } finally {
      subscription.close();
    }
    assertEquals(resumed, KeyEventSubscription.nodeWentAway(KeyrotorException.fromGrpc(end, "")));
  }

  private static void waitFor(java.util.function.BooleanSupplier condition, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "not within 10 s: " + what);
      Thread.sleep(10);
    }
  }

  /**
   * A listener that records the cursors of the events and the errors it is given, counting down
   * {@link #events} on each event and {@link #failed} on the first error.
   */
  private static final class Recorder implements KeyEventListener {
    final List<String> cursors = new CopyOnWriteArrayList<>();
    final List<KeyrotorException> errors = new CopyOnWriteArrayList<>();
    final List<String> interruptions = new CopyOnWriteArrayList<>();
    final CountDownLatch events;
    final CountDownLatch failed = new CountDownLatch(1);

    Recorder(int expectedEvents) {
      events = new CountDownLatch(expectedEvents);
    }

    @Override
    public void onEvent(KeyEvent event) {
      cursors.add(event.getCursor());
      events.countDown();
    }

    @Override
    public void onError(KeyrotorException error) {
      errors.add(error);
      failed.countDown();
    }

    @Override
    public void onInterrupted(KeyrotorException error, String cursor) {
      interruptions.add(error.code() + " after " + cursor);
    }
  }

  /** A client of {@code nodes} with short backoff, so that a watch reconnects at once. */
  private KeyrotorClient watchClient(FakeNode... nodes) {
    return build(
        TestPki.clientBuilder()
            .endpoints(Arrays.stream(nodes).map(FakeNode::address).toList())
            .backoff(Duration.ofMillis(10), Duration.ofMillis(50)));
  }

  /**
   * A key service that adds every WatchKeyEvents request to {@code requests}, then has {@code
   * answer} answer it (the stream stays open unless the answer ends it).
   */
  private static FakeKeyService answeringWatches(
      List<WatchKeyEventsRequest> requests, Consumer<StreamObserver<KeyEvent>> answer) {
    return new FakeKeyService() {
      @Override
      public void watchKeyEvents(WatchKeyEventsRequest request, StreamObserver<KeyEvent> observer) {
        requests.add(request);
        answer.accept(observer);
      }
    };
  }

  /** A key service that answers every WatchKeyEvents with {@code error}. */
  private static FakeKeyService refusingWatches(StatusRuntimeException error) {
    return new FakeKeyService()
        .failEvery(request -> request instanceof WatchKeyEventsRequest ? error : null);
  }

  private static KeyEvent serverEvent(String cursor, String key, long index) {
    return KeyEvent.newBuilder()
        .setCursor(cursor)
        .setType(KeyEventType.KEY_EVENT_TYPE_PENDING)
        .setKeyName(key)
        .setLogIndex(index)
        .build();
  }

  private static KeyEvent event(String cursor, long index) {
    return KeyEvent.newBuilder()
        .setCursor(cursor)
        .setType(KeyEventType.KEY_EVENT_TYPE_ACTIVATED)
        .setKeyName("payments")
        .setLogIndex(index)
        .build();
  }
}
