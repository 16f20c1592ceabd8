package io.keyrotor.storage.apply;

import static io.keyrotor.storage.Commands.setStatus;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.VersionStatus;
import org.junit.jupiter.api.Test;

class CommandDispatcherTest {
  private static final long T0 = 1_700_000_000_000L;
  private final InMemoryState view = new InMemoryState();

  @Test
  void commandWithoutAKnownBody_refusedAsUnknownCommandAndNothingChanges() {
    Command fromANewerNode =
        Command.newBuilder().setRequestId("r").setProposedTimeUnixMillis(T0).build();

    Effects effects = view.apply(fromANewerNode);

    assertEquals(Code.INVALID_ARGUMENT_VALUE, effects.result().getCode());
    assertEquals(ErrorReason.UNKNOWN_COMMAND.name(), effects.result().getReason());
    assertEquals(AuditAction.UNKNOWN_COMMAND, effects.action());
    assertTrue(effects.allKeyWrites().isEmpty());
    assertTrue(effects.events().isEmpty());
  }

  @Test
  void everyCommandKindWithAnEmptyBody_reachesItsHandlerAndIsAResult() {
    for (FieldDescriptor body : Command.getDescriptor().getOneofs().get(0).getFields()) {
      Command.Builder command = Command.newBuilder().setProposedTimeUnixMillis(T0);
      Command empty = command.setField(body, command.newBuilderForField(body).build()).build();

      Effects effects = view.apply(empty);

      if (empty.hasAdmitNode() || empty.hasRemoveNode()) {
        // At the base version the membership commands are refused as the base binary refuses
        // them (MembershipAtBaseVersionTest); from version 2 they reach their handlers.
        assertEquals(AuditAction.UNKNOWN_COMMAND, effects.action(), body.getName());
        assertEquals(ErrorReason.UNKNOWN_COMMAND.name(), effects.result().getReason());
        continue;
      }
      assertEquals(AuditAction.of(empty.getBodyCase()), effects.action(), body.getName());
      if (empty.hasBatch()) {
        // The store unpacks batch entries; one reaching the dispatcher is a batch in a batch.
        assertEquals(ErrorReason.UNKNOWN_COMMAND.name(), effects.result().getReason());
      } else {
        assertNotEquals(ErrorReason.UNKNOWN_COMMAND.name(), effects.result().getReason());
      }
    }
  }

  @Test
  void setVersionStatus_auditDetailSaysEnableOrDisableWhateverTheOutcome() {
    view.createAndRotateOnce("k");

    Effects disabled =
        view.apply(setStatus("d", T0 + 2, "k", 1, VersionStatus.VERSION_STATUS_DISABLED));
    Effects refused =
        view.apply(setStatus("p", T0 + 3, "k", 2, VersionStatus.VERSION_STATUS_DISABLED));
    Effects enabled =
        view.apply(setStatus("e", T0 + 4, "k", 1, VersionStatus.VERSION_STATUS_ENABLED));
    Effects missing =
        view.apply(setStatus("m", T0 + 5, "k", 9, VersionStatus.VERSION_STATUS_ENABLED));

    assertEquals(AuditAction.SET_VERSION_STATUS, disabled.action());
    assertEquals("disable version=1", disabled.auditDetail());
    assertEquals("disable VERSION_IS_PRIMARY", refused.auditDetail());
    assertEquals("enable version=1", enabled.auditDetail());
    assertEquals("enable VERSION_NOT_FOUND", missing.auditDetail());
  }

  @Test
  void rejected_storesTheReasonNameAndWritesNothing() {
    Effects effects =
        Effects.rejected(
            AuditAction.ROTATE_KEY,
            ErrorReason.VERSION_CONFLICT,
            Code.FAILED_PRECONDITION,
            "key \"k\" is at version 3, not 2",
            "k",
            7);

    assertEquals("VERSION_CONFLICT", effects.result().getReason());
    assertEquals(Code.FAILED_PRECONDITION_VALUE, effects.result().getCode());
    assertEquals(7, effects.result().getAppliedIndex());
    assertEquals("k", effects.result().getKeyName());
    assertEquals("VERSION_CONFLICT", effects.auditDetail());
    assertTrue(effects.allKeyWrites().isEmpty());
    assertTrue(effects.nodeWrite().isEmpty());
    assertTrue(effects.zoneMasterKeyWrite().isEmpty());
    assertTrue(effects.bulkRotationWrite().isEmpty());
    assertTrue(effects.events().isEmpty());
  }
}
