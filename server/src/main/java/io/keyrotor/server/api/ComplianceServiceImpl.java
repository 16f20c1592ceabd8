package io.keyrotor.server.api;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.keyrotor.api.v1.ComplianceReportChunk;
import io.keyrotor.api.v1.ComplianceServiceGrpc;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.StreamComplianceReportRequest;
import io.keyrotor.server.access.Operation;
import io.keyrotor.server.access.Target;
import java.time.Instant;
import java.util.Iterator;
import java.util.concurrent.Executor;

/**
 * The compliance report over gRPC: the caller needs READ_AUDIT on the cluster; the report is read
 * after the linearizable read barrier from this node's state at one applied index ({@link
 * ComplianceReports#read}, on the blocking executor), then streamed as the client takes it (the
 * next chunk is made only when the transport is ready for it), so a large cluster's report never
 * sits whole in memory or in one message.
 */
public final class ComplianceServiceImpl extends ComplianceServiceGrpc.ComplianceServiceImplBase {
  private final ServerContext context;
  private final Calls calls;
  private final WritePath writes;
  private final Executor blockingExecutor;
  private final TemplateZones templateZones;

  /**
   * @param writes its authorisation step decides on the caller
   * @param blockingExecutor where the state is read and the report's chunks are made
   */
  public ComplianceServiceImpl(ServerContext context, WritePath writes, Executor blockingExecutor) {
    this.context = context;
    this.calls = new Calls(context);
    this.writes = writes;
    this.blockingExecutor = blockingExecutor;
    this.templateZones = new TemplateZones(context.config().compliance());
  }

  @Override
  public void streamComplianceReport(
      StreamComplianceReportRequest request, StreamObserver<ComplianceReportChunk> response) {
    ServerCallStreamObserver<ComplianceReportChunk> call =
        (ServerCallStreamObserver<ComplianceReportChunk>) response;
    ComplianceReports.Query query;
    try {
      writes.authorize(Operation.STREAM_COMPLIANCE_REPORT, Target.cluster());
      query = ComplianceReports.Query.of(request);
    } catch (RuntimeException e) {
      response.onError(calls.toStatus(e));
      return;
    }
    Stream stream = new Stream(call);
    call.setOnReadyHandler(() -> blockingExecutor.execute(stream::drain));
    call.setOnCancelHandler(stream::cancel);
    var unusedStart =
        calls
            .afterReadBarrier(state -> state)
            .thenApplyAsync(
                state -> {
                  ComplianceReports.Snapshot snapshot = ComplianceReports.read(state);
                  long now =
                      query.asOfMillis() == 0 ? context.clock().millis() : query.asOfMillis();
                  if (now < snapshot.lastCommandTimeMillis()) {
                    throw ApiErrors.invalid(
                        "as_of_time",
                        ErrorReason.INVALID_TIME,
                        "as_of_time "
                            + Instant.ofEpochMilli(now)
                            + " is before the last applied command's time "
                            + Instant.ofEpochMilli(snapshot.lastCommandTimeMillis()));
                  }
                  return ComplianceReports.chunks(
                      snapshot, query, templateZones, context.config().nodeId(), now);
                },
                blockingExecutor)
            .whenComplete(
                (chunks, failure) -> {
                  if (failure != null) {
                    stream.fail(calls.toStatus(failure));
                  } else {
                    stream.start(chunks);
                    blockingExecutor.execute(stream::drain);
                  }
                });
  }

  /** One report stream: sends chunks while the transport is ready, and completes once. */
  private static final class Stream {
    private final ServerCallStreamObserver<ComplianceReportChunk> call;
    private Iterator<ComplianceReportChunk> chunks;
    private boolean done;

    Stream(ServerCallStreamObserver<ComplianceReportChunk> call) {
      this.call = call;
    }

    synchronized void start(Iterator<ComplianceReportChunk> chunks) {
      this.chunks = chunks;
    }

    synchronized void drain() {
      if (done || chunks == null) {
        return;
      }
      try {
        while (call.isReady() && chunks.hasNext()) {
          call.onNext(chunks.next());
        }
        if (!chunks.hasNext()) {
          done = true;
          call.onCompleted();
        }
      } catch (RuntimeException e) {
        done = true;
        if (!call.isCancelled()) {
          call.onError(ApiErrors.internal(e));
        }
      }
    }

    synchronized void fail(RuntimeException status) {
      if (!done) {
        done = true;
        if (!call.isCancelled()) {
          call.onError(status);
        }
      }
    }

    synchronized void cancel() {
      done = true;
    }
  }
}
