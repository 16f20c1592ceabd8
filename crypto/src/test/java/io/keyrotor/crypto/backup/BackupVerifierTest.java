package io.keyrotor.crypto.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.keyrotor.crypto.AuditCheckpointSignatures;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The backup file format: a signed file verifies; every kind of damage is named. */
class BackupVerifierTest {
  private static final byte[] HEAD = new byte[32];

  private static KeyPair keyPair() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    return generator.generateKeyPair();
  }

  /** A signed backup of a few records, its digest computed as nodes compute it. */
  private static byte[] backup(KeyPair signer) throws Exception {
    List<String[]> records = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      records.add(new String[] {i % 2 == 0 ? "keys" : "audit", "k" + i, "value " + i});
    }
    BackupFormat.DigestSum sum = new BackupFormat.DigestSum();
    for (String[] r : records) {
      if (r[0].equals("keys")) {
        sum.add(r[0], bytes(r[1]), bytes(r[2]));
      }
    }
    BackupHeader header =
        new BackupHeader(
            "test",
            "n1",
            3,
            42,
            1_000,
            sum.report(HEAD),
            HEAD,
            1,
            signer.getPublic().getEncoded(),
            List.of("keys"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BackupWriter writer = new BackupWriter(out, header);
    for (String[] r : records) {
      writer.record(r[0], bytes(r[1]), bytes(r[2]));
    }
    Signature signature = Signature.getInstance(AuditCheckpointSignatures.ALGORITHM);
    signature.initSign(signer.getPrivate());
    signature.update(writer.finish());
    writer.writeSignature(signature.sign());
    return out.toByteArray();
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static BackupVerifier.TrustedKey trust(KeyPair pair) {
    return new BackupVerifier.TrustedKey("n1", 1, pair.getPublic().getEncoded());
  }

  private static void assertProblem(BackupVerifier verifier, byte[] file, String expected) {
    BackupVerifier.Result result = verifier.verify(new ByteArrayInputStream(file));
    assertFalse(result.intact());
    assertTrue(
        result.problems().stream().anyMatch(p -> p.contains(expected)),
        expected + " not in " + result.problems());
  }

  @Test
  void signedBackup_verifies_withAndWithoutTrustedKeys() throws Exception {
    KeyPair signer = keyPair();
    byte[] file = backup(signer);
    BackupVerifier.Result result =
        new BackupVerifier(List.of(trust(signer))).verify(new ByteArrayInputStream(file));
    assertTrue(result.intact(), result.problems().toString());
    assertEquals(50, result.records());
    assertEquals(42, result.header().orElseThrow().appliedIndex());
    assertTrue(new BackupVerifier(List.of()).verify(new ByteArrayInputStream(file)).intact());
  }

  @Test
  void everyByteChanged_failsVerification() throws Exception {
    KeyPair signer = keyPair();
    byte[] file = backup(signer);
    BackupVerifier verifier = new BackupVerifier(List.of(trust(signer)));
    for (int i = 0; i < file.length; i++) {
      byte[] edited = file.clone();
      edited[i] ^= 0x40;
      assertFalse(
          verifier.verify(new ByteArrayInputStream(edited)).intact(), "byte " + i + " changed");
    }
  }

  @Test
  void editedDigestedRecord_namesTheDigestAndTheSignature() throws Exception {
    KeyPair signer = keyPair();
    byte[] file = backup(signer);
    int at = indexOf(file, bytes("value 10"));
    file[at + 6] = '9';
    BackupVerifier verifier = new BackupVerifier(List.of(trust(signer)));
    assertProblem(verifier, file, "state digest");
    assertProblem(verifier, file, "signature does not verify");
  }

  @Test
  void truncationsAndAppends_areNamed() throws Exception {
    KeyPair signer = keyPair();
    byte[] file = backup(signer);
    BackupVerifier verifier = new BackupVerifier(List.of(trust(signer)));
    for (int length : new int[] {0, 5, 12, 100, file.length / 2, file.length - 1}) {
      assertProblem(verifier, Arrays.copyOf(file, length), length < 8 ? "shorter" : "truncated");
    }
    assertProblem(verifier, Arrays.copyOf(file, file.length + 1), "appended");
  }

  @Test
  void otherSigner_andUnknownVersion_andForeignFile_areRefusedWithTheReason() throws Exception {
    KeyPair signer = keyPair();
    byte[] file = backup(signer);
    assertProblem(new BackupVerifier(List.of(trust(keyPair()))), file, "not among the trusted");
    byte[] future = file.clone();
    future[9] = 7;
    assertProblem(new BackupVerifier(List.of()), future, "version 7 is not supported");
    assertProblem(new BackupVerifier(List.of()), bytes("hello, not a backup"), "KRBACKUP");
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    throw new AssertionError("not found");
  }
}
