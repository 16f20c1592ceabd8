package io.keyrotor.client;

import io.keyrotor.api.v1.AuditExportItem;
import io.keyrotor.api.v1.AuditKeyRegistration;
import io.keyrotor.api.v1.ComplianceReportChunk;
import io.keyrotor.api.v1.ComplianceServiceGrpc;
import io.keyrotor.api.v1.CreateAuditCheckpointRequest;
import io.keyrotor.api.v1.CreateAuditCheckpointResponse;
import io.keyrotor.api.v1.ExportAuditRequest;
import io.keyrotor.api.v1.GetAuditKeysRequest;
import io.keyrotor.api.v1.GetAuditKeysResponse;
import io.keyrotor.api.v1.RotateAuditKeyRequest;
import io.keyrotor.api.v1.StreamComplianceReportRequest;
import io.keyrotor.client.CallRunner.RetryMode;
import java.util.List;

/**
 * What an auditor asks a cluster, through the same endpoints, retries and deadlines as the rest of
 * {@link KeyrotorClient} ({@link KeyrotorClient#audit()}): the audit trail (AuditService: export,
 * the audit public keys, checkpoints, audit key rotation) and the compliance report
 * (ComplianceService).
 */
public final class AuditCalls {
  private final CallRunner calls;

  AuditCalls(CallRunner calls) {
    this.calls = calls;
  }

  /** Items one export call asks for: well under the server's limit, so a page fits a deadline. */
  private static final int AUDIT_PAGE = 2_000;

  /**
   * Streams the audit chain as {@code request} selects it to {@code sink}, in log order, one page
   * call after another (each resumes after the last index received; a failed page is retried whole,
   * so no item is passed twice). {@code request.max_items} and {@code after_index} are the client's
   * to set; the other fields are sent as given.
   *
   * @return how many items were passed
   */
  public long exportAudit(
      ExportAuditRequest request, java.util.function.Consumer<AuditExportItem> sink) {
    long afterIndex = request.getAfterIndex();
    long passed = 0;
    while (true) {
      ExportAuditRequest page =
          request.toBuilder().setAfterIndex(afterIndex).setMaxItems(AUDIT_PAGE).build();
      List<AuditExportItem> items =
          calls.read(
              "ExportAudit",
              (e, t) -> {
                List<AuditExportItem> received = new java.util.ArrayList<>();
                e.audit(t).exportAudit(page).forEachRemaining(received::add);
                return received;
              });
      for (AuditExportItem item : items) {
        sink.accept(item);
        afterIndex =
            item.hasRecord() ? item.getRecord().getLogIndex() : item.getHashOnly().getLogIndex();
      }
      passed += items.size();
      if (items.size() < AUDIT_PAGE) {
        return passed;
      }
    }
  }

  /** Every registered audit public key of every node, every version. */
  public GetAuditKeysResponse auditKeys() {
    return calls.read(
        "GetAuditKeys",
        (e, t) -> e.audit(t).getAuditKeys(GetAuditKeysRequest.getDefaultInstance()));
  }

  /**
   * Has the leader sign the chain's head now; returns once the checkpoint is applied. Retried only
   * on UNAVAILABLE (a follower's NOT_LEADER sends it to the leader).
   */
  public CreateAuditCheckpointResponse createAuditCheckpoint() {
    return calls.writeWithoutRequestId(
        "CreateAuditCheckpoint",
        (e, t) ->
            e.audit(t).createAuditCheckpoint(CreateAuditCheckpointRequest.getDefaultInstance()));
  }

  /** The node at {@code endpoint} generates and registers the next version of its audit key. */
  public AuditKeyRegistration rotateAuditKey(String endpoint) {
    return calls.on(
        Endpoints.validate(endpoint),
        "RotateAuditKey",
        RetryMode.UNAVAILABLE_ONLY,
        (e, t) -> e.audit(t).rotateAuditKey(RotateAuditKeyRequest.getDefaultInstance()));
  }

  /**
   * The compliance report (needs READ_AUDIT): every chunk of the stream, header first and summary
   * last, all read by one node at one applied index. A failure part-way (the node went away, the
   * state kept moving) asks again from the start, so the chunks returned always come from one
   * stream; the whole report is held in memory.
   */
  public List<ComplianceReportChunk> complianceReport(StreamComplianceReportRequest request) {
    return calls.read(
        "StreamComplianceReport",
        (e, t) -> {
          List<ComplianceReportChunk> chunks = new java.util.ArrayList<>();
          ComplianceServiceGrpc.newBlockingStub(e.channel)
              .withDeadlineAfter(t, java.util.concurrent.TimeUnit.NANOSECONDS)
              .streamComplianceReport(request)
              .forEachRemaining(chunks::add);
          return List.copyOf(chunks);
        });
  }
}
