package io.keyrotor.server.dataplane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.keyrotor.api.v1.BatchDecryptRequest;
import io.keyrotor.api.v1.BatchReEncryptRequest;
import io.keyrotor.api.v1.DataKeySpec;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.DecryptResponse;
import io.keyrotor.api.v1.EncryptRequest;
import io.keyrotor.api.v1.EncryptResponse;
import io.keyrotor.api.v1.EncryptionContext;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GenerateDataKeyResponse;
import io.keyrotor.api.v1.ReEncryptRequest;
import io.keyrotor.api.v1.ReEncryptResponse;
import io.keyrotor.consensus.ConsensusException;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
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
  private MutableClock clock;
  private ExecutorService slowPath;
  private volatile CompletableFuture<Object> gateResult;
  private DataPlane dataPlane;

  /** A clock the test moves. */
  static final class MutableClock extends Clock {
    volatile long millis;

    MutableClock(long millis) {
      this.millis = millis;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis);
    }

    @Override
    public long millis() {
      return millis;
    }
  }

  @BeforeEach
  void setUp() throws Exception {
    hsm = TestHsm.create(directory, "default", "eu");
    keys = new TestKeys(hsm);
    cache = new KekCache(hsm, 100, Duration.ofMinutes(5));
    clock = new MutableClock(T0);
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

  private static <T> T get(CompletableFuture<T> future) throws Exception {
    try {
      return future.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Exception cause) {
        throw cause;
      }
      throw e;
    }
  }

  private DataPlaneException refused(CompletableFuture<?> future) {
    return assertThrows(DataPlaneException.class, () -> get(future));
  }

  private static ByteString bytes(String s) {
    return ByteString.copyFromUtf8(s);
  }

  private EncryptResponse encrypt(String key, String plaintext, Map<String, String> context)
      throws Exception {
    return get(
        dataPlane.encryptAsync(
            EncryptRequest.newBuilder()
                .setKeyName(key)
                .setPlaintext(bytes(plaintext))
                .putAllContext(context)
                .build()));
  }

  private CompletableFuture<DecryptResponse> decrypt(
      ByteString ciphertext, Map<String, String> context) {
    return dataPlane.decryptAsync(
        DecryptRequest.newBuilder().setCiphertext(ciphertext).putAllContext(context).build());
  }

  // ------------------------------------------------------------------ round trips

  @Test
  void encryptDecrypt_roundTripUnderThePrimary() throws Exception {
    EncryptResponse sealed = encrypt("orders", "card 4111", CONTEXT);

    assertEquals("orders", sealed.getKeyName());
    assertEquals(1, sealed.getKeyVersion());
    assertFalse(sealed.getCiphertext().toStringUtf8().contains("card 4111"));
    DecryptResponse opened = get(decrypt(sealed.getCiphertext(), CONTEXT));
    assertEquals("card 4111", opened.getPlaintext().toStringUtf8());
    assertEquals("orders", opened.getKeyName());
    assertEquals(1, opened.getKeyVersion());
  }

  @Test
  void generateDataKey_plaintextOnceAndWrappedDecryptsToIt() throws Exception {
    GenerateDataKeyResponse generated =
        get(
            dataPlane.generateDataKeyAsync(
                GenerateDataKeyRequest.newBuilder()
                    .setKeyName("orders")
                    .putAllContext(CONTEXT)
                    .build(),
                true));

    assertEquals(32, generated.getPlaintext().size());
    assertEquals(1, generated.getKeyVersion());
    DecryptResponse unwrapped = get(decrypt(generated.getWrappedDataKey(), CONTEXT));
    assertEquals(generated.getPlaintext(), unwrapped.getPlaintext());
    assertEquals(
        ErrorReason.INVALID_CIPHERTEXT,
        refused(decrypt(generated.getWrappedDataKey(), Map.of())).reason());
  }

  @Test
  void generateDataKey_aes128AndWithoutPlaintext() throws Exception {
    GenerateDataKeyResponse aes128 =
        get(
            dataPlane.generateDataKeyAsync(
                GenerateDataKeyRequest.newBuilder()
                    .setKeyName("orders")
                    .setSpec(DataKeySpec.DATA_KEY_SPEC_AES_128)
                    .build(),
                true));
    assertEquals(16, aes128.getPlaintext().size());

    GenerateDataKeyResponse wrappedOnly =
        get(
            dataPlane.generateDataKeyAsync(
                GenerateDataKeyRequest.newBuilder().setKeyName("orders").build(), false));
    assertTrue(wrappedOnly.getPlaintext().isEmpty());
    assertEquals(32, get(decrypt(wrappedOnly.getWrappedDataKey(), Map.of())).getPlaintext().size());
  }

  @Test
  void generateDataKey_freshKeyEveryCall() throws Exception {
    GenerateDataKeyRequest request =
        GenerateDataKeyRequest.newBuilder().setKeyName("orders").build();
    ByteString first = get(dataPlane.generateDataKeyAsync(request, true)).getPlaintext();
    ByteString second = get(dataPlane.generateDataKeyAsync(request, true)).getPlaintext();
    assertFalse(first.equals(second));
  }

  @Test
  void rotation_oldVersionKeepsDecryptingAndNewEncryptionsUseTheNewPrimary() throws Exception {
    EncryptResponse underV1 = encrypt("orders", "old", CONTEXT);
    keys.rotate("orders", T0 + 60_000);

    // v2 is pending: v1 still encrypts.
    assertEquals(1, encrypt("orders", "still v1", CONTEXT).getKeyVersion());
    clock.millis = T0 + 60_000;
    EncryptResponse underV2 = encrypt("orders", "new", CONTEXT);

    assertEquals(2, underV2.getKeyVersion());
    assertEquals(
        "old", get(decrypt(underV1.getCiphertext(), CONTEXT)).getPlaintext().toStringUtf8());
    assertEquals(
        "new", get(decrypt(underV2.getCiphertext(), CONTEXT)).getPlaintext().toStringUtf8());
  }

  @Test
  void reEncrypt_movesToThePrimaryWithoutReturningPlaintext() throws Exception {
    EncryptResponse underV1 = encrypt("orders", "move me", CONTEXT);
    keys.rotate("orders", T0);

    ReEncryptResponse moved =
        get(
            dataPlane.reEncryptAsync(
                ReEncryptRequest.newBuilder()
                    .setCiphertext(underV1.getCiphertext())
                    .putAllContext(CONTEXT)
                    .build()));

    assertEquals("orders", moved.getKeyName());
    assertEquals(1, moved.getSourceKeyVersion());
    assertEquals(2, moved.getKeyVersion());
    assertFalse(moved.getCiphertext().toStringUtf8().contains("move me"));
    assertEquals(
        "move me", get(decrypt(moved.getCiphertext(), CONTEXT)).getPlaintext().toStringUtf8());
  }

  @Test
  void reEncrypt_toAnotherKeyAndContext_honoursBothContexts() throws Exception {
    keys.create("archive", "default", T0 - 1);
    EncryptResponse source = encrypt("orders", "archived", CONTEXT);
    Map<String, String> destinationContext = Map.of("archive", "2024");

    ReEncryptResponse moved =
        get(
            dataPlane.reEncryptAsync(
                ReEncryptRequest.newBuilder()
                    .setCiphertext(source.getCiphertext())
                    .putAllContext(CONTEXT)
                    .setDestinationKeyName("archive")
                    .setDestinationContext(
                        EncryptionContext.newBuilder().putAllPairs(destinationContext))
                    .build()));

    assertEquals("archive", moved.getKeyName());
    assertEquals(
        "archived",
        get(decrypt(moved.getCiphertext(), destinationContext)).getPlaintext().toStringUtf8());
    assertEquals(
        ErrorReason.INVALID_CIPHERTEXT, refused(decrypt(moved.getCiphertext(), CONTEXT)).reason());
    // The source context is checked too.
    assertEquals(
        ErrorReason.INVALID_CIPHERTEXT,
        refused(
                dataPlane.reEncryptAsync(
                    ReEncryptRequest.newBuilder()
                        .setCiphertext(source.getCiphertext())
                        .putContext("tenant", "other")
                        .setDestinationKeyName("archive")
                        .build()))
            .reason());
  }

  @Test
  void reEncrypt_emptyDestinationContextIsNotTheSameAsUnset() throws Exception {
    EncryptResponse source = encrypt("orders", "x", CONTEXT);
    ReEncryptResponse cleared =
        get(
            dataPlane.reEncryptAsync(
                ReEncryptRequest.newBuilder()
                    .setCiphertext(source.getCiphertext())
                    .putAllContext(CONTEXT)
                    .setDestinationContext(EncryptionContext.getDefaultInstance())
                    .build()));
    assertEquals(
        "x", get(decrypt(cleared.getCiphertext(), Map.of())).getPlaintext().toStringUtf8());
  }

  @Test
  void batchDecrypt_perItemOutcomes() throws Exception {
    EncryptResponse a = encrypt("orders", "a", CONTEXT);
    EncryptResponse b = encrypt("orders", "b", Map.of());

    List<DataPlane.ItemOutcome<DecryptResponse>> outcomes =
        get(
            dataPlane.batchDecryptAsync(
                BatchDecryptRequest.newBuilder()
                    .addItems(
                        DecryptRequest.newBuilder()
                            .setCiphertext(a.getCiphertext())
                            .putAllContext(CONTEXT))
                    .addItems(DecryptRequest.newBuilder().setCiphertext(b.getCiphertext()))
                    .addItems(DecryptRequest.newBuilder().setCiphertext(bytes("garbage")))
                    .addItems(
                        DecryptRequest.newBuilder()
                            .setCiphertext(a.getCiphertext())
                            .putContext("tenant", "wrong"))
                    .build()));

    assertEquals(4, outcomes.size());
    assertEquals("a", outcomes.get(0).resultOrNull().getPlaintext().toStringUtf8());
    assertEquals("b", outcomes.get(1).resultOrNull().getPlaintext().toStringUtf8());
    assertNull(outcomes.get(2).resultOrNull());
    assertEquals(ErrorReason.INVALID_CIPHERTEXT, outcomes.get(2).errorOrNull().reason());
    assertEquals("AUTHENTICATION_FAILED", outcomes.get(3).errorOrNull().metadata().get("problem"));
  }

  @Test
  void batchReEncrypt_perItemOutcomes() throws Exception {
    EncryptResponse a = encrypt("orders", "a", CONTEXT);
    keys.rotate("orders", T0);
    keys.setStatus("orders", 1, VersionStatus.VERSION_STATUS_ENABLED);

    List<DataPlane.ItemOutcome<ReEncryptResponse>> outcomes =
        get(
            dataPlane.batchReEncryptAsync(
                BatchReEncryptRequest.newBuilder()
                    .addItems(
                        ReEncryptRequest.newBuilder()
                            .setCiphertext(a.getCiphertext())
                            .putAllContext(CONTEXT))
                    .addItems(
                        ReEncryptRequest.newBuilder()
                            .setCiphertext(a.getCiphertext())
                            .putAllContext(CONTEXT)
                            .setDestinationKeyName("missing"))
                    .build()));

    assertEquals(2, outcomes.get(0).resultOrNull().getKeyVersion());
    assertEquals(ErrorReason.KEY_NOT_FOUND, outcomes.get(1).errorOrNull().reason());
  }

  @Test
  void batch_tooManyItemsRefusedAsAWhole() {
    BatchDecryptRequest.Builder batch = BatchDecryptRequest.newBuilder();
    DecryptRequest item = DecryptRequest.newBuilder().setCiphertext(bytes("x")).build();
    for (int i = 0; i <= DataPlane.MAX_BATCH_ITEMS; i++) {
      batch.addItems(item);
    }
    assertEquals(
        ErrorReason.BATCH_TOO_LARGE, refused(dataPlane.batchDecryptAsync(batch.build())).reason());
  }

  // ------------------------------------------------------------------ version states

  private DataPlaneException decryptRefusedAfter(String plaintext, Runnable change)
      throws Exception {
    EncryptResponse sealed = encrypt("orders", plaintext, CONTEXT);
    change.run();
    return refused(decrypt(sealed.getCiphertext(), CONTEXT));
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
      keys.rotate("orders", clock.millis);
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
    DataPlaneException noPrimary =
        refused(
            dataPlane.encryptAsync(
                EncryptRequest.newBuilder().setKeyName("later").setPlaintext(bytes("x")).build()));
    assertEquals(ErrorReason.NO_PRIMARY_VERSION, noPrimary.reason());

    // A ciphertext naming a pending version (made while the clock was past its activation).
    clock.millis = T0 + 60_000;
    EncryptResponse sealed = encrypt("later", "early", Map.of());
    clock.millis = T0;
    assertEquals(
        ErrorReason.VERSION_PENDING, refused(decrypt(sealed.getCiphertext(), Map.of())).reason());
  }

  @Test
  void belowMinEncryptionVersion_refusesEncrypt() throws Exception {
    keys.update("orders", k -> k.toBuilder().setMinEncryptionVersion(2).build());
    DataPlaneException e =
        refused(
            dataPlane.encryptAsync(
                EncryptRequest.newBuilder().setKeyName("orders").setPlaintext(bytes("x")).build()));
    assertEquals(ErrorReason.BELOW_MIN_ENCRYPTION_VERSION, e.reason());
  }

  // ------------------------------------------------------------------ bad input

  @Test
  void badCiphertexts_invalidCiphertextNeverPlaintext() throws Exception {
    EncryptResponse sealed = encrypt("orders", "secret", CONTEXT);
    byte[] good = sealed.getCiphertext().toByteArray();
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
      DataPlaneException e = refused(decrypt(ByteString.copyFrom(c.getValue()), CONTEXT));
      assertEquals(ErrorReason.INVALID_CIPHERTEXT, e.reason(), c.getKey());
      assertFalse(e.getMessage().contains("secret"), c.getKey());
    }
    assertEquals(
        "UNKNOWN_KEY",
        refused(decrypt(ByteString.copyFrom(otherKey), CONTEXT)).metadata().get("problem"));
    assertEquals(
        "UNKNOWN_VERSION",
        refused(decrypt(ByteString.copyFrom(otherVersion), CONTEXT)).metadata().get("problem"));
    assertEquals(
        "AUTHENTICATION_FAILED",
        refused(decrypt(sealed.getCiphertext(), Map.of("tenant", "acme", "x", "y")))
            .metadata()
            .get("problem"));
  }

  @Test
  void anotherKeysCiphertextWithThisKeysName_failsAuthentication() throws Exception {
    keys.create("ordert", "default", T0 - 1);
    byte[] blob = encrypt("ordert", "theirs", Map.of()).getCiphertext().toByteArray();
    blob[10] = 's'; // now names "orders" version 1, sealed under "ordert"'s KEK
    assertEquals(
        "AUTHENTICATION_FAILED",
        refused(decrypt(ByteString.copyFrom(blob), Map.of())).metadata().get("problem"));
  }

  @Test
  void oversizedPayloads_pointToDataKeys() {
    DataPlaneException tooBig =
        refused(
            dataPlane.encryptAsync(
                EncryptRequest.newBuilder()
                    .setKeyName("orders")
                    .setPlaintext(ByteString.copyFrom(new byte[DataPlane.MAX_PAYLOAD_BYTES + 1]))
                    .build()));
    assertEquals(ErrorReason.PAYLOAD_TOO_LARGE, tooBig.reason());
    assertTrue(tooBig.getMessage().contains("GenerateDataKey"));
    assertEquals(
        ErrorReason.PAYLOAD_TOO_LARGE,
        refused(decrypt(ByteString.copyFrom(new byte[DataPlane.MAX_CIPHERTEXT_BYTES + 1]), CONTEXT))
            .reason());
  }

  @Test
  void exactlyTheLimit_roundTrips() throws Exception {
    byte[] plaintext = new byte[DataPlane.MAX_PAYLOAD_BYTES];
    plaintext[0] = 7;
    EncryptResponse sealed =
        get(
            dataPlane.encryptAsync(
                EncryptRequest.newBuilder()
                    .setKeyName("orders")
                    .setPlaintext(ByteString.copyFrom(plaintext))
                    .build()));
    assertArrayEquals(
        plaintext, get(decrypt(sealed.getCiphertext(), Map.of())).getPlaintext().toByteArray());
  }

  @Test
  void badRequests_invalidArgumentReasons() throws Exception {
    ByteString valid = encrypt("orders", "x", Map.of()).getCiphertext();
    assertEquals(
        ErrorReason.INVALID_KEY_NAME,
        refused(dataPlane.encryptAsync(EncryptRequest.newBuilder().setKeyName("").build()))
            .reason());
    assertEquals(
        ErrorReason.INVALID_KEY_NAME,
        refused(
                dataPlane.generateDataKeyAsync(
                    GenerateDataKeyRequest.newBuilder().setKeyName("bad name").build(), true))
            .reason());
    assertEquals(
        ErrorReason.INVALID_DATA_KEY_SPEC,
        refused(
                dataPlane.generateDataKeyAsync(
                    GenerateDataKeyRequest.newBuilder()
                        .setKeyName("orders")
                        .setSpecValue(99)
                        .build(),
                    true))
            .reason());
    assertEquals(
        ErrorReason.INVALID_CONTEXT,
        refused(
                dataPlane.encryptAsync(
                    EncryptRequest.newBuilder()
                        .setKeyName("orders")
                        .putContext("", "empty key")
                        .build()))
            .reason());
    assertEquals(
        ErrorReason.INVALID_KEY_NAME,
        refused(
                dataPlane.reEncryptAsync(
                    ReEncryptRequest.newBuilder()
                        .setCiphertext(valid)
                        .setDestinationKeyName("no spaces allowed")
                        .build()))
            .reason());
  }

  @Test
  void unknownKey_notFound() {
    assertEquals(
        ErrorReason.KEY_NOT_FOUND,
        refused(
                dataPlane.encryptAsync(
                    EncryptRequest.newBuilder()
                        .setKeyName("missing")
                        .setPlaintext(bytes("x"))
                        .build()))
            .reason());
  }

  @Test
  void zoneNotHeld_refusedWithTheZone() throws Exception {
    keys.create("eu-key", "eu", T0 - 1);
    DataPlaneException e =
        refused(
            dataPlane.encryptAsync(
                EncryptRequest.newBuilder().setKeyName("eu-key").setPlaintext(bytes("x")).build()));
    assertEquals(ErrorReason.ZONE_NOT_HELD, e.reason());
    assertEquals("eu", e.zone());
    assertEquals(0, hsm.unwraps.get(), "never asked the HSM");
  }

  // ------------------------------------------------------------------ HSM and cache

  @Test
  void hsmDown_cachedKeysKeepWorkingMissesAreUnavailable() throws Exception {
    EncryptResponse sealed = encrypt("orders", "cached", CONTEXT);
    keys.create("cold", "default", T0 - 1);

    hsm.available = false;

    assertEquals(
        "cached", get(decrypt(sealed.getCiphertext(), CONTEXT)).getPlaintext().toStringUtf8());
    DataPlaneException e =
        refused(
            dataPlane.encryptAsync(
                EncryptRequest.newBuilder().setKeyName("cold").setPlaintext(bytes("x")).build()));
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
    DataPlaneException e =
        refused(
            dataPlane.encryptAsync(
                EncryptRequest.newBuilder().setKeyName("orders").setPlaintext(bytes("x")).build()));
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
    EncryptResponse sealed = encrypt("orders", "again", CONTEXT);
    cache.invalidate("orders", 1);
    assertTrue(hsm.handedOut.get(0).isDestroyed());

    assertEquals(
        "again", get(decrypt(sealed.getCiphertext(), CONTEXT)).getPlaintext().toStringUtf8());
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
            () ->
                dataPlane
                    .encryptAsync(
                        EncryptRequest.newBuilder()
                            .setKeyName("orders")
                            .setPlaintext(bytes("x"))
                            .build())
                    .get(30, TimeUnit.SECONDS));
    assertInstanceOf(ConsensusException.class, e.getCause());
    assertEquals(0, hsm.unwraps.get());
  }

  @Test
  void stateIsReadAfterTheGate() throws Exception {
    EncryptResponse sealed = encrypt("orders", "x", CONTEXT);
    rotateNow();
    CompletableFuture<Object> pending = new CompletableFuture<>();
    gateResult = pending;
    CompletableFuture<DecryptResponse> call = decrypt(sealed.getCiphertext(), CONTEXT);
    // A disable that completes before the barrier does must be seen by the call.
    keys.setStatus("orders", 1, VersionStatus.VERSION_STATUS_DISABLED);
    pending.complete(null);

    assertEquals(ErrorReason.VERSION_DISABLED, refused(call).reason());
  }

  @Test
  void blockingDecrypt_forBenchmarks() throws Exception {
    EncryptResponse sealed = encrypt("orders", "bench", CONTEXT);
    DecryptResponse opened =
        dataPlane.decrypt(
            DecryptRequest.newBuilder()
                .setCiphertext(sealed.getCiphertext())
                .putAllContext(CONTEXT)
                .build());
    assertEquals("bench", opened.getPlaintext().toStringUtf8());
    assertNotNull(keys.get("orders"));
    KeyRecord unchanged = keys.get("orders");
    assertEquals(1, unchanged.getVersionsCount());
  }
}
