package io.keyrotor.storage;

import com.google.protobuf.ByteString;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.AcknowledgeVersion;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CreateKey;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RegisterNode;
import io.keyrotor.proto.internal.v1.RotateKey;
import io.keyrotor.proto.internal.v1.SetVersionStatus;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Builders of log commands for tests. Wrapped key material is opaque bytes here. */
public final class Commands {
  private Commands() {}

  public static WrappedKeyMaterial kek(String zone, String tag) {
    return WrappedKeyMaterial.newBuilder()
        .setZone(zone)
        .setZoneMasterKeyVersion(1)
        .setMechanism("AES_KEY_WRAP_PAD")
        .setCiphertext(ByteString.copyFrom(("wrapped:" + tag).getBytes(StandardCharsets.UTF_8)))
        .build();
  }

  public static Command create(String requestId, long time, String name, long activationTime) {
    return Command.newBuilder()
        .setRequestId(requestId)
        .setProposedTimeUnixMillis(time)
        .setOriginNode("n1")
        .setCreateKey(
            CreateKey.newBuilder()
                .setName(name)
                .setZone("default")
                .setKek(kek("default", name + "/1"))
                .setActivationTimeUnixMillis(activationTime))
        .build();
  }

  public static Command create(String requestId, long time, String name) {
    return create(requestId, time, name, time);
  }

  public static Command rotate(
      String requestId, long time, String name, long activationTime, RotationReason reason) {
    return rotate(requestId, time, name, activationTime, reason, 0);
  }

  public static Command rotate(
      String requestId,
      long time,
      String name,
      long activationTime,
      RotationReason reason,
      int expectedLatest) {
    return Command.newBuilder()
        .setRequestId(requestId)
        .setProposedTimeUnixMillis(time)
        .setOriginNode("n1")
        .setRotateKey(
            RotateKey.newBuilder()
                .setName(name)
                .setKek(kek("default", name + "/" + requestId))
                .setActivationTimeUnixMillis(activationTime)
                .setReason(reason.getNumber())
                .setExpectedLatestVersion(expectedLatest))
        .build();
  }

  public static Command setStatus(
      String requestId, long time, String name, int version, VersionStatus status) {
    return Command.newBuilder()
        .setRequestId(requestId)
        .setProposedTimeUnixMillis(time)
        .setOriginNode("n2")
        .setSetVersionStatus(
            SetVersionStatus.newBuilder().setName(name).setVersion(version).setStatus(status))
        .build();
  }

  public static Command register(String node, long time) {
    return Command.newBuilder()
        .setProposedTimeUnixMillis(time)
        .setOriginNode(node)
        .setRegisterNode(
            RegisterNode.newBuilder()
                .setNode(
                    NodeRecord.newBuilder()
                        .setId(node)
                        .setRegion("r1")
                        .addZones("default")
                        .setApiAddress("127.0.0.1:7101")))
        .build();
  }

  /** {@code create} (a CreateKey command) with the key and its KEK in {@code zone}. */
  public static Command inZone(Command create, String zone) {
    return create.toBuilder()
        .setCreateKey(
            create.getCreateKey().toBuilder()
                .setZone(zone)
                .setKek(create.getCreateKey().getKek().toBuilder().setZone(zone)))
        .build();
  }

  /** {@code node} acknowledging that it holds version {@code version} of key {@code name}. */
  public static Command acknowledge(
      String requestId, long time, String name, int version, String node) {
    return Command.newBuilder()
        .setRequestId(requestId)
        .setProposedTimeUnixMillis(time)
        .setAcknowledgeVersion(
            AcknowledgeVersion.newBuilder().setName(name).setVersion(version).setNode(node))
        .build();
  }

  /**
   * A seeded mix of {@code count} commands from {@code startTime} on: creations, rotations, status
   * changes and node registrations over a few keys and nodes, including rejected ones and retries
   * of the same request id. The same seed gives the same commands.
   */
  public static List<Command> workload(long seed, int count, long startTime) {
    SplittableRandom random = new SplittableRandom(seed);
    List<Command> commands = new ArrayList<>();
    long time = startTime;
    for (int i = 0; i < count; i++) {
      time += random.nextInt(5_000);
      String key = "k" + random.nextInt(6);
      String id = "req-" + i;
      switch (random.nextInt(5)) {
        case 0 -> commands.add(create(id, time, key));
        case 1 ->
            commands.add(
                rotate(
                    id,
                    time,
                    key,
                    time + random.nextInt(3_000),
                    RotationReason.ROTATION_REASON_MANUAL));
        case 2 ->
            commands.add(
                setStatus(
                    id,
                    time,
                    key,
                    1 + random.nextInt(4),
                    random.nextBoolean()
                        ? VersionStatus.VERSION_STATUS_DISABLED
                        : VersionStatus.VERSION_STATUS_ENABLED));
        case 3 -> commands.add(register("n" + random.nextInt(3), time));
        default -> {
          if (!commands.isEmpty()) {
            commands.add(commands.get(random.nextInt(commands.size()))); // a retried request
          }
        }
      }
    }
    return commands;
  }
}
