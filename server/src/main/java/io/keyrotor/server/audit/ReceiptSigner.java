package io.keyrotor.server.audit;

import com.google.protobuf.ByteString;
import io.keyrotor.api.v1.DestructionReceiptSignature;
import io.keyrotor.consensus.RaftNode;
import io.keyrotor.crypto.DestructionReceiptSignatures;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.DestructionReceiptRecord;
import io.keyrotor.proto.internal.v1.SignDestructionReceipt;
import io.keyrotor.storage.StateView;
import io.keyrotor.storage.version.ApplyFeature;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Signs destruction receipts on the leader: every {@code audit.receipt-signing-interval} it reads
 * the receipts not signed yet, signs each with this node's newest registered audit key in its HSM
 * and proposes the signature (SignDestructionReceipt). Apply never calls an HSM, so the signature
 * is made here, before the proposal, as audit checkpoints are. A receipt a leader lost before its
 * signature applied is signed by the next leader; one signed twice keeps the first signature (the
 * second is refused at apply).
 */
public final class ReceiptSigner {
  private static final Logger LOG = LoggerFactory.getLogger(ReceiptSigner.class);

  /** Receipts signed per round at most, so one round's HSM work stays short. */
  static final int PER_ROUND = 100;

  private final AuditSigner signer;
  private final RaftNode raft;
  private final String nodeId;

  public ReceiptSigner(AuditSigner signer, RaftNode raft, String nodeId) {
    this.signer = signer;
    this.raft = raft;
    this.nodeId = nodeId;
  }

  /** Signs every {@code interval} on {@code scheduler} (nothing when the interval is zero). */
  public void start(ScheduledExecutorService scheduler, Duration interval) {
    if (interval.isZero()) {
      return;
    }
    // Runs until the scheduler shuts down with the node; failures are logged by the round.
    var unusedTask =
        scheduler.scheduleWithFixedDelay(
            this::signPending, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * One round: on the ready leader of a cluster that knows the command, signs and proposes up to
   * {@link #PER_ROUND} unsigned receipts and waits for them to apply.
   */
  void signPending() {
    try {
      StateView state = raft.state();
      if (!raft.isReadyLeader()
          || !ApplyFeature.SIGNED_DESTRUCTION_RECEIPTS.activeAt(state.activeClusterVersion())) {
        return;
      }
      List<DestructionReceiptRecord> pending = state.unsignedDestructionReceipts(PER_ROUND);
      if (pending.isEmpty()) {
        return;
      }
      AuditSigner.SigningKey key = signer.signingKey(state);
      CompletableFuture<?>[] proposals = new CompletableFuture<?>[pending.size()];
      for (int i = 0; i < pending.size(); i++) {
        proposals[i] = raft.propose(command(pending.get(i), key));
      }
      CompletableFuture.allOf(proposals).get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      // The next round retries: the receipts stay unsigned until a signature applies.
      LOG.warn("destruction receipts not signed yet: {}", e.toString());
    }
  }

  private Command command(DestructionReceiptRecord receipt, AuditSigner.SigningKey key) {
    byte[] signature = signer.signWith(key.version(), message(receipt, nodeId, key.version()));
    return Command.newBuilder()
        .setRequestId(
            "sign-receipt:"
                + receipt.getKeyName()
                + ":"
                + receipt.getVersion()
                + ":"
                + UUID.randomUUID())
        .setOriginNode(nodeId)
        .setSignDestructionReceipt(
            SignDestructionReceipt.newBuilder()
                .setName(receipt.getKeyName())
                .setVersion(receipt.getVersion())
                .setSignature(
                    DestructionReceiptSignature.newBuilder()
                        .setSignerNode(nodeId)
                        .setKeyVersion(key.version())
                        .setSignature(ByteString.copyFrom(signature))))
        .build();
  }

  /** The message {@code receipt}'s signature by audit key {@code keyVersion} of a node signs. */
  public static byte[] message(
      DestructionReceiptRecord receipt, String signerNode, int keyVersion) {
    return DestructionReceiptSignatures.message(
        new DestructionReceiptSignatures.Receipt(
            receipt.getKeyName(),
            receipt.getVersion(),
            receipt.getDestroyedTimeUnixMillis(),
            receipt.getScheduledDestroyTimeUnixMillis(),
            receipt.getScheduledBy(),
            receipt.getLogIndex(),
            receipt.getAuditRecordHash().toByteArray(),
            receipt.getZone()),
        signerNode,
        keyVersion);
  }
}
