package io.keyrotor.server.api;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.keyrotor.api.v1.AuditCheckpoint;
import io.keyrotor.api.v1.AuditExportItem;
import io.keyrotor.api.v1.AuditHashOnly;
import io.keyrotor.api.v1.AuditKeyRegistration;
import io.keyrotor.api.v1.AuditServiceGrpc;
import io.keyrotor.api.v1.CreateAuditCheckpointRequest;
import io.keyrotor.api.v1.CreateAuditCheckpointResponse;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.ExportAuditRequest;
import io.keyrotor.api.v1.GetAuditKeysRequest;
import io.keyrotor.api.v1.GetAuditKeysResponse;
import io.keyrotor.api.v1.RotateAuditKeyRequest;
import io.keyrotor.consensus.ConsensusException;
import io.keyrotor.proto.internal.v1.AuditRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.RecordAuditCheckpoint;
import io.keyrotor.server.access.Operation;
import io.keyrotor.server.access.Target;
import io.keyrotor.server.audit.AuditSigner;
import io.keyrotor.storage.StateView;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * AuditService: the replicated audit chain streamed out with filters, the registered audit keys,
 * and checkpoints and key rotations on demand. Reads pass the linearizable read barrier first, so
 * an export covers every write acknowledged before it started. An export streams with gRPC flow
 * control (a caller that does not read is sent nothing more) and at most {@link #MAX_ITEMS} items
 * per call; the caller resumes from the last index it received.
 */
public final class AuditServiceImpl extends AuditServiceGrpc.AuditServiceImplBase {
  /** The most items one ExportAudit call streams, and its default. */
  public static final int MAX_ITEMS = 10_000;

  /** The longest key name or principal a filter may name. */
  private static final int MAX_FILTER_BYTES = 1024;

  /** Records read from RocksDB at a time. */
  private static final int PAGE = 256;

  private final ServerContext context;
  private final Calls calls;
  private final WritePath writes;
  private final AuditSigner signer;
  private final Executor blockingExecutor;

  public AuditServiceImpl(
      ServerContext context, WritePath writes, AuditSigner signer, Executor blockingExecutor) {
    this.context = context;
    this.calls = new Calls(context);
    this.writes = writes;
    this.signer = signer;
    this.blockingExecutor = blockingExecutor;
  }

  @Override
  public void exportAudit(ExportAuditRequest request, StreamObserver<AuditExportItem> response) {
    ServerCallStreamObserver<AuditExportItem> call =
        (ServerCallStreamObserver<AuditExportItem>) response;
    try {
      writes.authorize(Operation.EXPORT_AUDIT, Target.cluster());
      validate(request);
    } catch (StatusRuntimeException e) {
      response.onError(e);
      return;
    }
    // gRPC takes the call's handlers only now, during this first call; they do nothing until the
    // stream starts.
    ExportStream stream = new ExportStream(request, call);
    call.setOnCancelHandler(stream::cancel);
    call.setOnReadyHandler(stream::drain);
    // Answered from the callback: the stream starts once the barrier passed.
    var unusedStart =
        calls
            .bounded(context.raft().readBarrier())
            .whenCompleteAsync(
                (index, failure) -> {
                  if (failure != null) {
                    response.onError(calls.toStatus(failure));
                    return;
                  }
                  stream.start(context.raft().state());
                },
                blockingExecutor);
  }

  private static void validate(ExportAuditRequest request) {
    if (request.getMaxItems() > MAX_ITEMS) {
      throw ApiErrors.error(
          com.google.rpc.Code.INVALID_ARGUMENT,
          ErrorReason.AUDIT_EXPORT_TOO_LARGE,
          "max_items is at most "
              + MAX_ITEMS
              + " per call, not "
              + request.getMaxItems()
              + "; resume with after_index set to the last index received",
          Map.of("limit", Integer.toString(MAX_ITEMS)));
    }
    if (request.getSinceUnixMillis() < 0 || request.getUntilUnixMillis() < 0) {
      throw ApiErrors.invalid(
          request.getSinceUnixMillis() < 0 ? "since_unix_millis" : "until_unix_millis",
          ErrorReason.INVALID_ARGUMENT,
          "since and until are not negative");
    }
    if (request.getUntilUnixMillis() != 0
        && request.getUntilUnixMillis() < request.getSinceUnixMillis()) {
      throw ApiErrors.invalid(
          "until_unix_millis", ErrorReason.INVALID_ARGUMENT, "until is before since");
    }
    if (request.getKeyName().getBytes(StandardCharsets.UTF_8).length > MAX_FILTER_BYTES
        || request.getPrincipal().getBytes(StandardCharsets.UTF_8).length > MAX_FILTER_BYTES) {
      throw ApiErrors.invalid(
          request.getKeyName().getBytes(StandardCharsets.UTF_8).length > MAX_FILTER_BYTES
              ? "key_name"
              : "principal",
          ErrorReason.REQUEST_TOO_LARGE,
          "a key name or principal filter is at most " + MAX_FILTER_BYTES + " bytes");
    }
  }

  /** One export call: pages of records turned into items, sent while the caller reads. */
  private static final class ExportStream {
    private final ExportAuditRequest request;
    private final ServerCallStreamObserver<AuditExportItem> call;
    private StateView state;
    private final Deque<AuditRecord> page = new ArrayDeque<>();
    private long nextIndex;
    // The last record sent: the records of a batch entry share its log index (batch_position).
    private long sentIndex = -1;
    private int sentPosition = -1;
    private long endIndex;
    private int remaining;
    private boolean done;

    ExportStream(ExportAuditRequest request, ServerCallStreamObserver<AuditExportItem> call) {
      this.request = request;
      this.call = call;
      this.remaining = request.getMaxItems() == 0 ? MAX_ITEMS : request.getMaxItems();
    }

    synchronized void start(StateView applied) {
      state = applied;
      Optional<AuditRecord> last = state.lastAudit();
      endIndex =
          request.getToIndex() != 0
              ? request.getToIndex()
              : last.map(AuditRecord::getLogIndex).orElse(0L);
      nextIndex = request.getAfterIndex() + 1;
      if (request.getSinceUnixMillis() > 0) {
        Optional<Long> first = state.firstAuditIndexAtOrAfter(request.getSinceUnixMillis());
        nextIndex = first.isEmpty() ? Long.MAX_VALUE : Math.max(nextIndex, first.get());
      }
      drain();
    }

    private synchronized void cancel() {
      done = true;
    }

    private synchronized void drain() {
      if (state == null) {
        return; // not started: the barrier has not passed yet
      }
      try {
        while (!done && call.isReady()) {
          if (remaining == 0 || nextIndex > endIndex) {
            finish();
            return;
          }
          if (page.isEmpty()) {
            refill();
            if (page.isEmpty()) {
              finish();
              return;
            }
          }
          AuditRecord record = page.removeFirst();
          if (record.getLogIndex() > endIndex) {
            finish();
            return;
          }
          call.onNext(item(record));
          nextIndex = record.getLogIndex() + 1;
          sentIndex = record.getLogIndex();
          sentPosition = record.getBatchPosition();
          remaining--;
        }
      } catch (RuntimeException e) {
        done = true;
        call.onError(ApiErrors.internal(e));
      }
    }

    /**
     * The next page: from the last record's index when one was sent (a page may end amid a batch
     * entry's records), skipping what was sent.
     */
    private void refill() {
      if (sentIndex < 0 || nextIndex != sentIndex + 1) {
        page.addAll(state.audit(nextIndex, Math.min(PAGE, remaining)));
        return;
      }
      for (AuditRecord record :
          state.audit(
              sentIndex, (int) Math.min(PAGE + sentPosition + 1L, remaining + sentPosition + 1L))) {
        if (record.getLogIndex() > sentIndex || record.getBatchPosition() > sentPosition) {
          page.add(record);
        }
      }
    }

    private void finish() {
      done = true;
      call.onCompleted();
    }

    private AuditExportItem item(AuditRecord record) {
      boolean matches =
          (request.getKeyName().isEmpty() || request.getKeyName().equals(record.getKeyName()))
              && (request.getPrincipal().isEmpty()
                  || request.getPrincipal().equals(record.getPrincipal()))
              && (request.getUntilUnixMillis() == 0
                  || record.getTimeUnixMillis() <= request.getUntilUnixMillis());
      if (!matches) {
        return AuditExportItem.newBuilder()
            .setHashOnly(
                AuditHashOnly.newBuilder()
                    .setLogIndex(record.getLogIndex())
                    .setPreviousHash(record.getPreviousHash())
                    .setHash(record.getHash()))
            .build();
      }
      return AuditExportItem.newBuilder().setRecord(publicRecord(record)).build();
    }
  }

  /** The stored record as the public message: the same fields, the same encoding. */
  static io.keyrotor.api.v1.AuditRecord publicRecord(AuditRecord record) {
    try {
      return io.keyrotor.api.v1.AuditRecord.parseFrom(record.toByteString());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("a stored audit record does not parse", e);
    }
  }

  @Override
  public void getAuditKeys(
      GetAuditKeysRequest request, StreamObserver<GetAuditKeysResponse> response) {
    calls.answer(
        response,
        () -> {
          writes.authorize(Operation.GET_AUDIT_KEYS, Target.cluster());
          return calls.afterReadBarrier(
              state -> {
                GetAuditKeysResponse.Builder keys = GetAuditKeysResponse.newBuilder();
                for (NodeRecord node : state.nodes().values()) {
                  keys.addAllKeys(node.getAuditKeysList());
                }
                return keys.build();
              });
        });
  }

  /**
   * CreateAuditCheckpoint: on the leader only (others answer UNAVAILABLE NOT_LEADER with the
   * leader's address, which the SDK follows), after the read barrier the node signs its last record
   * with its audit key and proposes the checkpoint with the caller's principal.
   */
  @Override
  public void createAuditCheckpoint(
      CreateAuditCheckpointRequest request,
      StreamObserver<CreateAuditCheckpointResponse> response) {
    calls.answer(
        response,
        () -> {
          Write write =
              new Write(
                  Operation.CREATE_AUDIT_CHECKPOINT,
                  Target.cluster(),
                  Requests.requestId(""),
                  Write.Needs.STATE_AND_PEERS,
                  (command, sources) -> {
                    requireLeader();
                    AuditCheckpoint checkpoint = signer.sign(sources.state());
                    command.setRecordAuditCheckpoint(
                        RecordAuditCheckpoint.newBuilder().setCheckpoint(checkpoint));
                  });
          return writes
              .submit(write)
              .thenApply(
                  result ->
                      CreateAuditCheckpointResponse.newBuilder()
                          .setRecordIndex(result.getOutcome().getAppliedIndex())
                          .setCheckpoint(checkpointAt(result.getOutcome().getAppliedIndex()))
                          .build());
        });
  }

  private void requireLeader() {
    if (!context.raft().isReadyLeader()) {
      throw ApiErrors.fromConsensus(
          new ConsensusException(
              ConsensusException.Kind.NOT_LEADER,
              "audit checkpoints are signed by the leader",
              context.raft().leaderId().orElse(null),
              null),
          context::apiAddressOf);
    }
  }

  private AuditCheckpoint checkpointAt(long recordIndex) {
    return context.raft().state().audit(recordIndex, 1).stream()
        .filter(r -> r.getLogIndex() == recordIndex && r.hasCheckpoint())
        .findFirst()
        .map(AuditRecord::getCheckpoint)
        .orElseThrow(() -> new IllegalStateException("no checkpoint at index " + recordIndex));
  }

  @Override
  public void rotateAuditKey(
      RotateAuditKeyRequest request, StreamObserver<AuditKeyRegistration> response) {
    calls.answer(
        response,
        () -> {
          writes.authorize(Operation.ROTATE_AUDIT_KEY, Target.cluster());
          CompletableFuture<AuditKeyRegistration> rotated = new CompletableFuture<>();
          // The HSM generates on the blocking executor; the registration completes `rotated`.
          blockingExecutor.execute(
              () -> {
                var unusedForwarded =
                    signer
                        .rotate()
                        .whenComplete(
                            (key, failure) -> {
                              if (failure != null) {
                                rotated.completeExceptionally(failure);
                              } else {
                                rotated.complete(key);
                              }
                            });
              });
          return calls.bounded(rotated);
        });
  }
}
