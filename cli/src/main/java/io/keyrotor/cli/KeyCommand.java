package io.keyrotor.cli;

import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.ListKeysRequest;
import io.keyrotor.api.v1.RotateKeyRequest;
import io.keyrotor.api.v1.RotateKeyResponse;
import io.keyrotor.api.v1.RotationPolicy;
import io.keyrotor.api.v1.ScheduleKeyVersionDestroyRequest;
import io.keyrotor.api.v1.SetVersionFloorsRequest;
import io.keyrotor.client.KeyrotorClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code keyrotor key ...}: create, rotate, read and list keys, and the life of a version (disable,
 * enable, destroy, floors); the rotation engine's commands are in {@link KeyRotationCommands}, the
 * event history and stream in {@link KeyEventCommands}.
 */
@Command(
    name = "key",
    description = "Create, rotate, inspect, disable and enable keys.",
    subcommands = {
      KeyCommand.Create.class,
      KeyRotationCommands.SetPolicy.class,
      KeyCommand.Rotate.class,
      KeyRotationCommands.RotateAll.class,
      KeyRotationCommands.BulkStatus.class,
      KeyRotationCommands.Rollback.class,
      KeyRotationCommands.CancelRotation.class,
      KeyCommand.Get.class,
      KeyCommand.ListKeys.class,
      KeyEventCommands.History.class,
      KeyEventCommands.Watch.class,
      KeyCommand.Disable.class,
      KeyCommand.Enable.class,
      KeyCommand.Destroy.class,
      KeyCommand.CancelDestroy.class,
      ReceiptCommand.class,
      KeyCommand.Floors.class,
      KeyRotationCommands.Dependents.class
    })
final class KeyCommand extends CommandArguments.Group {

  static com.google.protobuf.Duration toProto(Duration duration) {
    return com.google.protobuf.Duration.newBuilder()
        .setSeconds(duration.getSeconds())
        .setNanos(duration.getNano())
        .build();
  }

  /**
   * Applies the policy flags that were given (null: not given) to {@code policy}; a zero rotation
   * period removes the schedule. Returns {@code policy}.
   */
  static RotationPolicy.Builder applyPolicy(
      RotationPolicy.Builder policy,
      Duration rotationPeriod,
      Long maxEncryptions,
      Duration activationDelay,
      Duration decryptGrace) {
    if (rotationPeriod != null) {
      if (rotationPeriod.isZero()) {
        policy.clearRotationPeriod();
      } else {
        policy.setRotationPeriod(toProto(rotationPeriod));
      }
    }
    if (maxEncryptions != null) {
      policy.setMaxEncryptions(maxEncryptions);
    }
    if (activationDelay != null) {
      policy.setActivationDelay(toProto(activationDelay));
    }
    if (decryptGrace != null) {
      policy.setDecryptGrace(toProto(decryptGrace));
    }
    return policy;
  }

  @Command(
      name = "create",
      description = {
        "Create a key with its first version and, optionally, its rotation policy.",
        "--activation-delay is both the first version's delay and the policy's delay for later"
            + " rotations."
      })
  static final class Create implements Runnable {
    @Mixin CommandArguments.KeyName arguments;

    @Mixin SharedOptions.Zone zone;

    @Mixin SharedOptions.Labels labels;

    @Option(
        names = "--rotation-period",
        paramLabel = "DUR",
        converter = Converters.PositiveDuration.class,
        description = "Rotate this long after each version activates (default: no schedule).")
    Duration rotationPeriod;

    @Option(
        names = "--max-encryptions",
        paramLabel = "N",
        description =
            "Encrypt at most N times under one version, rotating ahead of it (default and"
                + " most: 2^31).")
    Long maxEncryptions;

    @Mixin SharedOptions.ActivationDelay activationDelay;

    @Mixin SharedOptions.DecryptGrace decryptGrace;

    @Mixin SharedOptions.Template template;

    @Override
    public void run() {
      KeyrotorCli root = arguments.root();
      CreateKeyRequest.Builder request = CreateKeyRequest.newBuilder().setName(arguments.name);
      if (zone.zone != null) {
        request.setZone(zone.zone);
      }
      Duration delay = activationDelay.activationDelay;
      if (delay != null) {
        request.setActivationDelay(toProto(delay));
      }
      for (Map.Entry<String, String> label : labels.labels.entrySet()) {
        if (label.getKey().isBlank()) {
          throw arguments.usageError("invalid --label \"=" + label.getValue() + "\": empty name");
        }
      }
      request.putAllLabels(labels.labels);
      if (maxEncryptions != null && maxEncryptions < 0) {
        throw arguments.usageError("invalid --max-encryptions " + maxEncryptions + ": negative");
      }
      if (rotationPeriod != null
          || maxEncryptions != null
          || delay != null
          || decryptGrace.decryptGrace != null) {
        request.setRotationPolicy(
            applyPolicy(
                RotationPolicy.newBuilder(),
                rotationPeriod,
                maxEncryptions,
                delay,
                decryptGrace.decryptGrace));
      }
      if (template.template != null) {
        request.setTemplate(template.template);
      }
      Key key = root.client().createKey(request.build());
      root.printKey(key, "created key " + key.getName());
    }
  }

  @Command(name = "rotate", description = "Add a version that becomes primary after a delay.")
  static final class Rotate implements Runnable {
    @Mixin CommandArguments.KeyName arguments;

    @Mixin SharedOptions.ActivationDelay activationDelay;

    @Mixin SharedOptions.RotationReasonOption reason;

    @Override
    public void run() {
      KeyrotorCli root = arguments.root();
      RotateKeyRequest.Builder request =
          RotateKeyRequest.newBuilder().setName(arguments.name).setReason(reason.reason.proto);
      if (activationDelay.activationDelay != null) {
        request.setActivationDelay(toProto(activationDelay.activationDelay));
      }
      RotateKeyResponse response = root.client().rotateKey(request.build());
      String when =
          response.hasActivationTime()
              ? JsonOutput.timeText(response.getActivationTime())
              : "(unknown)";
      root.print(
          JsonOutput.rotation(response),
          "rotated key "
              + response.getKey().getName()
              + ": v"
              + response.getNewVersion()
              + " becomes primary at "
              + when
              + "\n"
              + HumanOutput.key(response.getKey()));
    }
  }

  @Command(name = "get", description = "Show a key and its versions.")
  static final class Get implements Runnable {
    @Mixin CommandArguments.KeyName arguments;

    @Override
    public void run() {
      KeyrotorCli root = arguments.root();
      Key key = root.client().getKey(arguments.name);
      root.print(JsonOutput.key(key), HumanOutput.key(key));
    }
  }

  @Command(name = "list", description = "List keys in name order.")
  static final class ListKeys implements Runnable {
    @Mixin CommandArguments.Invocation invocation;

    @Mixin SharedOptions.Zone zone;

    @Override
    public void run() {
      KeyrotorCli root = invocation.root();
      ListKeysRequest.Builder request = ListKeysRequest.newBuilder();
      if (zone.zone != null) {
        request.setZone(zone.zone);
      }
      List<Key> keys = new ArrayList<>();
      Iterator<Key> all = root.client().listAllKeys(request.build());
      all.forEachRemaining(keys::add);
      root.print(JsonOutput.keys(keys), HumanOutput.keys(keys));
    }
  }

  @Command(name = "disable", description = "Disable one version (no use after this returns).")
  static final class Disable implements Runnable {
    @Mixin CommandArguments.KeyVersion arguments;

    @Override
    public void run() {
      arguments.change(KeyrotorClient::disableKeyVersion, "disabled");
    }
  }

  @Command(name = "enable", description = "Re-enable a disabled version.")
  static final class Enable implements Runnable {
    @Mixin CommandArguments.KeyVersion arguments;

    @Override
    public void run() {
      arguments.change(KeyrotorClient::enableKeyVersion, "enabled");
    }
  }

  @Command(
      name = "destroy",
      description = {
        "Schedule the destruction of a disabled or decrypt-only version's key material.",
        "Until then cancel-destroy restores it to DISABLED; afterwards nothing it encrypted can be"
            + " decrypted again."
      })
  static final class Destroy implements Runnable {
    @Mixin CommandArguments.KeyVersion arguments;

    @Option(
        names = "--waiting-period",
        paramLabel = "DUR",
        converter = Converters.PositiveDuration.class,
        description = "Time left to change one's mind (default: the cluster's, 30 days).")
    Duration waitingPeriod;

    @Override
    public void run() {
      KeyrotorCli root = arguments.root();
      String name = arguments.name;
      int version = arguments.version;
      ScheduleKeyVersionDestroyRequest.Builder request =
          ScheduleKeyVersionDestroyRequest.newBuilder().setName(name).setVersion(version);
      if (waitingPeriod != null) {
        request.setWaitingPeriod(KeyCommand.toProto(waitingPeriod));
      }
      Key key = root.client().scheduleKeyVersionDestroy(request.build());
      String when = "its destroy time";
      for (io.keyrotor.api.v1.KeyVersion v : key.getVersionsList()) {
        if (v.getVersion() == version && v.hasDestroyTime()) {
          when = JsonOutput.timeText(v.getDestroyTime());
        }
      }
      root.printKey(
          key,
          name
              + " v"
              + version
              + " is destroyed at "
              + when
              + " (until then: keyrotor key cancel-destroy "
              + name
              + " "
              + version
              + ")");
    }
  }

  @Command(
      name = "cancel-destroy",
      description = "Cancel a scheduled destroy; the version is DISABLED again.")
  static final class CancelDestroy implements Runnable {
    @Mixin CommandArguments.KeyVersion arguments;

    @Override
    public void run() {
      arguments.change(KeyrotorClient::cancelKeyVersionDestroy, "cancelled the destroy of");
    }
  }

  @Command(
      name = "floors",
      description = {
        "Set the lowest version that may decrypt and the lowest that may encrypt.",
        "A floor not given keeps its current value; 0 removes a floor. Raising the decryption"
            + " floor disables every older version."
      })
  static final class Floors implements Runnable {
    @Mixin CommandArguments.KeyName arguments;

    @Option(
        names = "--min-decryption",
        paramLabel = "N",
        converter = Converters.Count.class,
        description = "Versions below N refuse to decrypt.")
    Long minDecryption;

    @Option(
        names = "--min-encryption",
        paramLabel = "N",
        converter = Converters.Count.class,
        description = "Versions below N never encrypt.")
    Long minEncryption;

    @Override
    public void run() {
      if (minDecryption == null && minEncryption == null) {
        throw arguments.usageError(
            "nothing to change: give --min-decryption, --min-encryption or both");
      }
      for (Long floor : new Long[] {minDecryption, minEncryption}) {
        if (floor != null && floor > Integer.MAX_VALUE) {
          throw arguments.usageError("invalid floor " + floor + ": no key has that many versions");
        }
      }
      KeyrotorCli root = arguments.root();
      SetVersionFloorsRequest.Builder request =
          SetVersionFloorsRequest.newBuilder().setName(arguments.name);
      if (minDecryption == null || minEncryption == null) {
        Key current = root.client().getKey(arguments.name);
        request
            .setMinDecryptionVersion(current.getMinDecryptionVersion())
            .setMinEncryptionVersion(current.getMinEncryptionVersion());
      }
      if (minDecryption != null) {
        request.setMinDecryptionVersion(minDecryption.intValue());
      }
      if (minEncryption != null) {
        request.setMinEncryptionVersion(minEncryption.intValue());
      }
      Key key = root.client().setVersionFloors(request.build());
      root.printKey(
          key,
          "key "
              + arguments.name
              + ": decryption floor "
              + floorText(key.getMinDecryptionVersion())
              + ", encryption floor "
              + floorText(key.getMinEncryptionVersion()));
    }

    private static String floorText(int floor) {
      return floor == 0 ? "none" : "v" + floor;
    }
  }
}
