package io.keyrotor.bench;

import com.google.common.util.concurrent.ListenableFuture;

/** One asynchronous request of a scenario; {@code sequence} counts from 0 per measurement. */
@FunctionalInterface
public interface Operation {
  ListenableFuture<?> start(long sequence);
}
