package io.keyrotor.server;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.KeyServiceGrpc;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;

/**
 * Calls the cluster the way a client does: one node after another, following NOT_LEADER hints,
 * retrying UNAVAILABLE and timed-out attempts with a short backoff, within a bounded number of
 * attempts. Every other status is thrown at once.
 */
final class RetryingCaller {
  private static final int MAX_ATTEMPTS = 400;

  private final LocalTestCluster cluster;
  private final List<String> endpoints;
  private int next;
  private int retries;

  /** A caller that knows every node of the cluster, running or not. */
  RetryingCaller(LocalTestCluster cluster) {
    this.cluster = cluster;
    this.endpoints = new java.util.ArrayList<>();
    for (int i = 1; i <= cluster.size; i++) {
      endpoints.add("n" + i);
    }
  }

  /** How many attempts failed retryably so far. */
  int retries() {
    return retries;
  }

  <T> T call(Function<KeyServiceGrpc.KeyServiceBlockingStub, T> rpc) {
    StatusRuntimeException last = null;
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      String node = endpoints.get(Math.floorMod(next, endpoints.size()));
      try {
        return rpc.apply(cluster.keys(node, Duration.ofSeconds(5)));
      } catch (StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        if (code != Status.Code.UNAVAILABLE && code != Status.Code.DEADLINE_EXCEEDED) {
          throw e;
        }
        last = e;
        retries++;
        String leader = GrpcErrors.metadata(e).get("leader");
        String hinted = leader == null ? null : cluster.idOfAddress(leader);
        if (hinted != null && !hinted.equals(node)) {
          next = endpoints.indexOf(hinted);
          continue;
        }
        next++;
        backoff(attempt);
      }
    }
    throw new AssertionError("no node answered after " + MAX_ATTEMPTS + " attempts", last);
  }

  private static void backoff(int attempt) {
    try {
      Thread.sleep(Math.min(200, 10L * (1 + attempt % 20)));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }
}
