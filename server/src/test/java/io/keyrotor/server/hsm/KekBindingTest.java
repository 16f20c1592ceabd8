package io.keyrotor.server.hsm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.rpc.Code;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmConfig;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.hsm.WrappedKey;
import io.keyrotor.hsm.software.SoftwareHsm;
import io.keyrotor.hsm.software.SoftwareKeyStoreFile;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.proto.internal.v1.CreateKey;
import io.keyrotor.proto.internal.v1.KekRewrap;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.RewrapKeks;
import io.keyrotor.proto.internal.v1.RotateKey;
import io.keyrotor.proto.internal.v1.StartZoneMasterKeyRotation;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import io.keyrotor.server.rotation.KekIssuer;
import io.keyrotor.storage.KeyStateStore;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.SortedMap;
import java.util.SortedSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Key check values over a real software HSM (zone {@code default}, master key versions 1 and 2) and
 * a real RocksDB state store: a rewrap by a faulty HSM is caught before anything is proposed, and a
 * wrapped KEK moved to another version is refused when unwrapped and when proposed.
 */
class KekBindingTest {
  private static final long T0 = 1_700_000_000_000L;
  private static final String ZONE = "default";

  @TempDir Path directory;
  private Hsm hsm;
  private KeyStateStore store;
  private long index;

  @BeforeEach
  void setUp() throws Exception {
    Path file = directory.resolve("zmk.p12");
    char[] passphrase = "test passphrase".toCharArray();
    SoftwareKeyStoreFile.create(file, passphrase);
    SoftwareKeyStoreFile.createZone(file, passphrase, ZONE);
    SoftwareKeyStoreFile.createZone(file, passphrase, ZONE);
    hsm = SoftwareHsm.open(HsmConfig.software(file, passphrase.clone()));
    store = KeyStateStore.open(directory.resolve("state"));
  }

  @AfterEach
  void tearDown() {
    store.close();
    hsm.close();
  }

  private CommandResult apply(Command.Builder command) {
    index++;
    return store.apply(
        command.setRequestId("r" + index).setProposedTimeUnixMillis(T0 + index).build(), 1, index);
  }

  /** A key with versions 1..count, each KEK minted (under ZMK version 2, the newest) and bound. */
  private void keyWithVersions(String name, int count) throws HsmException {
    KekIssuer issuer = new KekIssuer(hsm);
    create(name, issuer.newWrappedKek(ZONE, name, 1));
    for (int v = 2; v <= count; v++) {
      assertOk(
          apply(
              Command.newBuilder()
                  .setRotateKey(
                      RotateKey.newBuilder()
                          .setName(name)
                          .setKek(issuer.newWrappedKek(ZONE, name, v))
                          .setReason(2))));
    }
  }

  /** A key whose version 1 is wrapped under ZMK version 1, as before check values existed. */
  private void legacyKey(String name) throws HsmException {
    byte[] bytes = new byte[32];
    new SecureRandom().nextBytes(bytes);
    WrappedKey wrapped;
    try (SecretKeyBytes kek = SecretKeyBytes.takeOwnership(bytes)) {
      wrapped = hsm.wrap(ZONE, 1, kek);
    }
    create(name, WrappedKeyRecords.toRecord(wrapped));
  }

  /** Creates {@code name} in {@link #ZONE} with {@code kek} as its version 1. */
  private void create(String name, WrappedKeyMaterial kek) {
    assertOk(
        apply(
            Command.newBuilder()
                .setCreateKey(CreateKey.newBuilder().setName(name).setZone(ZONE).setKek(kek))));
  }

  private static void assertOk(CommandResult result) {
    assertEquals(Code.OK_VALUE, result.getOutcome().getCode(), result.getOutcome().toString());
  }

  private WrappedKeyMaterial stored(String name, int version) {
    return store.key(name).orElseThrow().getVersions(version - 1).getKek();
  }

  @Test
  void mintedKek_carriesACheckValueThatIsNotTheKeyAndUnwrapsChecked() throws Exception {
    keyWithVersions("orders", 1);
    WrappedKeyMaterial kek = stored("orders", 1);
    assertEquals(KekChecks.LENGTH, kek.getKeyCheck().size());
    assertEquals(1, kek.getKeyCheckVersion());
    try (SecretKeyBytes plain = KekChecks.unwrapChecked(hsm, kek, ZONE, "orders", 1)) {
      byte[] bytes = plain.revealCopy();
      assertFalse(
          Arrays.equals(Arrays.copyOf(bytes, KekChecks.LENGTH), kek.getKeyCheck().toByteArray()));
      Arrays.fill(bytes, (byte) 0);
    }
  }

  @Test
  void swappedWrappedKeks_betweenTwoVersions_failToUnwrapForEither() throws Exception {
    keyWithVersions("orders", 2);
    WrappedKeyMaterial one = stored("orders", 1);
    WrappedKeyMaterial two = stored("orders", 2);

    // The material of version 2 read as version 1's, and the other way round (with or without
    // its check value): the HSM unwraps it, the check value refuses it.
    for (WrappedKeyMaterial moved :
        new WrappedKeyMaterial[] {two, two.toBuilder().setKeyCheck(one.getKeyCheck()).build()}) {
      HsmException refused =
          assertThrows(
              HsmException.class, () -> KekChecks.unwrapChecked(hsm, moved, ZONE, "orders", 1));
      assertEquals(HsmException.Reason.KEK_CHECK_FAILED, refused.reason());
    }
    HsmException refused =
        assertThrows(
            HsmException.class, () -> KekChecks.unwrapChecked(hsm, one, ZONE, "orders", 2));
    assertEquals(HsmException.Reason.KEK_CHECK_FAILED, refused.reason());
    // Another key's material, same version number.
    keyWithVersions("payments", 1);
    assertThrows(
        HsmException.class,
        () -> KekChecks.unwrapChecked(hsm, stored("payments", 1), ZONE, "orders", 1));
  }

  @Test
  void rewrapCommand_carryingAnotherVersionsKek_isRefusedAndChangesNothing() throws Exception {
    legacyKey("legacy");
    keyWithVersions("orders", 2);
    assertOk(
        apply(
            Command.newBuilder()
                .setStartZoneMasterKeyRotation(
                    StartZoneMasterKeyRotation.newBuilder().setZone(ZONE).setTargetVersion(2))));
    // Rewrapped properly, but of version 2's KEK, proposed for the legacy key's version 1 (which
    // has no check value: a bound value must name that version) ...
    RewrapBatch good = RewrapBatch.build(hsm, store, ZONE, 2, 10);
    assertEquals(1, good.command().getRewrapsCount());
    KeyRecord before = store.key("legacy").orElseThrow();
    CommandResult refused =
        apply(
            Command.newBuilder()
                .setRewrapKeks(
                    RewrapKeks.newBuilder()
                        .setZone(ZONE)
                        .setTargetVersion(2)
                        .addRewraps(
                            KekRewrap.newBuilder()
                                .setKeyName("legacy")
                                .setVersion(1)
                                .setExpectedZoneMasterKeyVersion(1)
                                .setKek(
                                    stored("orders", 2).toBuilder().setZoneMasterKeyVersion(2)))));
    assertEquals(Code.DATA_LOSS_VALUE, refused.getOutcome().getCode());
    assertEquals(ErrorReason.KEK_CHECK_FAILED.name(), refused.getOutcome().getReason());
    assertEquals(before, store.key("legacy").orElseThrow());
  }

  @Test
  void faultyHsmOnTheDrivingNode_isCaught_andNothingIsProposed() throws Exception {
    legacyKey("legacy");
    legacyKey("other");
    assertOk(
        apply(
            Command.newBuilder()
                .setStartZoneMasterKeyRotation(
                    StartZoneMasterKeyRotation.newBuilder().setZone(ZONE).setTargetVersion(2))));

    for (FaultyWraps.Fault fault : FaultyWraps.Fault.values()) {
      RewrapBatch batch = RewrapBatch.build(new FaultyWraps(hsm, fault), store, ZONE, 2, 10);
      assertEquals(0, batch.command().getRewrapsCount(), fault + ": " + batch);
      assertEquals(2, batch.failures().size(), fault + ": " + batch.failures());
      if (fault == FaultyWraps.Fault.ANOTHER_KEY) {
        assertEquals(2, batch.checkFailures());
      }
    }
    assertEquals(1, stored("legacy", 1).getZoneMasterKeyVersion());

    // The same rotation on a sound HSM moves both and gives the legacy KEKs check values.
    RewrapBatch sound = RewrapBatch.build(hsm, store, ZONE, 2, 10);
    assertTrue(sound.failures().isEmpty(), sound.failures().toString());
    assertOk(apply(Command.newBuilder().setRewrapKeks(sound.command())));
    WrappedKeyMaterial moved = stored("legacy", 1);
    assertEquals(2, moved.getZoneMasterKeyVersion());
    assertEquals(KekChecks.LENGTH, moved.getKeyCheck().size());
    KekChecks.unwrapChecked(hsm, moved, ZONE, "legacy", 1).close();
    assertNotEquals(moved.getKeyCheck(), stored("other", 1).getKeyCheck());
  }

  @Test
  void rotation_withAKekBoundToAnotherVersion_isAVersionConflict() throws Exception {
    keyWithVersions("orders", 1);
    CommandResult refused =
        apply(
            Command.newBuilder()
                .setRotateKey(
                    RotateKey.newBuilder()
                        .setName("orders")
                        .setKek(new KekIssuer(hsm).newWrappedKek(ZONE, "orders", 3))
                        .setReason(2)));
    assertEquals(ErrorReason.VERSION_CONFLICT.name(), refused.getOutcome().getReason());
    assertEquals(1, store.key("orders").orElseThrow().getVersionsCount());
  }

  /** A sound HSM whose wraps under a given master key version go wrong, as a faulty one's can. */
  private static final class FaultyWraps extends ForwardingHsm {
    enum Fault {
      /** The wrapped bytes are corrupt. */
      CORRUPT_BYTES,
      /** A well-formed wrapping of another key. */
      ANOTHER_KEY
    }

    private final Fault fault;

    FaultyWraps(Hsm delegate, Fault fault) {
      super(delegate);
      this.fault = fault;
    }

    @Override
    public WrappedKey wrap(String zone, int version, SecretKeyBytes key) throws HsmException {
      if (fault == Fault.ANOTHER_KEY) {
        try (SecretKeyBytes other = SecretKeyBytes.takeOwnership(delegate.randomBytes(32))) {
          return delegate.wrap(zone, version, other);
        }
      }
      WrappedKey sound = delegate.wrap(zone, version, key);
      byte[] bytes = sound.ciphertext();
      bytes[bytes.length / 2] ^= 0x5a;
      return new WrappedKey(sound.zone(), sound.zoneMasterKeyVersion(), sound.mechanism(), bytes);
    }

    @Override
    public WrappedKey wrap(String zone, SecretKeyBytes key) throws HsmException {
      return wrap(zone, currentZoneMasterKeyVersion(zone), key);
    }

    @Override
    public SortedMap<String, SortedSet<Integer>> zoneMasterKeyVersions() throws HsmException {
      return delegate.zoneMasterKeyVersions();
    }

    @Override
    public void close() {}
  }
}
