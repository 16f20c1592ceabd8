package io.keyrotor.chaos.workload;

import io.grpc.StatusRuntimeException;

/** Test access to {@link GrpcNodeApi}'s package-private error classification. */
public final class GrpcNodeApiAccess {
  private GrpcNodeApiAccess() {}

  public static OpError classify(StatusRuntimeException e) {
    return GrpcNodeApi.classify(e);
  }
}
