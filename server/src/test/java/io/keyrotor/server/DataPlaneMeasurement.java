package io.keyrotor.server;

import com.google.protobuf.ByteString;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.EncryptRequest;
import io.keyrotor.api.v1.KeyServiceGrpc;
import io.keyrotor.server.dataplane.AesGcm;
import io.keyrotor.server.dataplane.CiphertextFormat;
import io.keyrotor.server.dataplane.DataPlane;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/**
 * Not a test: a measurement, run by hand, whose numbers go into the data-plane notes (no timed
 * assertion anywhere).
 *
 * <pre>
 * mvn -B -pl server -am test -Dtest=DataPlaneMeasurement -Dsurefire.failIfNoSpecifiedTests=false
 * cat server/target/surefire-reports/io.keyrotor.server.DataPlaneMeasurement-output.txt
 * </pre>
 *
 * It measures, in one JVM on loopback: (1) the server-side work of one Decrypt in-process (read
 * barrier on the leader, KEK cache hit, AES-GCM) against raw AES-GCM of the same bytes; (2) Decrypt
 * through gRPC on the leader, on a follower with ReadIndex, and on a follower with redirect
 * (NOT_LEADER, then the leader), sequentially and with concurrent clients.
 */
class DataPlaneMeasurement {
  private static final int SEQUENTIAL_CALLS = Integer.getInteger("measure.calls", 1_000);
  private static final long LOAD_MILLIS = Long.getLong("measure.load-millis", 3_000);
  private static final int LOAD_THREADS = Integer.getInteger("measure.threads", 8);

  @Test
  void measure() throws Exception {
    Path directory = Files.createTempDirectory("keyrotor-measure");
    print(
        "JVM %s, %d cores, load average %.1f at start",
        System.getProperty("java.vm.version"),
        Runtime.getRuntime().availableProcessors(),
        ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    try (LocalTestCluster cluster =
        new LocalTestCluster(directory.resolve("cluster"), 3, List.of("eu"))) {
      // One run, both policies side by side: n2 reads through ReadIndex, n3 redirects; n1 leads.
      cluster.configure("n2", "reads.follower", "read-index");
      cluster.configure("n3", "reads.follower", "redirect");
      cluster.startAll();
      if (!cluster.leaderId().equals("n1")) {
        cluster.nodes.get("n1").raft().transferLeadership("n1", 10_000);
      }
      LocalTestCluster.waitUntil(
          () -> cluster.nodes.get("n1").raft().isReadyLeader(),
          java.time.Duration.ofSeconds(30),
          "n1 to lead");
      cluster.keys("n1").createKey(CreateKeyRequest.newBuilder().setName("measured").build());
      ByteString ciphertext =
          cluster
              .keys("n1")
              .encrypt(
                  EncryptRequest.newBuilder()
                      .setKeyName("measured")
                      .setPlaintext(ByteString.copyFrom(new byte[32]))
                      .putContext("tenant", "acme")
                      .build())
              .getCiphertext();
      DecryptRequest decrypt =
          DecryptRequest.newBuilder()
              .setCiphertext(ciphertext)
              .putContext("tenant", "acme")
              .build();
      cluster.awaitConvergence();

      inProcess(cluster.nodes.get("n1"), cluster.nodes.get("n2"), decrypt);

      print("-- Decrypt through gRPC, sequential (one client thread), rounds interleaved");
      Map<String, Supplier<Object>> calls = new java.util.LinkedHashMap<>();
      calls.put("leader n1", () -> cluster.keys("n1").decrypt(decrypt));
      calls.put("follower n2, read-index", () -> cluster.keys("n2").decrypt(decrypt));
      calls.put(
          "follower n3, redirect: the NOT_LEADER answer alone",
          () -> {
            try {
              cluster.keys("n3").decrypt(decrypt);
              throw new AssertionError("a follower in redirect mode served the call");
            } catch (StatusRuntimeException expected) {
              return expected;
            }
          });
      calls.put(
          "follower n3, redirect: NOT_LEADER then the leader (a client that does not learn)",
          () -> {
            try {
              return cluster.keys("n3").decrypt(decrypt);
            } catch (StatusRuntimeException redirected) {
              return cluster.keys("n1").decrypt(decrypt);
            }
          });
      Map<String, List<Long>> samples = new java.util.LinkedHashMap<>();
      for (int round = 0; round < 3; round++) {
        for (Map.Entry<String, Supplier<Object>> call : calls.entrySet()) {
          samples
              .computeIfAbsent(call.getKey(), k -> new ArrayList<>())
              .addAll(sequential(call.getValue()));
        }
      }
      samples.forEach(DataPlaneMeasurement::printLatencies);

      print("-- Decrypt through gRPC, %d client threads, rounds interleaved", LOAD_THREADS);
      Map<String, List<String>> targets = new java.util.LinkedHashMap<>();
      targets.put("all threads on the leader (redirect's steady state)", List.of("n1"));
      targets.put("threads split over leader n1 and read-index follower n2", List.of("n1", "n2"));
      targets.put("all threads on read-index follower n2", List.of("n2"));
      Map<String, List<Double>> rates = new java.util.LinkedHashMap<>();
      for (int round = 0; round < 3; round++) {
        for (Map.Entry<String, List<String>> target : targets.entrySet()) {
          rates
              .computeIfAbsent(target.getKey(), k -> new ArrayList<>())
              .add(load(cluster, target.getValue(), decrypt));
        }
      }
      rates.forEach(
          (what, r) ->
              print(
                  "%-72s %s calls/s",
                  what, r.stream().map(x -> String.format("%.0f", x)).toList()));
      print(
          "load average %.1f at the end",
          ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }
  }

  private static void inProcess(KeyrotorNode leader, KeyrotorNode follower, DecryptRequest request)
      throws Exception {
    DataPlane dataPlane = leader.dataPlane();
    DataPlane noBarrier =
        new DataPlane(
            key -> CompletableFuture.completedFuture(null),
            name -> leader.raft().state().key(name),
            leader.config().zones(),
            leader.kekCache(),
            Clock.systemUTC(),
            Executors.newSingleThreadExecutor());
    byte[] blob = request.getCiphertext().toByteArray();
    CiphertextFormat.Parsed parsed = CiphertextFormat.parse(blob);
    byte[] context = CiphertextFormat.encodeContext(request.getContextMap());
    // The same bytes under a known key, for the raw AES-GCM floor.
    SecretKeySpec rawKey = new SecretKeySpec(new byte[32], "AES");
    byte[] rawBlob = AesGcm.seal(rawKey, "measured", 1, new byte[12], context, new byte[32], 0, 32);
    CiphertextFormat.Parsed rawParsed = CiphertextFormat.parse(rawBlob);

    print("-- in-process, one thread, %d-byte ciphertext of a 32-byte data key", blob.length);
    perOp("raw JDK AES-GCM open (the floor)", () -> open(rawKey, rawParsed, context));
    perOp(
        "DataPlane.decrypt without the barrier (cache hit + AES-GCM)",
        () -> decrypt(noBarrier, request));
    perOp("RaftNode.readBarrier() on the leader (lease)", () -> leader.raft().readBarrier().join());
    perOp(
        "DataPlane.decrypt on the leader (barrier + cache hit + AES-GCM)",
        () -> decrypt(dataPlane, request));
    perOp(
        "RaftNode.readBarrier() on a follower (ReadIndex)",
        () -> follower.raft().readBarrier().join());
    perOp(
        "DataPlane.decrypt on a read-index follower", () -> decrypt(follower.dataPlane(), request));
  }

  private static Object open(SecretKeySpec key, CiphertextFormat.Parsed parsed, byte[] context) {
    try {
      return AesGcm.open(key, parsed, context);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static Object decrypt(DataPlane dataPlane, DecryptRequest request) {
    try {
      return dataPlane.decrypt(request);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static void perOp(String what, Supplier<Object> op) {
    for (int i = 0; i < 20_000; i++) {
      op.get();
    }
    long best = Long.MAX_VALUE;
    for (int round = 0; round < 5; round++) {
      int n = 20_000;
      long start = System.nanoTime();
      for (int i = 0; i < n; i++) {
        op.get();
      }
      best = Math.min(best, (System.nanoTime() - start) / n);
    }
    print("%-72s %8d ns/op (best of 5 rounds of 20,000)", what, best);
  }

  private static List<Long> sequential(Supplier<Object> call) {
    for (int i = 0; i < 300; i++) {
      call.get();
    }
    List<Long> micros = new ArrayList<>();
    for (int i = 0; i < SEQUENTIAL_CALLS; i++) {
      long start = System.nanoTime();
      call.get();
      micros.add((System.nanoTime() - start) / 1_000);
    }
    return micros;
  }

  private static void printLatencies(String what, List<Long> samples) {
    long[] micros = samples.stream().mapToLong(Long::longValue).sorted().toArray();
    print(
        "%-72s p50 %5d us  p90 %5d us  p99 %5d us  (%d calls)",
        what,
        micros[micros.length / 2],
        micros[micros.length * 9 / 10],
        micros[micros.length * 99 / 100],
        micros.length);
  }

  private static double load(LocalTestCluster cluster, List<String> targets, DecryptRequest request)
      throws InterruptedException {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong done = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    List<io.grpc.ManagedChannel> channels = new ArrayList<>();
    for (int t = 0; t < LOAD_THREADS; t++) {
      io.grpc.ManagedChannel channel =
          io.grpc.ManagedChannelBuilder.forTarget(
                  cluster.apiAddress(targets.get(t % targets.size())))
              .usePlaintext()
              .build();
      channels.add(channel);
      KeyServiceGrpc.KeyServiceBlockingStub stub = KeyServiceGrpc.newBlockingStub(channel);
      Thread thread =
          new Thread(
              () -> {
                while (!stop.get()) {
                  try {
                    stub.decrypt(request);
                    done.incrementAndGet();
                  } catch (StatusRuntimeException e) {
                    failed.incrementAndGet();
                  }
                }
              });
      thread.start();
      threads.add(thread);
    }
    Thread.sleep(500); // warm-up: a measurement window, not synchronisation
    long before = done.get();
    long start = System.nanoTime();
    Thread.sleep(LOAD_MILLIS);
    long calls = done.get() - before;
    double seconds = (System.nanoTime() - start) / 1e9;
    stop.set(true);
    for (Thread thread : threads) {
      thread.join();
    }
    channels.forEach(io.grpc.ManagedChannel::shutdownNow);
    if (failed.get() > 0) {
      print("  (%d calls failed over %s)", failed.get(), targets);
    }
    return calls / seconds;
  }

  private static void print(String format, Object... args) {
    System.out.println(String.format(format, args));
    System.out.flush();
  }
}
