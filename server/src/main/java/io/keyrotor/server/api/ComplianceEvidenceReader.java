package io.keyrotor.server.api;

import io.keyrotor.api.v1.AuditKeyRegistration;
import io.keyrotor.api.v1.ComplianceEvidence;
import io.keyrotor.crypto.AuditCheckpointSignatures;
import io.keyrotor.proto.internal.v1.DestructionReceiptRecord;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.KeyVersionRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.VersionStatus;
import io.keyrotor.storage.StateView;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The compliance report's evidence from the audit trail, read with the rest of the report at one
 * applied index: the audit chain's verification (hashes and links from the last checkpoint to the
 * head) and the destruction receipts of the report's keys, each signature checked against the
 * signer's audit key as the chain registered it.
 */
final class ComplianceEvidenceReader {
  static final String VERIFIED = "verified";
  static final String FAILED = "failed";
  static final String UNSIGNED = "unsigned";
  static final String NONE = "none";

  private ComplianceEvidenceReader() {}

  /** What the report says of the chain and of the receipts, and each key's receipts by name. */
  record Evidence(
      ComplianceEvidence auditChain,
      ComplianceEvidence destructionReceipts,
      Map<String, List<DestructionReceiptRecord>> receiptsByKey) {}

  /**
   * Reads the evidence of {@code keys} from {@code state}; call it inside the same one-position
   * read as the keys. The chain check reads the records since the last checkpoint only.
   */
  static Evidence read(StateView state, Collection<KeyRecord> keys) {
    Optional<String> chainProblem = state.verifyAuditChain();
    ComplianceEvidence chain =
        chainProblem
            .map(problem -> evidence(FAILED, problem))
            .orElseGet(
                () ->
                    evidence(
                        VERIFIED,
                        "hashes and links intact from the last checkpoint's record to the head "
                            + state.auditHead()
                            + "; prove the signatures offline with 'keyrotor audit verify'"));
    Map<String, List<DestructionReceiptRecord>> byKey = new TreeMap<>();
    long total = 0;
    List<String> unsigned = new ArrayList<>();
    List<String> bad = new ArrayList<>();
    for (KeyRecord key : keys) {
      for (KeyVersionRecord version : key.getVersionsList()) {
        if (version.getStatus() != VersionStatus.VERSION_STATUS_DESTROYED) {
          continue;
        }
        Optional<DestructionReceiptRecord> receipt =
            state.destructionReceipt(key.getName(), version.getVersion());
        if (receipt.isEmpty()) {
          continue;
        }
        total++;
        byKey.computeIfAbsent(key.getName(), k -> new ArrayList<>()).add(receipt.get());
        String name = key.getName() + " v" + version.getVersion();
        if (!receipt.get().hasSignature()) {
          unsigned.add(name);
        } else if (!signatureVerifies(receipt.get(), state.nodes())) {
          bad.add(name);
        }
      }
    }
    ComplianceEvidence receipts;
    if (!bad.isEmpty()) {
      receipts = evidence(FAILED, "the signature does not verify under the registered key: " + bad);
    } else if (!unsigned.isEmpty()) {
      receipts =
          evidence(
              UNSIGNED, unsigned.size() + " of " + total + " receipts not signed yet: " + unsigned);
    } else if (total == 0) {
      receipts = evidence(NONE, "no version of the report's keys was destroyed");
    } else {
      receipts =
          evidence(
              VERIFIED,
              total + " receipts, each signed and verified under its signer's registered key");
    }
    return new Evidence(chain, receipts, byKey);
  }

  private static boolean signatureVerifies(
      DestructionReceiptRecord receipt, Map<String, NodeRecord> nodes) {
    var signature = receipt.getSignature();
    NodeRecord signer = nodes.get(signature.getSignerNode());
    if (signer == null) {
      return false;
    }
    for (AuditKeyRegistration key : signer.getAuditKeysList()) {
      if (key.getKeyVersion() != signature.getKeyVersion()) {
        continue;
      }
      try {
        return AuditCheckpointSignatures.verify(
            AuditCheckpointSignatures.publicKey(key.getPublicKey().toByteArray()),
            io.keyrotor.server.audit.ReceiptSigner.message(
                receipt, signature.getSignerNode(), signature.getKeyVersion()),
            signature.getSignature().toByteArray());
      } catch (GeneralSecurityException | IllegalArgumentException e) {
        return false;
      }
    }
    return false;
  }

  private static ComplianceEvidence evidence(String state, String detail) {
    return ComplianceEvidence.newBuilder().setState(state).setDetail(detail).build();
  }
}
