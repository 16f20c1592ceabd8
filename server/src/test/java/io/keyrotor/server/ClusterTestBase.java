package io.keyrotor.server;

import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.ScheduleKeyVersionDestroyRequest;
import io.keyrotor.consensus.testing.Replicas;
import java.nio.file.Path;
import java.time.Duration;
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

  /**
   * A new key, named {@link #unique}{@code (prefix)}, rotated once and its version 1 disabled: what
   * a destruction of version 1 needs.
   */
  String keyWithDisabledFirstVersion(String prefix) {
    String name = unique(prefix);
    var keys = cluster.keys(cluster.leaderId());
    keys.createKey(KeyRequests.newKey(name));
    keys.rotateKey(KeyRequests.rotation(name));
    keys.disableKeyVersion(KeyRequests.disable(name, 1));
    return name;
  }

  /**
   * Schedules the destruction of version 1 of {@code name} after one second and waits, at most
   * {@code timeout}, until the leader reports it DESTROYED.
   */
  void destroyFirstVersion(String name, Duration timeout) throws InterruptedException {
    cluster
        .keys(cluster.leaderId())
        .scheduleKeyVersionDestroy(
            ScheduleKeyVersionDestroyRequest.newBuilder()
                .setName(name)
                .setVersion(1)
                .setWaitingPeriod(KeyRequests.seconds(1))
                .build());
    Replicas.waitUntil(
        () ->
            cluster.keys(cluster.leaderId()).getKey(KeyRequests.key(name)).getVersions(0).getState()
                == KeyVersionState.KEY_VERSION_STATE_DESTROYED,
        timeout,
        "the destroy of version 1");
  }

  /** A name no other test uses: {@code prefix}, a dash and 8 random hex digits. */
  static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }
}
