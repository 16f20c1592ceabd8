package io.keyrotor.storage.apply;

import com.google.protobuf.ByteString;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.AcknowledgeVersion;
import io.keyrotor.proto.internal.v1.CancelRotation;
import io.keyrotor.proto.internal.v1.CancelVersionDestroy;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CreateKey;
import io.keyrotor.proto.internal.v1.DestroyVersion;
import io.keyrotor.proto.internal.v1.KekRewrap;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.Label;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RecordActivation;
import io.keyrotor.proto.internal.v1.RegisterNode;
import io.keyrotor.proto.internal.v1.ReportUsage;
import io.keyrotor.proto.internal.v1.RetireZoneMasterKeyVersion;
import io.keyrotor.proto.internal.v1.RewrapKeks;
import io.keyrotor.proto.internal.v1.RollbackRotation;
import io.keyrotor.proto.internal.v1.RotateKey;
import io.keyrotor.proto.internal.v1.RotateKeys;
import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import io.keyrotor.proto.internal.v1.ScheduleVersionDestroy;
import io.keyrotor.proto.internal.v1.SetDependents;
import io.keyrotor.proto.internal.v1.SetRotationPolicy;
import io.keyrotor.proto.internal.v1.SetVersionFloors;
import io.keyrotor.proto.internal.v1.SetVersionStatus;
import io.keyrotor.proto.internal.v1.StartBulkRotation;
import io.keyrotor.proto.internal.v1.StartZoneMasterKeyRotation;
import io.keyrotor.proto.internal.v1.UsageCount;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import io.keyrotor.proto.internal.v1.ZoneMasterKeyRecord;
import io.keyrotor.storage.CommandStamping;
import io.keyrotor.storage.KeyVersions;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;

/**
 * A seeded source of log commands of every kind, valid and invalid, as a leader would stamp them:
 * several keys in two zones, time moving forward (sometimes by days, past schedules and destroy
 * times), compromise rotations, floors, destroy schedules, cancels, rollbacks, acknowledgements,
 * zone master key rotations, retried request ids and a command kind this node does not know.
 *
 * <p>It looks at the current keys to pick arguments that often apply (the version a rollback or an
 * acknowledgement needs), and picks the others at random. The same seed and the same state give the
 * same commands.
 */
public final class RandomCommands {
  /** The time of the first command. */
  public static final long T0 = 1_700_000_000_000L;

  private static final long DAY = 86_400_000L;
  private static final List<String> DEFAULT_KEYS = List.of("k0", "k1", "k2", "k3", "k4");
  private static final List<String> EU_KEYS = List.of("e0", "e1");
  private static final List<String> NODES = List.of("n1", "n2", "n3");

  private final Random random;
  private final List<Command> issued = new ArrayList<>();
  private long time = T0;

  public RandomCommands(long seed) {
    this.random = new Random(seed);
  }

  /** The time of the last command returned. */
  public long time() {
    return time;
  }

  /** The next command, its arguments chosen against {@code keys} and {@code zones}. */
  public Command next(Map<String, KeyRecord> keys, Map<String, ZoneMasterKeyRecord> zones) {
    advanceTime();
    if (!issued.isEmpty() && random.nextInt(100) < 3) {
      return issued.get(random.nextInt(issued.size())); // a retried request: same id and body
    }
    Command.Builder command =
        Command.newBuilder()
            .setRequestId("req-" + issued.size())
            .setOriginNode(pick(NODES))
            .setProposedTimeUnixMillis(time);
    int roll = random.nextInt(100);
    if (roll < 9) {
      create(command, keys);
    } else if (roll < 22) {
      command.setRotateKey(rotation(keys));
    } else if (roll < 26) {
      RotateKeys.Builder batch = RotateKeys.newBuilder();
      int size = 1 + random.nextInt(4);
      for (int i = 0; i < size; i++) {
        batch.addRotations(rotation(keys));
      }
      command.setRotateKeys(batch);
    } else if (roll < 33) {
      setStatus(command, keys);
    } else if (roll < 35) {
      setPolicy(command);
    } else if (roll < 38) {
      registerNode(command);
    } else if (roll < 40) {
      command.setStartZoneMasterKeyRotation(
          StartZoneMasterKeyRotation.newBuilder()
              .setZone(random.nextInt(10) == 0 ? "Bad Zone" : zone())
              .setTargetVersion(zmkTarget(zones) + random.nextInt(3) - 1));
    } else if (roll < 43) {
      rewrap(command, keys, zones);
    } else if (roll < 45) {
      String zone = zone();
      ZoneMasterKeyRecord record = zones.get(zone);
      int target = record == null ? 2 : record.getTargetVersion();
      command.setRetireZoneMasterKeyVersion(
          RetireZoneMasterKeyVersion.newBuilder()
              .setZone(zone)
              .setVersion(Math.max(0, target - 1 - random.nextInt(3) / 2 + random.nextInt(5) / 4)));
    } else if (roll < 51) {
      scheduleDestroy(command, keys);
    } else if (roll < 55) {
      String name = keyName();
      command.setCancelVersionDestroy(
          CancelVersionDestroy.newBuilder()
              .setName(name)
              .setVersion(versionWith(keys, name, VersionStatus.VERSION_STATUS_DESTROY_SCHEDULED)));
    } else if (roll < 60) {
      String name = keyName();
      command.setDestroyVersion(
          DestroyVersion.newBuilder()
              .setName(name)
              .setVersion(versionWith(keys, name, VersionStatus.VERSION_STATUS_DESTROY_SCHEDULED)));
    } else if (roll < 63) {
      floors(command, keys);
    } else if (roll < 71) {
      acknowledge(command, keys);
    } else if (roll < 75) {
      String name = keyName();
      command.setCancelRotation(
          CancelRotation.newBuilder()
              .setName(name)
              .setVersion(newest(keys, name))
              .setOnlyIfUnvalidated(random.nextBoolean())
              .setReason(random.nextBoolean() ? "" : "operator abort"));
    } else if (roll < 79) {
      String name = keyName();
      command.setRollbackRotation(
          RollbackRotation.newBuilder()
              .setName(name)
              .setVersion(primaryOrAny(keys, name))
              .setReason(random.nextBoolean() ? "" : "bad deploy"));
    } else if (roll < 82) {
      usage(command, keys);
    } else if (roll < 85) {
      dependents(command);
    } else if (roll < 90) {
      String name = keyName();
      command.setRecordActivation(
          RecordActivation.newBuilder().setName(name).setVersion(primaryOrAny(keys, name)));
    } else if (roll < 92) {
      StartBulkRotation.Builder bulk =
          StartBulkRotation.newBuilder()
              .setJobId(random.nextInt(8) == 0 ? "" : "job-" + random.nextInt(4))
              .setReason(random.nextInt(7));
      if (random.nextBoolean()) {
        bulk.setZone(zone());
      } else {
        bulk.addLabelSelector(Label.newBuilder().setKey("team").setValue("pay"));
      }
      command.setStartBulkRotation(bulk);
    } else if (roll < 93) {
      // No body: a command kind a newer node proposed, unknown here.
    } else {
      rotateOrCreateSoon(command, keys);
    }
    Command stamped = CommandStamping.stamp(command.build(), time);
    issued.add(stamped);
    return stamped;
  }

  private void advanceTime() {
    int roll = random.nextInt(100);
    if (roll < 20) {
      return;
    } else if (roll < 70) {
      time += 1 + random.nextInt(2_000);
    } else if (roll < 95) {
      time += random.nextInt(20_000);
    } else {
      time += random.nextInt((int) (2 * DAY / 1_000)) * 1_000L;
    }
  }

  private void create(Command.Builder command, Map<String, KeyRecord> keys) {
    String name = random.nextInt(20) == 0 ? "bad name" : keyName();
    for (int tries = 0; tries < 3 && keys.containsKey(name); tries++) {
      name = keyName(); // mostly a key that does not exist yet
    }
    String zone = EU_KEYS.contains(name) ? "eu" : "default";
    CreateKey.Builder create =
        CreateKey.newBuilder()
            .setName(name)
            .setZone(zone)
            .setKek(kek(random.nextInt(20) == 0 ? "other" : zone, 1, name));
    if (random.nextInt(5) == 0) {
      create.setActivationDelayMillis(1 + random.nextInt(10_000));
    }
    if (random.nextInt(3) == 0) {
      create.setPolicy(RotationPolicyRecord.newBuilder().setRotationPeriodMillis(DAY));
    }
    if (random.nextInt(3) == 0) {
      create.addLabels(Label.newBuilder().setKey("team").setValue("pay"));
    }
    command.setCreateKey(create);
  }

  private RotateKey rotation(Map<String, KeyRecord> keys) {
    String name = keyName();
    KeyRecord key = keys.get(name);
    int latest = key == null ? 0 : key.getVersionsCount();
    int roll = random.nextInt(100);
    int reason =
        roll < 40
            ? RotationReason.ROTATION_REASON_MANUAL_VALUE
            : roll < 65
                ? RotationReason.ROTATION_REASON_SCHEDULED_VALUE
                : roll < 85
                    ? RotationReason.ROTATION_REASON_COMPROMISE_VALUE
                    : RotationReason.ROTATION_REASON_DEPENDENCY_VALUE;
    int expected = random.nextInt(2) == 0 ? 0 : Math.max(0, latest - random.nextInt(3) / 2);
    RotateKey.Builder rotate =
        RotateKey.newBuilder()
            .setName(name)
            .setKek(kek(zoneOf(name), 1, name + "@" + issued.size()))
            .setReason(reason)
            .setExpectedLatestVersion(expected)
            .setActivationDelayMillis(random.nextInt(5) < 3 ? 0 : 1 + random.nextInt(30_000));
    if (key != null
        && reason == RotationReason.ROTATION_REASON_SCHEDULED_VALUE
        && key.getNextRotationTimeUnixMillis() != 0) {
      rotate.setDueTimeUnixMillis(key.getNextRotationTimeUnixMillis());
    }
    return rotate.build();
  }

  private void setStatus(Command.Builder command, Map<String, KeyRecord> keys) {
    String name = keyName();
    int roll = random.nextInt(100);
    VersionStatus status =
        roll < 45
            ? VersionStatus.VERSION_STATUS_ENABLED
            : roll < 93
                ? VersionStatus.VERSION_STATUS_DISABLED
                : VersionStatus.VERSION_STATUS_DESTROYED;
    int version =
        status == VersionStatus.VERSION_STATUS_ENABLED
            ? versionWith(keys, name, VersionStatus.VERSION_STATUS_DISABLED)
            : anyVersion(keys, name);
    command.setSetVersionStatus(
        SetVersionStatus.newBuilder().setName(name).setVersion(version).setStatus(status));
  }

  private void setPolicy(Command.Builder command) {
    RotationPolicyRecord.Builder policy = RotationPolicyRecord.newBuilder();
    switch (random.nextInt(4)) {
      case 0 -> policy.setRotationPeriodMillis(DAY);
      case 1 -> policy.setRotationPeriodMillis(3_600_000L).setMaxEncryptions(1_000);
      case 2 -> policy.setRotationPeriodMillis(-5);
      default -> policy.setRotationPeriodMillis(DAY).setNextRotationTimeUnixMillis(time + 60_000);
    }
    command.setSetRotationPolicy(
        SetRotationPolicy.newBuilder().setName(keyName()).setPolicy(policy));
  }

  private void registerNode(Command.Builder command) {
    String id = random.nextInt(20) == 0 ? "" : pick(NODES);
    NodeRecord.Builder node = NodeRecord.newBuilder().setId(id).setRegion("r1").addZones("default");
    if (random.nextBoolean()) {
      node.addZones("eu");
    }
    command.setRegisterNode(RegisterNode.newBuilder().setNode(node));
  }

  private void rewrap(
      Command.Builder command,
      Map<String, KeyRecord> keys,
      Map<String, ZoneMasterKeyRecord> zones) {
    String zone = zone();
    ZoneMasterKeyRecord record = zones.get(zone);
    int target =
        (record == null ? 2 : record.getTargetVersion()) + (random.nextInt(8) == 0 ? 1 : 0);
    RewrapKeks.Builder batch = RewrapKeks.newBuilder().setZone(zone).setTargetVersion(target);
    boolean everything = random.nextBoolean(); // every KEK still under an older version
    for (KeyRecord key : keys.values()) {
      if (!key.getZone().equals(zone) || (!everything && random.nextInt(3) == 0)) {
        continue;
      }
      for (KeyVersionRecord version : key.getVersionsList()) {
        if (everything
            ? !version.hasKek() || version.getKek().getZoneMasterKeyVersion() >= target
            : random.nextInt(4) == 0) {
          continue;
        }
        batch.addRewraps(
            KekRewrap.newBuilder()
                .setKeyName(key.getName())
                .setVersion(version.getVersion())
                .setExpectedZoneMasterKeyVersion(
                    version.getKek().getZoneMasterKeyVersion()
                        - (!everything && random.nextInt(10) == 0 ? 1 : 0))
                .setKek(
                    kek(
                        !everything && random.nextInt(30) == 0 ? "other" : zone,
                        target,
                        key.getName() + "/" + version.getVersion() + "@" + target)));
      }
    }
    command.setRewrapKeks(batch);
  }

  private void scheduleDestroy(Command.Builder command, Map<String, KeyRecord> keys) {
    String name = keyName();
    int version =
        random.nextBoolean()
            ? versionWith(keys, name, VersionStatus.VERSION_STATUS_DISABLED)
            : anyVersion(keys, name);
    command.setScheduleVersionDestroy(
        ScheduleVersionDestroy.newBuilder()
            .setName(name)
            .setVersion(version)
            .setWaitingPeriodMillis(random.nextInt(3) == 0 ? 0 : random.nextInt(60_000)));
  }

  private void floors(Command.Builder command, Map<String, KeyRecord> keys) {
    String name = keyName();
    KeyRecord key = keys.get(name);
    int latest = key == null ? 1 : key.getVersionsCount();
    int primary = key == null ? 0 : KeyVersions.primaryVersionAt(key, time);
    int decrypt = random.nextInt(4) == 0 ? random.nextInt(latest + 2) : Math.max(0, primary);
    int encrypt = random.nextBoolean() ? 0 : random.nextInt(decrypt + 1);
    command.setSetVersionFloors(
        SetVersionFloors.newBuilder()
            .setName(name)
            .setMinDecryptionVersion(decrypt)
            .setMinEncryptionVersion(encrypt));
  }

  private void acknowledge(Command.Builder command, Map<String, KeyRecord> keys) {
    String name = keyName();
    KeyRecord key = keys.get(name);
    int version = anyVersion(keys, name);
    String node = random.nextInt(10) == 0 ? "us1" : pick(NODES);
    if (key != null) {
      for (KeyVersionRecord v : key.getVersionsList()) {
        List<String> missing = KeyVersions.missingAcknowledgements(v);
        if (v.getValidationDeadlineUnixMillis() != 0
            && !missing.isEmpty()
            && random.nextInt(4) > 0) {
          version = v.getVersion();
          node = missing.get(random.nextInt(missing.size()));
        }
      }
    }
    command.setAcknowledgeVersion(
        AcknowledgeVersion.newBuilder().setName(name).setVersion(version).setNode(node));
  }

  private void usage(Command.Builder command, Map<String, KeyRecord> keys) {
    ReportUsage.Builder report = ReportUsage.newBuilder().setNode(pick(NODES));
    int count = 1 + random.nextInt(3);
    for (int i = 0; i < count; i++) {
      String name = random.nextInt(6) == 0 ? "ghost" : keyName();
      report.addCounts(
          UsageCount.newBuilder()
              .setName(name)
              .setVersion(anyVersion(keys, name))
              .setEncryptions(random.nextInt(500)));
    }
    command.setReportUsage(report);
  }

  private void dependents(Command.Builder command) {
    String name = keyName();
    TreeSet<String> dependents = new TreeSet<>();
    int count = random.nextInt(3);
    for (int i = 0; i < count; i++) {
      dependents.add(random.nextInt(10) == 0 ? "ghost" : keyName());
    }
    SetDependents.Builder set = SetDependents.newBuilder().setName(name);
    if (random.nextInt(10) == 0) {
      set.addAllDependents(dependents.descendingSet()); // unsorted: refused when two or more
    } else {
      set.addAllDependents(dependents);
    }
    command.setSetDependents(set);
  }

  /** A rotation with an activation delay, or a create: keeps pending versions around. */
  private void rotateOrCreateSoon(Command.Builder command, Map<String, KeyRecord> keys) {
    RotateKey rotate = rotation(keys).toBuilder().setActivationDelayMillis(5_000).build();
    if (keys.containsKey(rotate.getName())) {
      command.setRotateKey(rotate);
    } else {
      create(command, keys);
    }
  }

  private int zmkTarget(Map<String, ZoneMasterKeyRecord> zones) {
    ZoneMasterKeyRecord record = zones.get(zone());
    return record == null ? 2 : record.getTargetVersion() + random.nextInt(2);
  }

  private String zone() {
    return random.nextInt(3) == 0 ? "default" : "eu";
  }

  private static String zoneOf(String name) {
    return EU_KEYS.contains(name) ? "eu" : "default";
  }

  private String keyName() {
    int roll = random.nextInt(100);
    if (roll < 3) {
      return "ghost";
    }
    return roll < 75 ? pick(DEFAULT_KEYS) : pick(EU_KEYS);
  }

  private int anyVersion(Map<String, KeyRecord> keys, String name) {
    KeyRecord key = keys.get(name);
    int count = key == null ? 1 : key.getVersionsCount();
    return random.nextInt(15) == 0 ? random.nextInt(count + 2) : 1 + random.nextInt(count);
  }

  private int newest(Map<String, KeyRecord> keys, String name) {
    KeyRecord key = keys.get(name);
    return key == null || random.nextInt(6) == 0 ? anyVersion(keys, name) : key.getVersionsCount();
  }

  private int primaryOrAny(Map<String, KeyRecord> keys, String name) {
    KeyRecord key = keys.get(name);
    int primary = key == null ? 0 : KeyVersions.primaryVersionAt(key, time);
    return primary == 0 || random.nextInt(5) == 0 ? anyVersion(keys, name) : primary;
  }

  private int versionWith(Map<String, KeyRecord> keys, String name, VersionStatus status) {
    KeyRecord key = keys.get(name);
    if (key != null && random.nextInt(5) > 0) {
      for (KeyVersionRecord v : key.getVersionsList()) {
        if (v.getStatus() == status) {
          return v.getVersion();
        }
      }
    }
    return anyVersion(keys, name);
  }

  private <T> T pick(List<T> list) {
    return list.get(random.nextInt(list.size()));
  }

  private static WrappedKeyMaterial kek(String zone, int zoneMasterKeyVersion, String tag) {
    return WrappedKeyMaterial.newBuilder()
        .setZone(zone)
        .setZoneMasterKeyVersion(zoneMasterKeyVersion)
        .setMechanism("AES_KEY_WRAP_PAD")
        .setCiphertext(ByteString.copyFrom(("wrapped:" + tag).getBytes(StandardCharsets.UTF_8)))
        .build();
  }
}
