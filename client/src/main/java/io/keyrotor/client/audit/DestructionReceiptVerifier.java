package io.keyrotor.client.audit;

import io.keyrotor.api.v1.AuditKeyRegistration;
import io.keyrotor.api.v1.DestructionReceipt;
import io.keyrotor.api.v1.DestructionReceiptSignature;
import io.keyrotor.crypto.AuditCheckpointSignatures;
import io.keyrotor.crypto.DestructionReceiptSignatures;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Checks a destruction receipt's signature offline: no node, no network, only the receipt (as
 * {@code keyrotor key receipt --json} prints it, or as the audit chain's SIGN_DESTRUCTION_RECEIPT
 * record holds it) and the audit public keys the auditor trusts. A receipt is proven when its
 * signature verifies under the trusted key its signer and key version name, over everything the
 * receipt states (key, version, times, who scheduled it, zone, and its audit chain position).
 */
public final class DestructionReceiptVerifier {
  private final Map<String, PublicKey> trusted = new HashMap<>();

  /**
   * @param trustedKeys the audit public keys the auditor trusts ({@code keyrotor audit keys})
   * @throws IllegalArgumentException when a key is not an EC public key
   */
  public DestructionReceiptVerifier(List<AuditKeyRegistration> trustedKeys) {
    for (AuditKeyRegistration key : trustedKeys) {
      String name = key.getNode() + "/" + key.getKeyVersion();
      try {
        trusted.put(name, AuditCheckpointSignatures.publicKey(key.getPublicKey().toByteArray()));
      } catch (GeneralSecurityException e) {
        throw new IllegalArgumentException("audit key " + name + " is not an EC public key", e);
      }
    }
  }

  /**
   * Why {@code receipt} is not proven (UNSIGNED, UNTRUSTED SIGNER, MALFORMED or BAD SIGNATURE), or
   * empty when its signature verifies under a trusted key.
   */
  public Optional<String> problem(DestructionReceipt receipt) {
    if (!receipt.hasSignature()) {
      return Optional.of("UNSIGNED: the receipt carries no signature (not signed yet)");
    }
    DestructionReceiptSignature signature = receipt.getSignature();
    String signer = signature.getSignerNode() + "/" + signature.getKeyVersion();
    PublicKey key = trusted.get(signer);
    if (key == null) {
      return Optional.of("UNTRUSTED SIGNER: no trusted key is named " + signer);
    }
    byte[] message;
    try {
      message = message(receipt, signature.getSignerNode(), signature.getKeyVersion());
    } catch (IllegalArgumentException e) {
      return Optional.of("MALFORMED: " + e.getMessage());
    }
    if (!AuditCheckpointSignatures.verify(key, message, signature.getSignature().toByteArray())) {
      return Optional.of(
          "BAD SIGNATURE: the signature of " + signer + " does not match the receipt's content");
    }
    return Optional.empty();
  }

  /** The message the signature of {@code receipt} by audit key {@code keyVersion} signs. */
  static byte[] message(DestructionReceipt receipt, String signerNode, int keyVersion) {
    byte[] hash;
    try {
      hash = HexFormat.of().parseHex(receipt.getAuditRecordHash());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the audit record hash is not hexadecimal", e);
    }
    return DestructionReceiptSignatures.message(
        new DestructionReceiptSignatures.Receipt(
            receipt.getName(),
            receipt.getVersion(),
            millis(receipt.getDestroyedTime()),
            millis(receipt.getScheduledDestroyTime()),
            receipt.getScheduledBy(),
            receipt.getLogIndex(),
            hash,
            receipt.getZone()),
        signerNode,
        keyVersion);
  }

  private static long millis(com.google.protobuf.Timestamp time) {
    return time.getSeconds() * 1000 + time.getNanos() / 1_000_000;
  }
}
