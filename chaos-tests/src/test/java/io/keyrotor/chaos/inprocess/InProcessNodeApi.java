package io.keyrotor.chaos.inprocess;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.Code;
import io.keyrotor.api.v1.RotationReason;
import io.keyrotor.chaos.workload.NodeApi;
import io.keyrotor.chaos.workload.OpError;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.proto.internal.v1.CreateKey;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.RotateKey;
import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import io.keyrotor.proto.internal.v1.SetRotationPolicy;
import io.keyrotor.proto.internal.v1.SetVersionStatus;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.proto.internal.v1.WrappedKeyMaterial;
import io.keyrotor.storage.KeyStateStore;
import io.keyrotor.storage.KeyVersions;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeerId;

/**
 * The workloads' {@link NodeApi} over one server of the in-process cluster. Writes are keyrotor
 * commands sent through a Ratis client that starts at this server and follows leader hints; reads
 * go through Ratis's read path pinned to this server (with LINEARIZABLE: a read index, then this
 * server's applied state; with DEFAULT: answered by whichever server believes it leads, from its
 * local state, with no barrier) and then read the answering server's store, as the gRPC server
 * reads its local store after the barrier. Key material is a placeholder: the state machine never
 * unwraps it. The data plane is not here (encrypt and decrypt answer UNIMPLEMENTED).
 */
final class InProcessNodeApi implements NodeApi {
  private final InProcessCluster cluster;
  private final String nodeId;
  private final RaftClient client;

  InProcessNodeApi(InProcessCluster cluster, String nodeId) {
    this.cluster = cluster;
    this.nodeId = nodeId;
    this.client = cluster.client(nodeId);
  }

  @Override
  public String nodeId() {
    return nodeId;
  }

  private static WrappedKeyMaterial kek(String tag) {
    return WrappedKeyMaterial.newBuilder()
        .setZone("default")
        .setZoneMasterKeyVersion(1)
        .setMechanism("AES_KEY_WRAP_PAD")
        .setCiphertext(ByteString.copyFromUtf8("wrapped-" + tag))
        .build();
  }

  private Command.Builder command(String requestId) {
    return Command.newBuilder().setRequestId(requestId).setOriginNode(nodeId);
  }

  /** Proposes a command; an exception from Ratis (timeout, retries exhausted) is indeterminate. */
  private CommandResult propose(Command command) throws OpError {
    RaftClientReply reply;
    try {
      reply = client.io().send(Message.valueOf(java.nio.ByteBuffer.wrap(command.toByteArray())));
    } catch (IOException | RuntimeException e) {
      throw new OpError(false, e.getClass().getSimpleName(), "", String.valueOf(e.getMessage()));
    }
    if (!reply.isSuccess()) {
      throw new OpError(false, "RaftException", "", String.valueOf(reply.getException()));
    }
    CommandResult result;
    try {
      result = CommandResult.parseFrom(reply.getMessage().getContent().toByteArray());
    } catch (InvalidProtocolBufferException e) {
      throw new OpError(false, "UNREADABLE", "", e.getMessage());
    }
    if (result.getOutcome().getCode() != Code.OK_VALUE) {
      // A rule rejection, recorded by every replica: nothing was applied.
      throw new OpError(
          true,
          Code.forNumber(result.getOutcome().getCode()).name(),
          result.getOutcome().getReason(),
          result.getOutcome().getMessage());
    }
    return result;
  }

  @Override
  public KeyView createKey(String name, long rotationPeriodMillis, String requestId)
      throws OpError {
    CommandResult result =
        propose(
            command(requestId)
                .setCreateKey(
                    CreateKey.newBuilder()
                        .setName(name)
                        .setZone("default")
                        .setPolicy(
                            RotationPolicyRecord.newBuilder()
                                .setRotationPeriodMillis(rotationPeriodMillis)
                                .setActivationDelayMillis(-1))
                        .setKek(kek(requestId))
                        .setActivationDelayMillis(0))
                .build());
    return view(result.getKey(), System.currentTimeMillis());
  }

  @Override
  public Rotated rotate(String name, int expectedLatestVersion, String requestId) throws OpError {
    CommandResult result =
        propose(
            command(requestId)
                .setRotateKey(
                    RotateKey.newBuilder()
                        .setName(name)
                        .setKek(kek(requestId))
                        .setActivationDelayMillis(0)
                        .setReason(RotationReason.ROTATION_REASON_MANUAL_VALUE)
                        .setExpectedLatestVersion(expectedLatestVersion))
                .build());
    return new Rotated(
        result.getOutcome().getVersion(),
        result.getKey().getRevision(),
        result.getOutcome().getActivationTimeUnixMillis());
  }

  @Override
  public KeyView getKey(String name) throws OpError {
    RaftClientReply reply;
    try {
      reply = client.io().sendReadOnly(Message.EMPTY, RaftPeerId.valueOf(nodeId));
    } catch (IOException | RuntimeException e) {
      throw new OpError(false, e.getClass().getSimpleName(), "", String.valueOf(e.getMessage()));
    }
    if (!reply.isSuccess()) {
      throw new OpError(false, "RaftException", "", String.valueOf(reply.getException()));
    }
    // Read the state of the server that answered (after its barrier, if it had one).
    KeyStateStore store = cluster.stateMachine(reply.getServerId().toString()).store();
    Optional<KeyRecord> key = store.key(name);
    if (key.isEmpty()) {
      throw new OpError(true, "NOT_FOUND", "KEY_NOT_FOUND", "key " + name + " not found");
    }
    return view(key.get(), System.currentTimeMillis());
  }

  @Override
  public Encrypted encrypt(String name, byte[] plaintext) throws OpError {
    throw new OpError(true, "UNIMPLEMENTED", "", "no data plane in the in-process tier");
  }

  @Override
  public Decrypted decrypt(byte[] ciphertext) throws OpError {
    throw new OpError(true, "UNIMPLEMENTED", "", "no data plane in the in-process tier");
  }

  @Override
  public KeyView setVersionEnabled(String name, int version, boolean enabled, String requestId)
      throws OpError {
    CommandResult result =
        propose(
            command(requestId)
                .setSetVersionStatus(
                    SetVersionStatus.newBuilder()
                        .setName(name)
                        .setVersion(version)
                        .setStatus(
                            enabled
                                ? VersionStatus.VERSION_STATUS_ENABLED
                                : VersionStatus.VERSION_STATUS_DISABLED))
                .build());
    return view(result.getKey(), System.currentTimeMillis());
  }

  @Override
  public KeyView clearRotationPeriod(String name, String requestId) throws OpError {
    CommandResult result =
        propose(
            command(requestId)
                .setSetRotationPolicy(
                    SetRotationPolicy.newBuilder()
                        .setName(name)
                        .setPolicy(RotationPolicyRecord.newBuilder().setActivationDelayMillis(-1)))
                .build());
    return view(result.getKey(), System.currentTimeMillis());
  }

  @Override
  public NodeState status() throws OpError {
    try {
      var division = cluster.division(nodeId);
      KeyStateStore store = cluster.stateMachine(nodeId).store();
      var leader = division.getInfo().getLeaderId();
      return new NodeState(
          nodeId,
          division.getInfo().getCurrentRole().name(),
          leader == null ? "" : leader.toString(),
          store.appliedPosition().index(),
          store.digest());
    } catch (RuntimeException e) {
      throw new OpError(false, "UNAVAILABLE", "", e.toString());
    }
  }

  @Override
  public void close() {
    try {
      client.close();
    } catch (IOException e) {
      // closing
    }
  }

  static KeyView view(KeyRecord key, long now) {
    List<VersionView> versions = new ArrayList<>();
    for (KeyVersionRecord v : key.getVersionsList()) {
      RotationReason reason = RotationReason.forNumber(v.getRotationReason());
      versions.add(
          new VersionView(
              v.getVersion(),
              KeyVersions.stateAt(key, v, now).name().replace("KEY_VERSION_STATE_", ""),
              v.getActivationTimeUnixMillis(),
              v.getCreateTimeUnixMillis(),
              reason == null ? "UNSPECIFIED" : reason.name().replace("ROTATION_REASON_", "")));
    }
    return new KeyView(
        key.getName(), KeyVersions.primaryVersionAt(key, now), key.getRevision(), versions);
  }
}
