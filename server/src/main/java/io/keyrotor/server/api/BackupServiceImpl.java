package io.keyrotor.server.api;

import io.grpc.stub.StreamObserver;
import io.keyrotor.api.v1.BackupChunk;
import io.keyrotor.api.v1.BackupServiceGrpc;
import io.keyrotor.api.v1.CreateBackupRequest;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.server.access.Operation;
import io.keyrotor.server.access.Target;
import io.keyrotor.server.audit.AuditSigner;
import io.keyrotor.storage.StateExport;
import io.keyrotor.storage.StorageException;
import java.util.concurrent.Executor;

/**
 * Backups over gRPC: the caller needs ADMINISTER on the cluster. After the linearizable read
 * barrier (so every write acknowledged before the call is in it) the node opens a RocksDB snapshot
 * of its state store and streams the backup file made from it ({@link BackupChunks}) as the client
 * takes it, on the blocking executor; the file is signed with this node's audit key. Apply goes on
 * meanwhile; writes applied after the snapshot are not in the backup.
 */
public final class BackupServiceImpl extends BackupServiceGrpc.BackupServiceImplBase {
  private final ServerContext context;
  private final Calls calls;
  private final WritePath writes;
  private final AuditSigner signer;
  private final Executor blockingExecutor;

  public BackupServiceImpl(
      ServerContext context, WritePath writes, AuditSigner signer, Executor blockingExecutor) {
    this.context = context;
    this.calls = new Calls(context);
    this.writes = writes;
    this.signer = signer;
    this.blockingExecutor = blockingExecutor;
  }

  @Override
  public void createBackup(CreateBackupRequest request, StreamObserver<BackupChunk> response) {
    try {
      writes.authorize(Operation.CREATE_BACKUP, Target.cluster());
    } catch (RuntimeException e) {
      response.onError(calls.toStatus(e));
      return;
    }
    ChunkStream.afterReadBarrier(
        calls,
        response,
        blockingExecutor,
        state -> {
          AuditSigner.SigningKey key = signer.signingKey(state);
          StateExport export;
          try {
            export = context.raft().exports().export();
          } catch (StorageException e) {
            throw moving(e);
          }
          try {
            return new BackupChunks(
                export,
                signer,
                key,
                context.config().clusterName(),
                context.config().nodeId(),
                context.clock().millis());
          } catch (RuntimeException e) {
            export.close();
            throw e;
          }
        },
        BackupServiceImpl::failure);
  }

  /** The status a backup stream ends with when making a chunk failed. */
  private static RuntimeException failure(RuntimeException e) {
    if (e instanceof StorageException storage) {
      return moving(storage);
    }
    return e instanceof io.grpc.StatusRuntimeException ? e : ApiErrors.internal(e);
  }

  private static RuntimeException moving(StorageException e) {
    return ApiErrors.unavailable(
        ErrorReason.BACKUP_STATE_MOVING,
        "the state store could not be read at one index ("
            + e.getMessage()
            + "): a snapshot from the leader replaced it or the node is stopping; retry",
        1000);
  }
}
