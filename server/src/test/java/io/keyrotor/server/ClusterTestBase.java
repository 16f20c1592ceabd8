package io.keyrotor.server;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A test class against one 3-node {@link LocalTestCluster}, started before its first test and
 * stopped after its last, when no node may have hit a fatal error. The tests share the cluster, so
 * each works on keys of its own ({@link #unique}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ClusterTestBase {
  /**
   * Followers serve data-plane reads themselves (ReadIndex), so every node's state is under test;
   * the default ({@code redirect}) is FollowerReadsIT's.
   */
  static final Map<String, String> FOLLOWERS_READ_INDEX = Map.of("reads.follower", "read-index");

  private final List<String> regions;
  private final Map<String, String> everyNode;
  LocalTestCluster cluster;

  /**
   * @param regions the nodes' regions, round-robin (n1 and n3 get the first of two)
   * @param everyNode configuration every node starts with, beside what scripts/cluster writes
   */
  ClusterTestBase(List<String> regions, Map<String, String> everyNode) {
    this.regions = regions;
    this.everyNode = everyNode;
  }

  @BeforeAll
  void startCluster(@TempDir Path directory) throws Exception {
    cluster = new LocalTestCluster(directory.resolve("cluster"), 3, regions);
    for (String id : List.of("n1", "n2", "n3")) {
      for (Map.Entry<String, String> setting : everyNode.entrySet()) {
        cluster.configure(id, setting.getKey(), setting.getValue());
      }
    }
    cluster.startAll();
  }

  @AfterAll
  void stopCluster() {
    LocalTestCluster.closeChecked(cluster);
  }

  /** A name no other test uses: {@code prefix}, a dash and 8 random hex digits. */
  static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }
}
