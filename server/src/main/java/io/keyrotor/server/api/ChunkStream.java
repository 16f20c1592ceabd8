package io.keyrotor.server.api;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.keyrotor.storage.StateView;
import java.util.Iterator;
import java.util.concurrent.Executor;
import java.util.function.Function;

/**
 * One server stream whose messages are made from this node's state after the linearizable read
 * barrier and sent as the client takes them: the next message is made only when the transport is
 * ready for it, on the blocking executor, so a large answer (a backup file, a compliance report)
 * never sits whole in memory or in one message. The stream completes or fails once; a cancelled
 * call stops it, and a source that holds resources ({@link AutoCloseable}, e.g. a RocksDB snapshot)
 * is closed when the stream fails or is cancelled.
 *
 * @param <T> the streamed message
 */
final class ChunkStream<T> {
  private final ServerCallStreamObserver<T> call;
  private final Function<RuntimeException, RuntimeException> failures;
  private Iterator<T> chunks;
  private boolean done;

  private ChunkStream(
      ServerCallStreamObserver<T> call, Function<RuntimeException, RuntimeException> failures) {
    this.call = call;
    this.failures = failures;
  }

  /**
   * Streams to {@code response} (a server call's observer) the messages of {@code open}, applied on
   * {@code blockingExecutor} to this node's state once the read barrier passed. The caller was
   * authorised before. A failure of the barrier or of {@code open} ends the call with its status; a
   * failure while making a message ends it with {@code failures} of it.
   */
  static <T> void afterReadBarrier(
      Calls calls,
      StreamObserver<T> response,
      Executor blockingExecutor,
      Function<StateView, ? extends Iterator<T>> open,
      Function<RuntimeException, RuntimeException> failures) {
    ServerCallStreamObserver<T> call = (ServerCallStreamObserver<T>) response;
    ChunkStream<T> stream = new ChunkStream<>(call, failures);
    call.setOnReadyHandler(() -> blockingExecutor.execute(stream::drain));
    call.setOnCancelHandler(stream::cancel);
    var unusedStart =
        calls
            .afterReadBarrier(state -> state)
            .thenApplyAsync(open, blockingExecutor)
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

  private synchronized void start(Iterator<T> opened) {
    if (done) {
      close(opened);
      return;
    }
    this.chunks = opened;
  }

  private synchronized void drain() {
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
      close(chunks);
      if (!call.isCancelled()) {
        call.onError(failures.apply(e));
      }
    }
  }

  private synchronized void fail(RuntimeException status) {
    if (!done) {
      done = true;
      if (!call.isCancelled()) {
        call.onError(status);
      }
    }
  }

  private synchronized void cancel() {
    done = true;
    if (chunks != null) {
      close(chunks);
    }
  }

  private static void close(Iterator<?> source) {
    if (source instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception e) {
        // Releasing the source failed; the call is answered already and has nothing to add.
      }
    }
  }
}
