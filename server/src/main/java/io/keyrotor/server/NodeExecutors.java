package io.keyrotor.server;

import com.google.common.util.concurrent.ThreadFactoryBuilder;
import io.keyrotor.server.hsm.HsmExecutor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;

/**
 * The thread pools a node starts for itself (Ratis, the HSM tasks, the rotation engine and event
 * watchers have their own), all of daemon threads.
 *
 * @param blocking {@code keyrotor-admin}: work that waits on other nodes (cluster status, building
 *     a zone master key rotation)
 * @param scheduler {@code keyrotor-scheduler}: registration retries and KEK cache sweeps
 * @param dataPlane {@code keyrotor-dataplane-N}: HSM unwraps on a KEK cache miss, and batch calls;
 *     never a Raft or gRPC I/O thread. Its queue is bounded ({@code hsm.queue-capacity}): when it
 *     is full a call is refused at once (RESOURCE_EXHAUSTED HSM_BUSY, retry after a delay) instead
 *     of waiting behind an unbounded backlog of 10,000-item batches.
 * @param api {@code keyrotor-api}: the gRPC handlers
 */
record NodeExecutors(
    ExecutorService blocking,
    ScheduledExecutorService scheduler,
    HsmExecutor dataPlane,
    ExecutorService api) {

  static NodeExecutors create(int dataPlaneQueueCapacity) {
    int cores = Runtime.getRuntime().availableProcessors();
    return new NodeExecutors(
        Executors.newCachedThreadPool(daemon("keyrotor-admin")),
        Executors.newSingleThreadScheduledExecutor(daemon("keyrotor-scheduler")),
        new HsmExecutor(Math.max(2, cores), dataPlaneQueueCapacity, "keyrotor-dataplane-"),
        // Handlers never wait on the network (proposals, read barriers and the data plane
        // complete asynchronously; watchers and admin calls have their own threads), so a small
        // fixed pool serves them: grpc-java's default cached pool cost reads and the data plane
        // 2-3x their throughput on two cores (docs/benchmarks-history.md, "gRPC server executor").
        Executors.newFixedThreadPool(Math.max(4, 2 * cores), daemon("keyrotor-api")));
  }

  private static ThreadFactory daemon(String name) {
    return new ThreadFactoryBuilder().setNameFormat(name).setDaemon(true).build();
  }
}
