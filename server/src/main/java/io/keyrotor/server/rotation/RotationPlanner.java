package io.keyrotor.server.rotation;

import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.CancelRotation;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.DestroyVersion;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.RecordActivation;
import io.keyrotor.proto.internal.v1.RotateKey;
import io.keyrotor.proto.internal.v1.SetVersionStatus;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import io.keyrotor.storage.EncryptionLimits;
import io.keyrotor.storage.KeyVersions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What time-driven work a key needs at a given time: a pure function of the key record, the time
 * and the default activation delay, so every policy can be tested with a manual clock. The
 * scheduler turns the plan into proposals.
 */
public final class RotationPlanner {
  private RotationPlanner() {}

  /** A command the scheduler proposes as is, and the purpose that names it (its request id). */
  public record Housekeeping(String purpose, Command.Builder command) {}

  /**
   * A rotation the key needs now.
   *
   * @param reason a RotationReason number
   * @param activationDelayMillis the new version's activation delay
   * @param expectedLatestVersion the compare-and-set: rotate only if this is still the newest
   * @param dueTimeMillis when it became due (0 for a usage rotation)
   */
  public record RotationNeed(
      int reason, long activationDelayMillis, int expectedLatestVersion, long dueTimeMillis) {}

  /**
   * The compare-and-set rotation that fulfils {@code need} with the new wrapped {@code kek}. It
   * carries the due time: the leader stamps the command later, on a clock that may have stepped
   * back since it noticed the rotation due, and apply never activates a scheduled version before
   * its due time plus the activation delay.
   */
  public static RotateKey rotation(String name, RotationNeed need, WrappedKeyMaterial kek) {
    return RotateKey.newBuilder()
        .setName(name)
        .setKek(kek)
        .setActivationDelayMillis(need.activationDelayMillis())
        .setReason(need.reason())
        .setExpectedLatestVersion(need.expectedLatestVersion())
        .setDueTimeUnixMillis(need.dueTimeMillis())
        .build();
  }

  /** The housekeeping commands {@code key} needs at {@code now}. */
  public static List<Housekeeping> housekeeping(KeyRecord key, long now) {
    List<Housekeeping> out = new ArrayList<>();
    String name = key.getName();
    int primary = KeyVersions.primaryVersionAt(key, now);
    for (KeyVersionRecord v : key.getVersionsList()) {
      int version = v.getVersion();
      if (v.getStatus() == VersionStatus.VERSION_STATUS_ENABLED) {
        if (v.getValidationDeadlineUnixMillis() != 0
            && !KeyVersions.isEligible(v)
            && now > v.getValidationDeadlineUnixMillis()) {
          List<String> missing = KeyVersions.missingAcknowledgements(v);
          out.add(
              new Housekeeping(
                  "gate:" + name + ":" + version,
                  Command.newBuilder()
                      .setCancelRotation(
                          CancelRotation.newBuilder()
                              .setName(name)
                              .setVersion(version)
                              .setOnlyIfUnvalidated(true)
                              .setReason(
                                  "validation gate: no acknowledgement from "
                                      + (missing.isEmpty() ? "every node in time" : missing)
                                      + " by the deadline"))));
        } else if (version == primary && !v.getActivationRecorded()) {
          out.add(
              new Housekeeping(
                  "activation:" + name + ":" + version,
                  Command.newBuilder()
                      .setRecordActivation(
                          RecordActivation.newBuilder().setName(name).setVersion(version))));
        } else if (version < primary
            && graceExpired(key, primary, now)
            && KeyVersions.isEligible(v)
            && !KeyVersions.isDemotedAt(v, now)) {
          out.add(
              new Housekeeping(
                  "grace:" + name + ":" + version,
                  Command.newBuilder()
                      .setSetVersionStatus(
                          SetVersionStatus.newBuilder()
                              .setName(name)
                              .setVersion(version)
                              .setStatus(VersionStatus.VERSION_STATUS_DISABLED))));
        }
      } else if (v.getStatus() == VersionStatus.VERSION_STATUS_DESTROY_SCHEDULED
          && v.getDestroyTimeUnixMillis() <= now) {
        out.add(
            new Housekeeping(
                "destroy:" + name + ":" + version,
                Command.newBuilder()
                    .setDestroyVersion(
                        DestroyVersion.newBuilder().setName(name).setVersion(version))));
      }
    }
    return out;
  }

  private static boolean graceExpired(KeyRecord key, int primary, long now) {
    long grace = key.getPolicy().getDecryptGraceMillis();
    if (grace <= 0 || primary == 0) {
      return false;
    }
    return now >= key.getVersions(primary - 1).getActivationTimeUnixMillis() + grace;
  }

  /**
   * What the scheduler knows of a key's usage beyond its record.
   *
   * @param measuredPerSecond the encryptions per second the scheduler saw counted under the primary
   *     lately (0: not measured yet)
   * @param leadMillis how long before the limit, beyond the activation delay, the rotation should
   *     be proposed ({@code usage.rotation-lead})
   */
  public record UsageForecast(double measuredPerSecond, long leadMillis) {
    /** Nothing measured, no lead: a usage rotation only once the limit is reached. */
    public static final UsageForecast NONE = new UsageForecast(0, 0);
  }

  /**
   * How many times the expected use during the lead the primary must still have left: the rate may
   * grow while the rotation is under way.
   */
  static final double USAGE_HEADROOM = 2.0;

  /**
   * The rotation {@code key} needs at {@code now}, if any: due by its schedule (or a dependency or
   * bulk job), or at its encryption limit; never while a version is pending.
   */
  public static Optional<RotationNeed> rotationNeeded(
      KeyRecord key, long now, long defaultActivationDelayMillis) {
    return rotationNeeded(key, now, defaultActivationDelayMillis, UsageForecast.NONE);
  }

  /**
   * The rotation {@code key} needs at {@code now}, if any: due by its schedule (or a dependency or
   * bulk job), or near its primary's encryption limit (see {@link #nearEncryptionLimit}); never
   * while a version is pending.
   */
  public static Optional<RotationNeed> rotationNeeded(
      KeyRecord key, long now, long defaultActivationDelayMillis, UsageForecast usage) {
    if (KeyVersions.pendingAt(key, now).isPresent()) {
      return Optional.empty();
    }
    long next = key.getNextRotationTimeUnixMillis();
    int primary = KeyVersions.primaryVersionAt(key, now);
    long policyDelay =
        key.getPolicy().getActivationDelayMillis() >= 0
            ? key.getPolicy().getActivationDelayMillis()
            : defaultActivationDelayMillis;
    int reason;
    long due = 0;
    if (next != 0 && next <= now) {
      reason =
          key.getRotationRequestedReason() != 0
              ? key.getRotationRequestedReason()
              : RotationReason.ROTATION_REASON_SCHEDULED_VALUE;
      due = next;
    } else if (primary != 0
        && nearEncryptionLimit(key, key.getVersions(primary - 1), now, policyDelay, usage)) {
      reason = RotationReason.ROTATION_REASON_USAGE_VALUE;
    } else {
      return Optional.empty();
    }
    long delay = reason == RotationReason.ROTATION_REASON_COMPROMISE_VALUE ? 0 : policyDelay;
    return Optional.of(new RotationNeed(reason, delay, key.getVersionsCount(), due));
  }

  /**
   * Whether {@code version} would run out of encryptions before a rotation proposed now takes over:
   * it has none left, or fewer than {@link #USAGE_HEADROOM} times what it uses, at the higher of
   * the measured rate and its average since its first reservation, during the activation delay plus
   * the lead. The count is of reserved encryptions (ahead of use), so this errs early.
   */
  static boolean nearEncryptionLimit(
      KeyRecord key,
      KeyVersionRecord version,
      long now,
      long activationDelayMillis,
      UsageForecast usage) {
    long remaining = EncryptionLimits.remaining(key, version);
    if (remaining == 0) {
      return true;
    }
    double perSecond = Math.max(usage.measuredPerSecond(), averageRate(version, now));
    double leadSeconds = (activationDelayMillis + usage.leadMillis()) / 1000.0;
    return remaining <= perSecond * leadSeconds * USAGE_HEADROOM;
  }

  /**
   * Encryptions per second under {@code version} since its first reservation (counted over at least
   * one second); 0 before any. It only falls while nothing new is reserved, so a key quiet by
   * {@link #quietUntil} stays quiet.
   */
  static double averageRate(KeyVersionRecord version, long now) {
    long first = version.getFirstReservationTimeUnixMillis();
    if (first == 0) {
      return 0;
    }
    double seconds = Math.max(1.0, (now - first) / 1000.0);
    return EncryptionLimits.counted(version) / seconds;
  }

  /**
   * A time before which {@code key}, as recorded, cannot need anything it does not need at {@code
   * now}: the earliest of its recorded times (activations, deadlines, destroys, demotions, the next
   * rotation, activation plus decrypt grace), and each of them plus one millisecond for the strict
   * comparisons, that lies after {@code now}; {@link Long#MAX_VALUE} when none does. Every
   * time-driven condition of {@link #housekeeping} and {@link #rotationNeeded} compares the time
   * with one of these, so between two of them their answers stay the same (the usage rate a
   * rotation is measured against only falls with time). Anything else (reservations,
   * acknowledgements, a requested rotation) arrives as a new record.
   */
  public static long quietUntil(KeyRecord key, long now) {
    long until = Long.MAX_VALUE;
    until = earliestAfter(until, now, key.getNextRotationTimeUnixMillis());
    until = earliestAfter(until, now, key.getPolicy().getNextRotationTimeUnixMillis());
    long grace = key.getPolicy().getDecryptGraceMillis();
    for (KeyVersionRecord v : key.getVersionsList()) {
      until = earliestAfter(until, now, v.getActivationTimeUnixMillis());
      until = earliestAfter(until, now, v.getValidationDeadlineUnixMillis());
      until = earliestAfter(until, now, v.getDestroyTimeUnixMillis());
      until = earliestAfter(until, now, v.getDemotedTimeUnixMillis());
      until = earliestAfter(until, now, v.getCreateTimeUnixMillis());
      until = earliestAfter(until, now, v.getValidatedTimeUnixMillis());
      if (grace > 0 && v.getActivationTimeUnixMillis() != 0) {
        until = earliestAfter(until, now, v.getActivationTimeUnixMillis() + grace);
      }
    }
    return until;
  }

  private static long earliestAfter(long until, long now, long time) {
    if (time == 0) {
      return until;
    }
    if (time > now && time < until) {
      until = time;
    }
    if (time + 1 > now && time + 1 < until) {
      until = time + 1;
    }
    return until;
  }
}
