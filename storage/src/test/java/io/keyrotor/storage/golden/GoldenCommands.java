package io.keyrotor.storage.golden;

import com.google.protobuf.ByteString;
import com.google.protobuf.MessageOrBuilder;
import io.keyrotor.api.v1.AuthorizationPolicy;
import io.keyrotor.api.v1.Binding;
import io.keyrotor.api.v1.Permission;
import io.keyrotor.api.v1.Role;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.proto.internal.v1.BootstrapAuthorizationPolicy;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CreateKey;
import io.keyrotor.proto.internal.v1.Denial;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RecordDataAuditHead;
import io.keyrotor.proto.internal.v1.RecordDenials;
import io.keyrotor.proto.internal.v1.RegisterNode;
import io.keyrotor.proto.internal.v1.RotateKey;
import io.keyrotor.proto.internal.v1.SetAuthorizationPolicy;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import io.keyrotor.storage.CommandBodies;
import io.keyrotor.storage.access.PolicyRules;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Builders of the golden log's commands that carry its own material and nodes (the other bodies are
 * {@link CommandBodies}'). Wrapped KEKs are fixed bytes standing in for what an HSM would return:
 * the log holds no key material.
 */
final class GoldenCommands {
  private GoldenCommands() {}

  /**
   * A command with {@code body}: a body message or its builder ({@link CommandBodies} builds them),
   * or a whole command or its builder.
   */
  static Command.Builder command(Object body) {
    if (body instanceof Command.Builder whole) {
      return whole;
    }
    if (body instanceof Command whole) {
      return whole.toBuilder();
    }
    return CommandBodies.inCommand((MessageOrBuilder) body);
  }

  static WrappedKeyMaterial kek(String zone, int zoneMasterKeyVersion, String tag) {
    // Fixed bytes standing in for a KEK wrapped by an HSM: no key material anywhere.
    return WrappedKeyMaterial.newBuilder()
        .setZone(zone)
        .setZoneMasterKeyVersion(zoneMasterKeyVersion)
        .setMechanism("AES_KEY_WRAP_PAD")
        .setCiphertext(
            ByteString.copyFrom(("golden-wrapped-kek:" + tag).getBytes(StandardCharsets.UTF_8)))
        .build();
  }

  static RegisterNode.Builder registerNode(String id, String zone) {
    return RegisterNode.newBuilder()
        .setNode(
            NodeRecord.newBuilder()
                .setId(id)
                .setRegion("region-1")
                .addZones(zone)
                .setApiAddress(id + ".keyrotor.test:7100")
                .setHsmKind("softhsm2"));
  }

  static CreateKey.Builder createKey(
      String name, String zone, String kekTag, long activationDelayMillis) {
    return CreateKey.newBuilder()
        .setName(name)
        .setZone(zone)
        .setKek(kek(zone, 1, kekTag))
        .setActivationDelayMillis(activationDelayMillis);
  }

  static RotateKey.Builder rotateKey(
      String name, String zone, String kekTag, long activationDelayMillis, RotationReason reason) {
    return RotateKey.newBuilder()
        .setName(name)
        .setKek(kek(zone, 1, kekTag))
        .setActivationDelayMillis(activationDelayMillis)
        .setReason(reason.getNumber());
  }

  /** The bootstrap policy of a node configured with {@code admins}. */
  static BootstrapAuthorizationPolicy.Builder bootstrapPolicy(String... admins) {
    return BootstrapAuthorizationPolicy.newBuilder()
        .addAllAdmins(List.of(admins))
        .setPolicy(PolicyRules.bootstrap(List.of(admins)));
  }

  /**
   * A policy where {@code admin} administers everything and {@code service} may encrypt and
   * decrypt, replacing version {@code expected}.
   */
  static SetAuthorizationPolicy.Builder setPolicy(long expected, String admin, String service) {
    AuthorizationPolicy policy =
        PolicyRules.bootstrap(List.of(admin)).toBuilder()
            .addRoles(
                Role.newBuilder()
                    .setName("crypto")
                    .addPermissions(Permission.PERMISSION_ENCRYPT)
                    .addPermissions(Permission.PERMISSION_DECRYPT))
            .addBindings(
                Binding.newBuilder()
                    .setName("service-crypto")
                    .setRole("crypto")
                    .setPrincipal(service))
            .build();
    return SetAuthorizationPolicy.newBuilder().setPolicy(policy).setExpectedVersion(expected);
  }

  /** Node {@code node}'s data audit head after {@code sequence} records: fixed bytes. */
  static RecordDataAuditHead.Builder dataAuditHead(String node, long sequence, int headBytes) {
    byte[] head = new byte[headBytes];
    java.util.Arrays.fill(head, (byte) sequence);
    return RecordDataAuditHead.newBuilder()
        .setNode(node)
        .setSequence(sequence)
        .setHead(ByteString.copyFrom(head));
  }

  /** Two coalesced denials and a count of dropped ones, as a node's recorder proposes them. */
  static RecordDenials.Builder recordDenials() {
    return RecordDenials.newBuilder()
        .addDenials(
            Denial.newBuilder()
                .setPrincipal("service")
                .setPermission("DESTROY_VERSIONS")
                .setKeyName("archive")
                .setMethod("keyrotor.v1.KeyService/ScheduleKeyVersionDestroy")
                .setCount(3))
        .addDenials(
            Denial.newBuilder()
                .setPrincipal("intruder")
                .setPermission("DECRYPT")
                .setKeyName("orders")
                .setMethod("keyrotor.v1.KeyService/Decrypt")
                .setCount(1))
        .setDropped(2);
  }
}
