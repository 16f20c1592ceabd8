package io.keyrotor.chaos.workload;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.keyrotor.chaos.history.HistoryRecorder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.function.Function;

/**
 * A client process of the history, sending one operation at a time to one node and recording its
 * invocation and completion (README "Workload conventions"). Completions follow {@link OpError}: a
 * write is {@code fail} only when the server guarantees it was not applied, otherwise {@code info},
 * which retires the process (it continues under a new id); a failed read had no effect and is a
 * {@code fail}.
 */
final class ClientProcess {
  /** A call to the node. */
  interface Call<T> {
    T call() throws OpError;
  }

  private final RunState run;
  private final HistoryRecorder recorder;
  private final NodeApi node;
  private int process;

  ClientProcess(RunState run, NodeApi node) {
    this.run = run;
    this.recorder = run.recorder;
    this.node = node;
    this.process = recorder.newProcess();
  }

  String nodeId() {
    return node.nodeId();
  }

  /**
   * One operation: invoke, call, then ok / fail / info. Returns the result, or null if the call did
   * not succeed.
   *
   * @param revision the revision to record with the result, or null for none
   * @param failError the error a definite failure records, or null for {@link OpError#describe()}
   */
  <T> T op(
      String f,
      String key,
      JsonElement input,
      boolean write,
      Call<T> call,
      Function<T, JsonElement> output,
      Function<T, Long> revision,
      Function<OpError, String> failError) {
    recorder.invoke(process, node.nodeId(), f, key, input);
    try {
      T result = call.call();
      recorder.ok(process, output.apply(result), revision == null ? null : revision.apply(result));
      return result;
    } catch (OpError e) {
      if (!write || e.definite()) {
        recorder.fail(process, failError == null ? e.describe() : failError.apply(e), null);
      } else {
        recorder.info(process, e.describe());
        process = recorder.newProcess();
      }
      return null;
    } catch (RuntimeException e) {
      if (write) {
        recorder.info(process, e.getClass().getSimpleName() + ": " + e.getMessage());
        process = recorder.newProcess();
      } else {
        recorder.fail(process, e.getClass().getSimpleName() + ": " + e.getMessage(), null);
      }
      return null;
    }
  }

  /** A read of the key, recorded as {@code f} with the key's revision. */
  private NodeApi.KeyView read(
      String f, String key, Function<NodeApi.KeyView, JsonElement> output) {
    return op(f, key, null, false, () -> node.getKey(key), output, NodeApi.KeyView::revision, null);
  }

  /** An unconditional rotation ({@code rotate}). */
  NodeApi.Rotated rotate(String key) {
    return op(
        "rotate",
        key,
        null,
        true,
        () -> node.rotate(key, 0, run.requestId("rotate")),
        r -> OperationValues.versionObject(r.version()),
        NodeApi.Rotated::revision,
        null);
  }

  /**
   * The key's versions with their activation times ({@code list-versions}, {@code get-version}).
   */
  NodeApi.KeyView readVersions(String f, String key) {
    return read(f, key, OperationValues::versionsArray);
  }

  /** The key's primary version ({@code get-primary}). */
  NodeApi.KeyView getPrimary(String key) {
    return read("get-primary", key, v -> OperationValues.versionObject(v.primaryVersion()));
  }

  /** The key's scheduled versions by slot ({@code list-scheduled}, W5). */
  NodeApi.KeyView listScheduled(String f, String key) {
    return read(f, key, run::scheduled);
  }

  /**
   * A compare-and-set of the primary ({@code activate}): a rotation if the latest version is still
   * {@code expected}.
   */
  NodeApi.Rotated activate(String key, int expected) {
    JsonObject input = new JsonObject();
    input.addProperty("version", expected + 1);
    input.addProperty("expected", expected);
    return op(
        "activate",
        key,
        input,
        true,
        () -> node.rotate(key, expected, run.requestId("activate")),
        r -> OperationValues.versionObject(r.version()),
        NodeApi.Rotated::revision,
        e ->
            // Only VERSION_CONFLICT is the compare-and-set not matching; other rule
            // rejections (ROTATION_PENDING, ...) were simply not applied.
            "VERSION_CONFLICT".equals(e.reasonOrEmpty())
                ? e.describe()
                : "REJECTED " + e.reasonOrEmpty() + ": " + e.getMessage());
  }

  NodeApi.Encrypted encrypt(String key, String plaintext) {
    JsonObject input = new JsonObject();
    input.addProperty("plaintext", plaintext);
    return op(
        "encrypt",
        key,
        input,
        false,
        () -> node.encrypt(key, plaintext.getBytes(StandardCharsets.UTF_8)),
        OperationValues::encrypted,
        null,
        null);
  }

  /** A decrypt of a base64 {@code ciphertext} of {@code key}, recorded as {@code f}. */
  void decrypt(
      String f, String key, String ciphertext, Function<NodeApi.Decrypted, JsonElement> output) {
    JsonObject input = new JsonObject();
    input.addProperty("ciphertext", ciphertext);
    op(
        f,
        key,
        input,
        false,
        () -> node.decrypt(Base64.getDecoder().decode(ciphertext)),
        output,
        null,
        null);
  }

  /** Disables or enables one version: the history records a disable or an enable. */
  NodeApi.KeyView setEnabled(String key, int version, boolean enabled) {
    JsonObject input = new JsonObject();
    input.addProperty("version", version);
    return op(
        enabled ? "enable" : "disable",
        key,
        input,
        true,
        () -> node.setVersionEnabled(key, version, enabled, run.requestId("status")),
        v -> null,
        NodeApi.KeyView::revision,
        null);
  }

  /** Removes the key's rotation period ({@code stop-schedule}), under a request id per key. */
  NodeApi.KeyView stopSchedule(String key) {
    String requestId = "chaos-" + run.config.runId() + "-stop-schedule-" + key;
    return op(
        "stop-schedule",
        key,
        null,
        true,
        () -> node.clearRotationPeriod(key, requestId),
        v -> null,
        NodeApi.KeyView::revision,
        null);
  }
}
