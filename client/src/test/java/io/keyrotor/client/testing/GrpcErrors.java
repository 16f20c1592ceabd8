package io.keyrotor.client.testing;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.Map;

/** Builds errors the way the keyrotor server sends them: a status with an ErrorInfo detail. */
public final class GrpcErrors {

  private GrpcErrors() {}

  public static StatusRuntimeException error(
      Status.Code code, String reason, String message, Map<String, String> metadata) {
    ErrorInfo info =
        ErrorInfo.newBuilder()
            .setDomain("keyrotor.io")
            .setReason(reason)
            .putAllMetadata(metadata)
            .build();
    com.google.rpc.Status status =
        com.google.rpc.Status.newBuilder()
            .setCode(code.value())
            .setMessage(message)
            .addDetails(Any.pack(info))
            .build();
    return StatusProto.toStatusRuntimeException(status);
  }

  public static StatusRuntimeException notLeader(String leaderAddress, String leaderId) {
    return error(
        Status.Code.UNAVAILABLE,
        "NOT_LEADER",
        "this node is not the leader; the leader is " + leaderId + " at " + leaderAddress,
        Map.of("leader", leaderAddress, "leader_id", leaderId));
  }

  /** RESOURCE_EXHAUSTED QUOTA_EXCEEDED with a RetryInfo of {@code retryAfter}. */
  public static StatusRuntimeException quotaExceeded(java.time.Duration retryAfter) {
    return resourceExhausted(
        "QUOTA_EXCEEDED", "principal \"service\" is over its quota \"q\"", retryAfter);
  }

  /** RESOURCE_EXHAUSTED HSM_BUSY with a RetryInfo of {@code retryAfter}. */
  public static StatusRuntimeException hsmBusy(java.time.Duration retryAfter) {
    return resourceExhausted("HSM_BUSY", "the node's HSM queue is full", retryAfter);
  }

  private static StatusRuntimeException resourceExhausted(
      String reason, String message, java.time.Duration retryAfter) {
    com.google.rpc.Status status =
        com.google.rpc.Status.newBuilder()
            .setCode(Status.Code.RESOURCE_EXHAUSTED.value())
            .setMessage(message)
            .addDetails(
                Any.pack(ErrorInfo.newBuilder().setDomain("keyrotor.io").setReason(reason).build()))
            .addDetails(
                Any.pack(
                    com.google.rpc.RetryInfo.newBuilder()
                        .setRetryDelay(
                            com.google.protobuf.Duration.newBuilder()
                                .setSeconds(retryAfter.getSeconds())
                                .setNanos(retryAfter.getNano()))
                        .build()))
            .build();
    return StatusProto.toStatusRuntimeException(status);
  }

  public static StatusRuntimeException noLeader() {
    return error(
        Status.Code.UNAVAILABLE, "NO_LEADER", "no leader: an election is under way", Map.of());
  }

  public static StatusRuntimeException keyNotFound(String name) {
    return error(
        Status.Code.NOT_FOUND,
        "KEY_NOT_FOUND",
        "key \"" + name + "\" not found",
        Map.of("key", name));
  }
}
