package io.keyrotor.server.audit;

import com.google.protobuf.ByteString;
import com.google.rpc.Code;
import io.keyrotor.api.v1.AuditCheckpoint;
import io.keyrotor.api.v1.AuditKeyRegistration;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.consensus.RaftNode;
import io.keyrotor.crypto.AuditCheckpointSignatures;
import io.keyrotor.hsm.Hsm;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.CommandResult;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RecordAuditCheckpoint;
import io.keyrotor.proto.internal.v1.RegisterAuditKey;
import io.keyrotor.server.api.ApiErrors;
import io.keyrotor.storage.StateView;
import java.util.List;
import java.util.Optional;
import java.util.SortedSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's audit key and what it signs. The key (ECDSA P-256) lives in the node's HSM; at start
 * the node generates version 1 if its HSM holds none and registers every version it holds through
 * the log (a registered version stays, so checkpoints it signed verify after a rotation). A
 * checkpoint is signed here, on the proposing node, from the last record of its applied chain, and
 * only then proposed: apply never calls an HSM.
 */
public final class AuditSigner {
  private static final Logger LOG = LoggerFactory.getLogger(AuditSigner.class);

  private final String nodeId;
  private final Hsm hsm;
  private final RaftNode raft;

  public AuditSigner(String nodeId, Hsm hsm, RaftNode raft) {
    this.nodeId = nodeId;
    this.hsm = hsm;
    this.raft = raft;
  }

  /**
   * Makes sure the HSM holds an audit key (generating version 1 when it holds none) and proposes
   * the registration of every version it holds, oldest first, retrying on {@code retries} until
   * each applied. Blocking HSM calls: run it off the gRPC and Raft threads.
   */
  public void start(ScheduledExecutorService retries) {
    try {
      SortedSet<Integer> versions = hsm.auditKeyVersions();
      if (versions.isEmpty()) {
        hsm.generateAuditKey();
        versions = hsm.auditKeyVersions();
      }
      registerInOrder(List.copyOf(versions), 0, retries, 0);
    } catch (HsmException e) {
      LOG.warn(
          "Node {} has no audit key (its HSM refused: {}); it signs no audit checkpoints",
          nodeId,
          e.getMessage());
    }
  }

  private void registerInOrder(
      List<Integer> versions, int next, ScheduledExecutorService retries, int attempt) {
    if (next >= versions.size() || retries.isShutdown()) {
      return;
    }
    int version = versions.get(next);
    CompletableFuture<CommandResult> proposed;
    try {
      proposed = raft.propose(registration(version));
    } catch (HsmException | RuntimeException e) {
      proposed = CompletableFuture.failedFuture(e);
    }
    // The outcome is handled in the callback: the next version, or a retry.
    var unusedOutcome =
        proposed
            .orTimeout(10, TimeUnit.SECONDS)
            .whenComplete(
                (result, failure) -> {
                  if (failure == null && result.getOutcome().getCode() == Code.OK_VALUE) {
                    LOG.info("Node {} registered audit key version {}", nodeId, version);
                    registerInOrder(versions, next + 1, retries, 0);
                    return;
                  }
                  LOG.debug(
                      "Node {} audit key version {} not registered yet: {}",
                      nodeId,
                      version,
                      failure != null ? failure.toString() : result.getOutcome().getMessage());
                  if (!retries.isShutdown()) {
                    long delay = Math.min(5_000, 250L << Math.min(attempt, 4));
                    var unusedRetry =
                        retries.schedule(
                            () -> registerInOrder(versions, next, retries, attempt + 1),
                            delay,
                            TimeUnit.MILLISECONDS);
                  }
                });
  }

  private Command registration(int version) throws HsmException {
    return Command.newBuilder()
        .setRequestId("register-audit-key:" + UUID.randomUUID())
        .setOriginNode(nodeId)
        .setRegisterAuditKey(
            RegisterAuditKey.newBuilder()
                .setKey(
                    AuditKeyRegistration.newBuilder()
                        .setNode(nodeId)
                        .setKeyVersion(version)
                        .setPublicKey(ByteString.copyFrom(hsm.auditPublicKey(version)))))
        .build();
  }

  /**
   * Generates the next audit key version in the HSM and proposes its registration; completes with
   * the registration once applied. Blocking HSM call.
   */
  public CompletableFuture<AuditKeyRegistration> rotate() {
    Command command;
    try {
      command = registration(hsm.generateAuditKey());
    } catch (HsmException e) {
      return CompletableFuture.failedFuture(unavailable("its HSM refused: " + e.getMessage()));
    }
    AuditKeyRegistration key = command.getRegisterAuditKey().getKey();
    return raft.propose(command)
        .thenApply(
            result -> {
              if (result.getOutcome().getCode() != Code.OK_VALUE) {
                throw ApiErrors.fromOutcome(result.getOutcome());
              }
              LOG.info("Node {} rotated its audit key to version {}", nodeId, key.getKeyVersion());
              return key;
            });
  }

  /**
   * The checkpoint of the last record of {@code state}'s chain, signed with this node's newest
   * registered audit key version. Blocking HSM call.
   *
   * @throws io.grpc.StatusRuntimeException UNAVAILABLE AUDIT_KEY_UNAVAILABLE when no version is
   *     registered yet, the HSM refuses, or the chain is still empty
   */
  public AuditCheckpoint sign(StateView state) {
    AuditRecord last =
        state
            .lastAudit()
            .orElseThrow(() -> unavailable("the audit chain is empty: nothing to sign yet; retry"));
    int version =
        registeredVersion(state)
            .orElseThrow(
                () -> unavailable("its audit key is not registered in the chain yet; retry"));
    byte[] head = last.getHash().toByteArray();
    byte[] message = AuditCheckpointSignatures.message(last.getLogIndex(), head, nodeId, version);
    byte[] signature;
    try {
      signature = hsm.signAudit(version, message);
    } catch (HsmException e) {
      throw unavailable("its HSM refused to sign: " + e.getMessage());
    }
    return AuditCheckpoint.newBuilder()
        .setLogIndex(last.getLogIndex())
        .setHead(ByteString.copyFrom(head))
        .setSignerNode(nodeId)
        .setKeyVersion(version)
        .setSignature(ByteString.copyFrom(signature))
        .build();
  }

  /** This node's newest registered audit key: its version and public key (SubjectPublicKeyInfo). */
  public record SigningKey(
      int version, @SuppressWarnings("ArrayRecordComponent") byte[] publicKey) {}

  /**
   * The audit key this node signs other artefacts (backups) with: its newest version registered in
   * {@code state}'s chain, so verifiers find it among the keys {@code GetAuditKeys} lists.
   *
   * @throws io.grpc.StatusRuntimeException UNAVAILABLE AUDIT_KEY_UNAVAILABLE when none is
   *     registered
   */
  public SigningKey signingKey(StateView state) {
    NodeRecord node = state.nodes().get(nodeId);
    if (node == null || node.getAuditKeysCount() == 0) {
      throw unavailable("its audit key is not registered in the chain yet; retry");
    }
    int version = node.getAuditKeys(node.getAuditKeysCount() - 1).getKeyVersion();
    try {
      // The HSM's own public key: what its signature verifies under, whatever the chain says.
      return new SigningKey(version, hsm.auditPublicKey(version));
    } catch (HsmException e) {
      throw unavailable("its HSM refused: " + e.getMessage());
    }
  }

  /**
   * Signs {@code message} with audit key {@code version} in the HSM. Blocking HSM call.
   *
   * @throws io.grpc.StatusRuntimeException UNAVAILABLE AUDIT_KEY_UNAVAILABLE when the HSM refuses
   */
  public byte[] signWith(int version, byte[] message) {
    try {
      return hsm.signAudit(version, message);
    } catch (HsmException e) {
      throw unavailable("its HSM refused to sign: " + e.getMessage());
    }
  }

  /** The command that records {@code checkpoint}, on behalf of {@code principal} ("" for none). */
  public Command checkpointCommand(AuditCheckpoint checkpoint, String requestId) {
    return Command.newBuilder()
        .setRequestId(requestId)
        .setOriginNode(nodeId)
        .setRecordAuditCheckpoint(RecordAuditCheckpoint.newBuilder().setCheckpoint(checkpoint))
        .build();
  }

  private Optional<Integer> registeredVersion(StateView state) {
    NodeRecord node = state.nodes().get(nodeId);
    if (node == null || node.getAuditKeysCount() == 0) {
      return Optional.empty();
    }
    return Optional.of(node.getAuditKeys(node.getAuditKeysCount() - 1).getKeyVersion());
  }

  private io.grpc.StatusRuntimeException unavailable(String why) {
    return ApiErrors.error(
        Code.UNAVAILABLE,
        ErrorReason.AUDIT_KEY_UNAVAILABLE,
        "node " + nodeId + " cannot sign audit checkpoints: " + why);
  }
}
