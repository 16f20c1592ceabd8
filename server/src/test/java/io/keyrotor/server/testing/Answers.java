package io.keyrotor.server.testing;

import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** Answers of asynchronous calls (gRPC stubs, in-process services, futures) in tests. */
public final class Answers {
  private Answers() {}

  /**
   * An observer completing {@code answer} with the first response or the call's failure; a stream
   * that ends without a response fails it.
   */
  public static <T> StreamObserver<T> completing(CompletableFuture<T> answer) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        answer.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        answer.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        answer.completeExceptionally(new AssertionError("the stream ended without a response"));
      }
    };
  }

  /**
   * The value of {@code future}, waiting at most 30 seconds; a failure is thrown as its cause, so a
   * test can assert on the exception the call failed with.
   */
  public static <T> T await(CompletableFuture<T> future) throws Exception {
    try {
      return future.get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Exception cause) {
        throw cause;
      }
      throw e;
    }
  }
}
