package io.keyrotor.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** The data plane's version-use rules, one test per rule, on hand-built key records. */
class VersionUseTest {
  private static final long T = 1_700_000_000_000L;
  private static final long LATER = T + 60_000;

  /** A version of "orders" with key material, enabled, active from {@code activation}. */
  private static KeyVersionRecord.Builder version(int number, long activation) {
    return KeyVersionRecord.newBuilder()
        .setVersion(number)
        .setStatus(VersionStatus.VERSION_STATUS_ENABLED)
        .setCreateTimeUnixMillis(activation)
        .setActivationTimeUnixMillis(activation)
        .setKek(
            WrappedKeyMaterial.newBuilder()
                .setZone("default")
                .setZoneMasterKeyVersion(1)
                .setMechanism("AES_KEY_WRAP_PAD")
                .setCiphertext(ByteString.copyFromUtf8("wrapped:" + number)));
  }

  private static KeyRecord key(KeyVersionRecord.Builder... versions) {
    KeyRecord.Builder key = KeyRecord.newBuilder().setName("orders").setZone("default");
    for (KeyVersionRecord.Builder v : versions) {
      key.addVersions(v);
    }
    return key.build();
  }

  /** v1 active since T, v2 active since T (primary), with {@code change} applied to the key. */
  private static KeyRecord twoActiveVersions(UnaryOperator<KeyRecord.Builder> change) {
    return change.apply(key(version(1, T), version(2, T)).toBuilder()).build();
  }

  private static KeyRecord withStatusOfVersion1(VersionStatus status) {
    return twoActiveVersions(k -> k.setVersions(0, k.getVersions(0).toBuilder().setStatus(status)));
  }

  private static void assertRefused(
      VersionUse.Verdict verdict, ErrorReason reason, long version, String words) {
    assertFalse(verdict.isAllowed(), verdict.toString());
    assertEquals(reason, verdict.refusalOrNull());
    assertEquals(version, verdict.version());
    assertNull(verdict.recordOrNull());
    assertTrue(verdict.explanation().contains("\"orders\""), verdict.explanation());
    assertTrue(verdict.explanation().contains(words), verdict.explanation());
  }

  // ------------------------------------------------------------------ encryption

  @Test
  void encryption_usesThePrimary_allowed() {
    KeyRecord key = twoActiveVersions(k -> k);

    VersionUse.Verdict verdict = VersionUse.encryption(key, T);

    assertTrue(verdict.isAllowed());
    assertEquals(2, verdict.version());
    assertSame(key.getVersions(1), verdict.recordOrNull());
    assertNull(verdict.refusalOrNull());
  }

  @Test
  void encryption_newerVersionStillPending_usesTheOlderPrimary() {
    KeyRecord key = key(version(1, T), version(2, LATER));

    assertEquals(1, VersionUse.encryption(key, T).version());
    assertEquals(2, VersionUse.encryption(key, LATER).version());
  }

  @Test
  void encryption_firstVersionStillPending_refusedNoPrimaryVersion() {
    VersionUse.Verdict verdict = VersionUse.encryption(key(version(1, LATER)), T);

    assertRefused(verdict, ErrorReason.NO_PRIMARY_VERSION, 0, "no primary version yet");
  }

  @Test
  void encryption_primaryBelowMinimumEncryptionVersion_refused() {
    KeyRecord key = twoActiveVersions(k -> k.setMinEncryptionVersion(3));

    assertRefused(
        VersionUse.encryption(key, T),
        ErrorReason.BELOW_MIN_ENCRYPTION_VERSION,
        2,
        "minimum encryption version 3");
  }

  @Test
  void encryption_primaryWithoutKeyMaterial_refusedDestroyed() {
    KeyRecord key = key(version(1, T).clearKek());

    assertRefused(VersionUse.encryption(key, T), ErrorReason.VERSION_DESTROYED, 1, "has no key");
  }

  // ------------------------------------------------------------------ decryption

  @Test
  void decryption_primaryVersion_allowed() {
    VersionUse.Verdict verdict = VersionUse.decryption(twoActiveVersions(k -> k), 2, T);

    assertTrue(verdict.isAllowed());
    assertEquals(2, verdict.recordOrNull().getVersion());
  }

  @Test
  void decryption_decryptOnlyVersion_allowed() {
    assertTrue(VersionUse.decryption(twoActiveVersions(k -> k), 1, T).isAllowed());
  }

  @Test
  void decryption_versionDemotedByARollback_stillAllowed() {
    KeyRecord key =
        twoActiveVersions(
            k -> k.setVersions(1, k.getVersions(1).toBuilder().setDemotedTimeUnixMillis(T)));

    assertEquals(1, VersionUse.encryption(key, T).version());
    assertTrue(VersionUse.decryption(key, 2, T).isAllowed());
  }

  @Test
  void decryption_pendingVersion_refusedUntilItsActivationTime() {
    KeyRecord key = key(version(1, T), version(2, LATER));

    assertRefused(VersionUse.decryption(key, 2, T), ErrorReason.VERSION_PENDING, 2, "is pending");
    assertTrue(VersionUse.decryption(key, 2, LATER).isAllowed());
  }

  @Test
  void decryption_gatedVersionNotValidated_refusedPendingPastItsActivationTime() {
    KeyRecord key = key(version(1, T), version(2, T).setValidationDeadlineUnixMillis(LATER));

    assertRefused(
        VersionUse.decryption(key, 2, LATER), ErrorReason.VERSION_PENDING, 2, "is pending");
  }

  @Test
  void decryption_disabledVersion_refusedDisabled() {
    assertRefused(
        VersionUse.decryption(withStatusOfVersion1(VersionStatus.VERSION_STATUS_DISABLED), 1, T),
        ErrorReason.VERSION_DISABLED,
        1,
        "is disabled");
  }

  @Test
  void decryption_destroyScheduledVersion_refusedDestroyScheduled() {
    assertRefused(
        VersionUse.decryption(
            withStatusOfVersion1(VersionStatus.VERSION_STATUS_DESTROY_SCHEDULED), 1, T),
        ErrorReason.VERSION_DESTROY_SCHEDULED,
        1,
        "scheduled for destruction");
  }

  @Test
  void decryption_destroyedVersion_refusedDestroyed() {
    assertRefused(
        VersionUse.decryption(withStatusOfVersion1(VersionStatus.VERSION_STATUS_DESTROYED), 1, T),
        ErrorReason.VERSION_DESTROYED,
        1,
        "destroyed");
  }

  @Test
  void decryption_cancelledVersion_refusedCancelled() {
    assertRefused(
        VersionUse.decryption(withStatusOfVersion1(VersionStatus.VERSION_STATUS_CANCELLED), 1, T),
        ErrorReason.VERSION_CANCELLED,
        1,
        "cancelled");
  }

  @Test
  void decryption_enabledVersionBelowMinimumDecryptionVersion_refusedBelowTheFloor() {
    KeyRecord key = twoActiveVersions(k -> k.setMinDecryptionVersion(2));

    assertRefused(
        VersionUse.decryption(key, 1, T),
        ErrorReason.BELOW_MIN_DECRYPTION_VERSION,
        1,
        "minimum decryption version 2");
  }

  @Test
  void decryption_versionTheKeyDoesNotHave_refusedVersionNotFound() {
    KeyRecord key = twoActiveVersions(k -> k);

    assertRefused(
        VersionUse.decryption(key, 3, T), ErrorReason.VERSION_NOT_FOUND, 3, "no version 3");
    assertEquals(ErrorReason.VERSION_NOT_FOUND, VersionUse.decryption(key, 0, T).refusalOrNull());
    assertEquals(
        ErrorReason.VERSION_NOT_FOUND, VersionUse.decryption(key, 1L << 33, T).refusalOrNull());
  }

  // ------------------------------------------------------------------ re-encryption

  @Test
  void reEncryption_sourceAndDestinationUsable_noRefusal() {
    KeyRecord key = twoActiveVersions(k -> k);

    VersionUse.ReEncryption use = VersionUse.reEncryption(key, 1, key, T);

    assertTrue(use.refusal().isEmpty());
    assertEquals(1, use.source().version());
    assertEquals(2, use.destination().version());
  }

  @Test
  void reEncryption_sourceAndDestinationRefused_theSourceRefusalComesFirst() {
    KeyRecord source = withStatusOfVersion1(VersionStatus.VERSION_STATUS_DISABLED);
    KeyRecord destinationWithoutPrimary = key(version(1, LATER));

    VersionUse.ReEncryption use = VersionUse.reEncryption(source, 1, destinationWithoutPrimary, T);

    assertEquals(ErrorReason.VERSION_DISABLED, use.refusal().orElseThrow().refusalOrNull());
    assertEquals(ErrorReason.NO_PRIMARY_VERSION, use.destination().refusalOrNull());
  }

  @Test
  void reEncryption_destinationWithoutPrimary_refusedNoPrimaryVersion() {
    VersionUse.ReEncryption use =
        VersionUse.reEncryption(twoActiveVersions(k -> k), 1, key(version(1, LATER)), T);

    assertEquals(ErrorReason.NO_PRIMARY_VERSION, use.refusal().orElseThrow().refusalOrNull());
  }

  // ------------------------------------------------------------------ still usable at all

  @Test
  void mayStillBeUsed_enabledAtOrAboveTheDecryptionFloor_trueEvenWhilePending() {
    KeyRecord key =
        key(version(1, T), version(2, LATER)).toBuilder().setMinDecryptionVersion(1).build();

    assertTrue(VersionUse.mayStillBeUsed(key, key.getVersions(0)));
    assertTrue(VersionUse.mayStillBeUsed(key, key.getVersions(1)));
  }

  @Test
  void mayStillBeUsed_notEnabledOrBelowTheDecryptionFloor_false() {
    KeyRecord disabled = withStatusOfVersion1(VersionStatus.VERSION_STATUS_DISABLED);
    KeyRecord floored = twoActiveVersions(k -> k.setMinDecryptionVersion(2));

    assertFalse(VersionUse.mayStillBeUsed(disabled, disabled.getVersions(0)));
    assertFalse(VersionUse.mayStillBeUsed(floored, floored.getVersions(0)));
    assertTrue(VersionUse.mayStillBeUsed(floored, floored.getVersions(1)));
  }
}
