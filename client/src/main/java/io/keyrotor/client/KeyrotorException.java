package io.keyrotor.client;

import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import io.keyrotor.api.v1.ErrorReason;
import java.security.cert.CertificateException;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import javax.net.ssl.SSLException;

/**
 * A keyrotor call that failed: the gRPC status code, the server's {@code google.rpc.ErrorInfo}
 * reason and metadata when it sent one, and a message meant for a person.
 *
 * <p>Reasons are the names of {@link ErrorReason} values, the public catalogue in {@code
 * keyrotor.v1}: the server sends them in the domain {@value #DOMAIN} ({@code KEY_NOT_FOUND}, {@code
 * KEY_EXISTS}, {@code NOT_LEADER}, ...), and the SDK raises its own for failures that never reached
 * a server or happened in the caller's process ({@link ErrorReason#NO_SERVER_REACHABLE}, {@link
 * ErrorReason#DEADLINE_EXHAUSTED}, {@link ErrorReason#PAGE_TOKEN_REPEATED}, {@link
 * ErrorReason#LISTENER_FAILED}). Switch on {@link #errorReason()}; {@link #reason()} keeps the name
 * exactly as received, including names a newer server sends that this SDK does not know.
 */
public final class KeyrotorException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** The ErrorInfo domain of errors that keyrotor servers send. */
  public static final String DOMAIN = "keyrotor.io";

  private final Status.Code code;
  private final String reason;
  private final ErrorReason errorReason;
  private final String domain;
  private final Map<String, String> metadata;
  private final String serverMessage;
  private final String endpoint;

  private KeyrotorException(
      Status.Code code,
      String reason,
      String domain,
      Map<String, String> metadata,
      String serverMessage,
      String endpoint,
      String message,
      Throwable cause) {
    super(message, cause);
    this.code = Objects.requireNonNull(code, "code");
    this.reason = reason == null ? "" : reason;
    this.domain = domain == null ? "" : domain;
    this.errorReason = errorReasonOf(this.reason, this.domain);
    this.metadata = Map.copyOf(metadata);
    this.serverMessage = serverMessage == null ? "" : serverMessage;
    this.endpoint = endpoint == null ? "" : endpoint;
  }

  /**
   * Builds the exception for a gRPC failure, reading the {@code google.rpc.ErrorInfo} detail if the
   * server attached one.
   *
   * @param endpoint the {@code host:port} that answered, or empty if unknown
   */
  public static KeyrotorException fromGrpc(Throwable grpcError, String endpoint) {
    Status status = Status.fromThrowable(grpcError);
    ErrorInfo info = errorInfoOrNull(grpcError);
    String reason = info == null ? "" : info.getReason();
    String domain = info == null ? "" : info.getDomain();
    Map<String, String> metadata = info == null ? Map.of() : info.getMetadataMap();
    String description = status.getDescription() == null ? "" : status.getDescription();
    String message =
        info == null
            ? transportMessageOrNull(status.getCode(), description, status.getCause(), endpoint)
            : null;
    if (message == null) {
      message = humanMessage(status.getCode(), reason, description, endpoint);
    }
    return new KeyrotorException(
        status.getCode(), reason, domain, metadata, description, endpoint, message, grpcError);
  }

  /** Builds an exception for a failure decided by the client itself (never sent by a server). */
  public static KeyrotorException clientSide(
      Status.Code code, ErrorReason reason, String message, Throwable cause) {
    return new KeyrotorException(code, reason.name(), "", Map.of(), "", "", message, cause);
  }

  /**
   * The catalogue value named {@code reason}: {@link ErrorReason#ERROR_REASON_UNSPECIFIED} when the
   * name is empty or unknown to this SDK (a newer server), or when the ErrorInfo came from another
   * domain than {@value #DOMAIN} (a proxy's, whose names mean something else). Client-side reasons
   * have no domain.
   */
  static ErrorReason errorReasonOf(String reason, String domain) {
    if (reason.isEmpty() || !(domain.isEmpty() || domain.equals(DOMAIN))) {
      return ErrorReason.ERROR_REASON_UNSPECIFIED;
    }
    try {
      ErrorReason value = ErrorReason.valueOf(reason);
      return value == ErrorReason.UNRECOGNIZED ? ErrorReason.ERROR_REASON_UNSPECIFIED : value;
    } catch (IllegalArgumentException unknown) {
      return ErrorReason.ERROR_REASON_UNSPECIFIED;
    }
  }

  /**
   * The {@code google.rpc.ErrorInfo} detail of a gRPC failure, or null when it carries none (for
   * example a transport failure, or a status from a proxy).
   */
  public static ErrorInfo errorInfoOrNull(Throwable grpcError) {
    com.google.rpc.Status status;
    try {
      status = StatusProto.fromThrowable(grpcError);
    } catch (RuntimeException malformed) {
      return null;
    }
    if (status == null) {
      return null;
    }
    for (com.google.protobuf.Any detail : status.getDetailsList()) {
      if (detail.is(ErrorInfo.class)) {
        try {
          return detail.unpack(ErrorInfo.class);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          return null;
        }
      }
    }
    return null;
  }

  /**
   * A readable message for the failures gRPC itself reports (no ErrorInfo), whose descriptions are
   * written for gRPC developers ("io exception", "deadline exceeded after 4.99s. [closed=...]");
   * null for other codes, whose description is the server's own.
   */
  private static String transportMessageOrNull(
      Status.Code code, String description, Throwable cause, String endpoint) {
    String where = endpoint == null || endpoint.isEmpty() ? "the server" : endpoint;
    String tls = tlsFailureOrNull(cause);
    if (code == Status.Code.UNAVAILABLE && tls != null) {
      return TLS_FAILURE + where + " failed: " + tls;
    }
    if (code == Status.Code.DEADLINE_EXCEEDED) {
      return "no answer in time from " + where;
    }
    if (code == Status.Code.UNAVAILABLE) {
      boolean informative =
          !description.isEmpty()
              && !description.equalsIgnoreCase("io exception")
              && !description.startsWith("Connection closed");
      return "cannot reach " + where + (informative ? ": " + description : "");
    }
    return null;
  }

  /**
   * What a TLS failure in a chain of causes says (a refused certificate, no common protocol): the
   * certificate check's own words when the chain has them (OpenSSL engines report only "General
   * OpenSslEngine problem" above them), else the TLS exception's; null if there is none.
   */
  private static String tlsFailureOrNull(Throwable cause) {
    SSLException tls = null;
    for (int depth = 0; cause != null && depth < 10; depth++, cause = cause.getCause()) {
      if (tls == null && cause instanceof SSLException ssl) {
        tls = ssl;
      } else if (tls != null && cause instanceof CertificateException refused) {
        return refused.getMessage();
      }
    }
    return tls == null ? null : tls.getMessage();
  }

  /** How the message of a failed TLS handshake starts ({@code TLS handshake with host:port}). */
  static final String TLS_FAILURE = "TLS handshake with ";

  private static String humanMessage(
      Status.Code code, String reason, String description, String endpoint) {
    String text = description.isEmpty() ? defaultText(code, endpoint) : description;
    return reason.isEmpty() ? text : text + " (" + reason + ")";
  }

  private static String defaultText(Status.Code code, String endpoint) {
    String where = endpoint == null || endpoint.isEmpty() ? "" : " at " + endpoint;
    return switch (code) {
      case UNAVAILABLE -> "server unavailable" + where;
      case DEADLINE_EXCEEDED -> "no answer in time" + where;
      case UNIMPLEMENTED -> "not implemented by the server" + where;
      case UNAUTHENTICATED -> "not authenticated" + where;
      case PERMISSION_DENIED -> "permission denied" + where;
      default -> code.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ') + where;
    };
  }

  /** Returns a copy that states the call's outcome in a new message, keeping every other field. */
  KeyrotorException withMessage(String message) {
    return new KeyrotorException(
        code, reason, domain, metadata, serverMessage, endpoint, message, getCause());
  }

  /** The gRPC status code. */
  public Status.Code code() {
    return code;
  }

  /**
   * The reason exactly as received ({@code KEY_NOT_FOUND}, ...), or empty if there was none; a name
   * this SDK does not know is kept here. Prefer {@link #errorReason()}.
   */
  public String reason() {
    return reason;
  }

  /**
   * The reason as a catalogue value; {@link ErrorReason#ERROR_REASON_UNSPECIFIED} when there was
   * none, when the name is not one this SDK knows, or when the ErrorInfo was not keyrotor's. Act on
   * {@link #code()} then.
   */
  public ErrorReason errorReason() {
    return errorReason;
  }

  /** The ErrorInfo domain ({@value #DOMAIN} for keyrotor servers), or empty. */
  public String domain() {
    return domain;
  }

  /** The ErrorInfo metadata (for example {@code leader} with NOT_LEADER); empty if none. */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** The status description exactly as the server sent it, or empty. */
  public String serverMessage() {
    return serverMessage;
  }

  /**
   * How long the server asked the caller to wait before trying again (its {@code
   * google.rpc.RetryInfo}, sent with QUOTA_EXCEEDED), or empty when it sent none.
   */
  public java.util.Optional<java.time.Duration> retryDelay() {
    if (!(getCause() instanceof io.grpc.StatusRuntimeException
        || getCause() instanceof io.grpc.StatusException)) {
      return java.util.Optional.empty();
    }
    try {
      com.google.rpc.Status status = StatusProto.fromThrowable(getCause());
      if (status == null) {
        return java.util.Optional.empty();
      }
      for (com.google.protobuf.Any detail : status.getDetailsList()) {
        if (detail.is(com.google.rpc.RetryInfo.class)) {
          com.google.protobuf.Duration delay =
              detail.unpack(com.google.rpc.RetryInfo.class).getRetryDelay();
          if (delay.getSeconds() < 0 || delay.getNanos() < 0) {
            return java.util.Optional.empty();
          }
          return java.util.Optional.of(
              java.time.Duration.ofSeconds(delay.getSeconds(), delay.getNanos()));
        }
      }
    } catch (RuntimeException | com.google.protobuf.InvalidProtocolBufferException malformed) {
      return java.util.Optional.empty();
    }
    return java.util.Optional.empty();
  }

  /** The {@code host:port} that gave the last answer, or empty if none did. */
  public String endpoint() {
    return endpoint;
  }

  /**
   * True if this error has the given reason. Never true for {@link
   * ErrorReason#ERROR_REASON_UNSPECIFIED}, which stands for no reason or an unknown one.
   */
  public boolean hasReason(ErrorReason expected) {
    return expected != ErrorReason.ERROR_REASON_UNSPECIFIED && errorReason == expected;
  }

  // The structured form (code, reason, metadata, endpoint) is what logs want; getMessage() stays
  // the one human sentence the CLI prints.
  @SuppressWarnings("OverrideThrowableToString")
  @Override
  public String toString() {
    return "KeyrotorException{code="
        + code
        + (reason.isEmpty() ? "" : ", reason=" + reason)
        + (metadata.isEmpty() ? "" : ", metadata=" + new TreeMap<>(metadata))
        + (endpoint.isEmpty() ? "" : ", endpoint=" + endpoint)
        + ", message="
        + getMessage()
        + "}";
  }
}
