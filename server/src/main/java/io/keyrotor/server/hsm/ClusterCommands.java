package io.keyrotor.server.hsm;

import static io.keyrotor.server.hsm.HsmCommand.OUT;

import com.google.rpc.ErrorInfo;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.protobuf.StatusProto;
import io.keyrotor.api.v1.AdminServiceGrpc;
import io.keyrotor.api.v1.GetNodeStatusRequest;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.RetireZoneMasterKeyVersionRequest;
import io.keyrotor.api.v1.RotateZoneMasterKeyRequest;
import io.keyrotor.api.v1.ZoneMasterKeyRotation;
import io.keyrotor.api.v1.ZoneMasterKeyRotationState;
import io.keyrotor.server.config.NodeConfig;
import io.keyrotor.tls.TlsFiles;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The ceremonies that call a running cluster (its AdminService): moving a zone's KEKs to a newer
 * master key version, and retiring an old one. Each prints the rotation as one {@code key=value}
 * line.
 */
final class ClusterCommands {
  private ClusterCommands() {}

  /** The cluster to call, by its nodes' API addresses. */
  static final class Servers {
    @Option(
        names = "--servers",
        required = true,
        split = ",",
        description = "API addresses (host:port) of the cluster's nodes.")
    List<String> servers;

    @Option(
        names = "--tls-dir",
        description =
            "Call the cluster over mutual TLS with DIR/admin.pem, DIR/admin-key.pem and DIR/ca.pem"
                + " (a local cluster's DIR/tls). Without it the call is plaintext, which only a"
                + " node with tls.insecure=true accepts.")
    java.nio.file.Path tlsDirectory;

    private ManagedChannel channel(String server) {
      if (tlsDirectory == null) {
        return Grpc.newChannelBuilder(server, InsecureChannelCredentials.create()).build();
      }
      TlsFiles files = TlsFiles.inDirectory(tlsDirectory, "admin");
      try {
        return Grpc.newChannelBuilder(
                server,
                TlsChannelCredentials.newBuilder()
                    .keyManager(files.certificate().toFile(), files.privateKey().toFile())
                    .trustManager(files.trustedCertificates().toFile())
                    .build())
            .build();
      } catch (java.io.IOException e) {
        throw new IllegalStateException("cannot read the TLS files in " + tlsDirectory, e);
      }
    }

    /** Calls {@code call} on each server in turn until one answers other than UNAVAILABLE. */
    <T> T firstAnswer(RemoteCall<T> call) {
      StatusRuntimeException last = null;
      for (String server : servers) {
        ManagedChannel channel = channel(server);
        try {
          return call.call(
              AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS),
              server);
        } catch (StatusRuntimeException e) {
          if (e.getStatus().getCode() != Status.Code.UNAVAILABLE
              && e.getStatus().getCode() != Status.Code.DEADLINE_EXCEEDED) {
            throw new IllegalStateException(describe(e), e);
          }
          last = e;
        } finally {
          channel.shutdownNow();
        }
      }
      throw new IllegalStateException(
          "no server answered (" + servers + ")" + (last == null ? "" : ": " + describe(last)));
    }
  }

  /** One call to a node's AdminService. */
  interface RemoteCall<T> {
    T call(AdminServiceGrpc.AdminServiceBlockingStub admin, String server);
  }

  /**
   * A failed call as the operator reads it: its code, ErrorInfo reason (if any) and description.
   */
  static String describe(StatusRuntimeException e) {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    String reason = "";
    if (status != null) {
      for (com.google.protobuf.Any detail : status.getDetailsList()) {
        if (detail.is(ErrorInfo.class)) {
          try {
            reason = detail.unpack(ErrorInfo.class).getReason() + ": ";
          } catch (com.google.protobuf.InvalidProtocolBufferException ignored) {
            // no reason then
          }
        }
      }
    }
    return e.getStatus().getCode() + " " + reason + e.getStatus().getDescription();
  }

  static String line(ZoneMasterKeyRotation rotation) {
    return "zone="
        + rotation.getZone()
        + " from="
        + rotation.getFromVersion()
        + " target="
        + rotation.getTargetVersion()
        + " state="
        + rotation.getState().name().substring("ZONE_MASTER_KEY_ROTATION_STATE_".length())
        + " rewrapped="
        + rotation.getRewrapped()
        + " remaining="
        + rotation.getRemaining()
        + " batches="
        + rotation.getBatches()
        + (rotation.getRetiredVersionsCount() == 0
            ? ""
            : " retired=" + rotation.getRetiredVersionsList())
        + (rotation.getLastError().isEmpty()
            ? ""
            : " last_error=\"" + rotation.getLastError() + "\"");
  }

  /** Calls RotateZoneMasterKey, and with --wait follows the rotation until it completes. */
  @Command(
      name = "rotate-master",
      description =
          "Start moving every KEK of a zone to a newer master key version (which every node of"
              + " the zone must already hold), and optionally wait until it completes.")
  static final class RotateMaster implements Callable<Integer> {
    @Mixin Servers cluster;

    @Parameters(index = "0", description = "The zone.")
    String zone;

    @Option(
        names = "--version",
        defaultValue = "0",
        description = "The target version (0: the newest held by the node that answers).")
    int version;

    @Option(names = "--wait", description = "Wait until every KEK is under the new version.")
    boolean await;

    @Option(
        names = "--timeout",
        defaultValue = "600s",
        description = "How long --wait waits (e.g. 90s, 10m).")
    String timeout;

    @Override
    public Integer call() throws Exception {
      String requestId = UUID.randomUUID().toString();
      ZoneMasterKeyRotation started =
          cluster.firstAnswer(
              (admin, server) ->
                  admin
                      .rotateZoneMasterKey(
                          RotateZoneMasterKeyRequest.newBuilder()
                              .setZone(zone)
                              .setTargetVersion(version)
                              .setRequestId(requestId)
                              .build())
                      .getRotation());
      OUT.println(line(started));
      if (!await) {
        return 0;
      }
      long deadline = System.nanoTime() + NodeConfig.parseDuration(timeout).toNanos();
      ZoneMasterKeyRotation last = started;
      while (last.getState() != ZoneMasterKeyRotationState.ZONE_MASTER_KEY_ROTATION_STATE_COMPLETED
          || last.getTargetVersion() != started.getTargetVersion()) {
        if (System.nanoTime() > deadline) {
          System.err.println("error: the rotation did not complete within " + timeout);
          return 4;
        }
        Thread.sleep(Duration.ofMillis(500).toMillis());
        ZoneMasterKeyRotation now = cluster.firstAnswer((admin, server) -> rotation(admin, server));
        if (now.getRewrapped() != last.getRewrapped() || now.getState() != last.getState()) {
          OUT.println(line(now));
        }
        last = now;
      }
      return 0;
    }

    /** This zone's rotation as {@code server} reports it. */
    private ZoneMasterKeyRotation rotation(
        AdminServiceGrpc.AdminServiceBlockingStub admin, String server) {
      NodeStatus status = admin.getNodeStatus(GetNodeStatusRequest.getDefaultInstance());
      return status.getZoneMasterKeyRotationsList().stream()
          .filter(r -> r.getZone().equals(zone))
          .findFirst()
          .orElseThrow(
              () -> new IllegalStateException(server + " knows no rotation of zone " + zone));
    }
  }

  /** Calls RetireZoneMasterKeyVersion. */
  @Command(
      name = "retire-version",
      description = "Retire an old master key version of a zone (refused while a KEK uses it).")
  static final class RetireVersion implements Callable<Integer> {
    @Mixin Servers cluster;

    @Parameters(index = "0", description = "The zone.")
    String zone;

    @Parameters(index = "1", description = "The version to retire.")
    int version;

    @Override
    public Integer call() {
      String requestId = UUID.randomUUID().toString();
      ZoneMasterKeyRotation rotation =
          cluster.firstAnswer(
              (admin, server) ->
                  admin
                      .retireZoneMasterKeyVersion(
                          RetireZoneMasterKeyVersionRequest.newBuilder()
                              .setZone(zone)
                              .setVersion(version)
                              .setRequestId(requestId)
                              .build())
                      .getRotation());
      OUT.println(line(rotation));
      return 0;
    }
  }
}
