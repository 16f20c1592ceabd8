package io.keyrotor.hsm.software;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.crypto.AuditCheckpointSignatures;
import io.keyrotor.hsm.HsmConfig;
import io.keyrotor.hsm.HsmException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The software HSM's audit keys: sealed on disk, versioned, reopened with the passphrase. */
class SoftwareAuditKeyTest {
  private static final char[] PASSPHRASE = "dev-passphrase".toCharArray();

  @Test
  void generateSignReopen_andNoPrivateKeyInTheClearOnDisk(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("zmk.p12");
    SoftwareKeyStoreFile.create(file, PASSPHRASE);
    byte[] message = "checkpoint".getBytes(StandardCharsets.UTF_8);
    byte[] spki;
    try (SoftwareHsm hsm = SoftwareHsm.open(HsmConfig.software(file, PASSPHRASE.clone()))) {
      assertTrue(hsm.auditKeyVersions().isEmpty());
      assertEquals(1, hsm.generateAuditKey());
      assertEquals(2, hsm.generateAuditKey());
      spki = hsm.auditPublicKey(2);
    }
    Path sidecar = dir.resolve("zmk.p12.audit");
    assertEquals(
        Set.of(
            java.nio.file.attribute.PosixFilePermission.OWNER_READ,
            java.nio.file.attribute.PosixFilePermission.OWNER_WRITE),
        Files.getPosixFilePermissions(sidecar));
    assertFalse(Files.readString(sidecar).contains("PRIVATE KEY"));
    try (SoftwareHsm hsm = SoftwareHsm.open(HsmConfig.software(file, PASSPHRASE.clone()))) {
      assertEquals(List.of(1, 2), List.copyOf(hsm.auditKeyVersions()));
      assertArrayEquals(spki, hsm.auditPublicKey(2));
      byte[] signature = hsm.signAudit(2, message);
      assertTrue(
          AuditCheckpointSignatures.verify(
              AuditCheckpointSignatures.publicKey(spki), message, signature));
    }
    try (SoftwareHsm wrong = SoftwareHsm.open(HsmConfig.software(file, "other".toCharArray()))) {
      assertThrows(HsmException.class, () -> wrong.signAudit(1, message));
    } catch (HsmException e) {
      // the key file itself refuses the wrong passphrase: equally a refusal
    }
  }
}
