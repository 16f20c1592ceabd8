package io.keyrotor.server;

import static io.keyrotor.server.testing.ByteSearch.contains;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.AuditKeyRegistration;
import io.keyrotor.api.v1.BackupChunk;
import io.keyrotor.api.v1.BackupServiceGrpc;
import io.keyrotor.api.v1.CreateBackupRequest;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GenerateDataKeyResponse;
import io.keyrotor.api.v1.GetAuditKeysRequest;
import io.keyrotor.crypto.backup.BackupVerifier;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.hsm.WrapMechanism;
import io.keyrotor.hsm.WrappedKey;
import io.keyrotor.hsm.software.SoftwareKeyStoreFile;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import io.keyrotor.server.config.NodeConfig;
import io.keyrotor.server.local.LocalClusterLayout;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backup and restore end to end on real nodes (Ratis, RocksDB, gRPC over mutual TLS, software
 * HSMs): a backup taken under write load verifies offline and holds no key material; tampered
 * copies fail verification with a reason; the first cluster is destroyed, a new cluster (its own
 * name and CA) gets the zones' master keys through the software HSM's share ceremony and starts
 * from the backup; every data key issued before the backup decrypts to the same plaintext, keys
 * created before the backup are there, keys created after it are not.
 */
class BackupRestoreIT {
  private static final Map<String, String> CONTEXT = Map.of("app", "backup-test");
  private static final int DATA_KEYS = 10;

  @TempDir Path directory;

  private record DataKey(ByteString plaintext, ByteString wrapped) {}

  @Test
  void backupUnderLoad_verifies_andRestoresIntoANewCluster() throws Exception {
    Path backup = directory.resolve("cluster.krbackup");
    List<DataKey> dataKeys = new ArrayList<>();
    List<byte[]> plaintextKeks = new ArrayList<>();
    List<String> createdBefore = new ArrayList<>();
    ConcurrentLinkedQueue<String> createdAfter = new ConcurrentLinkedQueue<>();
    List<AuditKeyRegistration> trusted;
    long backupIndex;
    try (LocalTestCluster old =
        new LocalTestCluster(directory.resolve("old"), 3, List.of("local"))) {
      old.startAll();
      old.createKey("payments", "default");
      for (int i = 0; i < DATA_KEYS; i++) {
        GenerateDataKeyResponse dataKey =
            onLeader(
                old,
                id ->
                    old.keys(id)
                        .generateDataKey(
                            GenerateDataKeyRequest.newBuilder()
                                .setKeyName("payments")
                                .putAllContext(CONTEXT)
                                .build()));
        dataKeys.add(new DataKey(dataKey.getPlaintext(), dataKey.getWrappedDataKey()));
      }
      // Write load: keys created one after another while the backup is taken. A key whose
      // creation returned before the backup was asked for must be in it; one asked for after the
      // backup ended must not.
      AtomicInteger phase = new AtomicInteger(); // 0 before, 1 during, 2 after the backup
      Thread load =
          new Thread(
              () -> {
                for (int i = 0; createdAfter.size() < 3 && i < 10_000; i++) {
                  int startedIn = phase.get();
                  String name = "load-" + i;
                  old.createKey(name, "default");
                  if (startedIn == 2) {
                    createdAfter.add(name);
                  } else if (phase.get() == 0) {
                    synchronized (createdBefore) {
                      createdBefore.add(name);
                    }
                  }
                }
              },
              "backup-test-load");
      load.start();
      waitUntil(() -> sizeOf(createdBefore) >= 5, "the load created no keys");
      phase.set(1);
      String leader = old.leaderId();
      // Needs ADMINISTER: the service principal is refused, and nothing is streamed.
      StatusRuntimeException denied =
          assertThrows(
              StatusRuntimeException.class,
              () ->
                  BackupServiceGrpc.newBlockingStub(old.channelAs(leader, "service"))
                      .createBackup(CreateBackupRequest.getDefaultInstance())
                      .hasNext());
      assertEquals(Status.Code.PERMISSION_DENIED, denied.getStatus().getCode());
      BackupChunk last = writeBackup(old, leader, backup);
      phase.set(2);
      load.join(TimeUnit.MINUTES.toMillis(2));
      assertFalse(load.isAlive(), "the load did not finish");
      backupIndex = last.getAppliedIndex();
      assertTrue(backupIndex > 0);
      assertTrue(last.getRecordsWritten() > sizeOf(createdBefore));

      trusted =
          old.audit("n1").getAuditKeys(GetAuditKeysRequest.getDefaultInstance()).getKeysList();
      old.awaitConvergence();
      var state = old.nodes.get("n1").raft().state();
      for (String name : concat(List.of("payments"), createdBefore)) {
        KeyRecord key = state.key(name).orElseThrow();
        for (KeyVersionRecord version : key.getVersionsList()) {
          plaintextKeks.add(unwrap(old.nodes.get("n1").hsm(), version.getKek()));
        }
      }
    }
    byte[] file = Files.readAllBytes(backup);

    // Offline verification: intact, and signed by a key the old cluster registered.
    BackupVerifier verifier = new BackupVerifier(trustedKeys(trusted));
    BackupVerifier.Result intact = verifier.verify(new ByteArrayInputStream(file));
    assertTrue(intact.intact(), intact.problems().toString());
    assertEquals("keyrotor-local", intact.header().orElseThrow().clusterName());

    // No key material: neither a data key nor a KEK, raw, hex or base64.
    assertNoneIn(file, concat(plaintexts(dataKeys), plaintextKeks));

    assertTampered(verifier, editedRecord(file), "signature does not verify");
    assertTampered(verifier, Arrays.copyOf(file, file.length - 100), "truncated");
    assertTampered(verifier, Arrays.copyOf(file, 40), "truncated");
    assertTampered(new BackupVerifier(trustedKeys(List.of(strangerKey()))), file, "not among");
    byte[] future = file.clone();
    future[9] = 2; // format version 2
    assertTampered(verifier, future, "version 2 is not supported");

    // Destroy the old cluster's data; its HSM key files stay (they are the HSMs).
    for (String id : List.of("n1", "n2", "n3")) {
      deleteRecursively(directory.resolve("old").resolve(id).resolve("data"));
    }

    try (LocalTestCluster restored =
        new LocalTestCluster(
            directory.resolve("new"),
            3,
            List.of("local"),
            LocalClusterLayout.SOFTWARE,
            layout -> layout.withClusterName("keyrotor-restored").withoutZoneMasterKeys())) {
      Path futureFile = directory.resolve("future.krbackup");
      Files.write(futureFile, future);
      for (String id : List.of("n1", "n2", "n3")) {
        shareZoneMasterKeys(directory.resolve("old").resolve("n1"), restored.directory.resolve(id));
        NodeConfig config =
            NodeConfig.load(restored.directory.resolve(id).resolve("node.properties"));
        RestoreCommand.RestoreException unknown =
            assertThrows(
                RestoreCommand.RestoreException.class,
                () -> RestoreCommand.restore(futureFile, config));
        assertTrue(
            unknown.getMessage().contains("version 2 is not supported"), unknown.getMessage());
        assertEquals(backupIndex, RestoreCommand.restore(backup, config).index());
      }
      restored.startAll();
      for (DataKey dataKey : dataKeys) {
        ByteString decrypted =
            onLeader(
                restored,
                id ->
                    restored
                        .keys(id)
                        .decrypt(
                            DecryptRequest.newBuilder()
                                .setCiphertext(dataKey.wrapped())
                                .putAllContext(CONTEXT)
                                .build())
                        .getPlaintext());
        assertEquals(dataKey.plaintext(), decrypted);
      }
      for (String name : createdBefore) {
        assertEquals(name, restored.keys("n1").getKey(KeyRequests.key(name)).getName());
      }
      for (String name : createdAfter) {
        StatusRuntimeException absent =
            assertThrows(
                StatusRuntimeException.class,
                () -> restored.keys("n1").getKey(KeyRequests.key(name)));
        assertEquals(Status.Code.NOT_FOUND, absent.getStatus().getCode(), name);
      }
      // A node that already has data refuses a second restore.
      NodeConfig running =
          NodeConfig.load(restored.directory.resolve("n1").resolve("node.properties"));
      assertThrows(
          RestoreCommand.RestoreException.class, () -> RestoreCommand.restore(backup, running));
    }
  }

  private static BackupChunk writeBackup(LocalTestCluster cluster, String node, Path file)
      throws IOException {
    BackupChunk last = null;
    try (OutputStream out = Files.newOutputStream(file)) {
      Iterator<BackupChunk> chunks =
          BackupServiceGrpc.newBlockingStub(cluster.channelAs(node, "admin"))
              .withDeadlineAfter(60, TimeUnit.SECONDS)
              .createBackup(CreateBackupRequest.getDefaultInstance());
      while (chunks.hasNext()) {
        last = chunks.next();
        last.getData().writeTo(out);
      }
    }
    return last;
  }

  /** Runs a data-plane call on the leader, asking again when leadership moved meanwhile. */
  private static <T> T onLeader(
      LocalTestCluster cluster, java.util.function.Function<String, T> call) {
    for (int attempt = 1; ; attempt++) {
      try {
        return call.apply(cluster.leaderId());
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE || attempt >= 20) {
          throw e;
        }
      }
    }
  }

  /** The software HSM's share ceremony: every zone of {@code from}'s key file into {@code to}'s. */
  private static void shareZoneMasterKeys(Path from, Path to) throws IOException, HsmException {
    char[] fromPassphrase = Main.readSecret(from.resolve("hsm").resolve("passphrase"));
    char[] toPassphrase = Main.readSecret(to.resolve("hsm").resolve("passphrase"));
    for (String zone : List.of("default", "local")) {
      SoftwareKeyStoreFile.copyZone(
          from.resolve("hsm").resolve("zmk.p12"),
          fromPassphrase,
          to.resolve("hsm").resolve("zmk.p12"),
          toPassphrase,
          zone);
    }
  }

  private static byte[] unwrap(io.keyrotor.hsm.Hsm hsm, WrappedKeyMaterial kek)
      throws HsmException {
    try (SecretKeyBytes plain =
        hsm.unwrap(
            new WrappedKey(
                kek.getZone(),
                kek.getZoneMasterKeyVersion(),
                WrapMechanism.valueOf(kek.getMechanism()),
                kek.getCiphertext().toByteArray()))) {
      return plain.revealCopy();
    }
  }

  /** The file with one byte changed in the middle of its records. */
  private static byte[] editedRecord(byte[] file) {
    byte[] edited = file.clone();
    edited[file.length / 2] ^= 0x01;
    return edited;
  }

  private static void assertTampered(BackupVerifier verifier, byte[] file, String expected) {
    BackupVerifier.Result result = verifier.verify(new ByteArrayInputStream(file));
    assertFalse(result.intact(), "a tampered backup verified");
    assertTrue(
        result.problems().stream().anyMatch(p -> p.contains(expected)),
        "expected a problem saying '" + expected + "': " + result.problems());
  }

  private static void assertNoneIn(byte[] file, List<byte[]> secrets) {
    assertTrue(secrets.size() > DATA_KEYS, "too few secrets to look for: " + secrets.size());
    for (byte[] secret : secrets) {
      for (byte[] needle :
          List.of(
              secret,
              HexFormat.of().formatHex(secret).getBytes(StandardCharsets.US_ASCII),
              Base64.getEncoder().encode(secret))) {
        assertFalse(contains(file, needle), "key material found in the backup");
      }
    }
  }

  private static List<BackupVerifier.TrustedKey> trustedKeys(List<AuditKeyRegistration> keys) {
    return keys.stream()
        .map(
            k ->
                new BackupVerifier.TrustedKey(
                    k.getNode(), k.getKeyVersion(), k.getPublicKey().toByteArray()))
        .toList();
  }

  private static AuditKeyRegistration strangerKey() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    return AuditKeyRegistration.newBuilder()
        .setNode("n1")
        .setKeyVersion(1)
        .setPublicKey(ByteString.copyFrom(generator.generateKeyPair().getPublic().getEncoded()))
        .build();
  }

  private static List<byte[]> plaintexts(List<DataKey> dataKeys) {
    return dataKeys.stream().map(k -> k.plaintext().toByteArray()).toList();
  }

  private static <T> List<T> concat(List<? extends T> a, List<? extends T> b) {
    List<T> all = new ArrayList<>(a);
    synchronized (b) {
      all.addAll(b);
    }
    return all;
  }

  private static int sizeOf(List<String> list) {
    synchronized (list) {
      return list.size();
    }
  }

  private static void waitUntil(java.util.function.BooleanSupplier condition, String failure)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(failure);
      }
      Thread.sleep(50);
    }
  }

  private static void deleteRecursively(Path path) throws IOException {
    if (!Files.exists(path)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(path)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
