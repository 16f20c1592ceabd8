package io.keyrotor.cli;

import io.keyrotor.client.Endpoints;
import io.keyrotor.client.KeyrotorClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * Where the cluster is and how to reach it safely, as a picocli mixin of the root command whose
 * options every command inherits: the servers ({@code --servers}, or the cluster directory's {@code
 * servers} file) and the transport's security (the cluster directory's {@code tls} files, explicit
 * {@code --ca/--cert/--tls-key}, or {@code --insecure} plaintext on loopback).
 */
@Command
final class ConnectionOptions {

  /**
   * Where {@code scripts/cluster up} writes the servers file, relative to the current directory.
   */
  static final String DEFAULT_CLUSTER_DIR = ".keyrotor/cluster";

  /** The caller certificate of a development cluster that the CLI presents unless told another. */
  static final String DEFAULT_IDENTITY = "admin";

  @Option(
      names = "--cluster-dir",
      paramLabel = "DIR",
      scope = ScopeType.INHERIT,
      description =
          "Cluster directory: its 'servers' file, and tls/ca.pem and tls/IDENTITY.pem +"
              + " tls/IDENTITY-key.pem for mutual TLS (default: "
              + DEFAULT_CLUSTER_DIR
              + " under the current directory).")
  String clusterDir;

  @Option(
      names = "--servers",
      paramLabel = "LIST",
      scope = ScopeType.INHERIT,
      description =
          "Comma-separated server addresses host:port,... (instead of --cluster-dir; give --ca,"
              + " --cert and --tls-key, or --insecure, with it).")
  String servers;

  @Option(
      names = "--identity",
      paramLabel = "NAME",
      scope = ScopeType.INHERIT,
      description =
          "Which certificate of the cluster directory to present: tls/NAME.pem and"
              + " tls/NAME-key.pem (default: "
              + DEFAULT_IDENTITY
              + ").")
  String identity;

  @Option(
      names = "--ca",
      paramLabel = "FILE",
      scope = ScopeType.INHERIT,
      description = "CA certificates (PEM) that the servers' certificates must chain to.")
  String ca;

  @Option(
      names = "--cert",
      paramLabel = "FILE",
      scope = ScopeType.INHERIT,
      description = "This caller's certificate (PEM), for mutual TLS; with --tls-key.")
  String cert;

  @Option(
      names = "--tls-key",
      paramLabel = "FILE",
      scope = ScopeType.INHERIT,
      description = "This caller's private key (PKCS#8 PEM); with --cert.")
  String key;

  /**
   * The earlier spelling of {@code --tls-key}, deprecated. Accepted only before the command (this
   * option is not inherited), because commands take {@code --key} for a key's name ({@code audit
   * export --key NAME}); there it would be ambiguous.
   */
  @Option(
      names = "--key",
      paramLabel = "FILE",
      scope = ScopeType.LOCAL,
      description = "Deprecated: use --tls-key (accepted before the command only).")
  void deprecatedKey(String file) {
    key = file;
  }

  @Option(
      names = "--insecure",
      scope = ScopeType.INHERIT,
      description =
          "Plaintext, no TLS: only for a cluster started insecure on this machine (loopback"
              + " addresses only).")
  boolean insecure;

  /** The server addresses from {@code --servers}, or from the cluster directory's servers file. */
  List<String> endpoints(Path workingDirectory) {
    if (servers != null && clusterDir != null) {
      throw new CliException("give either --servers or --cluster-dir, not both");
    }
    if (servers != null) {
      return Endpoints.parseList(servers);
    }
    Path dir = clusterDirectory(workingDirectory);
    Path file = dir.resolve("servers");
    if (!Files.isRegularFile(file)) {
      throw new CliException(
          "no cluster at "
              + dir
              + " (no servers file; start one with scripts/cluster up, or pass --servers"
              + " host:port,...)");
    }
    String content;
    try {
      content = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new CliException("cannot read " + file + ": " + e.getMessage());
    }
    List<String> parts = new ArrayList<>();
    for (String line : content.lines().toList()) {
      String trimmed = line.strip();
      if (trimmed.isEmpty() || trimmed.startsWith("#")) {
        continue;
      }
      if (trimmed.startsWith("servers=")) {
        trimmed = trimmed.substring("servers=".length());
      }
      parts.add(trimmed);
    }
    try {
      return Endpoints.parseList(String.join(",", parts));
    } catch (IllegalArgumentException e) {
      throw new CliException("bad servers file " + file + ": " + e.getMessage());
    }
  }

  /**
   * Sets the transport security on {@code builder}: {@code --insecure} (for loopback {@code
   * endpoints} only), or the explicit files, or the cluster directory's {@code tls} files.
   */
  KeyrotorClient.Builder secure(
      KeyrotorClient.Builder builder, Path workingDirectory, List<String> endpoints) {
    boolean explicit = ca != null || cert != null || key != null;
    if ((cert == null) != (key == null)) {
      throw new CliException("give --cert and --tls-key together");
    }
    if (insecure) {
      if (explicit || identity != null) {
        throw new CliException("--insecure takes no --ca, --cert, --tls-key or --identity");
      }
      for (String endpoint : endpoints) {
        if (!Endpoints.isLoopback(endpoint)) {
          throw new CliException(
              "--insecure is for servers on this machine (loopback) only, and "
                  + endpoint
                  + " is not one: use the cluster's TLS files (--cluster-dir, or --ca/--cert/--tls-key)");
        }
      }
      return builder.insecurePlaintext();
    }
    if (explicit) {
      if (identity != null) {
        throw new CliException("--identity picks a certificate of --cluster-dir; not with --cert");
      }
      if (ca == null) {
        throw new CliException("give --ca with --cert and --tls-key (the CA of the servers)");
      }
      builder.trustedCertificates(workingDirectory.resolve(ca));
      if (cert != null) {
        builder.clientCertificate(workingDirectory.resolve(cert), workingDirectory.resolve(key));
      }
      return builder;
    }
    if (servers != null) {
      throw new CliException(
          "no TLS material for --servers: give --ca FILE --cert FILE --tls-key FILE, or --cluster-dir"
              + " DIR (DIR/tls), or --insecure for a plaintext cluster on loopback");
    }
    Path dir = clusterDirectory(workingDirectory);
    Path tls = dir.resolve("tls");
    String name = identity == null ? DEFAULT_IDENTITY : identity;
    for (Path file : List.of(tls.resolve("ca.pem"), tls.resolve(name + ".pem"))) {
      if (!Files.isRegularFile(file)) {
        throw new CliException(
            "no "
                + file
                + " (the cluster's TLS files; scripts/cluster up writes them): give --identity,"
                + " --ca/--cert/--tls-key, or --insecure for a plaintext cluster on loopback");
      }
    }
    return builder.clusterDirectory(dir, name);
  }

  /**
   * The TLS files that {@link #secure} gave the client (none with {@code --insecure}), so that the
   * resident CLI process can tell when one changed.
   */
  List<Path> tlsFiles(Path workingDirectory) {
    if (insecure) {
      return List.of();
    }
    if (ca != null || cert != null || key != null) {
      List<Path> files = new ArrayList<>();
      for (String name : java.util.Arrays.asList(ca, cert, key)) {
        if (name != null) {
          files.add(workingDirectory.resolve(name));
        }
      }
      return files;
    }
    Path tls = clusterDirectory(workingDirectory).resolve("tls");
    String name = identity == null ? DEFAULT_IDENTITY : identity;
    return List.of(
        tls.resolve("ca.pem"), tls.resolve(name + ".pem"), tls.resolve(name + "-key.pem"));
  }

  private Path clusterDirectory(Path workingDirectory) {
    return workingDirectory
        .resolve(clusterDir == null ? DEFAULT_CLUSTER_DIR : clusterDir)
        .normalize();
  }
}
