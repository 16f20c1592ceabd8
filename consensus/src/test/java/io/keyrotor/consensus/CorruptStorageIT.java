package io.keyrotor.consensus;

import static io.keyrotor.consensus.TestCluster.await;
import static io.keyrotor.consensus.TestCluster.createKey;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.storage.IntegrityStatus;
import io.keyrotor.storage.StateView;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A node whose Raft log or state store was damaged refuses to start instead of serving. */
class CorruptStorageIT {
  @TempDir Path root;
  private TestCluster cluster;

  @AfterEach
  void tearDown() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private String stoppedFollowerAfterWrites() throws Exception {
    cluster = new TestCluster(root, 3, Function.identity());
    cluster.startAll();
    for (int i = 0; i < 20; i++) {
      await(cluster.leader().propose(createKey("k-" + i)));
    }
    cluster.awaitConvergence();
    String follower = cluster.followers().get(0).nodeId();
    cluster.stop(follower);
    return follower;
  }

  /**
   * Damages the files {@code filter} picks under a stopped follower's {@code subdirectory}, then
   * asserts that the follower refuses to start; returns why.
   */
  private IOException damagedFollowerRefusesToStart(
      String subdirectory, Predicate<Path> filter, String what) throws Exception {
    String id = stoppedFollowerAfterWrites();
    List<Path> damaged = files(root.resolve(id).resolve(subdirectory), filter);
    assertFalse(damaged.isEmpty(), what);
    for (Path file : damaged) {
      flipBytesInTheMiddle(file);
    }

    IOException refused = assertThrows(IOException.class, () -> cluster.start(id));

    assertTrue(refused.getMessage().contains("cannot start"), refused.getMessage());
    return refused;
  }

  @Test
  void corruptRaftLogSegment_nodeRefusesToStart() throws Exception {
    IOException refused =
        damagedFollowerRefusesToStart(
            "raft",
            p -> p.getFileName().toString().startsWith("log_"),
            "the node has log segments");

    assertTrue(
        refused.getMessage().toLowerCase(Locale.ROOT).contains("checksum"), refused.getMessage());
  }

  /**
   * A damaged state store is found either when it opens (RocksDB reads the damaged table's footer
   * or index) or, since opening reads no key record, by the background check of the data against
   * the stored digest, which marks the store as failed: the node then refuses every request.
   */
  @Test
  void corruptStateStore_nodeRefusesToStartOrFailsItsIntegrityCheck() throws Exception {
    String id = stoppedFollowerAfterWrites();
    List<Path> damaged =
        files(root.resolve(id).resolve("state"), p -> p.getFileName().toString().endsWith(".sst"));
    assertFalse(damaged.isEmpty(), "the store has table files");
    for (Path file : damaged) {
      flipBytesInTheMiddle(file);
    }

    RaftNode started;
    try {
      started = cluster.start(id);
    } catch (IOException refused) {
      assertTrue(refused.getMessage().contains("cannot start"), refused.getMessage());
      assertTrue(refused.getMessage().contains("state store"), refused.getMessage());
      return;
    }
    StateView state = started.state();
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(120);
    while (state.integrity().state() == IntegrityStatus.State.CHECKING
        && System.nanoTime() < deadline) {
      Thread.sleep(50);
      state = started.state();
    }
    assertEquals(
        IntegrityStatus.State.FAILED, state.integrity().state(), state.integrity().detail());
    assertTrue(state.integrity().detail().contains("state store"), state.integrity().detail());
  }

  private static List<Path> files(Path dir, Predicate<Path> filter) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      return walk.filter(Files::isRegularFile).filter(filter).toList();
    }
  }

  private static void flipBytesInTheMiddle(Path file) throws IOException {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      long middle = raf.length() / 2;
      for (long i = middle; i < Math.min(raf.length(), middle + 64); i++) {
        raf.seek(i);
        int b = raf.read();
        raf.seek(i);
        raf.write(b ^ 0xff);
      }
    }
  }
}
