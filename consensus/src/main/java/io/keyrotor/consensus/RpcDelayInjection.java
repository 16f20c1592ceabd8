package io.keyrotor.consensus;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.grpc.server.GrpcServicesImpl;
import org.apache.ratis.util.CodeInjectionForTesting;

/**
 * Delays the Raft requests this JVM sends, through Ratis's code injection point {@link
 * GrpcServicesImpl#GRPC_SEND_SERVER_REQUEST} (in main code: the gRPC log appender's appends and
 * heartbeats, votes, read-index requests). The chaos suite's slow link where the kernel has no
 * netem. The injection table is global to the JVM, which runs one node.
 */
final class RpcDelayInjection implements CodeInjectionForTesting.Code {
  private static volatile Duration installed = Duration.ZERO;

  private final long delayNanos;
  private final long jitterNanos;

  private RpcDelayInjection(Duration delay, Duration jitter) {
    this.delayNanos = delay.toNanos();
    this.jitterNanos = jitter.toNanos();
  }

  /** Installs a delay of {@code delay} plus up to {@code jitter}; zero and zero remove it. */
  static void install(Duration delay, Duration jitter) {
    if (delay.isNegative() || jitter.isNegative()) {
      throw new IllegalArgumentException("an RPC delay must not be negative");
    }
    installed = delay;
    if (delay.isZero() && jitter.isZero()) {
      CodeInjectionForTesting.remove(GrpcServicesImpl.GRPC_SEND_SERVER_REQUEST);
    } else {
      CodeInjectionForTesting.put(
          GrpcServicesImpl.GRPC_SEND_SERVER_REQUEST, new RpcDelayInjection(delay, jitter));
    }
  }

  /** The delay installed last (zero when none), without its jitter. */
  static Duration installedDelay() {
    return installed;
  }

  @Override
  public boolean execute(Object localId, Object remoteId, Object... args) {
    long nanos =
        delayNanos + (jitterNanos == 0 ? 0 : ThreadLocalRandom.current().nextLong(jitterNanos + 1));
    try {
      TimeUnit.NANOSECONDS.sleep(nanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return true;
  }
}
