package io.keyrotor.storage;

import com.google.protobuf.ByteString;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CreateKey;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RegisterNode;
import io.keyrotor.proto.internal.v1.RotateKey;
import io.keyrotor.proto.internal.v1.SetVersionStatus;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import java.nio.charset.StandardCharsets;

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
}
