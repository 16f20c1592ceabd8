package io.keyrotor.server.api;

import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.keyrotor.storage.StateView;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * How a call is answered: its work (validation that throws, then a future) becomes one reply, or
 * one status through the {@link ErrorMapper}; and how a read reads: after the linearizable read
 * barrier, from this node's applied state.
 */
final class Calls {
  private final ServerContext context;
  private final ErrorMapper errors;

  Calls(ServerContext context) {
    this.context = context;
    this.errors = context.errors();
  }

  /**
   * Answers {@code response} with what {@code work} completes with. Work that throws before it
   * returns a future (validation: INVALID_ARGUMENT) is answered at once; a failure of the future
   * goes through the error mapper.
   */
  <T> void answer(StreamObserver<T> response, Supplier<CompletableFuture<T>> work) {
    CompletableFuture<T> future;
    try {
      future = work.get();
    } catch (RuntimeException e) {
      response.onError(errors.toStatus(e));
      return;
    }
    // Every outcome, failures included, is answered from the callback.
    var unusedAnswer =
        future.whenComplete(
            (value, failure) -> {
              if (failure != null) {
                response.onError(errors.toStatus(failure));
                return;
              }
              response.onNext(value);
              response.onCompleted();
            });
  }

  /** {@code read} of this node's state once the read barrier passed (bounded by the timeout). */
  <T> CompletableFuture<T> afterReadBarrier(Function<StateView, T> read) {
    return context
        .bounded(context.raft().readBarrier())
        .thenApply(index -> read.apply(context.raft().state()));
  }

  /** {@code future} bounded by the request timeout. */
  <T> CompletableFuture<T> bounded(CompletableFuture<T> future) {
    return context.bounded(future);
  }

  /** The status of {@code failure}, for code that answers outside {@link #answer}. */
  StatusRuntimeException toStatus(Throwable failure) {
    return errors.toStatus(failure);
  }
}
