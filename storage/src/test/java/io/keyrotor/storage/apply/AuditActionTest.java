package io.keyrotor.storage.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.keyrotor.proto.internal.v1.Command;
import org.junit.jupiter.api.Test;

class AuditActionTest {
  @Test
  void everyCommandKind_isAuditedUnderItsOwnName() {
    for (Command.BodyCase kind : Command.BodyCase.values()) {
      // A batch entry's commands are audited each under its own name; a batch inside a batch is
      // refused, so the batch kind itself is never audited as an action.
      if (kind != Command.BodyCase.BODY_NOT_SET && kind != Command.BodyCase.BATCH) {
        assertEquals(kind.name(), AuditAction.of(kind).name());
      }
    }
    assertEquals(AuditAction.UNKNOWN_COMMAND, AuditAction.of(Command.BodyCase.BODY_NOT_SET));
    assertEquals(AuditAction.UNKNOWN_COMMAND, AuditAction.of(Command.BodyCase.BATCH));
  }

  @Test
  void everyActionButTheStoresOwn_isACommandKind() {
    for (AuditAction action : AuditAction.values()) {
      if (action != AuditAction.UNKNOWN_COMMAND && action != AuditAction.DEDUPLICATED) {
        assertEquals(action, AuditAction.of(Command.BodyCase.valueOf(action.name())));
      }
    }
  }
}
