package io.keyrotor.consensus.testing;

import io.keyrotor.consensus.RaftTransport;
import io.keyrotor.tls.DevelopmentCa;
import io.keyrotor.tls.IssuedCertificate;
import io.keyrotor.tls.PemFiles;
import io.keyrotor.tls.ReloadingCredentials;
import io.keyrotor.tls.TlsFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * A test Raft group's certificate authority (a {@link DevelopmentCa}) and the TLS files it issues
 * under one directory: {@code ca.pem}, and {@code NAME.pem} + {@code NAME-key.pem} per node or
 * caller. Node certificates name the node's id and loopback (127.0.0.1, localhost).
 */
public final class GroupCa {
  /** How often a node's credentials look for changed files in tests. */
  public static final Duration CHECK_INTERVAL = Duration.ofMillis(100);

  private final DevelopmentCa ca;
  private final Path directory;

  private GroupCa(DevelopmentCa ca, Path directory) {
    this.ca = ca;
    this.directory = directory;
  }

  /** A new CA whose files go into {@code directory} (created), with its {@code ca.pem} written. */
  public static GroupCa create(Path directory, String name) throws IOException {
    Files.createDirectories(directory);
    DevelopmentCa ca =
        DevelopmentCa.create(
            name, DevelopmentCa.DEFAULT_TRUST_DOMAIN, Duration.ofDays(1), Clock.systemUTC());
    PemFiles.writeCertificates(directory.resolve("ca.pem"), List.of(ca.certificate()));
    return new GroupCa(ca, directory);
  }

  public DevelopmentCa ca() {
    return ca;
  }

  public Path directory() {
    return directory;
  }

  /** Issues (or re-issues, replacing the files) node {@code nodeId}'s certificate and key. */
  public TlsFiles issueNode(String nodeId) throws IOException {
    return write(
        nodeId, ca.issueNode(nodeId, List.of("127.0.0.1", "localhost"), Duration.ofHours(1)));
  }

  /** Issues a caller's certificate (common name {@code name}, no node URI). */
  public TlsFiles issueClient(String name) throws IOException {
    return write(name, ca.issueClient(name, Duration.ofHours(1)));
  }

  /** Node {@code nodeId}'s files, issued first if missing. */
  public TlsFiles nodeFiles(String nodeId) throws IOException {
    TlsFiles files = TlsFiles.inDirectory(directory, nodeId);
    return Files.exists(files.certificate()) ? files : issueNode(nodeId);
  }

  /** Reloading credentials over node {@code nodeId}'s files (issued first if missing). */
  public ReloadingCredentials credentials(String nodeId) {
    try {
      return ReloadingCredentials.open(nodeFiles(nodeId), CHECK_INTERVAL, Clock.systemUTC());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Mutual TLS on the Raft port with node {@code nodeId}'s certificate from this CA. */
  public RaftTransport transport(String nodeId) {
    return RaftTransport.mutualTls(credentials(nodeId));
  }

  private TlsFiles write(String name, IssuedCertificate issued) throws IOException {
    TlsFiles files = TlsFiles.inDirectory(directory, name);
    issued.write(files.certificate(), files.privateKey());
    return files;
  }
}
