package io.keyrotor.storage.apply.node;

import static io.keyrotor.storage.Commands.register;
import static io.keyrotor.storage.Commands.rotate;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.AdmitNode;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RemoveNode;
import io.keyrotor.proto.internal.v1.SetClusterVersion;
import io.keyrotor.storage.Commands;
import io.keyrotor.storage.KeyStateStore;
import io.keyrotor.storage.version.ApplyFeature;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * AdmitNode and RemoveNode on a real store at the cluster version that applies them (below it they
 * are refused: {@code MembershipAtBaseVersionTest}): the registry follows them, a gate that waited
 * for a removed node stops waiting, and the digest recomputed from RocksDB on reopen matches the
 * one kept while applying (the removal is one delete in the batch).
 */
class MembershipHandlersTest {
  private static final long T0 = 1_700_000_000_000L;

  @TempDir Path dir;

  @Test
  void removeNode_leavesTheRegistry_andReleasesTheGateItHeld() {
    Path path = dir.resolve("store");
    String digest;
    try (KeyStateStore store = KeyStateStore.open(path)) {
      store.apply(atMembershipVersion(), 1, 1);
      store.apply(register("n1", T0), 1, 2);
      store.apply(register("n2", T0), 1, 3);
      store.apply(Commands.create("c1", T0, "gated"), 1, 4);
      store.apply(
          rotate("r1", T0 + 1, "gated", T0 + 60_000, RotationReason.ROTATION_REASON_MANUAL), 1, 5);
      store.apply(Commands.acknowledge("a1", T0 + 2, "gated", 2, "n1"), 1, 6);
      assertEquals(Set.of("gated"), store.keysAwaitingValidation(), "n2 has not acknowledged");

      CommandResult removed = store.apply(remove("x1", T0 + 3, "n2"), 1, 7);

      assertEquals(Code.OK_VALUE, removed.getOutcome().getCode(), removed.toString());
      assertEquals(Set.of("n1"), store.nodes().keySet());
      KeyVersionRecord v2 = store.key("gated").orElseThrow().getVersions(1);
      assertEquals(List.of("n1"), v2.getRequiredAcknowledgersList());
      assertEquals(T0 + 3, v2.getValidatedTimeUnixMillis(), "n2 was the last one missing");
      assertTrue(store.keysAwaitingValidation().isEmpty());
      digest = store.digest();
    }
    try (KeyStateStore reopened = KeyStateStore.open(path)) {
      assertEquals(digest, reopened.digest(), "the digest recomputed from the data agrees");
      assertEquals(Set.of("n1"), reopened.nodes().keySet());
    }
  }

  @Test
  void removeNode_unknown_refusedAndNothingChanges() {
    try (KeyStateStore store = KeyStateStore.open(dir.resolve("unknown"))) {
      store.apply(atMembershipVersion(), 1, 1);
      store.apply(register("n1", T0), 1, 2);
      CommandResult refused = store.apply(remove("x1", T0 + 1, "n9"), 1, 3);

      assertEquals(Code.NOT_FOUND_VALUE, refused.getOutcome().getCode());
      assertEquals("UNKNOWN_NODE", refused.getOutcome().getReason());
      assertEquals(Set.of("n1"), store.nodes().keySet());
    }
  }

  @Test
  void admitNode_recordsTheRaftAddress_andTheNodesRegistrationKeepsIt() {
    try (KeyStateStore store = KeyStateStore.open(dir.resolve("admit"))) {
      store.apply(atMembershipVersion(), 1, 1);
      store.apply(
          Command.newBuilder()
              .setRequestId("admit")
              .setProposedTimeUnixMillis(T0)
              .setAdmitNode(
                  AdmitNode.newBuilder()
                      .setNode(
                          NodeRecord.newBuilder()
                              .setId("n4")
                              .setRegion("eu")
                              .setRaftAddress("127.0.0.1:7204")))
              .build(),
          1,
          2);
      assertEquals("127.0.0.1:7204", store.nodes().get("n4").getRaftAddress());

      store.apply(register("n4", T0 + 1), 1, 3);

      assertEquals("127.0.0.1:7204", store.nodes().get("n4").getRaftAddress());
      assertEquals(T0 + 1, store.nodes().get("n4").getRegisteredTimeUnixMillis());
    }
  }

  /** The cluster at the version that applies AdmitNode and RemoveNode. */
  private static Command atMembershipVersion() {
    return Command.newBuilder()
        .setProposedTimeUnixMillis(T0)
        .setSetClusterVersion(
            SetClusterVersion.newBuilder().setVersion(ApplyFeature.MEMBERSHIP_COMMANDS.version()))
        .build();
  }

  private static Command remove(String requestId, long time, String node) {
    return Command.newBuilder()
        .setRequestId(requestId)
        .setProposedTimeUnixMillis(time)
        .setRemoveNode(RemoveNode.newBuilder().setNodeId(node))
        .build();
  }
}
