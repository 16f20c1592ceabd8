package io.keyrotor.server.dataplane;

import static io.keyrotor.server.testing.Answers.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.consensus.ConsensusException;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.UsageCount;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.server.testing.ManualClock;
import io.keyrotor.server.testing.TestHsm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data plane's rules on an in-memory stand-in for the replicated state, with a real software
 * HSM and the real KEK cache and AES-GCM: round trips, dual-key acceptance, every refusal.
 */
class DataPlaneTest {
  private static final long T0 = 1_700_000_000_000L;
  private static final Map<String, String> CONTEXT = Map.of("tenant", "acme");

  @TempDir Path directory;
  private TestHsm hsm;
  private TestKeys keys;
  private KekCache cache;
  private ManualClock clock;
  private ExecutorService slowPath;
  private volatile CompletableFuture<Object> gateResult;
  private DataPlane dataPlane;

  @BeforeEach
  void setUp() throws Exception {
    hsm = TestHsm.create(directory, "default", "eu");
    keys = new TestKeys(hsm);
    cache = new KekCache(hsm, 100, Duration.ofMinutes(5));
    clock = new ManualClock(T0);
    slowPath = Executors.newSingleThreadExecutor();
    gateResult = CompletableFuture.completedFuture(null);
    // This node holds zone "default" only; "eu" is held elsewhere.
    dataPlane = new DataPlane(key -> gateResult, keys, Set.of("default"), cache, clock, slowPath);
    keys.create("orders", "default", T0 - 1000);
  }

  @AfterEach
  void tearDown() {
    slowPath.shutdownNow();
    cache.close();
    hsm.close();
  }

  private DataPlaneException refused(CompletableFuture<?> future) {
    return assertThrows(DataPlaneException.class, () -> await(future));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private DataPlane.Encrypted encrypt(String key, String plaintext, Map<String, String> context)
      throws Exception {
    return await(dataPlane.encryptAsync(key, bytes(plaintext), context));
  }

  private CompletableFuture<DataPlane.Decrypted> decrypt(
      byte[] ciphertext, Map<String, String> context) {
    return dataPlane.decryptAsync(ciphertext, context);
  }

  private CompletableFuture<DataPlane.DataKey> generate(
      String key, Map<String, String> context, DataKeySpec spec, boolean withPlaintext) {
    return dataPlane.generateDataKeyAsync(key, context, spec, withPlaintext);
  }

  private static DataPlane.ReEncryption reEncryption(
      byte[] ciphertext,
      Map<String, String> context,
      String destination,
      Map<String, String> destinationContextOrNull) {
    return new DataPlane.ReEncryption(ciphertext, context, destination, destinationContextOrNull);
  }

  // ------------------------------------------------------------------ round trips

  @Test
  void encryptDecrypt_roundTripUnderThePrimary() throws Exception {
    DataPlane.Encrypted sealed = encrypt("orders", "card 4111", CONTEXT);

    assertEquals("orders", sealed.keyName());
    assertEquals(1, sealed.keyVersion());
    assertFalse(text(sealed.ciphertext()).contains("card 4111"));
    DataPlane.Decrypted opened = await(decrypt(sealed.ciphertext(), CONTEXT));
    assertEquals("card 4111", text(opened.plaintext()));
    assertEquals("orders", opened.keyName());
    assertEquals(1, opened.keyVersion());
  }

  @Test
  void encrypt_leavesTheCallersPlaintextAsItWas() throws Exception {
    byte[] plaintext = bytes("mine");

    await(dataPlane.encryptAsync("orders", plaintext, CONTEXT));

    assertEquals("mine", text(plaintext), "the caller owns (and zeroes) its array");
  }

  @Test
  void generateDataKey_plaintextOnceAndWrappedDecryptsToIt() throws Exception {
    DataPlane.DataKey generated = await(generate("orders", CONTEXT, DataKeySpec.AES_256, true));

    assertEquals(32, generated.plaintextOrNull().length);
    assertEquals(1, generated.keyVersion());
    DataPlane.Decrypted unwrapped = await(decrypt(generated.wrappedDataKey(), CONTEXT));
    assertArrayEquals(generated.plaintextOrNull(), unwrapped.plaintext());
    assertEquals(
        ErrorReason.INVALID_CIPHERTEXT,
        refused(decrypt(generated.wrappedDataKey(), Map.of())).reason());
  }

  @Test
  void generateDataKey_aes128AndWithoutPlaintext() throws Exception {
    DataPlane.DataKey aes128 = await(generate("orders", Map.of(), DataKeySpec.AES_128, true));
    assertEquals(16, aes128.plaintextOrNull().length);

    DataPlane.DataKey wrappedOnly = await(generate("orders", Map.of(), DataKeySpec.AES_256, false));
    assertNull(wrappedOnly.plaintextOrNull());
    assertEquals(32, await(decrypt(wrappedOnly.wrappedDataKey(), Map.of())).plaintext().length);
  }

  @Test
  void generateDataKey_freshKeyEveryCall() throws Exception {
    byte[] first = await(generate("orders", Map.of(), DataKeySpec.AES_256, true)).plaintextOrNull();
    byte[] second =
        await(generate("orders", Map.of(), DataKeySpec.AES_256, true)).plaintextOrNull();
    assertFalse(java.util.Arrays.equals(first, second));
  }

  @Test
  void rotation_oldVersionKeepsDecryptingAndNewEncryptionsUseTheNewPrimary() throws Exception {
    DataPlane.Encrypted underV1 = encrypt("orders", "old", CONTEXT);
    keys.rotate("orders", T0 + 60_000);

    // v2 is pending: v1 still encrypts.
    assertEquals(1, encrypt("orders", "still v1", CONTEXT).keyVersion());
    clock.set(T0 + 60_000);
    DataPlane.Encrypted underV2 = encrypt("orders", "new", CONTEXT);

    assertEquals(2, underV2.keyVersion());
    assertEquals("old", text(await(decrypt(underV1.ciphertext(), CONTEXT)).plaintext()));
    assertEquals("new", text(await(decrypt(underV2.ciphertext(), CONTEXT)).plaintext()));
  }

  @Test
  void reEncrypt_movesToThePrimaryWithoutReturningPlaintext() throws Exception {
    DataPlane.Encrypted underV1 = encrypt("orders", "move me", CONTEXT);
    keys.rotate("orders", T0);

    DataPlane.ReEncrypted moved =
        await(dataPlane.reEncryptAsync(reEncryption(underV1.ciphertext(), CONTEXT, "", null)));

    assertEquals("orders", moved.keyName());
    assertEquals(1, moved.sourceKeyVersion());
    assertEquals(2, moved.keyVersion());
    assertFalse(text(moved.ciphertext()).contains("move me"));
    assertEquals("move me", text(await(decrypt(moved.ciphertext(), CONTEXT)).plaintext()));
  }

  @Test
  void dataKeyUsage_countsSealsUnderEachVersion_andRewrapsAwayFromIt() throws Exception {
    DataKeyUsage usage = new DataKeyUsage();
    DataPlane counting =
        new DataPlane(key -> gateResult, keys, Set.of("default"), cache, clock, slowPath, usage);
    DataPlane.DataKey first =
        await(counting.generateDataKeyAsync("orders", CONTEXT, DataKeySpec.AES_256, false));
    var unusedSecond =
        await(counting.generateDataKeyAsync("orders", CONTEXT, DataKeySpec.AES_256, false));
    var unusedPayload = await(counting.encryptAsync("orders", bytes("payload"), CONTEXT));
    keys.rotate("orders", T0);

    DataPlane.ReEncrypted moved =
        await(counting.reEncryptAsync(reEncryption(first.wrappedDataKey(), CONTEXT, "", null)));
    // Sealed again under the version it is already under: moves nothing.
    var unusedSame =
        await(counting.reEncryptAsync(reEncryption(moved.ciphertext(), CONTEXT, "", null)));
    // A refused call counts nothing.
    refused(counting.generateDataKeyAsync("missing", CONTEXT, DataKeySpec.AES_256, false));

    assertEquals(
        List.of(
            UsageCount.newBuilder()
                .setName("orders")
                .setVersion(1)
                .setDataKeysIssued(3)
                .setDataKeysRewrappedAway(1)
                .build(),
            UsageCount.newBuilder().setName("orders").setVersion(2).setDataKeysIssued(1).build()),
        usage.drain());
    assertEquals(List.of(), usage.drain(), "a drain leaves zero behind");
  }

  @Test
  void dataKeyUsage_boundedInVersions_furtherUsesCountedAsUntracked() {
    DataKeyUsage usage = new DataKeyUsage(2);
    usage.issued("a", 1);
    usage.issued("b", 1);
    usage.issued("c", 1);
    usage.rewrappedAway("a", 1);

    assertEquals(List.of("a", "b"), usage.drain().stream().map(UsageCount::getName).toList());
    assertEquals(1, usage.untracked());
    usage.retain((name, version) -> !name.equals("a"));
    usage.issued("c", 1);
    assertEquals(List.of("c"), usage.drain().stream().map(UsageCount::getName).toList());
  }

  @Test
  void reEncrypt_toAnotherKeyAndContext_honoursBothContexts() throws Exception {
    keys.create("archive", "default", T0 - 1);
    DataPlane.Encrypted source = encrypt("orders", "archived", CONTEXT);
    Map<String, String> destinationContext = Map.of("archive", "2024");

    DataPlane.ReEncrypted moved =
        await(
            dataPlane.reEncryptAsync(
                reEncryption(source.ciphertext(), CONTEXT, "archive", destinationContext)));

    assertEquals("archive", moved.keyName());
    assertEquals(
        "archived", text(await(decrypt(moved.ciphertext(), destinationContext)).plaintext()));
    assertEquals(
        ErrorReason.INVALID_CIPHERTEXT, refused(decrypt(moved.ciphertext(), CONTEXT)).reason());
    // The source context is checked too.
    assertEquals(
        ErrorReason.INVALID_CIPHERTEXT,
        refused(
                dataPlane.reEncryptAsync(
                    reEncryption(source.ciphertext(), Map.of("tenant", "other"), "archive", null)))
            .reason());
  }

  @Test
  void reEncrypt_emptyDestinationContextIsNotTheSameAsUnset() throws Exception {
    DataPlane.Encrypted source = encrypt("orders", "x", CONTEXT);
    DataPlane.ReEncrypted cleared =
        await(dataPlane.reEncryptAsync(reEncryption(source.ciphertext(), CONTEXT, "", Map.of())));
    assertEquals("x", text(await(decrypt(cleared.ciphertext(), Map.of())).plaintext()));
  }

  @Test
  void batchDecrypt_perItemOutcomes() throws Exception {
    DataPlane.Encrypted a = encrypt("orders", "a", CONTEXT);
    DataPlane.Encrypted b = encrypt("orders", "b", Map.of());

    List<DataPlane.ItemOutcome<DataPlane.Decrypted>> outcomes =
        await(
            dataPlane.batchDecryptAsync(
                List.of(
                    new DataPlane.Decryption(a.ciphertext(), CONTEXT),
                    new DataPlane.Decryption(b.ciphertext(), Map.of()),
                    new DataPlane.Decryption(bytes("garbage"), Map.of()),
                    new DataPlane.Decryption(a.ciphertext(), Map.of("tenant", "wrong")))));

    assertEquals(4, outcomes.size());
    assertEquals("a", text(outcomes.get(0).resultOrNull().plaintext()));
    assertEquals("b", text(outcomes.get(1).resultOrNull().plaintext()));
    assertNull(outcomes.get(2).resultOrNull());
    assertEquals(ErrorReason.INVALID_CIPHERTEXT, outcomes.get(2).errorOrNull().reason());
    assertEquals("AUTHENTICATION_FAILED", outcomes.get(3).errorOrNull().metadata().get("problem"));
  }

  @Test
  void batchReEncrypt_perItemOutcomes() throws Exception {
    DataPlane.Encrypted a = encrypt("orders", "a", CONTEXT);
    keys.rotate("orders", T0);
    keys.setStatus("orders", 1, VersionStatus.VERSION_STATUS_ENABLED);

    List<DataPlane.ItemOutcome<DataPlane.ReEncrypted>> outcomes =
        await(
            dataPlane.batchReEncryptAsync(
                List.of(
                    reEncryption(a.ciphertext(), CONTEXT, "", null),
                    reEncryption(a.ciphertext(), CONTEXT, "missing", null))));

    assertEquals(2, outcomes.get(0).resultOrNull().keyVersion());
    assertEquals(ErrorReason.KEY_NOT_FOUND, outcomes.get(1).errorOrNull().reason());
  }

  @Test
  void batch_tooManyItemsRefusedAsAWhole() {
    DataPlane.Decryption item = new DataPlane.Decryption(bytes("x"), Map.of());
    List<DataPlane.Decryption> batch =
        java.util.Collections.nCopies(DataPlane.MAX_BATCH_ITEMS + 1, item);
    assertEquals(ErrorReason.BATCH_TOO_LARGE, refused(dataPlane.batchDecryptAsync(batch)).reason());
  }

  // ------------------------------------------------------------------ version states

  private DataPlaneException decryptRefusedAfter(String plaintext, Runnable change)
      throws Exception {
    DataPlane.Encrypted sealed = encrypt("orders", plaintext, CONTEXT);
    change.run();
    return refused(decrypt(sealed.ciphertext(), CONTEXT));
  }

  @Test
  void disabledVersion_refusesDecrypt() throws Exception {
    DataPlaneException e =
        decryptRefusedAfter(
            "x",
            () -> {
              rotateNow();
              keys.setStatus("orders", 1, VersionStatus.VERSION_STATUS_DISABLED);
            });
    assertEquals(ErrorReason.VERSION_DISABLED, e.reason());
    assertEquals("orders", e.metadata().get("key"));
    assertEquals("1", e.metadata().get("version"));
  }

  @Test
  void destroyScheduledDestroyedAndCancelled_refuse() throws Exception {
    assertEquals(
        ErrorReason.VERSION_DESTROY_SCHEDULED,
        decryptRefusedAfter(
                "x",
                () -> {
                  rotateNow();
                  keys.setStatus("orders", 1, VersionStatus.VERSION_STATUS_DESTROY_SCHEDULED);
                })
            .reason());
    assertEquals(
        ErrorReason.VERSION_DESTROYED,
        decryptRefusedAfter(
                "y",
                () -> {
                  rotateNow();
                  keys.update(
                      "orders",
                      k ->
                          k.toBuilder()
                              .setVersions(
                                  1,
                                  k.getVersions(1).toBuilder()
                                      .setStatus(VersionStatus.VERSION_STATUS_DESTROYED)
                                      .clearKek())
                              .build());
                })
            .reason());
    assertEquals(
        ErrorReason.VERSION_CANCELLED,
        decryptRefusedAfter(
                "z",
                () -> {
                  rotateNow();
                  keys.setStatus("orders", 3, VersionStatus.VERSION_STATUS_CANCELLED);
                })
            .reason());
  }

  private void rotateNow() {
    try {
      keys.rotate("orders", clock.millis());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void belowMinDecryptionVersion_refuses() throws Exception {
    DataPlaneException e =
        decryptRefusedAfter(
            "x",
            () -> {
              rotateNow();
              keys.update("orders", k -> k.toBuilder().setMinDecryptionVersion(2).build());
            });
    assertEquals(ErrorReason.BELOW_MIN_DECRYPTION_VERSION, e.reason());
  }

  @Test
  void pendingVersion_neitherEncryptsNorDecrypts() throws Exception {
    keys.create("later", "default", T0 + 60_000);
    DataPlaneException noPrimary = refused(dataPlane.encryptAsync("later", bytes("x"), Map.of()));
    assertEquals(ErrorReason.NO_PRIMARY_VERSION, noPrimary.reason());

    // A ciphertext naming a pending version (made while the clock was past its activation).
    clock.set(T0 + 60_000);
    DataPlane.Encrypted sealed = encrypt("later", "early", Map.of());
    clock.set(T0);
    assertEquals(
        ErrorReason.VERSION_PENDING, refused(decrypt(sealed.ciphertext(), Map.of())).reason());
  }

  @Test
  void belowMinEncryptionVersion_refusesEncrypt() throws Exception {
    keys.update("orders", k -> k.toBuilder().setMinEncryptionVersion(2).build());
    DataPlaneException e = refused(dataPlane.encryptAsync("orders", bytes("x"), Map.of()));
    assertEquals(ErrorReason.BELOW_MIN_ENCRYPTION_VERSION, e.reason());
  }

  // ------------------------------------------------------------------ bad input

  @Test
  void badCiphertexts_invalidCiphertextNeverPlaintext() throws Exception {
    DataPlane.Encrypted sealed = encrypt("orders", "secret", CONTEXT);
    byte[] good = sealed.ciphertext();
    byte[] tampered = good.clone();
    tampered[tampered.length - 20] ^= 1;
    byte[] otherKey = good.clone();
    otherKey[5] = 'p'; // "orders" -> "prders": no such key
    byte[] otherVersion = good.clone();
    otherVersion[5 + 6 + 3] = 9;
    byte[] futureFormat = good.clone();
    futureFormat[2] = 2;

    Map<String, byte[]> cases =
        Map.of(
            "empty", new byte[0],
            "truncated", java.util.Arrays.copyOf(good, good.length - 1),
            "tampered", tampered,
            "unknown key", otherKey,
            "unknown version", otherVersion,
            "unknown format version", futureFormat,
            "not a ciphertext", "hello".getBytes(StandardCharsets.UTF_8));
    for (Map.Entry<String, byte[]> c : cases.entrySet()) {
      DataPlaneException e = refused(decrypt(c.getValue(), CONTEXT));
      assertEquals(ErrorReason.INVALID_CIPHERTEXT, e.reason(), c.getKey());
      assertFalse(e.getMessage().contains("secret"), c.getKey());
    }
    assertEquals("UNKNOWN_KEY", refused(decrypt(otherKey, CONTEXT)).metadata().get("problem"));
    assertEquals(
        "UNKNOWN_VERSION", refused(decrypt(otherVersion, CONTEXT)).metadata().get("problem"));
    assertEquals(
        "AUTHENTICATION_FAILED",
        refused(decrypt(sealed.ciphertext(), Map.of("tenant", "acme", "x", "y")))
            .metadata()
            .get("problem"));
  }

  @Test
  void anotherKeysCiphertextWithThisKeysName_failsAuthentication() throws Exception {
    keys.create("ordert", "default", T0 - 1);
    byte[] blob = encrypt("ordert", "theirs", Map.of()).ciphertext();
    blob[10] = 's'; // now names "orders" version 1, sealed under "ordert"'s KEK
    assertEquals(
        "AUTHENTICATION_FAILED", refused(decrypt(blob, Map.of())).metadata().get("problem"));
  }

  @Test
  void oversizedPayloads_pointToDataKeys() {
    DataPlaneException tooBig =
        refused(
            dataPlane.encryptAsync("orders", new byte[DataPlane.MAX_PAYLOAD_BYTES + 1], Map.of()));
    assertEquals(ErrorReason.PAYLOAD_TOO_LARGE, tooBig.reason());
    assertTrue(tooBig.getMessage().contains("GenerateDataKey"));
    assertEquals(
        ErrorReason.PAYLOAD_TOO_LARGE,
        refused(decrypt(new byte[DataPlane.MAX_CIPHERTEXT_BYTES + 1], CONTEXT)).reason());
  }

  @Test
  void exactlyTheLimit_roundTrips() throws Exception {
    byte[] plaintext = new byte[DataPlane.MAX_PAYLOAD_BYTES];
    plaintext[0] = 7;
    DataPlane.Encrypted sealed = await(dataPlane.encryptAsync("orders", plaintext, Map.of()));
    assertArrayEquals(plaintext, await(decrypt(sealed.ciphertext(), Map.of())).plaintext());
  }

  @Test
  void badRequests_invalidArgumentReasons() throws Exception {
    byte[] valid = encrypt("orders", "x", Map.of()).ciphertext();
    assertEquals(
        ErrorReason.INVALID_KEY_NAME,
        refused(dataPlane.encryptAsync("", new byte[0], Map.of())).reason());
    assertEquals(
        ErrorReason.INVALID_KEY_NAME,
        refused(generate("bad name", Map.of(), DataKeySpec.AES_256, true)).reason());
    assertEquals(
        ErrorReason.INVALID_CONTEXT,
        refused(dataPlane.encryptAsync("orders", new byte[0], Map.of("", "empty key"))).reason());
    assertEquals(
        ErrorReason.INVALID_KEY_NAME,
        refused(dataPlane.reEncryptAsync(reEncryption(valid, Map.of(), "no spaces allowed", null)))
            .reason());
  }

  @Test
  void unknownKey_notFound() {
    assertEquals(
        ErrorReason.KEY_NOT_FOUND,
        refused(dataPlane.encryptAsync("missing", bytes("x"), Map.of())).reason());
  }

  @Test
  void zoneNotHeld_refusedWithTheZone() throws Exception {
    keys.create("eu-key", "eu", T0 - 1);
    DataPlaneException e = refused(dataPlane.encryptAsync("eu-key", bytes("x"), Map.of()));
    assertEquals(ErrorReason.ZONE_NOT_HELD, e.reason());
    assertEquals("eu", e.zone());
    assertEquals(0, hsm.unwraps.get(), "never asked the HSM");
  }

  // ------------------------------------------------------------------ HSM and cache

  @Test
  void hsmDown_cachedKeysKeepWorkingMissesAreUnavailable() throws Exception {
    DataPlane.Encrypted sealed = encrypt("orders", "cached", CONTEXT);
    keys.create("cold", "default", T0 - 1);

    hsm.available = false;

    assertEquals("cached", text(await(decrypt(sealed.ciphertext(), CONTEXT)).plaintext()));
    DataPlaneException e = refused(dataPlane.encryptAsync("cold", bytes("x"), Map.of()));
    assertEquals(ErrorReason.HSM_UNAVAILABLE, e.reason());
  }

  @Test
  void storedKekTampered_unwrapFailed() throws Exception {
    keys.update(
        "orders",
        k -> {
          var v = k.getVersions(0);
          byte[] wrapped = v.getKek().getCiphertext().toByteArray();
          wrapped[0] ^= 1;
          return k.toBuilder()
              .setVersions(
                  0,
                  v.toBuilder()
                      .setKek(v.getKek().toBuilder().setCiphertext(ByteString.copyFrom(wrapped))))
              .build();
        });
    DataPlaneException e = refused(dataPlane.encryptAsync("orders", bytes("x"), Map.of()));
    assertEquals(ErrorReason.UNWRAP_FAILED, e.reason());
  }

  @Test
  void manyCalls_oneUnwrapPerVersion() throws Exception {
    for (int i = 0; i < 50; i++) {
      encrypt("orders", "x" + i, CONTEXT);
    }
    assertEquals(1, hsm.unwraps.get());
  }

  @Test
  void kekEvictedWhileCached_nextCallUnwrapsAgain() throws Exception {
    DataPlane.Encrypted sealed = encrypt("orders", "again", CONTEXT);
    cache.invalidate("orders", 1);
    assertTrue(hsm.handedOut.get(0).isDestroyed());

    assertEquals("again", text(await(decrypt(sealed.ciphertext(), CONTEXT)).plaintext()));
    assertEquals(2, hsm.unwraps.get());
  }

  @Test
  void dropUnusableKeks_zeroesDisabledVersions() throws Exception {
    encrypt("orders", "x", CONTEXT);
    rotateNow();
    keys.setStatus("orders", 1, VersionStatus.VERSION_STATUS_DISABLED);

    dataPlane.dropUnusableKeks();

    assertTrue(hsm.handedOut.get(0).isDestroyed());
    assertEquals(0, cache.size());
  }

  // ------------------------------------------------------------------ the read gate

  @Test
  void gateFailure_surfacesAndNothingIsRead() throws Exception {
    gateResult =
        CompletableFuture.failedFuture(
            new ConsensusException(ConsensusException.Kind.NO_LEADER, "no leader", null, null));
    ExecutionException e =
        assertThrows(
            ExecutionException.class,
            () -> dataPlane.encryptAsync("orders", bytes("x"), Map.of()).get(30, TimeUnit.SECONDS));
    assertInstanceOf(ConsensusException.class, e.getCause());
    assertEquals(0, hsm.unwraps.get());
  }

  @Test
  void stateIsReadAfterTheGate() throws Exception {
    DataPlane.Encrypted sealed = encrypt("orders", "x", CONTEXT);
    rotateNow();
    CompletableFuture<Object> pending = new CompletableFuture<>();
    gateResult = pending;
    CompletableFuture<DataPlane.Decrypted> call = decrypt(sealed.ciphertext(), CONTEXT);
    // A disable that completes before the barrier does must be seen by the call.
    keys.setStatus("orders", 1, VersionStatus.VERSION_STATUS_DISABLED);
    pending.complete(null);

    assertEquals(ErrorReason.VERSION_DISABLED, refused(call).reason());
  }

  @Test
  void blockingDecrypt_forBenchmarks() throws Exception {
    DataPlane.Encrypted sealed = encrypt("orders", "bench", CONTEXT);
    DataPlane.Decrypted opened = dataPlane.decrypt(sealed.ciphertext(), CONTEXT);
    assertEquals("bench", text(opened.plaintext()));
    assertNotNull(keys.get("orders"));
    KeyRecord unchanged = keys.get("orders");
    assertEquals(1, unchanged.getVersionsCount());
  }
}
