package io.keyrotor.server.api;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.keyrotor.api.v1.ErrorReason;
import io.keyrotor.api.v1.ItemStatus;
import io.keyrotor.consensus.ConsensusException;
import io.keyrotor.hsm.HsmException;
import io.keyrotor.proto.internal.v1.CommandResultRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.server.access.Operation;
import io.keyrotor.server.access.Target;
import io.keyrotor.server.dataplane.DataPlaneException;
import io.keyrotor.server.dataplane.HsmFailures;
import io.keyrotor.server.hsm.HsmExecutor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The one place where failures become gRPC statuses: a canonical code, a message a person
 * understands, and a google.rpc.ErrorInfo (domain {@value #DOMAIN}) whose reason is the name of a
 * value of the public catalogue {@link ErrorReason}, and (for NOT_LEADER) where to go. Reasons are
 * typed: no method here takes a reason as a string, so a status built here can only carry a
 * catalogue name. Messages never carry key material.
 *
 * <p>{@link ErrorMapper} applies these to the failures of a call (consensus, HSM, data plane).
 */
public final class ApiErrors {
  /** The ErrorInfo domain of every keyrotor error. */
  public static final String DOMAIN = "keyrotor.io";

  private ApiErrors() {}

  public static StatusRuntimeException error(Code code, ErrorReason reason, String message) {
    return error(code, reason, message, Map.of());
  }

  public static StatusRuntimeException error(
      Code code, ErrorReason reason, String message, Map<String, String> metadata) {
    return status(code, reason, message, metadata).build();
  }

  private static Built status(
      Code code, ErrorReason reason, String message, Map<String, String> metadata) {
    ErrorInfo info =
        ErrorInfo.newBuilder()
            .setDomain(DOMAIN)
            .setReason(reason.name())
            .putAllMetadata(metadata)
            .build();
    return new Built(
        com.google.rpc.Status.newBuilder()
            .setCode(code.getNumber())
            .setMessage(message)
            .addDetails(Any.pack(info)),
        reason);
  }

  /**
   * A status being built: ErrorInfo first, then any further details. Every UNAVAILABLE status gets
   * a google.rpc.RetryInfo when nothing more specific was added: the condition passes (a leader is
   * elected, a node comes back), so a retry after the delay can work.
   */
  private static final class Built {
    private final com.google.rpc.Status.Builder status;
    private final ErrorReason reason;
    private boolean retryInfo;

    Built(com.google.rpc.Status.Builder status, ErrorReason reason) {
      this.status = status;
      this.reason = reason;
    }

    Built with(com.google.protobuf.Message detail) {
      retryInfo |= detail instanceof RetryInfo;
      status.addDetails(Any.pack(detail));
      return this;
    }

    StatusRuntimeException build() {
      if (!retryInfo && status.getCode() == Code.UNAVAILABLE_VALUE) {
        with(retryInfo(unavailableRetryDelay(reason)));
      }
      return StatusProto.toStatusRuntimeException(status.build());
    }
  }

  /**
   * How long a caller refused with UNAVAILABLE {@code reason} waits before retrying: a redirect to
   * the leader at once, an election or a node's restart about a second.
   */
  static Duration unavailableRetryDelay(ErrorReason reason) {
    return switch (reason) {
      case NOT_LEADER -> Duration.ofMillis(50);
      case NO_LEADER, ENCRYPTION_RESERVATION_UNAVAILABLE -> Duration.ofMillis(500);
      default -> Duration.ofSeconds(1);
    };
  }

  /** A google.rpc.RetryInfo asking the caller to wait {@code delay} before retrying. */
  private static RetryInfo retryInfo(Duration delay) {
    return RetryInfo.newBuilder()
        .setRetryDelay(
            com.google.protobuf.Duration.newBuilder()
                .setSeconds(delay.getSeconds())
                .setNanos(delay.getNano()))
        .build();
  }

  /** A google.rpc.BadRequest whose one FieldViolation names the request field at fault. */
  private static BadRequest badRequest(String field, String description) {
    return BadRequest.newBuilder()
        .addFieldViolations(
            BadRequest.FieldViolation.newBuilder().setField(field).setDescription(description))
        .build();
  }

  /**
   * RESOURCE_EXHAUSTED QUOTA_EXCEEDED: the caller's quota has no token for this call; a
   * google.rpc.RetryInfo says when it will (metadata "quota" names the quota, "retry_after_millis"
   * repeats the delay for clients that read only ErrorInfo).
   */
  public static StatusRuntimeException quotaExceeded(
      String quota, Duration retryAfter, String message) {
    long millis = Math.max(1, retryAfter.toMillis());
    return status(
            Code.RESOURCE_EXHAUSTED,
            ErrorReason.QUOTA_EXCEEDED,
            message,
            Map.of("quota", quota, "retry_after_millis", Long.toString(millis)))
        .with(retryInfo(Duration.ofMillis(millis)))
        .build();
  }

  /**
   * INVALID_ARGUMENT about request field {@code field} (its name in the proto, dotted for a nested
   * one): refused before anything was proposed. A google.rpc.BadRequest FieldViolation names the
   * field, so a client can point at it without parsing the message.
   */
  public static StatusRuntimeException invalid(String field, ErrorReason reason, String message) {
    return invalid(field, reason, message, Map.of());
  }

  /** {@link #invalid(String, ErrorReason, String)} with ErrorInfo metadata. */
  public static StatusRuntimeException invalid(
      String field, ErrorReason reason, String message, Map<String, String> metadata) {
    return status(Code.INVALID_ARGUMENT, reason, message, metadata)
        .with(badRequest(field, message))
        .build();
  }

  /**
   * INVALID_ARGUMENT about the request as a whole (its bytes do not parse as the request message),
   * so no field is named.
   */
  public static StatusRuntimeException malformedRequest(ErrorReason reason, String message) {
    return error(Code.INVALID_ARGUMENT, reason, message);
  }

  /**
   * The status of a command that the state machine rejected (never OK). The state machine records
   * its reason as a string ({@code CommandResultRecord.reason}); a name the catalogue does not hold
   * (an older or newer node's word, or none) becomes {@link ErrorReason#REJECTED}.
   */
  public static StatusRuntimeException fromOutcome(CommandResultRecord outcome) {
    Code code = Code.forNumber(outcome.getCode());
    ErrorReason reason = catalogued(outcome.getReason());
    Optional<String> field = code == Code.INVALID_ARGUMENT ? fieldOf(reason) : Optional.empty();
    return field.isPresent()
        ? invalid(field.get(), reason, outcome.getMessage())
        : error(code == null ? Code.INTERNAL : code, reason, outcome.getMessage());
  }

  /**
   * The request field an INVALID_ARGUMENT reason is about when only the reason is known (a command
   * the state machine refused, a data-plane refusal): the field's name in the requests that carry
   * it. Empty for reasons that name no single field.
   */
  static Optional<String> fieldOf(ErrorReason reason) {
    return Optional.ofNullable(
        switch (reason) {
          case INVALID_KEY_NAME -> "key_name";
          case INVALID_CIPHERTEXT -> "ciphertext";
          case PAYLOAD_TOO_LARGE -> "plaintext";
          case INVALID_CONTEXT -> "context";
          case INVALID_DATA_KEY_SPEC -> "spec";
          case BATCH_TOO_LARGE -> "items";
          case INVALID_POLICY, ROTATION_PERIOD_TOO_SHORT -> "rotation_policy";
          case INVALID_ZONE -> "zone";
          case INVALID_LABEL -> "labels";
          case INVALID_VERSION -> "version";
          case INVALID_REQUEST_ID -> "request_id";
          default -> null;
        });
  }

  /** The catalogue value named {@code reason}, or {@link ErrorReason#REJECTED}. */
  static ErrorReason catalogued(String reason) {
    ErrorReason value;
    try {
      value = ErrorReason.valueOf(reason);
    } catch (IllegalArgumentException | NullPointerException e) {
      return ErrorReason.REJECTED;
    }
    return value == ErrorReason.UNRECOGNIZED || value == ErrorReason.ERROR_REASON_UNSPECIFIED
        ? ErrorReason.REJECTED
        : value;
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
            ErrorReason.NOT_LEADER,
            "this node is not the leader"
                + (address == null ? "" : "; the leader is " + leader + " at " + address),
            address == null ? Map.of() : Map.of("leader", address, "leader_id", leader));
      }
      case NO_LEADER -> {
        return error(
            Code.UNAVAILABLE,
            ErrorReason.NO_LEADER,
            "no leader is available right now (an election may be under way); retry shortly");
      }
      case TIMEOUT -> {
        return error(
            Code.UNAVAILABLE,
            ErrorReason.NO_QUORUM,
            "the cluster did not answer in time: no leader or no quorum is reachable; a write"
                + " may or may not have been applied, so retry it with the same request id");
      }
      case NOT_RUNNING -> {
        return shuttingDown();
      }
      case CLOCK_UNSAFE -> {
        return error(
            Code.UNAVAILABLE,
            ErrorReason.CLOCK_UNSAFE,
            "the leader's clock disagrees with the cluster's, so it accepted no write (nothing was"
                + " changed): "
                + e.getMessage());
      }
      default -> {
        return error(
            Code.UNAVAILABLE,
            ErrorReason.CONSENSUS_FAILED,
            "the cluster failed: " + e.getMessage());
      }
    }
  }

  /** UNAVAILABLE: this node is shutting down. */
  public static StatusRuntimeException shuttingDown() {
    return error(Code.UNAVAILABLE, ErrorReason.SHUTTING_DOWN, "this node is shutting down");
  }

  /**
   * The status of an HSM failure about {@code zone}: HSM_UNAVAILABLE (UNAVAILABLE), ZONE_NOT_HELD
   * (FAILED_PRECONDITION), UNWRAP_FAILED and KEK_CHECK_FAILED (DATA_LOSS), or HSM_FAILED (INTERNAL)
   * for anything else.
   */
  public static StatusRuntimeException fromHsm(HsmException e, String zone) {
    ErrorReason reason = HsmFailures.reasonOf(e.reason());
    return switch (reason) {
      case HSM_UNAVAILABLE ->
          error(
              Code.UNAVAILABLE,
              reason,
              "this node's HSM is not available: " + e.getMessage(),
              Map.of("zone", zone));
      case ZONE_NOT_HELD ->
          error(
              Code.FAILED_PRECONDITION,
              reason,
              "this node's HSM holds no master key for zone \"" + zone + "\"",
              Map.of("zone", zone));
      case UNWRAP_FAILED ->
          error(
              Code.DATA_LOSS,
              reason,
              "wrapped key material failed its integrity check: " + e.getMessage(),
              Map.of("zone", zone));
      case KEK_CHECK_FAILED -> error(Code.DATA_LOSS, reason, e.getMessage(), Map.of("zone", zone));
      default -> error(Code.INTERNAL, reason, "HSM error: " + e.getMessage());
    };
  }

  /**
   * The status of a refused data-plane request. ZONE_NOT_HELD is better answered by {@link
   * #zoneNotHeld}, which names the nodes that hold the zone ({@link ErrorMapper} does).
   */
  public static StatusRuntimeException fromDataPlane(DataPlaneException e) {
    Code code = codeOfDataPlane(e.reason());
    Built status = status(code, e.reason(), e.getMessage(), e.metadata());
    Optional<String> field = code == Code.INVALID_ARGUMENT ? fieldOf(e.reason()) : Optional.empty();
    field.ifPresent(name -> status.with(badRequest(name, e.getMessage())));
    // A retry delay when retrying can work (a version activates).
    String retryAfter = e.metadata().get("retry_after_millis");
    if (retryAfter != null) {
      status.with(retryInfo(Duration.ofMillis(Long.parseLong(retryAfter))));
    }
    return status.build();
  }

  /** UNAVAILABLE with {@code reason} and a google.rpc.RetryInfo of {@code delayMillis}. */
  public static StatusRuntimeException unavailable(
      ErrorReason reason, String message, long delayMillis) {
    return status(Code.UNAVAILABLE, reason, message, Map.of())
        .with(retryInfo(Duration.ofMillis(delayMillis)))
        .build();
  }

  private static Code codeOfDataPlane(ErrorReason reason) {
    return switch (reason) {
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
      case HSM_UNAVAILABLE, ENCRYPTION_RESERVATION_UNAVAILABLE -> Code.UNAVAILABLE;
      case ENCRYPTION_LIMIT_REACHED -> Code.RESOURCE_EXHAUSTED;
      case UNWRAP_FAILED, KEK_CHECK_FAILED -> Code.DATA_LOSS;
      default -> Code.INTERNAL;
    };
  }

  /**
   * A key of {@code zone} cannot be served by node {@code nodeId}: FAILED_PRECONDITION
   * ZONE_NOT_HELD naming the registered nodes that hold it (metadata {@code nodes}: their API
   * addresses), or NOT_FOUND ZONE_NOT_FOUND if none does.
   */
  public static StatusRuntimeException zoneNotHeld(
      String zone, String nodeId, Collection<NodeRecord> registeredNodes) {
    List<String> holders = new ArrayList<>();
    List<String> addresses = new ArrayList<>();
    for (NodeRecord node : registeredNodes) {
      if (node.getZonesList().contains(zone)) {
        holders.add(node.getId() + " (" + node.getApiAddress() + ")");
        addresses.add(node.getApiAddress());
      }
    }
    if (holders.isEmpty()) {
      return error(
          Code.NOT_FOUND,
          ErrorReason.ZONE_NOT_FOUND,
          "no node of this cluster holds zone \"" + zone + "\"; create its master key first",
          Map.of("zone", zone));
    }
    return error(
        Code.FAILED_PRECONDITION,
        ErrorReason.ZONE_NOT_HELD,
        "node "
            + nodeId
            + " does not hold zone \""
            + zone
            + "\"; nodes that do: "
            + String.join(", ", holders),
        Map.of("zone", zone, "nodes", String.join(",", addresses)));
  }

  /** NOT_FOUND KEY_NOT_FOUND. */
  public static StatusRuntimeException keyNotFound(String name) {
    return error(
        Code.NOT_FOUND,
        ErrorReason.KEY_NOT_FOUND,
        "key \"" + name + "\" not found",
        Map.of("key", name));
  }

  /**
   * PERMISSION_DENIED: the authorisation step refused {@code operation} on {@code target}, for
   * {@code why}; nothing was proposed.
   */
  public static StatusRuntimeException permissionDenied(
      Operation operation, Target target, String why) {
    return error(
        Code.PERMISSION_DENIED,
        ErrorReason.PERMISSION_DENIED,
        operation.fullMethodName()
            + " on "
            + target
            + " is not permitted"
            + (why.isEmpty() ? "" : ": " + why),
        Map.of(
            "operation",
            operation.fullMethodName(),
            "target",
            target.kind() == Target.Kind.CLUSTER ? "cluster" : target.name()));
  }

  /** UNAUTHENTICATED: the call carries no authenticated principal. */
  public static StatusRuntimeException unauthenticated(String why) {
    return error(Code.UNAUTHENTICATED, ErrorReason.UNAUTHENTICATED, why);
  }

  /** How long a caller refused by a full HSM queue is told to wait before it retries. */
  public static final Duration HSM_BUSY_RETRY_DELAY = Duration.ofMillis(200);

  /**
   * RESOURCE_EXHAUSTED HSM_BUSY: an HSM queue (minting, or the data plane's unwraps and batches) is
   * full; nothing was done, and a {@code google.rpc.RetryInfo} says how long to wait before
   * retrying ({@link #HSM_BUSY_RETRY_DELAY}).
   */
  public static StatusRuntimeException hsmSaturated(HsmExecutor.Saturated e) {
    return status(
            Code.RESOURCE_EXHAUSTED,
            ErrorReason.HSM_BUSY,
            e.getMessage(),
            Map.of("retry_after_millis", Long.toString(HSM_BUSY_RETRY_DELAY.toMillis())))
        .with(retryInfo(HSM_BUSY_RETRY_DELAY))
        .build();
  }

  /** INTERNAL: a failure nothing above explains, a bug. */
  public static StatusRuntimeException internal(Throwable failure) {
    return error(Code.INTERNAL, ErrorReason.INTERNAL, "unexpected server error: " + failure);
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
    return errorInfo(e).map(ErrorInfo::getReason).orElse("");
  }

  /** The ErrorInfo detail of a status (its first, as built here), if it has one that parses. */
  public static Optional<ErrorInfo> errorInfo(StatusRuntimeException e) {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    if (status != null) {
      for (Any detail : status.getDetailsList()) {
        if (detail.is(ErrorInfo.class)) {
          try {
            return Optional.of(detail.unpack(ErrorInfo.class));
          } catch (com.google.protobuf.InvalidProtocolBufferException ignored) {
            return Optional.empty();
          }
        }
      }
    }
    return Optional.empty();
  }

  /** A part of the API that this release does not implement yet. */
  public static StatusRuntimeException unimplemented(String method) {
    return error(
        Code.UNIMPLEMENTED,
        ErrorReason.NOT_IMPLEMENTED,
        method + " is part of the keyrotor API but is not implemented by this server yet");
  }
}
