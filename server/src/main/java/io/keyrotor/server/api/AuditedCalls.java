package io.keyrotor.server.api;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.keyrotor.api.v1.DataAuditRecord;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.server.access.Caller;
import io.keyrotor.server.access.Operation;
import io.keyrotor.server.access.Principal;
import io.keyrotor.server.audit.DataAuditLog;
import io.keyrotor.server.audit.RequestIds;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Puts the calls a node answers without the log (the data plane, key reads, refusals) into its
 * {@link DataAuditLog}: one record per call, written after the call's outcome is known and, when
 * {@code audit.data.failure-mode=closed}, before the caller sees it. A record that cannot be
 * written (the log fails, or its queue is full) then fails the call UNAVAILABLE AUDIT_UNAVAILABLE,
 * whatever it would have returned; with {@code open} the call is answered at once and its record
 * written behind it (dropped, and counted, when it cannot be).
 *
 * <p>A record names who (the authenticated principal), what (the gRPC method), which key and
 * version (from the reply, or from the request or the ciphertext's header when the call failed),
 * how it ended (status code and ErrorReason), the caller's x-request-id, and for a batch how many
 * items and failures. It never holds plaintext, key material, ciphertext or context values: what is
 * needed to answer "who used which key when, and was it allowed" and nothing a reader of the log
 * could decrypt with.
 */
final class AuditedCalls {
  /** What a call's reply says about the key it used. */
  record Facts(String keyName, int version, String destinationKeyName, int items, int failedItems) {
    static final Facts NONE = new Facts("", 0, "", 0, 0);

    static Facts key(String keyName, int version) {
      return new Facts(keyName, version, "", 0, 0);
    }
  }

  private final DataAuditLog logOrNull;
  private final boolean failClosed;
  private final ErrorMapper errors;
  private final Clock clock;
  private final Duration timeout;

  /**
   * @param logOrNull null: no audit (in-process test services)
   * @param timeout how long a call waits for its record before it fails as unaudited
   */
  AuditedCalls(
      DataAuditLog logOrNull,
      boolean failClosed,
      ErrorMapper errors,
      Clock clock,
      Duration timeout) {
    this.logOrNull = logOrNull;
    this.failClosed = failClosed;
    this.errors = errors;
    this.clock = clock;
    this.timeout = timeout;
  }

  /**
   * {@code result}, audited as a call of {@code operation}: completes as {@code result} does once
   * its record is written (closed), or fails AUDIT_UNAVAILABLE when it cannot be. Call on the
   * calling thread: the principal and request id are read from the call's context here.
   *
   * @param keyOnFailure the key to name when the call failed (the request's, or the ciphertext's)
   * @param facts what a reply says about the key used
   */
  <T> CompletableFuture<T> audited(
      Operation operation,
      Supplier<String> keyOnFailure,
      CompletableFuture<T> result,
      Function<T, Facts> facts) {
    return afterOutcome(
        result,
        (principal, requestId, value, failure, answered) -> {
          DataAuditRecord.Builder record;
          try {
            record = record(operation, principal, requestId, keyOnFailure, value, failure, facts);
          } catch (RuntimeException e) {
            // A reply the facts could not be read from is still audited, as a bare record.
            record = base(operation, principal, requestId).setCode(Code.INTERNAL_VALUE);
          }
          CompletableFuture<Void> written = logOrNull.append(record);
          if (!failClosed) {
            complete(answered, value, failure);
            return;
          }
          var unusedWait =
              written
                  .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                  .whenComplete(
                      (done, auditFailure) -> {
                        if (auditFailure == null) {
                          complete(answered, value, failure);
                        } else {
                          answered.completeExceptionally(unavailable(auditFailure));
                        }
                      });
        });
  }

  /**
   * {@code result}, with a record written only when it is a refusal (PERMISSION_DENIED,
   * UNAUTHENTICATED, QUOTA_EXCEEDED): for writes, whose accepted commands the replicated audit
   * chain records. The refusal reaches the caller either way.
   */
  <T> CompletableFuture<T> auditedIfRefused(
      Operation operation, String keyName, CompletableFuture<T> result) {
    return afterOutcome(
        result,
        (principal, requestId, value, failure, answered) -> {
          if (failure == null) {
            answered.complete(value);
            return;
          }
          StatusRuntimeException status = errors.toStatus(failure);
          String reason = reasonOf(status);
          Code code = Code.forNumber(status.getStatus().getCode().value());
          if (code != Code.PERMISSION_DENIED
              && code != Code.UNAUTHENTICATED
              && !ErrorReason.QUOTA_EXCEEDED.name().equals(reason)) {
            answered.completeExceptionally(failure);
            return;
          }
          var unusedWrite =
              logOrNull
                  .append(
                      base(operation, principal, requestId)
                          .setKeyName(keyName)
                          .setCode(code.getNumber())
                          .setReason(reason))
                  .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                  .whenComplete((done, auditFailure) -> answered.completeExceptionally(failure));
        });
  }

  /** What a wrapper does once a call's outcome is known; it completes {@code answered}. */
  @FunctionalInterface
  private interface OutcomeHandler<T> {
    void handle(
        String principal,
        String requestId,
        T value,
        Throwable failure,
        CompletableFuture<T> answered);
  }

  /**
   * {@code result} as {@code handler} answers it once complete (with no log, {@code result} as it
   * is). The principal and request id are read here, on the calling thread, from the call's
   * context: the callback may run on another thread.
   */
  private <T> CompletableFuture<T> afterOutcome(
      CompletableFuture<T> result, OutcomeHandler<T> handler) {
    if (logOrNull == null) {
      return result;
    }
    String principal = Caller.current().map(Principal::name).orElse("");
    String requestId = RequestIds.current();
    CompletableFuture<T> answered = new CompletableFuture<>();
    var unused =
        result.whenComplete(
            (value, failure) -> handler.handle(principal, requestId, value, failure, answered));
    return answered;
  }

  private <T> DataAuditRecord.Builder record(
      Operation operation,
      String principal,
      String requestId,
      Supplier<String> keyOnFailure,
      T value,
      Throwable failure,
      Function<T, Facts> facts) {
    DataAuditRecord.Builder record = base(operation, principal, requestId);
    if (failure != null) {
      StatusRuntimeException status = errors.toStatus(failure);
      return record
          .setKeyName(keyOnFailure.get())
          .setCode(status.getStatus().getCode().value())
          .setReason(reasonOf(status));
    }
    Facts f = facts.apply(value);
    return record
        .setKeyName(f.keyName())
        .setKeyVersion(f.version())
        .setDestinationKeyName(f.destinationKeyName())
        .setItems(f.items())
        .setFailedItems(f.failedItems())
        .setCode(Code.OK_VALUE);
  }

  private DataAuditRecord.Builder base(Operation operation, String principal, String requestId) {
    return DataAuditRecord.newBuilder()
        .setTimeUnixMillis(clock.millis())
        .setPrincipal(principal)
        .setMethod(operation.fullMethodName())
        .setRequestId(requestId);
  }

  private static <T> void complete(CompletableFuture<T> answered, T value, Throwable failure) {
    if (failure != null) {
      answered.completeExceptionally(failure);
    } else {
      answered.complete(value);
    }
  }

  /** UNAVAILABLE AUDIT_UNAVAILABLE, saying why the record could not be written. */
  static StatusRuntimeException unavailable(Throwable auditFailure) {
    Throwable cause = auditFailure.getCause() != null ? auditFailure.getCause() : auditFailure;
    String why =
        auditFailure instanceof DataAuditLog.Unavailable
            ? auditFailure.getMessage()
            : cause instanceof java.util.concurrent.TimeoutException
                ? "the data audit log did not write the record in time"
                : String.valueOf(cause.getMessage());
    return ApiErrors.error(
        Code.UNAVAILABLE,
        ErrorReason.AUDIT_UNAVAILABLE,
        "this node could not audit the call, so it returns no result"
            + " (audit.data.failure-mode=closed): "
            + why);
  }

  /** The ErrorInfo reason of {@code status}, or "". */
  static String reasonOf(StatusRuntimeException status) {
    com.google.rpc.Status detailed = StatusProto.fromThrowable(status);
    if (detailed == null) {
      return "";
    }
    for (Any detail : detailed.getDetailsList()) {
      if (detail.is(ErrorInfo.class)) {
        try {
          return detail.unpack(ErrorInfo.class).getReason();
        } catch (InvalidProtocolBufferException e) {
          return "";
        }
      }
    }
    return "";
  }
}
