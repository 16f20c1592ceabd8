package io.keyrotor.bench;

import io.keyrotor.api.v1.AdminServiceGrpc;
import io.keyrotor.api.v1.GetKeyRequest;
import io.keyrotor.api.v1.GetNodeStatusRequest;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.TakeSnapshotRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The keyspace scenario: the same cluster measured with 1,000 keys and again with {@code --keys}
 * keys (default 1,000,000), loaded by {@link KeyspaceLoader}. At each size: every node's heap after
 * a full collection and its resident set, GetKey p50/p99 at 16 in flight over keys spread across
 * the whole keyspace, the time a follower killed with SIGKILL takes from its restart to answering a
 * linearizable GetKey, and the time a follower whose data directory was wiped takes to reach the
 * leader's applied index (a snapshot install once the leader has purged its log). The state digest
 * must agree on every node after the load and after each recovery, or the scenario fails. Not in
 * the default scenario list: {@code scripts/bench --scenarios keyspace [--keys N]}.
 */
final class KeyspaceScenario {
  static final String NAME = "keyspace";
  static final int SMALL = 1_000;
  static final int LOAD = 16;
  static final int DEFAULT_KEYS = 1_000_000;
  private static final int LOADER_CONCURRENCY = 256;
  private static final int READ_SAMPLE = 10_000;

  private KeyspaceScenario() {}

  static void run(BenchRun run, int keys) throws Exception {
    if (keys <= SMALL) {
      throw new IllegalArgumentException("--keys must be more than " + SMALL);
    }
    KeyrotorTarget cluster = run.keyrotor;
    String prefix = "keyspace-" + cluster.runId + "-";
    KeyspaceLoader loader = new KeyspaceLoader(cluster, prefix, LOADER_CONCURRENCY);
    long begin = System.nanoTime();
    // The state holds SMALL, then `keys` keys in all: those earlier scenarios and the warm-up made
    // count (the cluster's limit, at most Limits.MAX_KEYS_PER_CLUSTER, counts them too).
    long small = Math.max(0, SMALL - keyCount(cluster));
    loader.load(0, small, run.progress);
    measureAt(run, prefix, small, SMALL);
    run.refreshLeaders();
    // One short of `keys`: the kill below (KillableCluster.Keyrotor) creates one key to read, and
    // at 1,000,000 the cluster's limit leaves no room for it.
    long big = small + Math.max(0, keys - keyCount(cluster) - 1);
    long loadBegin = System.nanoTime();
    loader.load(small, big, run.progress);
    double loadSeconds = (System.nanoTime() - loadBegin) / 1e9;
    run.observations.add(
        new Observation(
            NAME,
            "keyrotor",
            "load_keys_per_s",
            (big - small) / loadSeconds,
            "keys/s",
            0,
            String.format(
                "CreateKey through the API, %d in flight at the leader, %,d keys in %.0f s",
                LOADER_CONCURRENCY, big - small, loadSeconds)));
    measureAt(run, prefix, big, keys);
    run.notes.add(
        String.format(
            "keyspace: %,d keys loaded and measured in %.0f s; the cluster's nodes run with the"
                + " bench's node JVM options",
            keys, (System.nanoTime() - begin) / 1e9));
  }

  private static long keyCount(KeyrotorTarget cluster) {
    return status(cluster, cluster.leaderAddress()).getKeyCount();
  }

  /**
   * Measures the cluster holding about {@code keys} keys, of which this scenario's own are indexes
   * [0, {@code own}) under {@code prefix} (the ones read).
   */
  private static void measureAt(BenchRun run, String prefix, long own, long keys) throws Exception {
    KeyrotorTarget cluster = run.keyrotor;
    String target = target(keys);
    run.refreshLeaders();
    digestsAgree(cluster, "after loading " + keys + " keys");
    long count = status(cluster, cluster.leaderAddress()).getKeyCount();
    for (Map.Entry<String, String> node : cluster.addressesById().entrySet()) {
      long pid = NodeProcess.pid(run.clusterDir, node.getKey());
      long heap = NodeProcess.heapUsedAfterFullGc(pid);
      long rss = NodeProcess.residentSetBytes(pid);
      String role = node.getKey().equals(cluster.leaderId()) ? "leader" : "follower";
      String detail = String.format("%s %s, %,d keys in the state", node.getKey(), role, count);
      run.observations.add(
          new Observation(
              NAME, target, "heap_after_full_gc_mb", heap / 1048576.0, "MB", 0, detail));
      run.observations.add(
          new Observation(NAME, target, "rss_mb", rss / 1048576.0, "MB", 0, detail));
      Path data = dataDirectory(run.clusterDir, node.getKey());
      run.observations.add(
          new Observation(
              NAME,
              target,
              "data_dir_mb",
              directoryBytes(data) / 1048576.0,
              "MB",
              0,
              detail + "; data.dir (RocksDB state, Raft log and snapshots, audit)"));
    }
    List<GetKeyRequest> reads = new ArrayList<>();
    for (long index : KeyspaceLoader.spread(own, READ_SAMPLE)) {
      reads.add(GetKeyRequest.newBuilder().setName(KeyspaceLoader.name(prefix, index)).build());
    }
    Operation getKey =
        sequence -> cluster.keys().getKey(reads.get((int) (sequence % reads.size())));
    run.measurements.add(run.runner.closedLoop(NAME, target, LOAD, 0, getKey));

    // Group commit puts many CreateKeys in one log entry, so a large keyspace may still be short
    // of raft.snapshot-threshold entries: a snapshot on every node now makes the restart below
    // start from one and the wiped follower's catch-up a snapshot install, at every size.
    long snapshotIndex = snapshotEveryNode(cluster);
    run.notes.add(
        String.format(
            "keyspace at %,d keys: a snapshot on every node (TakeSnapshot) at index %,d before the"
                + " restart and the wipe",
            keys, snapshotIndex));
    String follower = aFollower(cluster);
    String sampleKey = KeyspaceLoader.name(prefix, own / 2);
    KillableCluster.Keyrotor nodes = new KillableCluster.Keyrotor(run);
    nodes.kill(follower);
    long restartBegin = System.nanoTime();
    start(run, follower);
    awaitGetKey(cluster, cluster.addressesById().get(follower), sampleKey);
    double restartMs = (System.nanoTime() - restartBegin) / 1e6;
    run.observations.add(
        new Observation(
            NAME,
            target,
            "restart_ms",
            restartMs,
            "ms",
            0,
            follower
                + " killed with SIGKILL; from scripts/cluster start to its first answer to a"
                + " linearizable GetKey (JVM start included)"));

    nodes.kill(follower);
    Path data = dataDirectory(run.clusterDir, follower);
    deleteTree(data);
    long leaderApplied = status(cluster, cluster.leaderAddress()).getAppliedIndex();
    long leaderSnapshot = status(cluster, cluster.leaderAddress()).getSnapshotIndex();
    long installBegin = System.nanoTime();
    start(run, follower);
    NodeStatus caughtUp =
        awaitApplied(cluster, cluster.addressesById().get(follower), leaderApplied);
    double installMs = (System.nanoTime() - installBegin) / 1e6;
    run.observations.add(
        new Observation(
            NAME,
            target,
            "wiped_follower_catch_up_ms",
            installMs,
            "ms",
            0,
            String.format(
                "%s's data directory deleted; from scripts/cluster start until its applied index"
                    + " reached the leader's %,d (leader snapshot at %,d, follower's snapshot"
                    + " index then %,d)",
                follower, leaderApplied, leaderSnapshot, caughtUp.getSnapshotIndex())));
    digestsAgree(cluster, "after the wiped follower caught up at " + keys + " keys");
  }

  /** Takes a snapshot on every node; returns the leader's snapshot index. */
  private static long snapshotEveryNode(KeyrotorTarget cluster) {
    long leaderIndex = 0;
    for (Map.Entry<String, String> node : cluster.addressesById().entrySet()) {
      long index =
          AdminServiceGrpc.newBlockingStub(cluster.channel(node.getValue()))
              .withDeadlineAfter(5, TimeUnit.MINUTES)
              .takeSnapshot(TakeSnapshotRequest.getDefaultInstance())
              .getSnapshotIndex();
      if (node.getKey().equals(cluster.leaderId())) {
        leaderIndex = index;
      }
    }
    return leaderIndex;
  }

  /**
   * The bytes of the regular files under {@code dir}; a file the node deletes during the walk (a
   * compacted table, a purged log segment) is left out.
   */
  static long directoryBytes(Path dir) throws IOException {
    AtomicLong total = new AtomicLong();
    Files.walkFileTree(
        dir,
        new SimpleFileVisitor<Path>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
            if (attributes.isRegularFile()) {
              total.addAndGet(attributes.size());
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException e) {
            return FileVisitResult.CONTINUE;
          }
        });
    return total.get();
  }

  static String target(long keys) {
    return String.format("keyrotor-%,d-keys", keys);
  }

  private static String aFollower(KeyrotorTarget cluster) {
    return cluster.addressesById().keySet().stream()
        .filter(id -> !id.equals(cluster.leaderId()))
        .sorted(Comparator.reverseOrder())
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("no follower"));
  }

  private static void start(BenchRun run, String node) throws IOException, InterruptedException {
    NodeProcess.run(
        List.of(run.clusterScript.toString(), "start", node, "--dir", run.clusterDir.toString()));
    cluster(run).resetChannel(cluster(run).addressesById().get(node));
  }

  private static KeyrotorTarget cluster(BenchRun run) {
    return run.keyrotor;
  }

  private static NodeStatus status(KeyrotorTarget cluster, String address) {
    return AdminServiceGrpc.newBlockingStub(cluster.channel(address))
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .getNodeStatus(GetNodeStatusRequest.getDefaultInstance());
  }

  /**
   * Polls until the node at {@code address} answers GetKey for {@code key} (10 minutes at most).
   */
  private static void awaitGetKey(KeyrotorTarget cluster, String address, String key)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
    while (true) {
      try {
        cluster
            .blocking(address)
            .withDeadlineAfter(5, TimeUnit.SECONDS)
            .getKey(GetKeyRequest.newBuilder().setName(key).build());
        return;
      } catch (RuntimeException e) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(address + " did not answer GetKey", e);
        }
        Thread.sleep(50);
      }
    }
  }

  private static NodeStatus awaitApplied(KeyrotorTarget cluster, String address, long index)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(20);
    RuntimeException last = null;
    while (System.nanoTime() < deadline) {
      try {
        NodeStatus s = status(cluster, address);
        if (s.getAppliedIndex() >= index) {
          return s;
        }
      } catch (RuntimeException e) {
        last = e;
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException(address + " did not reach applied index " + index, last);
  }

  /**
   * Waits until every node has applied the leader's index, then fails unless their state digests
   * are equal.
   */
  private static void digestsAgree(KeyrotorTarget cluster, String when)
      throws InterruptedException {
    Map<String, String> digests = new TreeMap<>();
    for (int attempt = 0; attempt < 50; attempt++) {
      long target = status(cluster, cluster.leaderAddress()).getAppliedIndex();
      digests.clear();
      Map<String, Long> indexes = new TreeMap<>();
      for (Map.Entry<String, String> node : cluster.addressesById().entrySet()) {
        NodeStatus s = awaitApplied(cluster, node.getValue(), target);
        digests.put(node.getKey(), s.getAppliedIndex() + " " + s.getStateDigest());
        indexes.put(node.getKey(), s.getAppliedIndex());
      }
      // Background writes (registrations, usage reports) may move a node on: compare at one index.
      if (indexes.values().stream().distinct().count() == 1) {
        if (digests.values().stream().distinct().count() != 1) {
          throw new IllegalStateException("state digests differ " + when + ": " + digests);
        }
        return;
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException(
        "the nodes never stood at the same applied index " + when + ": " + digests);
  }

  /** {@code data.dir} of the node's {@code node.properties}, resolved against its directory. */
  static Path dataDirectory(Path clusterDir, String node) throws IOException {
    Path nodeDir = clusterDir.resolve(node);
    Properties p = new Properties();
    p.load(
        new java.io.StringReader(
            Files.readString(nodeDir.resolve("node.properties"), StandardCharsets.UTF_8)));
    String dir = p.getProperty("data.dir");
    if (dir == null || dir.isBlank()) {
      throw new IOException("no data.dir in " + nodeDir.resolve("node.properties"));
    }
    return nodeDir.resolve(dir).normalize();
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
