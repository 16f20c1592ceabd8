package io.keyrotor.client.audit;

import io.keyrotor.api.v1.AuditCheckpoint;
import io.keyrotor.api.v1.AuditExportItem;
import io.keyrotor.api.v1.AuditKeyRegistration;
import io.keyrotor.api.v1.AuditRecord;
import io.keyrotor.api.v1.DestructionReceipt;
import io.keyrotor.crypto.AuditCheckpointSignatures;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Checks an exported audit chain offline: no node, no network, only the export and the audit public
 * keys the auditor trusts. An export is intact when
 *
 * <ul>
 *   <li>every full record's hash is SHA-256 of its previous hash and its encoding without the hash
 *       (otherwise it was <b>edited</b>);
 *   <li>every item's previous hash is the hash of the item before it and log indexes increase
 *       (otherwise a record was <b>deleted</b>, <b>inserted</b> or <b>reordered</b>);
 *   <li>every checkpoint, in a record or given on its own (the export's closing checkpoint), is
 *       signed by a trusted key and signs the hash the export holds at its index (otherwise a
 *       <b>bad or missing signature</b>);
 *   <li>the last item is signed by a checkpoint (otherwise the export was <b>cut off</b> or
 *       extended after its last signed head);
 *   <li>every signed destruction receipt the chain records verifies under a trusted key ({@link
 *       DestructionReceiptVerifier}) and names the hash the export holds at its destruction's index
 *       (otherwise a <b>receipt</b> problem).
 * </ul>
 *
 * <p>Items left out by an export's filters carry their hashes only: they keep the chain linked, and
 * their content is not checked. The first item's previous hash is taken as given (an export may
 * start anywhere); everything from it to the signed head is proven to be the chain that was signed.
 * Problems name the item by its position, 1-based, which is its line in a JSON Lines export.
 */
public final class AuditTrailVerifier {
  private final Map<String, PublicKey> trusted = new HashMap<>();
  private final DestructionReceiptVerifier receipts;

  /**
   * @param trustedKeys the audit public keys the auditor trusts (for example those of {@code
   *     keyrotor audit keys}, kept apart from the exports)
   * @throws IllegalArgumentException when a key is not an EC public key
   */
  public AuditTrailVerifier(List<AuditKeyRegistration> trustedKeys) {
    for (AuditKeyRegistration key : trustedKeys) {
      try {
        trusted.put(
            name(key.getNode(), key.getKeyVersion()),
            AuditCheckpointSignatures.publicKey(key.getPublicKey().toByteArray()));
      } catch (GeneralSecurityException e) {
        throw new IllegalArgumentException(
            "audit key " + name(key.getNode(), key.getKeyVersion()) + " is not an EC public key",
            e);
      }
    }
    receipts = new DestructionReceiptVerifier(trustedKeys);
  }

  /** One signed checkpoint or receipt found, and where. */
  private record Found(AuditCheckpoint checkpoint, String where, DestructionReceipt receipt) {
    Found(AuditCheckpoint checkpoint, String where) {
      this(checkpoint, where, null);
    }
  }

  /**
   * The problems of an export: {@code items} in file order, then {@code closingCheckpoints} (those
   * the export carries outside the chain, after its items). Empty when the export is intact.
   */
  public List<String> verify(
      List<AuditExportItem> items, List<AuditCheckpoint> closingCheckpoints) {
    List<String> problems = new ArrayList<>();
    Map<Long, byte[]> hashAt = new HashMap<>();
    Map<Long, List<String>> hashesAt = new HashMap<>();
    List<Found> checkpoints = new ArrayList<>();
    List<Found> signedReceipts = new ArrayList<>();
    byte[] previousHash = null;
    long previousIndex = -1;
    long firstIndex = -1;
    long lastIndex = -1;
    for (int i = 0; i < items.size(); i++) {
      int line = i + 1;
      AuditExportItem item = items.get(i);
      long index;
      byte[] previous;
      byte[] hash;
      if (item.hasRecord()) {
        AuditRecord record = item.getRecord();
        index = record.getLogIndex();
        previous = record.getPreviousHash().toByteArray();
        hash = record.getHash().toByteArray();
        if (!Arrays.equals(hashOf(record), hash)) {
          problems.add(
              "line "
                  + line
                  + " (index "
                  + index
                  + "): EDITED: the record's content does not match its hash");
        }
        if (record.hasCheckpoint()) {
          checkpoints.add(new Found(record.getCheckpoint(), "the checkpoint at line " + line));
        }
        if (record.hasDestructionReceipt()) {
          DestructionReceipt receipt = record.getDestructionReceipt();
          receipts
              .problem(receipt)
              .ifPresent(
                  problem ->
                      problems.add("line " + line + " (index " + index + "): RECEIPT " + problem));
          signedReceipts.add(new Found(null, "line " + line, receipt));
        }
      } else if (item.hasHashOnly()) {
        index = item.getHashOnly().getLogIndex();
        previous = item.getHashOnly().getPreviousHash().toByteArray();
        hash = item.getHashOnly().getHash().toByteArray();
      } else {
        problems.add("line " + line + ": neither a record nor a hash");
        continue;
      }
      // The commands of one batch log entry share its index; a line repeated or moved still
      // breaks the hash links below.
      if (previousHash != null && index < previousIndex) {
        problems.add(
            "line "
                + line
                + " (index "
                + index
                + "): REORDERED or DUPLICATED: it follows index "
                + previousIndex);
      }
      if (previousHash != null && !Arrays.equals(previous, previousHash)) {
        problems.add(
            "line "
                + line
                + " (index "
                + index
                + "): BROKEN LINK: its previous hash is not the hash of line "
                + (line - 1)
                + " (a record was deleted, inserted or moved here)");
      }
      if (firstIndex < 0) {
        firstIndex = index;
      }
      hashAt.put(index, hash);
      hashesAt
          .computeIfAbsent(index, unused -> new ArrayList<>())
          .add(HexFormat.of().formatHex(hash));
      previousHash = hash;
      previousIndex = index;
      lastIndex = Math.max(lastIndex, index);
    }
    for (int i = 0; i < closingCheckpoints.size(); i++) {
      checkpoints.add(
          new Found(
              closingCheckpoints.get(i),
              "closing checkpoint " + (i + 1) + " (after line " + items.size() + ")"));
    }
    if (items.isEmpty()) {
      problems.add("the export holds no record");
      return problems;
    }
    for (Found found : signedReceipts) {
      // The receipt names the audit record of its destruction: where the export holds that
      // index, one of its records there (a batch entry holds several) has the stated hash.
      List<String> held = hashesAt.get(found.receipt().getLogIndex());
      if (held != null && !held.contains(found.receipt().getAuditRecordHash())) {
        problems.add(
            found.where()
                + ": RECEIPT POSITION MISMATCH: the receipt of "
                + found.receipt().getName()
                + " version "
                + found.receipt().getVersion()
                + " names audit record hash "
                + found.receipt().getAuditRecordHash()
                + " at index "
                + found.receipt().getLogIndex()
                + ", the export holds "
                + String.join(", ", held));
      }
    }
    long signedUpTo = -1;
    for (Found found : checkpoints) {
      AuditCheckpoint checkpoint = found.checkpoint();
      String what =
          found.where()
              + " (index "
              + checkpoint.getLogIndex()
              + ", "
              + name(checkpoint.getSignerNode(), checkpoint.getKeyVersion())
              + ")";
      PublicKey key = trusted.get(name(checkpoint.getSignerNode(), checkpoint.getKeyVersion()));
      if (key == null) {
        problems.add(what + ": UNTRUSTED SIGNER: no trusted key is named so");
        continue;
      }
      byte[] head = checkpoint.getHead().toByteArray();
      boolean signed =
          head.length == 32
              && AuditCheckpointSignatures.verify(
                  key,
                  AuditCheckpointSignatures.message(
                      checkpoint.getLogIndex(),
                      head,
                      checkpoint.getSignerNode(),
                      checkpoint.getKeyVersion()),
                  checkpoint.getSignature().toByteArray());
      if (!signed) {
        problems.add(what + ": BAD SIGNATURE");
        continue;
      }
      byte[] held = hashAt.get(checkpoint.getLogIndex());
      if (held == null) {
        if (checkpoint.getLogIndex() > lastIndex) {
          problems.add(
              what
                  + ": CUT OFF: it signs index "
                  + checkpoint.getLogIndex()
                  + " but the export ends at index "
                  + lastIndex);
        } else if (checkpoint.getLogIndex() >= firstIndex) {
          problems.add(what + ": DELETED: the record it signs is not in the export");
        }
        continue;
      }
      if (!Arrays.equals(held, head)) {
        problems.add(
            what
                + ": SIGNED HEAD MISMATCH: the export's hash at that index is "
                + HexFormat.of().formatHex(held)
                + ", the signed head "
                + HexFormat.of().formatHex(head));
        continue;
      }
      signedUpTo = Math.max(signedUpTo, checkpoint.getLogIndex());
    }
    if (signedUpTo < 0) {
      problems.add("MISSING SIGNATURE: no valid checkpoint signs any record of the export");
    } else if (signedUpTo < lastIndex) {
      problems.add(
          "CUT OFF or EXTENDED: the records after index "
              + signedUpTo
              + " (to index "
              + lastIndex
              + ") are signed by no checkpoint; an intact export ends at a signed head");
    }
    return problems;
  }

  /** SHA-256 of the record's previous hash and its encoding without {@code hash}. */
  public static byte[] hashOf(AuditRecord record) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(record.getPreviousHash().toByteArray());
      sha.update(record.toBuilder().clearHash().build().toByteArray());
      return sha.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  private static String name(String node, int version) {
    return node + "/" + version;
  }
}
