package io.keyrotor.server;

import static io.keyrotor.consensus.testing.Replicas.waitUntil;
import static io.keyrotor.server.KeyRequests.disable;
import static io.keyrotor.server.KeyRequests.key;
import static io.keyrotor.server.KeyRequests.newKey;
import static io.keyrotor.server.KeyRequests.rotation;
import static io.keyrotor.server.ProtoTimes.durationOfMillis;
import static io.keyrotor.server.ProtoTimes.millis;
import static io.keyrotor.server.ProtoTimes.timestamp;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import io.keyrotor.api.v1.BatchReEncryptRequest;
import io.keyrotor.api.v1.BatchReEncryptResponse;
import io.keyrotor.api.v1.ComplianceFinding;
import io.keyrotor.api.v1.ComplianceReportChunk;
import io.keyrotor.api.v1.FindingKind;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.KeyCompliance;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.ReEncryptRequest;
import io.keyrotor.api.v1.RetiredVersion;
import io.keyrotor.api.v1.StreamComplianceReportRequest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The data keys each retired version still has outstanding, on a real 3-node cluster (mutual TLS,
 * Ratis, RocksDB, software HSMs): data keys issued through every node, the key rotated, some of
 * them rewrapped to the new version by ReEncrypt and BatchReEncrypt (and one rewrapped within the
 * new version, which moves nothing), then the compliance report, evaluated two hours ahead: version
 * 1 shows exactly what was issued, rewrapped away and is outstanding, is an exception, and every
 * node reports the same at the same applied index. Disabling version 1 keeps it listed while data
 * keys are outstanding.
 */
@Tag("integration")
class OutstandingDataKeysIT extends ClusterTestBase {
  private static final long HOUR = 3_600_000L;
  private static final int ISSUED = 5;
  private static final int REWRAPPED = 3;

  OutstandingDataKeysIT() {
    // Followers serve the data plane themselves, so data keys are issued through every node.
    super(
        List.of("local"),
        Map.of(
            "reads.follower", "read-index",
            "usage.report-interval", "200ms",
            "upgrade.check-interval", "1s"));
  }

  @Test
  void scriptedHistory_givesExactlyTheIssuedRewrappedAndOutstandingCounts() {
    String name = unique("outstanding");
    cluster.keys(cluster.leaderId()).createKey(newKey(name));
    // Data keys issued under version 1, through each node's own data plane.
    List<ByteString> wrapped = new ArrayList<>();
    String[] nodes = {"n1", "n2", "n3", "n1", "n2"};
    for (int i = 0; i < ISSUED; i++) {
      var response =
          cluster
              .keys(nodes[i])
              .generateDataKey(GenerateDataKeyRequest.newBuilder().setKeyName(name).build());
      assertEquals(1, response.getKeyVersion());
      wrapped.add(response.getWrappedDataKey());
    }
    cluster.keys(cluster.leaderId()).rotateKey(rotation(name, 0)); // active at once
    cluster.awaitConvergence();

    // Rewrapped to version 2: one by ReEncrypt on n1, two by BatchReEncrypt on n3.
    var single = cluster.keys("n1").reEncrypt(reEncrypt(wrapped.get(0)));
    assertEquals(2, single.getKeyVersion());
    BatchReEncryptResponse batch =
        cluster
            .keys("n3")
            .batchReEncrypt(
                BatchReEncryptRequest.newBuilder()
                    .addItems(reEncrypt(wrapped.get(1)))
                    .addItems(reEncrypt(wrapped.get(2)))
                    .build());
    batch.getItemsList().forEach(item -> assertEquals(2, item.getResult().getKeyVersion()));
    // A version 2 ciphertext sealed again under version 2 moves nothing.
    assertEquals(
        2, cluster.keys("n2").reEncrypt(reEncrypt(single.getCiphertext())).getKeyVersion());

    long asOf = System.currentTimeMillis() + 2 * HOUR;
    KeyCompliance entry = awaitCounts("n2", name, asOf, ISSUED, REWRAPPED);
    long retired = millis(entry.getRetiredVersions(0).getRetiredTime());
    assertEquals(
        millis(cluster.keys("n1").getKey(key(name)).getVersions(1).getActivationTime()), retired);
    assertEquals(
        RetiredVersion.newBuilder()
            .setVersion(1)
            .setRetiredTime(entry.getRetiredVersions(0).getRetiredTime())
            .setEncryptions(entry.getRetiredVersions(0).getEncryptions())
            .setState(KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY)
            .setDataKeysIssued(ISSUED)
            .setDataKeysRewrappedAway(REWRAPPED)
            .setDataKeysOutstanding(ISSUED - REWRAPPED)
            .setRetiredFor(durationOfMillis(asOf - retired))
            .build(),
        entry.getRetiredVersions(0));
    assertEquals(1, entry.getRetiredVersionsCount());
    assertEquals(
        List.of(
            FindingKind.FINDING_KIND_NO_POLICY,
            FindingKind.FINDING_KIND_RETIRED_VERSION_DECRYPTS,
            FindingKind.FINDING_KIND_DATA_KEYS_OUTSTANDING),
        entry.getFindingsList().stream().map(ComplianceFinding::getKind).toList());
    assertEquals(
        "version 1 retired at "
            + Instant.ofEpochMilli(retired)
            + " (2h ago) still has 2 data keys outstanding: 5 issued, 3 rewrapped away"
            + " (allowed: 1h)",
        entry.getFindings(2).getDetail());

    // Every replica counted the same: the same entry from each node at one applied index.
    cluster.awaitConvergence();
    KeyCompliance fromN1 = reportEntry("n1", name, asOf);
    assertEquals(fromN1, reportEntry("n2", name, asOf));
    assertEquals(fromN1, reportEntry("n3", name, asOf));

    // Disabled, version 1 no longer decrypts but is still listed: its data keys are outstanding.
    cluster.keys(cluster.leaderId()).disableKeyVersion(disable(name, 1));
    cluster.awaitConvergence();
    KeyCompliance disabled = reportEntry("n3", name, asOf);
    assertEquals(
        KeyVersionState.KEY_VERSION_STATE_DISABLED, disabled.getRetiredVersions(0).getState());
    assertEquals(ISSUED - REWRAPPED, disabled.getRetiredVersions(0).getDataKeysOutstanding());
    assertEquals(
        List.of(FindingKind.FINDING_KIND_NO_POLICY, FindingKind.FINDING_KIND_DATA_KEYS_OUTSTANDING),
        disabled.getFindingsList().stream().map(ComplianceFinding::getKind).toList());
  }

  /**
   * The key's report entry once its version 1 shows {@code issued} and {@code rewrapped}: the nodes
   * report every 200 ms, once the cluster runs the cluster version that counts data keys.
   */
  private KeyCompliance awaitCounts(
      String node, String name, long asOf, long issued, long rewrapped) {
    AtomicReference<KeyCompliance> seen = new AtomicReference<>();
    waitUntil(
        () -> {
          seen.set(reportEntry(node, name, asOf));
          return seen.get().getRetiredVersionsCount() == 1
              && seen.get().getRetiredVersions(0).getDataKeysIssued() == issued
              && seen.get().getRetiredVersions(0).getDataKeysRewrappedAway() == rewrapped;
        },
        java.time.Duration.ofMinutes(2),
        "version 1's data key counts in the report");
    return seen.get();
  }

  private KeyCompliance reportEntry(String node, String name, long asOf) {
    List<KeyCompliance> found = new ArrayList<>();
    cluster
        .compliance(node)
        .streamComplianceReport(
            StreamComplianceReportRequest.newBuilder()
                .setAsOfTime(timestamp(asOf))
                .setRetiredDecryptAfter(Duration.newBuilder().setSeconds(3600))
                .build())
        .forEachRemaining(
            (ComplianceReportChunk c) ->
                c.getKeys().getKeysList().stream()
                    .filter(k -> k.getName().equals(name))
                    .forEach(found::add));
    assertEquals(1, found.size());
    return found.get(0);
  }

  private static ReEncryptRequest reEncrypt(ByteString ciphertext) {
    return ReEncryptRequest.newBuilder().setCiphertext(ciphertext).build();
  }
}
