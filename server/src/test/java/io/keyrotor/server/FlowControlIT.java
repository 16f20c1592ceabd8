package io.keyrotor.server;

import static io.keyrotor.consensus.testing.Replicas.waitUntil;
import static io.keyrotor.server.GrpcErrors.metadata;
import static io.keyrotor.server.GrpcErrors.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.codahale.metrics.Gauge;
import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.rpc.RetryInfo;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.MetadataUtils;
import io.keyrotor.api.v1.BatchDecryptRequest;
import io.keyrotor.api.v1.BatchDecryptResponse;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.EncryptRequest;
import io.keyrotor.api.v1.KeyEvent;
import io.keyrotor.api.v1.KeyServiceGrpc;
import io.keyrotor.api.v1.ListKeysRequest;
import io.keyrotor.api.v1.WatchKeyEventsRequest;
import io.keyrotor.server.hsm.HsmExecutor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Flow control over the real stack (three nodes, mutual TLS, real gRPC): a watcher that does not
 * read is neither buffered for nor kept, watchers per principal are bounded, a connection carries a
 * bounded number of calls and bounded messages and headers, and a full data-plane HSM queue refuses
 * at once with a retry delay. The cluster runs with small limits so that each is reached quickly.
 */
class FlowControlIT extends ClusterTestBase {
  private static final int MAX_LAG = 20;
  private static final Map<String, String> CONTEXT = Map.of("app", "flow");

  private final List<ManagedChannel> channels = new ArrayList<>();

  FlowControlIT() {
    super(
        List.of("eu"),
        Map.ofEntries(
            Map.entry("reads.follower", "read-index"),
            Map.entry("access.bootstrap-admins", "admin,flow-a,flow-b,flow-conn,flow-slow"),
            Map.entry("limits.watcher-max-lag", Integer.toString(MAX_LAG)),
            Map.entry("limits.watchers-per-principal", "2"),
            Map.entry("grpc.max-concurrent-calls-per-connection", "2"),
            Map.entry("grpc.max-inbound-message-size", "64KiB"),
            Map.entry("grpc.max-inbound-metadata-size", "4KiB"),
            Map.entry("grpc.keepalive-permit-time", "5s"),
            Map.entry("hsm.queue-capacity", "2")));
  }

  @AfterEach
  void closeChannels() {
    channels.forEach(ManagedChannel::shutdownNow);
    channels.clear();
  }

  /** A channel of its own (its own connection) to {@code node} as {@code principal}. */
  private ManagedChannel connect(String node, String principal) {
    return connect(node, principal, 1 << 20);
  }

  private ManagedChannel connect(String node, String principal, int flowControlWindow) {
    ManagedChannel channel =
        NettyChannelBuilder.forTarget(cluster.apiAddress(node), cluster.credentialsAs(principal))
            .flowControlWindow(flowControlWindow)
            .build();
    channels.add(channel);
    return channel;
  }

  private static KeyServiceGrpc.KeyServiceBlockingStub keys(ManagedChannel channel) {
    return KeyServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  private KeyrotorNode node(String id) {
    return cluster.nodes.get(id);
  }

  /** A watch from now on {@code channel}, open until its context is cancelled. */
  private static Context.CancellableContext openWatch(ManagedChannel channel) {
    return openWatch(channel, new CompletableFuture<>());
  }

  /**
   * A watch from now on {@code channel}, open until its context is cancelled; {@code ended}
   * completes when the stream ends (with its failure, or null).
   */
  private static Context.CancellableContext openWatch(
      ManagedChannel channel, CompletableFuture<Throwable> ended) {
    Context.CancellableContext context = Context.current().withCancellation();
    context.run(
        () ->
            KeyServiceGrpc.newStub(channel)
                .watchKeyEvents(
                    WatchKeyEventsRequest.getDefaultInstance(),
                    new io.grpc.stub.StreamObserver<KeyEvent>() {
                      @Override
                      public void onNext(KeyEvent value) {}

                      @Override
                      public void onError(Throwable t) {
                        ended.complete(t);
                      }

                      @Override
                      public void onCompleted() {
                        ended.complete(null);
                      }
                    }));
    return context;
  }

  private void awaitWatchers(String node, int count) {
    waitUntil(
        () -> node(node).watchers().watchers() == count,
        Duration.ofSeconds(30),
        count + " watchers open on " + node);
  }

  /** Creates {@code count} keys through the admin channel: 2 events each. */
  private void createKeys(int count) throws Exception {
    KeyServiceGrpc.KeyServiceFutureStub stub =
        KeyServiceGrpc.newFutureStub(cluster.channelAs(cluster.leaderId(), "admin"));
    List<com.google.common.util.concurrent.ListenableFuture<?>> pending = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      pending.add(
          stub.withDeadlineAfter(60, TimeUnit.SECONDS)
              .createKey(
                  CreateKeyRequest.newBuilder()
                      .setName(unique("flow-history"))
                      .setZone("default")
                      .build()));
      if (pending.size() == 2) {
        for (var future : pending) {
          future.get();
        }
        pending.clear();
      }
    }
    for (var future : pending) {
      future.get();
    }
  }

  @Test
  void watcherThatReadsNothing_holdsBoundedEvents_andIsEndedWithItsResumeCursor() throws Exception {
    createKeys(400); // 800 events: far more than the stream's window and the node's buffer hold
    String node = "n2";
    long endedBefore = node(node).watchers().endedTooSlow();
    // A small HTTP/2 window, and no message ever requested until the end.
    ManagedChannel channel = connect(node, "flow-slow", 8 << 10);
    ClientCall<WatchKeyEventsRequest, KeyEvent> call =
        channel.newCall(KeyServiceGrpc.getWatchKeyEventsMethod(), CallOptions.DEFAULT);
    List<KeyEvent> received = new CopyOnWriteArrayList<>();
    CompletableFuture<StatusRuntimeException> closed = new CompletableFuture<>();
    call.start(
        new ClientCall.Listener<>() {
          @Override
          public void onMessage(KeyEvent event) {
            received.add(event);
          }

          @Override
          public void onClose(Status status, Metadata trailers) {
            closed.complete(status.asRuntimeException(trailers));
          }
        },
        new Metadata());
    call.sendMessage(WatchKeyEventsRequest.newBuilder().setCursor("0").build());
    call.halfClose();

    @SuppressWarnings("unchecked")
    Gauge<Long> buffered =
        (Gauge<Long>) node(node).metrics().registry().getGauges().get("watch.buffered-events");
    AtomicLong mostBuffered = new AtomicLong();
    waitUntil(
        () -> {
          mostBuffered.accumulateAndGet(buffered.getValue(), Math::max);
          return node(node).watchers().endedTooSlow() > endedBefore;
        },
        Duration.ofSeconds(60),
        "the node ends the watcher that reads nothing");
    long newestLogIndex = node(node).raft().state().lastEventCursor() >>> 16;
    assertTrue(mostBuffered.get() <= 100, "events held for watchers: " + mostBuffered.get());
    assertTrue(received.isEmpty(), "nothing was requested, nothing delivered");

    call.request(Integer.MAX_VALUE); // now take what the node sent, then the status
    StatusRuntimeException end = closed.get(30, TimeUnit.SECONDS);
    assertEquals(Status.Code.UNAVAILABLE, end.getStatus().getCode(), end.getMessage());
    assertEquals("WATCHER_TOO_SLOW", reason(end), end.getMessage());
    assertFalse(received.isEmpty(), "the node sent what the stream's window took");
    String lastCursor = received.get(received.size() - 1).getCursor();
    assertEquals(lastCursor, metadata(end).get("cursor"));
    assertTrue(end.getStatus().getDescription().contains("resume from cursor " + lastCursor));
    long lastSentIndex = Long.parseLong(lastCursor.substring(0, lastCursor.indexOf('.')));
    assertTrue(
        newestLogIndex - lastSentIndex > MAX_LAG,
        "the node stopped sending far behind the newest event: sent up to "
            + lastSentIndex
            + " of "
            + newestLogIndex
            + " ("
            + received.size()
            + " events)");
    assertEquals(0, node(node).watchers().bufferedEvents());
    awaitWatchers(node, 0);

    // Resuming from the cursor in the status continues right after the last event received.
    Iterator<KeyEvent> resumed =
        keys(connect(node, "flow-slow"))
            .watchKeyEvents(WatchKeyEventsRequest.newBuilder().setCursor(lastCursor).build());
    KeyEvent next = resumed.next();
    assertTrue(
        order(next.getCursor()) > order(lastCursor),
        "resumed at " + next.getCursor() + " after " + lastCursor);
  }

  /** A server cursor "index.sequence" as one comparable number. */
  private static long order(String cursor) {
    int dot = cursor.indexOf('.');
    return (Long.parseLong(cursor.substring(0, dot)) << 16)
        | Integer.parseInt(cursor.substring(dot + 1));
  }

  /**
   * A node that stops gracefully ends its event streams at once with UNAVAILABLE (SHUTTING_DOWN),
   * which a subscription retries on another node, and never leaves them to the server's forced
   * close (a stream reset, which a gRPC client reports as CANCELLED).
   */
  @Test
  void gracefulStop_endsWatchersWithShuttingDown() throws Exception {
    String node = "n3";
    CompletableFuture<Throwable> ended = new CompletableFuture<>();
    Context.CancellableContext watch = openWatch(connect(node, "flow-b"), ended);
    awaitWatchers(node, 1);
    try {
      cluster.stop(node);
      Throwable failure = ended.get(60, TimeUnit.SECONDS);
      StatusRuntimeException status =
          assertInstanceOf(StatusRuntimeException.class, failure, String.valueOf(failure));
      assertEquals(Status.Code.UNAVAILABLE, status.getStatus().getCode(), status.toString());
      assertEquals("SHUTTING_DOWN", reason(status), status.toString());
    } finally {
      watch.cancel(null);
      cluster.start(node);
      cluster.awaitRegistered();
    }
  }

  @Test
  void watchersPerPrincipal_areBounded_withAMessageNamingTheLimit() {
    String node = "n1";
    Context.CancellableContext first = openWatch(connect(node, "flow-a"));
    Context.CancellableContext second = openWatch(connect(node, "flow-a"));
    awaitWatchers(node, 2);

    StatusRuntimeException refused =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                keys(connect(node, "flow-a"))
                    .watchKeyEvents(WatchKeyEventsRequest.getDefaultInstance())
                    .hasNext());
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.getStatus().getCode());
    assertEquals("TOO_MANY_WATCHERS_FOR_PRINCIPAL", reason(refused));
    assertTrue(
        refused.getStatus().getDescription().contains("limits.watchers-per-principal (2)"),
        refused.getStatus().getDescription());
    assertEquals("2", metadata(refused).get("limit"));

    // Another principal may still watch on the node, and a closed watch frees its place.
    Context.CancellableContext other = openWatch(connect(node, "flow-b"));
    awaitWatchers(node, 3);
    first.cancel(null);
    awaitWatchers(node, 2);
    Context.CancellableContext third = openWatch(connect(node, "flow-a"));
    awaitWatchers(node, 3);
    for (Context.CancellableContext watch : List.of(second, other, third)) {
      watch.cancel(null);
    }
    awaitWatchers(node, 0);
  }

  @Test
  void callsOfOneConnection_areBounded_othersWaitInTheClient() {
    String node = "n3";
    ManagedChannel busy = connect(node, "flow-conn");
    Context.CancellableContext first = openWatch(busy);
    Context.CancellableContext second = openWatch(busy);
    awaitWatchers(node, 2);

    // Both of the connection's streams are taken: a third call cannot start until one ends.
    StatusRuntimeException waited =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                KeyServiceGrpc.newBlockingStub(busy)
                    .withDeadlineAfter(3, TimeUnit.SECONDS)
                    .listKeys(ListKeysRequest.getDefaultInstance()));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, waited.getStatus().getCode());
    // Another connection of the same principal is served.
    keys(connect(node, "flow-conn")).listKeys(ListKeysRequest.getDefaultInstance());

    first.cancel(null);
    awaitWatchers(node, 1);
    keys(busy).listKeys(ListKeysRequest.getDefaultInstance());
    second.cancel(null);
    awaitWatchers(node, 0);
  }

  @Test
  void oversizedMessageAndHeaders_areRefused_andTheConnectionStillServes() {
    ManagedChannel channel = connect("n1", "flow-b");
    StatusRuntimeException message =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                keys(channel)
                    .encrypt(
                        EncryptRequest.newBuilder()
                            .setKeyName("flow-any")
                            .setPlaintext(ByteString.copyFrom(new byte[80 << 10]))
                            .build()));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, message.getStatus().getCode(), message.toString());

    Metadata headers = new Metadata();
    headers.put(
        Metadata.Key.of("x-flow-padding", Metadata.ASCII_STRING_MARSHALLER), "p".repeat(6000));
    StatusRuntimeException header =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                keys(channel)
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                    .listKeys(ListKeysRequest.getDefaultInstance()));
    // The node announces its limit in its HTTP/2 settings; gRPC refuses a larger header block as
    // an HTTP/2 error (grpc-java's client does so before sending it).
    assertEquals(Status.Code.INTERNAL, header.getStatus().getCode(), header.toString());
    assertTrue(header.getStatus().getDescription().contains("http2"), header.toString());

    // The same connection still serves calls within the limits.
    keys(channel).listKeys(ListKeysRequest.getDefaultInstance());
  }

  @Test
  void clientPingingWithinThePermittedRate_keepsItsConnectionAndCalls() throws Exception {
    // grpc-java clients ping at most every 10 s. gRPC's own server default tolerates a ping per
    // 5 minutes and answers the third early one with GOAWAY too_many_pings, which ends the
    // connection's calls; grpc.keepalive-permit-time=5s lets this client keep its watch.
    String node = "n1";
    ManagedChannel channel =
        NettyChannelBuilder.forTarget(cluster.apiAddress(node), cluster.credentialsAs("flow-b"))
            .keepAliveTime(10, TimeUnit.SECONDS)
            .keepAliveWithoutCalls(true)
            .build();
    channels.add(channel);
    CompletableFuture<Throwable> ended = new CompletableFuture<>();
    Context.CancellableContext watch = openWatch(channel, ended);
    awaitWatchers(node, 1);
    try {
      // Four pings' time: the stream must still be open (nothing to wait for but the pings).
      assertThrows(
          java.util.concurrent.TimeoutException.class,
          () -> ended.get(45, TimeUnit.SECONDS),
          () -> "the watch ended: " + ended.getNow(null));
      keys(channel).listKeys(ListKeysRequest.getDefaultInstance());
    } finally {
      watch.cancel(null);
    }
    awaitWatchers(node, 0);
  }

  @Test
  void fullDataPlaneHsmQueue_refusesAtOnceWithRetryDelay_thenServes() throws Exception {
    String node = "n2";
    String key = unique("flow-batch");
    cluster.createKey(key, "default");
    ManagedChannel channel = connect(node, "flow-b");
    waitUntil(
        () -> node(node).raft().state().key(key).isPresent(),
        Duration.ofSeconds(30),
        "the key on " + node);
    ByteString ciphertext =
        keys(channel)
            .encrypt(
                EncryptRequest.newBuilder()
                    .setKeyName(key)
                    .setPlaintext(ByteString.copyFromUtf8("batch item"))
                    .putAllContext(CONTEXT)
                    .build())
            .getCiphertext();
    BatchDecryptRequest batch =
        BatchDecryptRequest.newBuilder()
            .addItems(DecryptRequest.newBuilder().setCiphertext(ciphertext).putAllContext(CONTEXT))
            .build();

    HsmExecutor queue = node(node).dataPlaneExecutor();
    CountDownLatch release = new CountDownLatch(1);
    assertEquals(2, queue.queueCapacity());
    try {
      // Every thread busy and every place in the queue taken, as under a burst of large batches:
      // tasks that never end until released, one per thread and one per place. (A refusal on the
      // way means the threads have not yet taken theirs from the queue: offer it again.)
      int wanted = queue.threads() + queue.queueCapacity();
      for (int taken = 0; taken < wanted; ) {
        try {
          queue.execute(
              () -> {
                try {
                  release.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              });
          taken++;
        } catch (HsmExecutor.Saturated full) {
          Thread.onSpinWait();
        }
      }
      assertThrows(HsmExecutor.Saturated.class, () -> queue.execute(() -> {}));

      StatusRuntimeException busy =
          assertThrows(StatusRuntimeException.class, () -> keys(channel).batchDecrypt(batch));
      assertEquals(Status.Code.RESOURCE_EXHAUSTED, busy.getStatus().getCode(), busy.toString());
      assertEquals("HSM_BUSY", reason(busy));
      assertTrue(busy.getStatus().getDescription().contains("hsm.queue-capacity"));
      RetryInfo retry = null;
      for (Any detail : StatusProto.fromThrowable(busy).getDetailsList()) {
        if (detail.is(RetryInfo.class)) {
          retry = detail.unpack(RetryInfo.class);
        }
      }
      assertTrue(retry != null && retry.hasRetryDelay(), "a RetryInfo delay: " + busy);
    } finally {
      release.countDown();
    }

    BatchDecryptResponse served = keys(channel).batchDecrypt(batch);
    assertEquals(
        ByteString.copyFromUtf8("batch item"), served.getItems(0).getResult().getPlaintext());
  }
}
