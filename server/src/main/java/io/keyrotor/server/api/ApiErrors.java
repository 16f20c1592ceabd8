package io.keyrotor.server.api;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.keyrotor.api.v1.ItemStatus;
import io.keyrotor.consensus.ConsensusException;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.proto.internal.v1.CommandResultRecord;
import io.keyrotor.server.dataplane.DataPlaneException;
import java.util.Map;
import java.util.function.Function;

/**
 * The one place where failures become gRPC statuses: a canonical code, a message a person
 * understands, and a google.rpc.ErrorInfo with a reason word and (for NOT_LEADER) where to go.
 * Messages never carry key material.
 */
public final class ApiErrors {
  /** The ErrorInfo domain of every keyrotor error. */
  public static final String DOMAIN = "keyrotor.io";

  private ApiErrors() {}

  public static StatusRuntimeException error(Code code, String reason, String message) {
    return error(code, reason, message, Map.of());
  }

  public static StatusRuntimeException error(
      Code code, String reason, String message, Map<String, String> metadata) {
    ErrorInfo info =
        ErrorInfo.newBuilder().setDomain(DOMAIN).setReason(reason).putAllMetadata(metadata).build();
    com.google.rpc.Status status =
        com.google.rpc.Status.newBuilder()
            .setCode(code.getNumber())
            .setMessage(message)
            .addDetails(Any.pack(info))
            .build();
    return StatusProto.toStatusRuntimeException(status);
  }

  public static StatusRuntimeException invalid(String reason, String message) {
    return error(Code.INVALID_ARGUMENT, reason, message);
  }

  /** The status of a command that the state machine rejected (never OK). */
  public static StatusRuntimeException fromOutcome(CommandResultRecord outcome) {
    Code code = Code.forNumber(outcome.getCode());
    return error(
        code == null ? Code.INTERNAL : code,
        outcome.getReason().isEmpty() ? "REJECTED" : outcome.getReason(),
        outcome.getMessage());
  }

  /**
   * The status of a request the Raft group could not serve: UNAVAILABLE (retryable) with the
   * leader's API address when known, or DEADLINE_EXCEEDED when the outcome is unknown.
   */
  public static StatusRuntimeException fromConsensus(
      ConsensusException e, Function<String, String> apiAddressOfNode) {
    switch (e.kind()) {
      case NOT_LEADER -> {
        String leader = e.leaderId().orElse("");
        String address = leader.isEmpty() ? null : apiAddressOfNode.apply(leader);
        return error(
            Code.UNAVAILABLE,
            "NOT_LEADER",
            "this node is not the leader"
                + (address == null ? "" : "; the leader is " + leader + " at " + address),
            address == null ? Map.of() : Map.of("leader", address, "leader_id", leader));
      }
      case NO_LEADER -> {
        return error(
            Code.UNAVAILABLE,
            "NO_LEADER",
            "no leader is available right now (an election may be under way); retry shortly");
      }
      case TIMEOUT -> {
        return error(
            Code.UNAVAILABLE,
            "NO_QUORUM",
            "the cluster did not answer in time: no leader or no quorum is reachable; a write"
                + " may or may not have been applied, so retry it with the same request id");
      }
      case NOT_RUNNING -> {
        return error(Code.UNAVAILABLE, "SHUTTING_DOWN", "this node is shutting down");
      }
      default -> {
        return error(Code.UNAVAILABLE, "CONSENSUS_FAILED", "the cluster failed: " + e.getMessage());
      }
    }
  }

  /** The status of an HSM failure. */
  public static StatusRuntimeException fromHsm(HsmException e, String zone) {
    return switch (e.reason()) {
      case HSM_UNAVAILABLE ->
          error(
              Code.UNAVAILABLE,
              "HSM_UNAVAILABLE",
              "this node's HSM is not available: " + e.getMessage(),
              Map.of("zone", zone));
      case ZONE_NOT_HELD ->
          error(
              Code.FAILED_PRECONDITION,
              "ZONE_NOT_HELD",
              "this node's HSM holds no master key for zone \"" + zone + "\"",
              Map.of("zone", zone));
      case UNWRAP_FAILED ->
          error(
              Code.DATA_LOSS,
              "UNWRAP_FAILED",
              "wrapped key material failed its integrity check: " + e.getMessage(),
              Map.of("zone", zone));
      default -> error(Code.INTERNAL, e.reason().name(), "HSM error: " + e.getMessage());
    };
  }

  /**
   * The status of a refused data-plane request. ZONE_NOT_HELD is not mapped here: the caller adds
   * the nodes that hold the zone (see {@code KeyServiceImpl.zoneNotHeld}).
   */
  public static StatusRuntimeException fromDataPlane(DataPlaneException e) {
    if (e.getCause() instanceof HsmException hsm
        && e.reason() != DataPlaneException.Reason.ZONE_NOT_HELD) {
      StatusRuntimeException base = fromHsm(hsm, e.zone());
      return error(
          Code.forNumber(base.getStatus().getCode().value()),
          reasonOf(base),
          e.getMessage(),
          e.metadata());
    }
    Code code =
        switch (e.reason()) {
          case INVALID_CIPHERTEXT,
              PAYLOAD_TOO_LARGE,
              INVALID_CONTEXT,
              INVALID_KEY_NAME,
              INVALID_DATA_KEY_SPEC,
              BATCH_TOO_LARGE ->
              Code.INVALID_ARGUMENT;
          case KEY_NOT_FOUND -> Code.NOT_FOUND;
          case NO_PRIMARY_VERSION,
              VERSION_PENDING,
              VERSION_DISABLED,
              VERSION_DESTROY_SCHEDULED,
              VERSION_DESTROYED,
              VERSION_CANCELLED,
              BELOW_MIN_DECRYPTION_VERSION,
              BELOW_MIN_ENCRYPTION_VERSION,
              ZONE_NOT_HELD ->
              Code.FAILED_PRECONDITION;
          case HSM_UNAVAILABLE -> Code.UNAVAILABLE;
          case UNWRAP_FAILED -> Code.DATA_LOSS;
          case HSM_FAILED -> Code.INTERNAL;
        };
    return error(code, e.reason().name(), e.getMessage(), e.metadata());
  }

  /** The per-item status of a batch call for a failure status (code, message, reason word). */
  public static ItemStatus itemStatus(StatusRuntimeException e) {
    return ItemStatus.newBuilder()
        .setCode(e.getStatus().getCode().value())
        .setMessage(e.getStatus().getDescription() == null ? "" : e.getStatus().getDescription())
        .setReason(reasonOf(e))
        .build();
  }

  /** The ErrorInfo reason of a status built here, or empty. */
  static String reasonOf(StatusRuntimeException e) {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    if (status != null) {
      for (Any detail : status.getDetailsList()) {
        if (detail.is(ErrorInfo.class)) {
          try {
            return detail.unpack(ErrorInfo.class).getReason();
          } catch (com.google.protobuf.InvalidProtocolBufferException ignored) {
            return "";
          }
        }
      }
    }
    return "";
  }

  /** A part of the API that this release does not implement yet. */
  public static StatusRuntimeException unimplemented(String method) {
    return error(
        Code.UNIMPLEMENTED,
        "NOT_IMPLEMENTED",
        method + " is part of the keyrotor API but is not implemented by this server yet");
  }
}
