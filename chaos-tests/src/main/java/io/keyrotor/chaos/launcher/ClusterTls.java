package io.keyrotor.chaos.launcher;

import io.grpc.ChannelCredentials;
import io.grpc.TlsChannelCredentials;
import io.keyrotor.tls.DevelopmentCa;
import io.keyrotor.tls.TlsFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The mutual TLS of a chaos cluster, in the layout {@code keyrotor-server local-cluster} writes
 * under {@code DIR/tls}: the development CA ({@code ca.pem}, {@code ca-key.pem}), node certificates
 * ({@code nI.pem}, {@code nI-key.pem}) and the administrator's caller certificate ({@code
 * admin.pem}, {@code admin-key.pem}). The suite's drivers present the administrator's certificate
 * (the chaos service and leadership transfers are administrator operations) and trust only the
 * cluster's CA; nothing in the suite speaks plaintext.
 */
public final class ClusterTls {
  /** Node certificates issued for a run: long enough for any run, short enough to be harmless. */
  static final Duration NODE_CERTIFICATE_VALIDITY = Duration.ofDays(30);

  /** The caller certificate the suite presents: {@code bootstrap-admins} names it. */
  public static final String ADMIN = "admin";

  private ClusterTls() {}

  /** {@code DIR/tls}. */
  public static Path tlsDirectory(Path clusterDirectory) {
    return clusterDirectory.resolve("tls");
  }

  /**
   * Client credentials for the cluster in {@code clusterDirectory}: its administrator's certificate
   * and key, and its CA as the only trusted root (the node's certificate must also name the address
   * dialled; gRPC checks it).
   */
  public static ChannelCredentials adminCredentials(Path clusterDirectory) throws IOException {
    TlsFiles files = TlsFiles.inDirectory(tlsDirectory(clusterDirectory), ADMIN);
    return TlsChannelCredentials.newBuilder()
        .keyManager(files.certificate().toFile(), files.privateKey().toFile())
        .trustManager(files.trustedCertificates().toFile())
        .build();
  }

  /**
   * Issues node {@code nodeId} a new certificate from the cluster's CA naming {@code address} (its
   * address in its namespace, dialled by the driver and by its Raft peers), {@code 127.0.0.1} and
   * {@code localhost}, with its node URI; it replaces {@code DIR/tls/nodeId.pem} and its key.
   */
  public static void issueNodeCertificate(Path clusterDirectory, String nodeId, String address)
      throws IOException {
    Path tls = tlsDirectory(clusterDirectory);
    Path caFile = tls.resolve("ca.pem");
    Path caKey = tls.resolve("ca-key.pem");
    if (!Files.exists(caFile) || !Files.exists(caKey)) {
      throw new IOException("the cluster has no development CA in " + tls);
    }
    DevelopmentCa ca =
        DevelopmentCa.load(caFile, caKey, DevelopmentCa.DEFAULT_TRUST_DOMAIN, Clock.systemUTC());
    Set<String> hosts = new LinkedHashSet<>(List.of(address, "127.0.0.1", "localhost"));
    TlsFiles files = TlsFiles.inDirectory(tls, nodeId);
    ca.issueNode(nodeId, List.copyOf(hosts), NODE_CERTIFICATE_VALIDITY)
        .write(files.certificate(), files.privateKey());
  }
}
