package io.keyrotor.chaos.checker;

import io.keyrotor.chaos.history.History;
import io.keyrotor.chaos.history.Operation;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Workload W3: encrypt on one node, decrypt on another. {@code encrypt}: input {@code {"plaintext":
 * p}}, {@code ok} output {@code {"ciphertext": c, "version": v}}. {@code decrypt} and, after the
 * final heal, {@code final-decrypt} (one per ciphertext and node): input {@code {"ciphertext": c}},
 * {@code ok} output {@code {"plaintext": p}}. Plaintexts and ciphertexts are opaque test strings
 * (for example a base64 ciphertext and a synthetic plaintext id).
 *
 * <ul>
 *   <li><b>wrong-plaintext</b>: a decrypt of c that succeeds returns the plaintext c was encrypted
 *       from, whenever it ran;
 *   <li><b>decrypt-failed</b>: a decrypt invoked after the encrypt of c completed either succeeds
 *       or ends with a retriable error (an {@code info}, or a {@code fail} whose error contains one
 *       of the retriable codes); never NOT_FOUND, DATA_LOSS, an authentication failure or anything
 *       else;
 *   <li><b>final-decrypt-failed</b>: after the final heal, every acknowledged ciphertext decrypts
 *       to its plaintext on every node (a node with no final attempt for a ciphertext makes the
 *       check UNKNOWN, not PASS).
 * </ul>
 *
 * <p>That the version encrypt used was primary within its interval is W2's business: feed encrypts
 * to the W2 checkers as reads. Limits: a key whose versions W6 disables must not be used here
 * (decrypts of a disabled version fail by design).
 */
public final class EncryptDecryptChecker {
  public static final String ENCRYPT = "encrypt";
  public static final String DECRYPT = "decrypt";
  public static final String FINAL_DECRYPT = "final-decrypt";

  /** gRPC codes (and client exception names) a decrypt may retry on. */
  public static final Set<String> DEFAULT_RETRIABLE =
      Set.of("UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "ABORTED", "Timeout");

  private final Set<String> nodes;
  private final Set<String> retriable;

  /** Checks final re-decrypts on {@code nodes}, accepting errors that contain a retriable code. */
  public EncryptDecryptChecker(Set<String> nodes, Set<String> retriable) {
    this.nodes = new TreeSet<>(nodes);
    this.retriable = Set.copyOf(retriable);
  }

  private boolean isRetriable(Operation op) {
    if (op.isIndeterminate()) {
      return true;
    }
    String error = op.errorOrNull();
    return error != null && retriable.stream().anyMatch(error::contains);
  }

  /** Checks the history. */
  public CheckResult check(History history) {
    CheckResult.Builder result = CheckResult.builder("W3 encrypt->decrypt");
    Map<String, Operation> encryptOf = new LinkedHashMap<>();
    for (Operation op : history.operations()) {
      if (op.f().equals(ENCRYPT) && op.isOk()) {
        String ciphertext = JsonValues.stringOrNull(op.outputOrNull(), "ciphertext");
        if (ciphertext != null) {
          encryptOf.putIfAbsent(ciphertext, op);
        }
      }
    }
    long pairs = 0;
    long hard = 0;
    long retried = 0;
    long unmatched = 0;
    Map<String, Map<String, Operation>> finalOk = new HashMap<>();
    Map<String, Map<String, Operation>> finalFailed = new HashMap<>();
    for (Operation op : history.operations()) {
      boolean finalDecrypt = op.f().equals(FINAL_DECRYPT);
      if (!finalDecrypt && !op.f().equals(DECRYPT)) {
        continue;
      }
      String ciphertext = JsonValues.stringOrNull(op.inputOrNull(), "ciphertext");
      Operation encrypt = ciphertext == null ? null : encryptOf.get(ciphertext);
      if (encrypt == null) {
        unmatched++;
        continue;
      }
      String expected = JsonValues.stringOrNull(encrypt.inputOrNull(), "plaintext");
      boolean after = encrypt.precedes(op);
      if (after && !finalDecrypt) {
        pairs++;
      }
      if (op.isOk()) {
        String plaintext = JsonValues.stringOrNull(op.outputOrNull(), "plaintext");
        if (!Objects.equals(plaintext, expected)) {
          hard++;
          result.anomaly(
              Anomaly.of(
                  "wrong-plaintext",
                  encrypt.keyOrNull(),
                  "a ciphertext encrypted from "
                      + expected
                      + " decrypted to "
                      + plaintext
                      + (finalDecrypt ? " in the final re-decrypt" : ""),
                  List.of(encrypt, op),
                  history.nemesisEvents()));
        } else if (finalDecrypt && op.nodeOrNull() != null) {
          finalOk.computeIfAbsent(ciphertext, c -> new HashMap<>()).put(op.nodeOrNull(), op);
        }
      } else if (finalDecrypt) {
        if (op.nodeOrNull() != null) {
          finalFailed.computeIfAbsent(ciphertext, c -> new HashMap<>()).put(op.nodeOrNull(), op);
        }
      } else if (after && !isRetriable(op)) {
        hard++;
        result.anomaly(
            Anomaly.of(
                "decrypt-failed",
                encrypt.keyOrNull(),
                "a decrypt invoked after its encrypt completed failed with "
                    + op.errorOrNull()
                    + " (not retriable)",
                List.of(encrypt, op),
                history.nemesisEvents()));
      } else if (after) {
        retried++;
      }
    }
    // The final re-decrypt: every acknowledged ciphertext on every node.
    long finalFailures = 0;
    Map<String, Long> missingByNode = new LinkedHashMap<>();
    for (Map.Entry<String, Operation> entry : encryptOf.entrySet()) {
      Map<String, Operation> ok = finalOk.getOrDefault(entry.getKey(), Map.of());
      Map<String, Operation> failed = finalFailed.getOrDefault(entry.getKey(), Map.of());
      List<Operation> failures = new ArrayList<>();
      for (String node : nodes) {
        if (ok.containsKey(node)) {
          continue;
        }
        if (failed.containsKey(node)) {
          failures.add(failed.get(node));
        } else {
          missingByNode.merge(node, 1L, Long::sum);
        }
      }
      if (!failures.isEmpty()) {
        finalFailures++;
        List<Operation> shown = new ArrayList<>();
        shown.add(entry.getValue());
        shown.addAll(failures);
        result.anomaly(
            Anomaly.of(
                "final-decrypt-failed",
                entry.getValue().keyOrNull(),
                "after the final heal an acknowledged ciphertext did not decrypt on "
                    + failures.stream().map(Operation::nodeOrNull).toList(),
                shown,
                history.nemesisEvents()));
      }
    }
    long nodesComplete =
        nodes.stream()
            .filter(
                node ->
                    !missingByNode.containsKey(node)
                        && encryptOf.keySet().stream()
                            .allMatch(c -> finalOk.getOrDefault(c, Map.of()).containsKey(node)))
            .count();
    missingByNode.forEach(
        (node, count) ->
            result.unknown(
                "no final re-decrypt on " + node + " for " + count + " acknowledged ciphertexts"));
    result.count("encrypts", encryptOf.size());
    result.count("pairs", pairs);
    result.count("hard-failures", hard);
    result.count("retriable", retried);
    result.count("final-failures", finalFailures);
    result.count("final-nodes-ok", nodesComplete);
    result.count("final-nodes", nodes.size());
    result.count("unmatched", unmatched);
    result.detail(
        pairs
            + " pairs, "
            + hard
            + " hard failures, "
            + retried
            + " retriable; final re-decrypt "
            + nodesComplete
            + "/"
            + nodes.size()
            + " nodes");
    return result.build();
  }
}
