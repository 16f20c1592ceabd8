package io.keyrotor.server.api;

import com.google.rpc.Code;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.storage.IntegrityStatus;
import io.keyrotor.storage.StateView;
import java.util.function.Supplier;

/**
 * Refuses every call while the node's state store failed its integrity check (its data does not
 * match its stored digest; see {@link IntegrityStatus}): UNAVAILABLE with {@link
 * ErrorReason#STATE_INTEGRITY_FAILED}, so clients go to another node, and nothing read from the
 * damaged state reaches a caller. The check runs in the background after the store opens; until it
 * fails the node serves.
 */
public final class IntegrityGate implements ServerInterceptor {
  private final Supplier<StateView> state;

  public IntegrityGate(Supplier<StateView> state) {
    this.state = state;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    StateView current = state.get();
    IntegrityStatus integrity = current == null ? IntegrityStatus.CHECKING : current.integrity();
    if (integrity.failed()) {
      StatusRuntimeException refused = refusal(integrity);
      call.close(refused.getStatus(), refused.getTrailers());
      return new ServerCall.Listener<>() {};
    }
    return next.startCall(call, headers);
  }

  /** The refusal a node whose state failed its integrity check answers with. */
  static StatusRuntimeException refusal(IntegrityStatus integrity) {
    return ApiErrors.error(
        Code.UNAVAILABLE,
        ErrorReason.STATE_INTEGRITY_FAILED,
        "this node's stored state failed its integrity check and it serves nothing; use another"
            + " node (operators: "
            + integrity.detail()
            + ")");
  }
}
