package io.keyrotor.server.dataplane;

import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.hsm.SecretKeyBytes;
import io.keyrotor.hsm.WrappedKey;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.server.hsm.WrappedKeyRecords;
import java.security.SecureRandom;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * Key records for data-plane unit tests, with key-encryption keys really wrapped by a test HSM: a
 * stand-in for the replicated state that tests can put in any state (also ones no command reaches
 * yet, such as DESTROYED).
 */
final class TestKeys implements Function<String, Optional<KeyRecord>> {
  private final Hsm hsm;
  private final Map<String, KeyRecord> keys = new ConcurrentHashMap<>();
  private final SecureRandom random = new SecureRandom();

  TestKeys(Hsm hsm) {
    this.hsm = hsm;
  }

  @Override
  public Optional<KeyRecord> apply(String name) {
    return Optional.ofNullable(keys.get(name));
  }

  KeyRecord get(String name) {
    return keys.get(name);
  }

  /** A key whose version 1 activated at {@code activationMillis}. */
  KeyRecord create(String name, String zone, long activationMillis) throws HsmException {
    KeyRecord key =
        KeyRecord.newBuilder()
            .setName(name)
            .setZone(zone)
            .addVersions(version(zone, 1, activationMillis))
            .build();
    keys.put(name, key);
    return key;
  }

  /** Adds a version that activates at {@code activationMillis}; returns its number. */
  int rotate(String name, long activationMillis) throws HsmException {
    KeyRecord key = keys.get(name);
    int next = key.getVersionsCount() + 1;
    keys.put(
        name, key.toBuilder().addVersions(version(key.getZone(), next, activationMillis)).build());
    return next;
  }

  void setStatus(String name, int version, VersionStatus status) {
    update(
        name,
        key ->
            key.toBuilder()
                .setVersions(
                    version - 1, key.getVersions(version - 1).toBuilder().setStatus(status))
                .build());
  }

  void update(String name, UnaryOperator<KeyRecord> change) {
    keys.put(name, change.apply(keys.get(name)));
  }

  private KeyVersionRecord version(String zone, int number, long activationMillis)
      throws HsmException {
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    WrappedKey wrapped;
    try (SecretKeyBytes kek = SecretKeyBytes.takeOwnership(bytes)) {
      wrapped = hsm.wrap(zone, kek);
    }
    return KeyVersionRecord.newBuilder()
        .setVersion(number)
        .setStatus(VersionStatus.VERSION_STATUS_ENABLED)
        .setCreateTimeUnixMillis(activationMillis)
        .setActivationTimeUnixMillis(activationMillis)
        .setKek(WrappedKeyRecords.toRecord(wrapped))
        .build();
  }
}
