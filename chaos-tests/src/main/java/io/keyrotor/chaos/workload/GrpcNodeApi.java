package io.keyrotor.chaos.workload;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import com.google.rpc.ErrorInfo;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.keyrotor.api.v1.AdminServiceGrpc;
import io.keyrotor.api.v1.CreateKeyRequest;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.DecryptResponse;
import io.keyrotor.api.v1.DisableKeyVersionRequest;
import io.keyrotor.api.v1.EnableKeyVersionRequest;
import io.keyrotor.api.v1.EncryptRequest;
import io.keyrotor.api.v1.EncryptResponse;
import io.keyrotor.api.v1.GetKeyRequest;
import io.keyrotor.api.v1.GetNodeStatusRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.KeyServiceGrpc;
import io.keyrotor.api.v1.KeyVersion;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.RotateKeyRequest;
import io.keyrotor.api.v1.RotateKeyResponse;
import io.keyrotor.api.v1.RotationPolicy;
import io.keyrotor.api.v1.SetRotationPolicyRequest;
import io.keyrotor.client.KeyrotorException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A {@link NodeApi} over the public gRPC API of one node, with a deadline per request and no
 * retries: one operation is one request, so the history shows exactly what was sent.
 */
public final class GrpcNodeApi implements NodeApi {
  private final String nodeId;
  private final ManagedChannel channel;
  private final Duration writeTimeout;
  private final Duration readTimeout;

  /**
   * @param address host:port of the node's API; the node's certificate must name the host
   * @param credentials the caller's mutual TLS (the cluster's administrator: the chaos service and
   *     leadership transfers need it)
   */
  public GrpcNodeApi(
      String nodeId,
      String address,
      ChannelCredentials credentials,
      Duration writeTimeout,
      Duration readTimeout) {
    this.nodeId = nodeId;
    this.channel = Grpc.newChannelBuilder(address, credentials).build();
    this.writeTimeout = writeTimeout;
    this.readTimeout = readTimeout;
  }

  /** The channel (the chaos and admin controls of the run share it). */
  public ManagedChannel channel() {
    return channel;
  }

  @Override
  public String nodeId() {
    return nodeId;
  }

  private KeyServiceGrpc.KeyServiceBlockingStub keys(Duration timeout) {
    return KeyServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public KeyView createKey(String name, long rotationPeriodMillis, String requestId)
      throws OpError {
    CreateKeyRequest.Builder request =
        CreateKeyRequest.newBuilder().setName(name).setRequestId(requestId);
    if (rotationPeriodMillis > 0) {
      request.setRotationPolicy(
          RotationPolicy.newBuilder()
              .setRotationPeriod(
                  com.google.protobuf.Duration.newBuilder()
                      .setSeconds(rotationPeriodMillis / 1000)
                      .setNanos((int) (rotationPeriodMillis % 1000) * 1_000_000)));
    }
    try {
      return view(keys(writeTimeout).createKey(request.build()));
    } catch (StatusRuntimeException e) {
      throw classify(e);
    }
  }

  @Override
  public Rotated rotate(String name, int expectedLatestVersion, String requestId) throws OpError {
    try {
      RotateKeyResponse response =
          keys(writeTimeout)
              .rotateKey(
                  RotateKeyRequest.newBuilder()
                      .setName(name)
                      .setExpectedLatestVersion(expectedLatestVersion)
                      .setActivationDelay(com.google.protobuf.Duration.getDefaultInstance())
                      .setRequestId(requestId)
                      .build());
      return new Rotated(
          response.getNewVersion(),
          response.getKey().getRevision(),
          millis(response.getActivationTime()));
    } catch (StatusRuntimeException e) {
      throw classify(e);
    }
  }

  @Override
  public KeyView getKey(String name) throws OpError {
    try {
      return view(keys(readTimeout).getKey(GetKeyRequest.newBuilder().setName(name).build()));
    } catch (StatusRuntimeException e) {
      throw classify(e);
    }
  }

  @Override
  public Encrypted encrypt(String name, byte[] plaintext) throws OpError {
    try {
      EncryptResponse response =
          keys(readTimeout)
              .encrypt(
                  EncryptRequest.newBuilder()
                      .setKeyName(name)
                      .setPlaintext(ByteString.copyFrom(plaintext))
                      .build());
      return new Encrypted(response.getKeyVersion(), response.getCiphertext());
    } catch (StatusRuntimeException e) {
      throw classify(e);
    }
  }

  @Override
  public Decrypted decrypt(byte[] ciphertext) throws OpError {
    try {
      DecryptResponse response =
          keys(readTimeout)
              .decrypt(
                  DecryptRequest.newBuilder()
                      .setCiphertext(ByteString.copyFrom(ciphertext))
                      .build());
      return new Decrypted(
          response.getKeyName(), response.getKeyVersion(), response.getPlaintext());
    } catch (StatusRuntimeException e) {
      throw classify(e);
    }
  }

  @Override
  public KeyView setVersionEnabled(String name, int version, boolean enabled, String requestId)
      throws OpError {
    try {
      Key key =
          enabled
              ? keys(writeTimeout)
                  .enableKeyVersion(
                      EnableKeyVersionRequest.newBuilder()
                          .setName(name)
                          .setVersion(version)
                          .setRequestId(requestId)
                          .build())
              : keys(writeTimeout)
                  .disableKeyVersion(
                      DisableKeyVersionRequest.newBuilder()
                          .setName(name)
                          .setVersion(version)
                          .setRequestId(requestId)
                          .build());
      return view(key);
    } catch (StatusRuntimeException e) {
      throw classify(e);
    }
  }

  @Override
  public KeyView clearRotationPeriod(String name, String requestId) throws OpError {
    try {
      return view(
          keys(writeTimeout)
              .setRotationPolicy(
                  SetRotationPolicyRequest.newBuilder()
                      .setName(name)
                      .setRotationPolicy(RotationPolicy.getDefaultInstance())
                      .setRequestId(requestId)
                      .build()));
    } catch (StatusRuntimeException e) {
      throw classify(e);
    }
  }

  @Override
  public NodeState status() throws OpError {
    try {
      NodeStatus status =
          AdminServiceGrpc.newBlockingStub(channel)
              .withDeadlineAfter(readTimeout.toMillis(), TimeUnit.MILLISECONDS)
              .getNodeStatus(GetNodeStatusRequest.getDefaultInstance());
      return new NodeState(
          status.getId(),
          status.getRole().name().replace("NODE_ROLE_", ""),
          status.getLeaderId(),
          status.getAppliedIndex(),
          status.getStateDigest());
    } catch (StatusRuntimeException e) {
      throw classify(e);
    }
  }

  @Override
  public void close() {
    channel.shutdownNow();
  }

  static KeyView view(Key key) {
    List<VersionView> versions = new ArrayList<>();
    for (KeyVersion v : key.getVersionsList()) {
      versions.add(
          new VersionView(
              v.getVersion(),
              v.getState().name().replace("KEY_VERSION_STATE_", ""),
              millis(v.getActivationTime()),
              millis(v.getCreateTime()),
              v.getRotationReason().name().replace("ROTATION_REASON_", "")));
    }
    return new KeyView(key.getName(), key.getPrimaryVersion(), key.getRevision(), versions);
  }

  private static long millis(Timestamp t) {
    return t.getSeconds() * 1000 + t.getNanos() / 1_000_000;
  }

  /**
   * Classifies a failed request: definite (nothing applied) for the server's validation and rule
   * answers, and for a request that never reached the node (connection refused); everything else is
   * indeterminate.
   */
  static OpError classify(StatusRuntimeException e) {
    Status status = e.getStatus();
    ErrorInfo info = KeyrotorException.errorInfoOrNull(e);
    String reason = info == null ? "" : info.getReason();
    String description = status.getDescription() == null ? "" : status.getDescription();
    boolean definite =
        switch (status.getCode()) {
          case INVALID_ARGUMENT,
              NOT_FOUND,
              ALREADY_EXISTS,
              FAILED_PRECONDITION,
              PERMISSION_DENIED,
              UNAUTHENTICATED,
              UNIMPLEMENTED,
              OUT_OF_RANGE ->
              true;
          case UNAVAILABLE -> neverConnected(e);
          default -> false;
        };
    if (status.getCode() == Status.Code.UNAVAILABLE && neverConnected(e)) {
      reason = reason.isEmpty() ? "NOT_CONNECTED" : reason;
    }
    return new OpError(definite, status.getCode().name(), reason, description);
  }

  /** The channel could not connect, so the request was never sent. */
  private static boolean neverConnected(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ConnectException || t instanceof NoRouteToHostException) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }
}
