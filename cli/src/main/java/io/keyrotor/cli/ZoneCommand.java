package io.keyrotor.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.RetireZoneMasterKeyVersionRequest;
import io.keyrotor.api.v1.RotateZoneMasterKeyRequest;
import io.keyrotor.api.v1.ZoneMasterKeyRotation;
import io.keyrotor.api.v1.ZoneMasterKeyRotationState;
import io.keyrotor.client.Durations;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code keyrotor zone ...}: zone master keys (rotation, retirement, progress). */
@Command(
    name = "zone",
    description = "Manage zone master keys.",
    subcommands = {
      ZoneCommand.RotateMaster.class,
      ZoneCommand.RetireVersion.class,
      ZoneCommand.Status.class
    })
final class ZoneCommand extends CommandArguments.Group {

  /** How often {@code rotate-master --wait} asks for the rotation's progress. */
  static final Duration POLL_INTERVAL = Duration.ofMillis(500);

  @Command(
      name = "rotate-master",
      description =
          "Rewrap every KEK of a zone under a newer master key version (which the zone's HSMs"
              + " must hold already; scripts/hsm rotate-master creates and shares it first).")
  static final class RotateMaster implements Runnable {
    @Mixin CommandArguments.ZoneName arguments;

    // Its --version (the target master key version) displaces the inherited standard options,
    // so it declares its own --help.
    @Option(
        names = {"-h", "--help"},
        usageHelp = true,
        description = "Show this help message and exit.")
    boolean help;

    @Option(
        names = "--version",
        description = "The target master key version (default: the newest the node holds).")
    int version;

    @Option(
        names = "--wait",
        description =
            "Wait until every KEK of the zone is rewrapped (progress on stderr when it is a"
                + " terminal).")
    boolean await;

    @Option(names = "--timeout", defaultValue = "10m", description = "How long --wait waits.")
    String timeout;

    @Override
    public void run() {
      KeyrotorCli root = arguments.root();
      String zone = arguments.zone;
      RotateZoneMasterKeyRequest request =
          RotateZoneMasterKeyRequest.newBuilder().setZone(zone).setTargetVersion(version).build();
      ZoneMasterKeyRotation rotation = root.client().rotateZoneMasterKey(request).getRotation();
      if (await) {
        Duration limit = Durations.parsePositive(timeout);
        Instant deadline = root.clock().instant().plus(limit);
        while (rotation.getState()
            != ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_COMPLETED) {
          if (root.clock().instant().isAfter(deadline)) {
            throw new CliException(
                "zone "
                    + zone
                    + " master key rotation did not complete within "
                    + timeout
                    + " ("
                    + rotation.getRemaining()
                    + " KEKs left); it continues in the background");
          }
          root.progress(progressLine(rotation));
          root.sleep(POLL_INTERVAL);
          rotation = find(root.client().nodeStatus(), zone, rotation);
        }
      }
      print(root, rotation);
    }
  }

  @Command(
      name = "retire-version",
      description = "Retire an old master key version once no KEK of the zone uses it.")
  static final class RetireVersion implements Runnable {
    @Mixin CommandArguments.ZoneName arguments;

    @Parameters(index = "1", paramLabel = "VERSION", description = "The master key version.")
    int version;

    @Override
    public void run() {
      KeyrotorCli root = arguments.root();
      RetireZoneMasterKeyVersionRequest request =
          RetireZoneMasterKeyVersionRequest.newBuilder()
              .setZone(arguments.zone)
              .setVersion(version)
              .build();
      print(root, root.client().retireZoneMasterKeyVersion(request).getRotation());
    }
  }

  @Command(name = "status", description = "Zone master key rotations, as the leader sees them.")
  static final class Status implements Runnable {
    @Mixin CommandArguments.Invocation invocation;

    @Override
    public void run() {
      KeyrotorCli root = invocation.root();
      List<ZoneMasterKeyRotation> rotations =
          root.client().nodeStatus().getZoneMasterKeyRotationsList();
      JsonArray array = new JsonArray();
      StringBuilder text = new StringBuilder();
      for (ZoneMasterKeyRotation rotation : rotations) {
        array.add(json(rotation));
        text.append(human(rotation));
      }
      JsonObject out = new JsonObject();
      out.add("rotations", array);
      root.print(
          out, rotations.isEmpty() ? "no zone master key rotation so far\n" : text.toString());
    }
  }

  /** One line of {@code rotate-master --wait}'s progress on stderr. */
  static String progressLine(ZoneMasterKeyRotation rotation) {
    long total = rotation.getRewrapped() + rotation.getRemaining();
    return String.format(
        "zone %s: rewrapping under master key v%d: %d of %d KEKs (%d%%)",
        rotation.getZone(),
        rotation.getTargetVersion(),
        rotation.getRewrapped(),
        total,
        total == 0 ? 100 : rotation.getRewrapped() * 100 / total);
  }

  private static ZoneMasterKeyRotation find(
      NodeStatus status, String zone, ZoneMasterKeyRotation fallback) {
    for (ZoneMasterKeyRotation rotation : status.getZoneMasterKeyRotationsList()) {
      if (rotation.getZone().equals(zone)) {
        return rotation;
      }
    }
    return fallback;
  }

  static JsonObject json(ZoneMasterKeyRotation rotation) {
    JsonObject json = new JsonObject();
    json.addProperty("zone", rotation.getZone());
    json.addProperty("from_version", rotation.getFromVersion());
    json.addProperty("target_version", rotation.getTargetVersion());
    json.addProperty("state", state(rotation.getState()));
    json.addProperty("rewrapped", rotation.getRewrapped());
    json.addProperty("remaining", rotation.getRemaining());
    json.addProperty("batches", rotation.getBatches());
    JsonArray retired = new JsonArray();
    rotation.getRetiredVersionsList().forEach(retired::add);
    json.add("retired_versions", retired);
    return json;
  }

  static String human(ZoneMasterKeyRotation rotation) {
    return String.format(
        "zone %s: master key v%d -> v%d %s, %d rewrapped, %d remaining, retired %s%n",
        rotation.getZone(),
        rotation.getFromVersion(),
        rotation.getTargetVersion(),
        state(rotation.getState()),
        rotation.getRewrapped(),
        rotation.getRemaining(),
        rotation.getRetiredVersionsList().isEmpty() ? "none" : rotation.getRetiredVersionsList());
  }

  private static String state(ZoneMasterKeyRotationState state) {
    String name = state.name();
    String prefix = "ZONE_MASTER_KEY_ROTATION_STATE_";
    return name.startsWith(prefix) ? name.substring(prefix.length()) : name;
  }

  /** Prints one zone master key rotation. */
  private static void print(KeyrotorCli root, ZoneMasterKeyRotation rotation) {
    root.print(json(rotation), human(rotation));
  }
}
