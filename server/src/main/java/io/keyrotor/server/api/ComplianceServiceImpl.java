package io.keyrotor.server.api;

import io.grpc.stub.StreamObserver;
import io.keyrotor.api.v1.ComplianceReportChunk;
import io.keyrotor.api.v1.ComplianceServiceGrpc;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.StreamComplianceReportRequest;
import io.keyrotor.server.access.Operation;
import io.keyrotor.server.access.Target;
import java.time.Instant;
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
    ComplianceReports.Query query;
    try {
      writes.authorize(Operation.STREAM_COMPLIANCE_REPORT, Target.cluster());
      query = ComplianceReports.Query.of(request);
    } catch (RuntimeException e) {
      response.onError(calls.toStatus(e));
      return;
    }
    ChunkStream.afterReadBarrier(
        calls,
        response,
        blockingExecutor,
        state -> {
          ComplianceReports.Snapshot snapshot = ComplianceReports.read(state);
          long now = query.asOfMillis() == 0 ? context.clock().millis() : query.asOfMillis();
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
        ApiErrors::internal);
  }
}
