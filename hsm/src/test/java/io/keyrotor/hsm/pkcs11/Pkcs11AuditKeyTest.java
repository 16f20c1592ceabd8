package io.keyrotor.hsm.pkcs11;

import static io.keyrotor.hsm.pkcs11.SoftHsmFixture.MATRIX;
import static io.keyrotor.hsm.pkcs11.SoftHsmFixture.config;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.crypto.AuditCheckpointSignatures;
import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.Hsms;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.util.Base64;
import java.util.SortedSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Audit signing keys on a SoftHSM2 token: generated inside it, versioned, signing P1363. */
class Pkcs11AuditKeyTest {
  @BeforeAll
  static void tokens() {
    SoftHsmFixture.start();
  }

  @Test
  void signatureMadeBySoftHsm2_verifiesWithThePublicKeyAsPem() throws Exception {
    try (Hsm hsm = Hsms.open(config(MATRIX))) {
      int version = hsm.generateAuditKey();
      byte[] spki = hsm.auditPublicKey(version);
      byte[] message = AuditCheckpointSignatures.message(42, new byte[32], "n1", version);

      byte[] signature = hsm.signAudit(version, message);

      assertEquals(64, signature.length);
      // The key as an auditor gets it: a PEM PUBLIC KEY block, read back with the JDK alone.
      String pem =
          "-----BEGIN PUBLIC KEY-----\n"
              + Base64.getMimeEncoder().encodeToString(spki)
              + "\n-----END PUBLIC KEY-----\n";
      String body = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
      PublicKey key = AuditCheckpointSignatures.publicKey(Base64.getDecoder().decode(body));
      assertTrue(AuditCheckpointSignatures.verify(key, message, signature));
      byte[] other = AuditCheckpointSignatures.message(43, new byte[32], "n1", version);
      assertFalse(AuditCheckpointSignatures.verify(key, other, signature));
    }
  }

  @Test
  void rotation_addsAVersion_andTheOldOneStillSigns() throws Exception {
    try (Hsm hsm = Hsms.open(config(MATRIX))) {
      int first = hsm.generateAuditKey();
      int second = hsm.generateAuditKey();
      byte[] message = "checkpoint".getBytes(StandardCharsets.UTF_8);

      assertEquals(first + 1, second);
      SortedSet<Integer> versions = hsm.auditKeyVersions();
      assertTrue(versions.contains(first) && versions.contains(second));
      PublicKey old = AuditCheckpointSignatures.publicKey(hsm.auditPublicKey(first));
      PublicKey current = AuditCheckpointSignatures.publicKey(hsm.auditPublicKey(second));
      assertTrue(AuditCheckpointSignatures.verify(old, message, hsm.signAudit(first, message)));
      assertFalse(AuditCheckpointSignatures.verify(old, message, hsm.signAudit(second, message)));
      assertTrue(
          AuditCheckpointSignatures.verify(current, message, hsm.signAudit(second, message)));
      assertFalse(java.util.Arrays.equals(hsm.auditPublicKey(first), hsm.auditPublicKey(second)));
    }
  }

  @Test
  void keysSurviveReopening_andAMissingVersionIsRefused() throws Exception {
    int version;
    byte[] spki;
    try (Hsm hsm = Hsms.open(config(MATRIX))) {
      version = hsm.generateAuditKey();
      spki = hsm.auditPublicKey(version);
    }
    try (Hsm hsm = Hsms.open(config(MATRIX))) {
      assertArrayEquals(spki, hsm.auditPublicKey(version));
      HsmException missing =
          assertThrows(HsmException.class, () -> hsm.signAudit(version + 1000, new byte[] {1}));
      assertEquals(HsmException.Reason.INVALID_REQUEST, missing.reason());
    }
  }
}
