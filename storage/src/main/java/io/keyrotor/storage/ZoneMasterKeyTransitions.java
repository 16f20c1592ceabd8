package io.keyrotor.storage;

import com.google.rpc.Code;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResultRecord;
import io.keyrotor.proto.internal.v1.KekRewrap;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.RetireZoneMasterKeyVersion;
import io.keyrotor.proto.internal.v1.RewrapKeks;
import io.keyrotor.proto.internal.v1.StartZoneMasterKeyRotation;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRecord;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRotationState;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The deterministic transitions of zone master key (ZMK) rotation, a resumable job carried by the
 * log:
 *
 * <ol>
 *   <li>{@code StartZoneMasterKeyRotation(zone, n+1)} records the job (RUNNING) and how many KEK
 *       versions of the zone are still under an older ZMK version;
 *   <li>{@code RewrapKeks} batches, proposed by the node that drives the job, replace wrapped KEKs
 *       with the same KEKs wrapped under n+1. Each entry is a compare-and-set on the KEK's current
 *       ZMK version, so a duplicate batch (a deposed leader's) changes nothing. When no KEK of the
 *       zone is left under an older version the job is COMPLETED;
 *   <li>{@code RetireZoneMasterKeyVersion(zone, v)} records that an operator retired v, refused
 *       while any KEK of the zone is wrapped under v or a rotation runs.
 * </ol>
 *
 * Like {@link Transitions} it reads no clock or random source, and rule violations are results.
 */
public final class ZoneMasterKeyTransitions {
  /** Most entries in one rewrap batch (keeps one log entry small). */
  public static final int MAX_REWRAPS_PER_BATCH = 1_000;

  private final Function<String, Optional<KeyRecord>> keys;
  private final Supplier<? extends Iterable<KeyRecord>> allKeys;
  private final Function<String, Optional<ZoneMasterKeyRecord>> zones;

  /**
   * @param keys reads the current record of a key by name
   * @param allKeys every current key record, in name order
   * @param zones reads the zone master key record of a zone
   */
  public ZoneMasterKeyTransitions(
      Function<String, Optional<KeyRecord>> keys,
      Supplier<? extends Iterable<KeyRecord>> allKeys,
      Function<String, Optional<ZoneMasterKeyRecord>> zones) {
    this.keys = keys;
    this.allKeys = allKeys;
    this.zones = zones;
  }

  /** A KEK (one key version) of a zone still wrapped under an older ZMK version. */
  public record PendingRewrap(String keyName, int version, WrappedKeyMaterial kek) {}

  /** Whether this class handles {@code command}. */
  public static boolean handles(Command command) {
    return switch (command.getBodyCase()) {
      case START_ZONE_MASTER_KEY_ROTATION, REWRAP_KEKS, RETIRE_ZONE_MASTER_KEY_VERSION -> true;
      default -> false;
    };
  }

  /** The effects of {@code command} applied at log {@code index} and effective {@code time}. */
  public Effects apply(Command command, long index, long timeMillis) {
    return switch (command.getBodyCase()) {
      case START_ZONE_MASTER_KEY_ROTATION ->
          start(command.getStartZoneMasterKeyRotation(), command, index, timeMillis);
      case REWRAP_KEKS -> rewrap(command.getRewrapKeks(), index, timeMillis);
      case RETIRE_ZONE_MASTER_KEY_VERSION -> retire(command.getRetireZoneMasterKeyVersion(), index);
      default -> throw new IllegalArgumentException("not a zone master key command");
    };
  }

  /**
   * The KEKs of {@code zone} wrapped under a ZMK version below {@code targetVersion}, in key name
   * and version order, at most {@code limit}. Destroyed versions (no KEK) are not counted.
   */
  public static List<PendingRewrap> pending(
      Iterable<KeyRecord> keys, String zone, int targetVersion, int limit) {
    List<PendingRewrap> out = new ArrayList<>();
    for (KeyRecord key : keys) {
      if (!key.getZone().equals(zone)) {
        continue;
      }
      for (KeyVersionRecord version : key.getVersionsList()) {
        if (out.size() >= limit) {
          return out;
        }
        if (isBelow(version, targetVersion)) {
          out.add(new PendingRewrap(key.getName(), version.getVersion(), version.getKek()));
        }
      }
    }
    return out;
  }

  /** How many KEKs of {@code zone} are wrapped under a ZMK version below {@code targetVersion}. */
  public static long countBelow(Iterable<KeyRecord> keys, String zone, int targetVersion) {
    long count = 0;
    for (KeyRecord key : keys) {
      if (key.getZone().equals(zone)) {
        for (KeyVersionRecord version : key.getVersionsList()) {
          if (isBelow(version, targetVersion)) {
            count++;
          }
        }
      }
    }
    return count;
  }

  private static boolean isBelow(KeyVersionRecord version, int targetVersion) {
    return version.hasKek()
        && !version.getKek().getCiphertext().isEmpty()
        && version.getKek().getZoneMasterKeyVersion() < targetVersion;
  }

  private Effects start(StartZoneMasterKeyRotation start, Command command, long index, long time) {
    String action = "START_ZMK_ROTATION";
    String zone = start.getZone();
    Optional<String> invalid = Validation.checkZoneName(zone);
    if (invalid.isPresent()) {
      return reject(action, Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", invalid.get(), index);
    }
    int target = start.getTargetVersion();
    if (target < 2) {
      return reject(
          action,
          Code.INVALID_ARGUMENT,
          "INVALID_ARGUMENT",
          "a zone master key rotation moves KEKs to version 2 or later, not " + target,
          index);
    }
    Optional<ZoneMasterKeyRecord> existing = zones.apply(zone);
    if (existing.isPresent()) {
      ZoneMasterKeyRecord record = existing.get();
      if (record.getRetiredVersionsList().contains(target)) {
        return reject(
            action,
            Code.FAILED_PRECONDITION,
            "ZMK_VERSION_RETIRED",
            "master key version " + target + " of zone \"" + zone + "\" is retired",
            index);
      }
      if (target < record.getTargetVersion()) {
        return reject(
            action,
            Code.FAILED_PRECONDITION,
            "ZMK_VERSION_NOT_NEWER",
            "zone \""
                + zone
                + "\" was already rotated to master key version "
                + record.getTargetVersion()
                + "; a rotation cannot go back to "
                + target,
            index);
      }
    }
    int newestInUse = 0;
    long total = 0;
    for (KeyRecord key : allKeys.get()) {
      if (!key.getZone().equals(zone)) {
        continue;
      }
      for (KeyVersionRecord version : key.getVersionsList()) {
        if (version.hasKek() && !version.getKek().getCiphertext().isEmpty()) {
          newestInUse = Math.max(newestInUse, version.getKek().getZoneMasterKeyVersion());
          if (version.getKek().getZoneMasterKeyVersion() < target) {
            total++;
          }
        }
      }
    }
    if (newestInUse > target) {
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          "ZMK_VERSION_NOT_NEWER",
          "KEKs of zone \""
              + zone
              + "\" are already wrapped under master key version "
              + newestInUse
              + ", newer than "
              + target,
          index);
    }
    ZoneMasterKeyRecord.Builder record =
        existing.map(ZoneMasterKeyRecord::toBuilder).orElseGet(ZoneMasterKeyRecord::newBuilder);
    record
        .setZone(zone)
        .setTargetVersion(target)
        .setFromVersion(newestInUse == target ? target - 1 : Math.max(1, newestInUse))
        .setStartedTimeUnixMillis(time)
        .setStartedByRequestId(command.getRequestId())
        .setRewrapped(0)
        .setBatches(0)
        .setSkipped(0)
        .setRemaining(total);
    if (total == 0) {
      record
          .setRotationState(ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_COMPLETED)
          .setCompletedTimeUnixMillis(time);
    } else {
      record
          .setRotationState(ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_RUNNING)
          .setCompletedTimeUnixMillis(0);
    }
    return new Effects(
        ok(target, index, total == 0 ? "nothing to rewrap: completed" : "started"),
        Optional.empty(),
        Optional.empty(),
        action,
        "zone=" + zone + " target=" + target + " kek_versions=" + total,
        List.of(),
        Optional.of(record.build()));
  }

  private Effects rewrap(RewrapKeks batch, long index, long time) {
    String action = "REWRAP_KEKS";
    String zone = batch.getZone();
    Optional<ZoneMasterKeyRecord> existing = zones.apply(zone);
    if (existing.isEmpty()
        || existing.get().getRotationState()
            != ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_RUNNING
        || existing.get().getTargetVersion() != batch.getTargetVersion()) {
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          "ZMK_ROTATION_NOT_RUNNING",
          "no rotation of zone \""
              + zone
              + "\" to master key version "
              + batch.getTargetVersion()
              + " is running",
          index);
    }
    if (batch.getRewrapsCount() > MAX_REWRAPS_PER_BATCH) {
      return reject(
          action,
          Code.INVALID_ARGUMENT,
          "BATCH_TOO_LARGE",
          "a rewrap batch holds at most " + MAX_REWRAPS_PER_BATCH + " entries",
          index);
    }
    int target = batch.getTargetVersion();
    Map<String, KeyRecord.Builder> changed = new LinkedHashMap<>();
    long applied = 0;
    long skipped = 0;
    for (KekRewrap entry : batch.getRewrapsList()) {
      WrappedKeyMaterial kek = entry.getKek();
      if (!kek.getZone().equals(zone)
          || kek.getZoneMasterKeyVersion() != target
          || kek.getCiphertext().isEmpty()
          || kek.getMechanism().isEmpty()) {
        return reject(
            action,
            Code.INVALID_ARGUMENT,
            "INVALID_ARGUMENT",
            "rewrap entry for key \""
                + entry.getKeyName()
                + "\" version "
                + entry.getVersion()
                + " does not carry key material wrapped under "
                + zone
                + "/"
                + target,
            index);
      }
      KeyRecord.Builder key = changed.get(entry.getKeyName());
      if (key == null) {
        Optional<KeyRecord> found = keys.apply(entry.getKeyName());
        if (found.isEmpty() || !found.get().getZone().equals(zone)) {
          skipped++;
          continue;
        }
        key = found.get().toBuilder();
      }
      int position = (int) entry.getVersion() - 1;
      if (position < 0 || position >= key.getVersionsCount()) {
        skipped++;
        continue;
      }
      KeyVersionRecord version = key.getVersions(position);
      if (!version.hasKek()
          || version.getKek().getCiphertext().isEmpty()
          || version.getKek().getZoneMasterKeyVersion() != entry.getExpectedZoneMasterKeyVersion()
          || entry.getExpectedZoneMasterKeyVersion() >= target) {
        skipped++; // moved already (a duplicate batch), destroyed, or not what the proposer saw
        continue;
      }
      key.setVersions(position, version.toBuilder().setKek(kek).build());
      key.setRevision(index);
      changed.put(entry.getKeyName(), key);
      applied++;
    }
    List<KeyRecord> writes = new ArrayList<>();
    Map<String, KeyRecord> byName = new LinkedHashMap<>();
    for (KeyRecord.Builder builder : changed.values()) {
      KeyRecord record = builder.build();
      writes.add(record);
      byName.put(record.getName(), record);
    }
    long remaining = 0;
    for (KeyRecord key : allKeys.get()) {
      KeyRecord current = byName.getOrDefault(key.getName(), key);
      if (current.getZone().equals(zone)) {
        for (KeyVersionRecord version : current.getVersionsList()) {
          if (isBelow(version, target)) {
            remaining++;
          }
        }
      }
    }
    ZoneMasterKeyRecord.Builder record =
        existing.get().toBuilder()
            .setRewrapped(existing.get().getRewrapped() + applied)
            .setSkipped(existing.get().getSkipped() + skipped)
            .setBatches(existing.get().getBatches() + 1)
            .setRemaining(remaining);
    if (remaining == 0) {
      record
          .setRotationState(ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_COMPLETED)
          .setCompletedTimeUnixMillis(time);
    }
    return new Effects(
        ok(
            target,
            index,
            "rewrapped " + applied + ", skipped " + skipped + ", remaining " + remaining),
        Optional.empty(),
        Optional.empty(),
        action,
        "zone="
            + zone
            + " target="
            + target
            + " rewrapped="
            + applied
            + " skipped="
            + skipped
            + " remaining="
            + remaining,
        writes,
        Optional.of(record.build()));
  }

  private Effects retire(RetireZoneMasterKeyVersion retire, long index) {
    String action = "RETIRE_ZMK_VERSION";
    String zone = retire.getZone();
    int version = retire.getVersion();
    Optional<String> invalid = Validation.checkZoneName(zone);
    if (invalid.isPresent()) {
      return reject(action, Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", invalid.get(), index);
    }
    Optional<ZoneMasterKeyRecord> existing = zones.apply(zone);
    if (existing.isEmpty() || version < 1 || version >= existing.get().getTargetVersion()) {
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          "ZMK_VERSION_CURRENT",
          "master key version "
              + version
              + " of zone \""
              + zone
              + "\" is not older than the version its KEKs were rotated to"
              + existing.map(r -> " (" + r.getTargetVersion() + ")").orElse(" (never rotated)"),
          index);
    }
    ZoneMasterKeyRecord record = existing.get();
    if (record.getRotationState()
        == ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_RUNNING) {
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          "ZMK_ROTATION_RUNNING",
          "the rotation of zone \""
              + zone
              + "\" to master key version "
              + record.getTargetVersion()
              + " is still running ("
              + record.getRemaining()
              + " KEKs to go)",
          index);
    }
    long inUse = 0;
    for (KeyRecord key : allKeys.get()) {
      if (key.getZone().equals(zone)) {
        for (KeyVersionRecord v : key.getVersionsList()) {
          if (v.hasKek()
              && !v.getKek().getCiphertext().isEmpty()
              && v.getKek().getZoneMasterKeyVersion() == version) {
            inUse++;
          }
        }
      }
    }
    if (inUse > 0) {
      return reject(
          action,
          Code.FAILED_PRECONDITION,
          "ZMK_VERSION_IN_USE",
          inUse
              + " KEK version(s) of zone \""
              + zone
              + "\" are still wrapped under master key version "
              + version
              + "; rotate the zone again to move them first",
          index);
    }
    if (record.getRetiredVersionsList().contains(version)) {
      return new Effects(
          ok(version, index, "already retired"),
          Optional.empty(),
          Optional.empty(),
          action,
          "zone=" + zone + " version=" + version + " unchanged");
    }
    TreeSet<Integer> retired = new TreeSet<>(record.getRetiredVersionsList());
    retired.add(version);
    ZoneMasterKeyRecord updated =
        record.toBuilder().clearRetiredVersions().addAllRetiredVersions(retired).build();
    return new Effects(
        ok(version, index, "retired"),
        Optional.empty(),
        Optional.empty(),
        action,
        "zone=" + zone + " version=" + version,
        List.of(),
        Optional.of(updated));
  }

  private static CommandResultRecord ok(int version, long index, String message) {
    return CommandResultRecord.newBuilder()
        .setCode(Code.OK_VALUE)
        .setVersion(version)
        .setAppliedIndex(index)
        .setMessage(message)
        .build();
  }

  private static Effects reject(
      String action, Code code, String reason, String message, long index) {
    CommandResultRecord result =
        CommandResultRecord.newBuilder()
            .setCode(code.getNumber())
            .setReason(reason)
            .setMessage(message)
            .setAppliedIndex(index)
            .build();
    return new Effects(result, Optional.empty(), Optional.empty(), action, reason);
  }
}
