package io.keyrotor.storage.version;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.UnknownFieldSet;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.AdmitNode;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RegisterNode;
import io.keyrotor.proto.internal.v1.RemoveNode;
import io.keyrotor.storage.KeyStateStore;
import java.nio.file.Path;
import java.util.List;
import java.util.NavigableMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * AdmitNode and RemoveNode in a cluster still at the base version, where a voter may run the base
 * binary: that binary does not know them (its Command has no such fields) and refuses them as a
 * command without a body. Every replica on this binary must do exactly the same, or a membership
 * change splits a mixed cluster; from version 2 they apply. Real RocksDB stores, side by side: one
 * applies the log as this binary does, one as the base binary reads the same bytes.
 */
class MembershipAtBaseVersionTest {
  private static final long T0 = 1_796_664_351_506L;

  @TempDir Path dir;

  private static Command register(String id) {
    return Command.newBuilder()
        .setProposedTimeUnixMillis(T0)
        .setRequestId("register-node:" + id)
        .setOriginNode(id)
        .setRegisterNode(
            RegisterNode.newBuilder()
                .setNode(NodeRecord.newBuilder().setId(id).setRegion("local").addZones("default")))
        .build();
  }

  private static Command admit(String id, String requestId) {
    return Command.newBuilder()
        .setProposedTimeUnixMillis(T0 + 10)
        .setRequestId(requestId)
        .setOriginNode("n1")
        .setAdmitNode(
            AdmitNode.newBuilder()
                .setNode(
                    NodeRecord.newBuilder()
                        .setId(id)
                        .setRegion("local")
                        .setRaftAddress(id + ".keyrotor.test:7200")))
        .build();
  }

  private static Command remove(String id, String requestId) {
    return Command.newBuilder()
        .setProposedTimeUnixMillis(T0 + 20)
        .setRequestId(requestId)
        .setOriginNode("n1")
        .setRemoveNode(RemoveNode.newBuilder().setNodeId(id))
        .build();
  }

  /**
   * {@code command} as the base binary parses its bytes: no body it knows, the membership field
   * kept among the unknown fields, every other field the same.
   */
  private static Command asTheBaseBinaryReadsIt(Command command) throws Exception {
    UnknownFieldSet unknown = UnknownFieldSet.parseFrom(command.toByteArray());
    UnknownFieldSet.Builder membershipOnly = UnknownFieldSet.newBuilder();
    for (int field : List.of(Command.ADMIT_NODE_FIELD_NUMBER, Command.REMOVE_NODE_FIELD_NUMBER)) {
      if (unknown.hasField(field)) {
        membershipOnly.addField(field, unknown.getField(field));
      }
    }
    return command.toBuilder().clearBody().setUnknownFields(membershipOnly.build()).build();
  }

  @Test
  void admitAndRemove_atBaseVersion_refusedAsTheBaseBinaryRefusesThem_sameDigest()
      throws Exception {
    try (KeyStateStore upgraded = KeyStateStore.open(dir.resolve("upgraded"));
        KeyStateStore base = KeyStateStore.open(dir.resolve("base"))) {
      long index = 0;
      for (String id : List.of("n1", "n2")) {
        index++;
        upgraded.apply(register(id), 1, index);
        base.apply(register(id), 1, index);
      }
      NavigableMap<String, NodeRecord> registryBefore = upgraded.nodes();

      for (Command command : List.of(admit("n4", "admit-n4"), remove("n2", "remove-n2"))) {
        index++;
        CommandResult result = upgraded.apply(command, 1, index);
        base.apply(asTheBaseBinaryReadsIt(command), 1, index);

        assertEquals(ClusterVersion.BASE, upgraded.activeClusterVersion());
        assertEquals(ErrorReason.UNKNOWN_COMMAND.name(), result.getOutcome().getReason());
        assertEquals(
            "this node does not know the command kind BODY_NOT_SET",
            result.getOutcome().getMessage());
        AuditRecord audit = upgraded.lastAudit().orElseThrow();
        assertEquals("UNKNOWN_COMMAND", audit.getAction());
        assertEquals(base.lastAudit().orElseThrow(), audit);
        assertEquals(registryBefore, upgraded.nodes(), "a refused membership command changes none");
        assertEquals(base.digest(), upgraded.digest(), "the same state as the base binary's");
      }
    }
  }

  @Test
  void admitAndRemove_atVersion2_apply() {
    try (KeyStateStore store = KeyStateStore.open(dir.resolve("state"))) {
      store.apply(register("n1"), 1, 1);
      store.apply(register("n2"), 1, 2);
      store.apply(ClusterVersionTest.setVersion(2), 1, 3);

      CommandResult admitted = store.apply(admit("n4", "admit-n4"), 1, 4);
      assertEquals(0, admitted.getOutcome().getCode(), admitted.toString());
      assertEquals("ADMIT_NODE", store.lastAudit().orElseThrow().getAction());
      assertEquals("n4.keyrotor.test:7200", store.nodes().get("n4").getRaftAddress());

      CommandResult removed = store.apply(remove("n2", "remove-n2"), 1, 5);
      assertEquals(0, removed.getOutcome().getCode(), removed.toString());
      assertEquals("REMOVE_NODE", store.lastAudit().orElseThrow().getAction());
      assertFalse(store.nodes().containsKey("n2"));
      assertTrue(store.nodes().containsKey("n1"));
    }
  }
}
