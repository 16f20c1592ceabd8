package io.keyrotor.storage;

import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import java.util.Optional;

/**
 * Which version of a key is what at a given time: a pure function of the replicated record and the
 * time, so every replica that asks about the same time gets the same answer.
 *
 * <p>The primary at time t is the highest-numbered enabled version whose activation time is at or
 * before t, that is eligible (not gated, or validated by every serving node before its validation
 * deadline) and not demoted by a rollback at t. Newer enabled versions are PENDING until then;
 * older enabled ones (and demoted ones) are DECRYPT_ONLY.
 */
public final class KeyVersions {
  private KeyVersions() {}

  /** The primary version number at {@code timeMillis}, or 0 if none has activated. */
  public static int primaryVersionAt(KeyRecord key, long timeMillis) {
    for (int i = key.getVersionsCount() - 1; i >= 0; i--) {
      KeyVersionRecord v = key.getVersions(i);
      if (v.getStatus() == VersionStatus.VERSION_STATUS_ENABLED
          && v.getActivationTimeUnixMillis() <= timeMillis
          && isEligible(v)
          && !isDemotedAt(v, timeMillis)
          && v.getVersion() >= key.getMinDecryptionVersion()) {
        return v.getVersion();
      }
    }
    return 0;
  }

  /**
   * Whether a version may become primary: not gated, or acknowledged by every node that had to
   * validate it before its validation deadline.
   */
  public static boolean isEligible(KeyVersionRecord version) {
    long deadline = version.getValidationDeadlineUnixMillis();
    if (deadline == 0) {
      return true;
    }
    long validated = version.getValidatedTimeUnixMillis();
    return validated != 0 && validated <= deadline;
  }

  /** Whether a rollback demoted the version at {@code timeMillis}. */
  public static boolean isDemotedAt(KeyVersionRecord version, long timeMillis) {
    long demoted = version.getDemotedTimeUnixMillis();
    return demoted != 0 && demoted <= timeMillis;
  }

  /** The nodes that still have to acknowledge a gated version (sorted). */
  public static java.util.List<String> missingAcknowledgements(KeyVersionRecord version) {
    java.util.List<String> missing =
        new java.util.ArrayList<>(version.getRequiredAcknowledgersList());
    missing.removeAll(version.getAcknowledgedByList());
    return missing;
  }

  /** The version record, if {@code version} exists. */
  public static Optional<KeyVersionRecord> find(KeyRecord key, long version) {
    if (version < 1 || version > key.getVersionsCount()) {
      return Optional.empty();
    }
    return Optional.of(key.getVersions((int) version - 1));
  }

  /** The newest version number (0 for a key without versions). */
  public static int latestVersion(KeyRecord key) {
    return key.getVersionsCount();
  }

  /** The lifecycle state of {@code version} at {@code timeMillis}. */
  public static KeyVersionState stateAt(KeyRecord key, KeyVersionRecord version, long timeMillis) {
    return switch (version.getStatus()) {
      case VERSION_STATUS_DISABLED -> KeyVersionState.KEY_VERSION_STATE_DISABLED;
      case VERSION_STATUS_DESTROY_SCHEDULED -> KeyVersionState.KEY_VERSION_STATE_DESTROY_SCHEDULED;
      case VERSION_STATUS_DESTROYED -> KeyVersionState.KEY_VERSION_STATE_DESTROYED;
      case VERSION_STATUS_CANCELLED -> KeyVersionState.KEY_VERSION_STATE_CANCELLED;
      case VERSION_STATUS_ENABLED -> {
        if (version.getVersion() < key.getMinDecryptionVersion()) {
          yield KeyVersionState.KEY_VERSION_STATE_DISABLED;
        }
        if (version.getActivationTimeUnixMillis() > timeMillis || !isEligible(version)) {
          // Not active yet, or still waiting for its validation gate (the leader cancels it once
          // the deadline has passed; until then it never becomes primary).
          yield KeyVersionState.KEY_VERSION_STATE_PENDING;
        }
        yield primaryVersionAt(key, timeMillis) == version.getVersion()
            ? KeyVersionState.KEY_VERSION_STATE_PRIMARY
            : KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY;
      }
      default -> KeyVersionState.KEY_VERSION_STATE_UNSPECIFIED;
    };
  }

  /** Whether {@code version} may decrypt at {@code timeMillis}: primary or decrypt-only. */
  public static boolean canDecrypt(KeyRecord key, KeyVersionRecord version, long timeMillis) {
    KeyVersionState state = stateAt(key, version, timeMillis);
    return state == KeyVersionState.KEY_VERSION_STATE_PRIMARY
        || state == KeyVersionState.KEY_VERSION_STATE_DECRYPT_ONLY;
  }

  /** The pending version (enabled, activation still ahead), if any. */
  public static Optional<KeyVersionRecord> pendingAt(KeyRecord key, long timeMillis) {
    for (int i = key.getVersionsCount() - 1; i >= 0; i--) {
      KeyVersionRecord v = key.getVersions(i);
      if (v.getStatus() == VersionStatus.VERSION_STATUS_ENABLED
          && (v.getActivationTimeUnixMillis() > timeMillis || !isEligible(v))) {
        return Optional.of(v);
      }
    }
    return Optional.empty();
  }
}
