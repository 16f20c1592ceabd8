package io.keyrotor.server.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.google.protobuf.Descriptors.FieldDescriptor;
import io.keyrotor.proto.internal.v1.AuditRecord;
import org.junit.jupiter.api.Test;

/**
 * The public {@code keyrotor.v1.AuditRecord} that exports carry must mirror the stored record field
 * for field: an auditor recomputes each record's hash from the public message, so a stored field
 * the public one lacks (or types differently) makes every record that sets it look edited.
 */
class AuditRecordMirrorTest {
  @Test
  void everyStoredField_isInThePublicRecord_withTheSameNumberAndType() {
    var stored = AuditRecord.getDescriptor();
    var published = io.keyrotor.api.v1.AuditRecord.getDescriptor();
    for (FieldDescriptor field : stored.getFields()) {
      FieldDescriptor mirror = published.findFieldByNumber(field.getNumber());
      assertNotNull(mirror, "the public AuditRecord has no field " + field.getNumber());
      assertEquals(field.getName(), mirror.getName(), "field " + field.getNumber());
      assertEquals(field.getType(), mirror.getType(), "field " + field.getName());
      if (field.getType() == FieldDescriptor.Type.MESSAGE) {
        assertEquals(
            field.getMessageType().getFullName(),
            mirror.getMessageType().getFullName(),
            "field " + field.getName());
      }
    }
    assertEquals(stored.getFields().size(), published.getFields().size());
  }
}
