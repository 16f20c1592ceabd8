package io.keyrotor.storage.apply.key;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RegisterNode;
import io.keyrotor.proto.internal.v1.ReportUsage;
import io.keyrotor.proto.internal.v1.SetClusterVersion;
import io.keyrotor.proto.internal.v1.UsageCount;
import io.keyrotor.storage.Commands;
import io.keyrotor.storage.KeyStateStore;
import io.keyrotor.storage.version.ApplyFeature;
import io.keyrotor.storage.version.ClusterVersion;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data keys issued and rewrapped away per version, reported by the nodes through ReportUsage,
 * on real RocksDB: counted only once the cluster runs DATA_KEY_USAGE_COUNTS, added up across
 * reports and nodes, the same on every replica, and covered by the state digest.
 */
class DataKeyUsageCountsTest {
  private static final long T0 = 1_700_000_000_000L;
  private static final ApplyFeature FEATURE = ApplyFeature.DATA_KEY_USAGE_COUNTS;

  @TempDir Path dir;

  private long index;

  @Test
  void belowTheFeature_dataKeyCountsAreIgnored_encryptionsStillCount() {
    // Cluster version 2 was released before the counters: a binary of that release runs it and
    // ignores them, so they must not count at 2.
    assertEquals(3, FEATURE.version());
    for (int clusterVersion = ClusterVersion.BASE;
        clusterVersion < FEATURE.version();
        clusterVersion++) {
      index = 0;
      try (KeyStateStore store = KeyStateStore.open(dir.resolve("old-" + clusterVersion))) {
        start(store, clusterVersion);
        assertEquals(clusterVersion, store.activeClusterVersion());

        apply(store, report("n1", count("k", 1, 3, 10, 4)));

        KeyVersionRecord v1 = store.key("k").orElseThrow().getVersions(0);
        assertEquals(3, v1.getEncryptions());
        assertEquals(0, v1.getDataKeysIssued());
        assertEquals(0, v1.getDataKeysRewrappedAway());
      }
    }
  }

  @Test
  void raisingToTheFeature_countsOnlyTheReportsAfterTheRaise() {
    try (KeyStateStore store = KeyStateStore.open(dir.resolve("raised"))) {
      start(store, FEATURE.version() - 1);
      apply(store, report("n1", count("k", 1, 0, 10, 4)));

      apply(store, setVersion(FEATURE.version()));
      apply(store, report("n1", count("k", 1, 0, 2, 1)));

      KeyVersionRecord v1 = store.key("k").orElseThrow().getVersions(0);
      assertEquals(2, v1.getDataKeysIssued());
      assertEquals(1, v1.getDataKeysRewrappedAway());
    }
  }

  @Test
  void atTheFeature_reportsAddUpPerVersionAcrossNodes_andSkipUnknownVersions() {
    try (KeyStateStore store = KeyStateStore.open(dir.resolve("new"))) {
      start(store, FEATURE.version());

      apply(store, report("n1", count("k", 1, 0, 10, 4), count("k", 7, 0, 99, 99)));
      apply(store, report("n2", count("k", 1, 0, 5, 2), count("gone", 1, 0, 1, 1)));

      KeyVersionRecord v1 = store.key("k").orElseThrow().getVersions(0);
      assertEquals(15, v1.getDataKeysIssued());
      assertEquals(6, v1.getDataKeysRewrappedAway());
      assertEquals(0, v1.getEncryptions());
      assertEquals(
          "node=n2 keys=1 encryptions=0 data_keys_issued=5 rewrapped_away=2",
          store.lastAudit().orElseThrow().getDetail());
    }
  }

  @Test
  void replicas_agree_andTheDigestCoversTheCounters() {
    try (KeyStateStore a = KeyStateStore.open(dir.resolve("a"));
        KeyStateStore b = KeyStateStore.open(dir.resolve("b"));
        KeyStateStore c = KeyStateStore.open(dir.resolve("c"))) {
      for (KeyStateStore store : new KeyStateStore[] {a, b, c}) {
        index = 0;
        start(store, FEATURE.version());
      }
      long next = index;
      for (KeyStateStore store : new KeyStateStore[] {a, b}) {
        index = next;
        apply(store, report("n1", count("k", 1, 0, 10, 4)));
      }
      index = next;
      apply(c, report("n1", count("k", 1, 0, 10, 5))); // one more rewrap than a and b

      assertEquals(a.digest(), b.digest());
      assertNotEquals(a.digest(), c.digest());
    }
  }

  /**
   * Registers a node serving the default zone that supports this binary's newest version, raises
   * the cluster version to {@code clusterVersion}, creates key "k".
   */
  private void start(KeyStateStore store, int clusterVersion) {
    apply(
        store,
        Command.newBuilder()
            .setRegisterNode(
                RegisterNode.newBuilder()
                    .setNode(
                        NodeRecord.newBuilder()
                            .setId("n1")
                            .setRegion("r1")
                            .addZones("default")
                            .setSupportedClusterVersion(ClusterVersion.SUPPORTED))));
    if (clusterVersion > ClusterVersion.BASE) {
      apply(store, setVersion(clusterVersion));
    }
    apply(store, Commands.create("create-k", T0, "k").toBuilder());
  }

  private void apply(KeyStateStore store, Command.Builder command) {
    index++;
    store.apply(
        command
            .setRequestId(command.getRequestId().isEmpty() ? "r" + index : command.getRequestId())
            .setProposedTimeUnixMillis(T0 + index)
            .build(),
        1,
        index);
  }

  private static Command.Builder setVersion(int version) {
    return Command.newBuilder()
        .setSetClusterVersion(SetClusterVersion.newBuilder().setVersion(version));
  }

  private static Command.Builder report(String node, UsageCount... counts) {
    return Command.newBuilder()
        .setReportUsage(
            ReportUsage.newBuilder().setNode(node).addAllCounts(java.util.List.of(counts)));
  }

  private static UsageCount count(
      String name, int version, long encryptions, long issued, long rewrappedAway) {
    return UsageCount.newBuilder()
        .setName(name)
        .setVersion(version)
        .setEncryptions(encryptions)
        .setDataKeysIssued(issued)
        .setDataKeysRewrappedAway(rewrappedAway)
        .build();
  }
}
