package io.keyrotor.storage.version;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RegisterNode;
import io.keyrotor.storage.KeyStateStore;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node on this binary registers (RegisterNode with the zones it verified and its supported
 * version) while the cluster still runs at the base version beside nodes on the base binary. Every
 * replica must write the audit record the base binary writes, or the audit chains and digests part.
 * The command and the base binary's detail are those of log index 346 of a rolling upgrade from the
 * base release, where n1 (upgraded) wrote {@code verified=[default, local]} and n2, n3 (base
 * binary) did not.
 */
class RegisterNodeAtBaseVersionTest {
  private static final long T0 = 1_796_664_351_506L;

  /** What the base binary writes for this command: id, region and zones only. */
  private static final String BASE_BINARY_DETAIL = "node=n1 region=local zones=[default, local]";

  @TempDir Path dir;

  private static Command register() {
    return Command.newBuilder()
        .setProposedTimeUnixMillis(T0)
        .setRequestId("register-node:ab5bb382-9183-4a7a-b671-1a3c88868656")
        .setOriginNode("n1")
        .setRegisterNode(
            RegisterNode.newBuilder()
                .setNode(
                    NodeRecord.newBuilder()
                        .setId("n1")
                        .setRegion("local")
                        .addZones("default")
                        .addZones("local")
                        .addVerifiedZones("default")
                        .addVerifiedZones("local")
                        .setVerifiedIndex(29)
                        .setSupportedClusterVersion(2)))
        .build();
  }

  @Test
  void registerWithVerifiedZones_atBaseVersion_auditsWhatTheBaseBinaryWrote() {
    try (KeyStateStore store = KeyStateStore.open(dir.resolve("state"))) {
      store.apply(register(), 1, 346);
      AuditRecord base = store.lastAudit().orElseThrow();
      NodeRecord storedAtBase = store.nodes().get("n1");

      assertEquals(ClusterVersion.BASE, store.activeClusterVersion());
      assertEquals("REGISTER_NODE", base.getAction());
      assertEquals(BASE_BINARY_DETAIL, base.getDetail());

      store.apply(ClusterVersionTest.setVersion(2), 1, 347);
      store.apply(register().toBuilder().setRequestId("register-node:again").build(), 1, 348);

      // From version 2 (every voter on a binary that has both) the detail names both.
      assertEquals(
          BASE_BINARY_DETAIL + " verified=[default, local] supports=2",
          store.lastAudit().orElseThrow().getDetail());
      // The gate changes the audit detail only: the node record is the same at either version.
      assertEquals(storedAtBase, store.nodes().get("n1"));
    }
  }
}
