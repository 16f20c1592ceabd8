package io.keyrotor.server.api;

import io.grpc.stub.StreamObserver;
import io.keyrotor.api.v1.DataAuditRecord;
import io.keyrotor.api.v1.DataAuditServiceGrpc;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.ListDataAuditRecordsRequest;
import io.keyrotor.server.access.Operation;
import io.keyrotor.server.access.Target;
import io.keyrotor.server.audit.DataAuditLog;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.Predicate;

/**
 * DataAuditService: streams the answering node's data audit records (its own log; each node keeps
 * its own) to a caller with PERMISSION_READ_AUDIT, filtered by time, key, principal and a sequence
 * cursor, at most {@value #MAX_LIMIT} per call. The file is read on the blocking pool, never on a
 * gRPC thread. Reading is not itself audited in the data stream (it would grow the log by reading
 * it); its refusals are, through the authoriser's denial records.
 */
public final class DataAuditServiceImpl extends DataAuditServiceGrpc.DataAuditServiceImplBase {
  /** Most records one call returns. */
  public static final int MAX_LIMIT = 1_000;

  static final int DEFAULT_LIMIT = 100;

  private final DataAuditLog log;
  private final WritePath access;
  private final Executor blocking;
  private final ErrorMapper errors;

  public DataAuditServiceImpl(
      ServerContext context, DataAuditLog log, WritePath access, Executor blocking) {
    this.log = log;
    this.access = access;
    this.blocking = blocking;
    this.errors = context.errors();
  }

  @Override
  public void listDataAuditRecords(
      ListDataAuditRecordsRequest request, StreamObserver<DataAuditRecord> response) {
    int limit;
    try {
      limit = checked(request);
      access.authorize(Operation.LIST_DATA_AUDIT_RECORDS, Target.cluster());
    } catch (RuntimeException refused) {
      response.onError(errors.toStatus(refused));
      return;
    }
    Predicate<DataAuditRecord> filter = filter(request);
    try {
      blocking.execute(
          () -> {
            List<DataAuditRecord> records;
            try {
              records = log.read(request.getAfterSequence(), limit, filter);
            } catch (IOException e) {
              response.onError(
                  AuditedCalls.unavailable(
                      new IOException("the data audit log cannot be read: " + e.getMessage(), e)));
              return;
            }
            records.forEach(response::onNext);
            response.onCompleted();
          });
    } catch (RuntimeException rejected) {
      response.onError(errors.toStatus(rejected));
    }
  }

  /** The limit to use; INVALID_ARGUMENT INVALID_AUDIT_QUERY for filters that cannot be served. */
  private static int checked(ListDataAuditRecordsRequest request) {
    if (request.getLimit() > MAX_LIMIT) {
      throw ApiErrors.invalid(
          "limit",
          ErrorReason.INVALID_AUDIT_QUERY,
          "limit " + request.getLimit() + " is above the most one call returns, " + MAX_LIMIT);
    }
    if (request.getSinceUnixMillis() < 0 || request.getUntilUnixMillis() < 0) {
      throw ApiErrors.invalid(
          request.getSinceUnixMillis() < 0 ? "since_unix_millis" : "until_unix_millis",
          ErrorReason.INVALID_AUDIT_QUERY,
          "since and until are Unix milliseconds, 0 or more");
    }
    if (request.getUntilUnixMillis() != 0
        && request.getUntilUnixMillis() < request.getSinceUnixMillis()) {
      throw ApiErrors.invalid(
          "until_unix_millis", ErrorReason.INVALID_AUDIT_QUERY, "until is before since");
    }
    return request.getLimit() == 0 ? DEFAULT_LIMIT : request.getLimit();
  }

  private static Predicate<DataAuditRecord> filter(ListDataAuditRecordsRequest request) {
    long since = request.getSinceUnixMillis();
    long until = request.getUntilUnixMillis();
    String key = request.getKeyName();
    String principal = request.getPrincipal();
    return r ->
        r.getTimeUnixMillis() >= since
            && (until == 0 || r.getTimeUnixMillis() < until)
            && (key.isEmpty() || key.equals(r.getKeyName()))
            && (principal.isEmpty() || principal.equals(r.getPrincipal()));
  }
}
