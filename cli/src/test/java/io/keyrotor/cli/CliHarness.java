package io.keyrotor.cli;

import com.google.gson.JsonObject;
import io.keyrotor.client.testing.FakeAdminService;
import io.keyrotor.client.testing.FakeKeyService;
import io.keyrotor.client.testing.FakeNode;
import io.keyrotor.client.testing.TestPki;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the in-process CLI tests share: a scripted node on a loopback port ({@link #keys} and {@link
 * #admin}), started before each test and stopped after it, and runs of the CLI whose output stays
 * in fields for the assertions.
 *
 * @param <K> the kind of key service the tests script
 */
abstract class CliHarness<K extends FakeKeyService> {

  @TempDir Path workingDirectory;

  final K keys;
  final FakeAdminService admin = new FakeAdminService();
  FakeNode node;

  /** Standard input of the runs that follow (default: empty). */
  byte[] stdin = new byte[0];

  /** The last run's standard output, as text and as bytes, and its standard error. */
  String stdout;

  byte[] stdoutBytes;
  String stderr;

  CliHarness(K keys) {
    this.keys = keys;
  }

  /** The CLI of one run (a test that measures time gives it its clock). */
  KeyrotorCli cli() {
    return CliRun.cli(workingDirectory);
  }

  @BeforeEach
  final void startNode() {
    node = FakeNode.start(keys, admin);
  }

  @AfterEach
  final void stopNode() {
    node.close();
  }

  /**
   * Runs the CLI against the scripted node over mutual TLS (the shared test certificates, as {@code
   * admin}), unless the arguments choose the servers; {@code --servers} without TLS options gets
   * the shared test certificates too.
   */
  int run(String... args) {
    List<String> given = List.of(args);
    List<String> all = new ArrayList<>();
    if (!given.contains("--servers") && !given.contains("--cluster-dir")) {
      all.addAll(List.of("--servers", node.address()));
    }
    boolean chosen = given.contains("--ca") || given.contains("--insecure");
    if (!chosen && !given.contains("--cluster-dir")) {
      all.addAll(tlsOptions());
    }
    all.addAll(given);
    return runAsGiven(all.toArray(String[]::new));
  }

  /** {@code --ca}, {@code --cert} and {@code --tls-key} of the shared test certificates' admin. */
  static List<String> tlsOptions() {
    TestPki pki = TestPki.shared();
    return List.of(
        "--ca",
        pki.caCertificate().toString(),
        "--cert",
        pki.certificate("admin").toString(),
        "--tls-key",
        pki.privateKey("admin").toString());
  }

  /**
   * Makes {@code dir} a cluster directory of the scripted node: its {@code servers} file (as {@code
   * line}, where {@code %s} is the node's address) and the shared test certificates in {@code
   * tls/}.
   */
  void clusterDirectory(Path dir, String line) throws IOException {
    Files.createDirectories(dir.resolve("tls"));
    Files.writeString(dir.resolve("servers"), String.format(line, node.address()));
    try (Stream<Path> files = Files.list(TestPki.shared().tlsDirectory())) {
      for (Path file : files.toList()) {
        Files.copy(
            file,
            dir.resolve("tls").resolve(file.getFileName()),
            StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  /** Runs exactly this command line; returns its exit status. */
  int runAsGiven(String... args) {
    CliRun run = CliRun.execute(cli(), stdin, args);
    stdoutBytes = run.stdoutBytes();
    stdout = run.stdout();
    stderr = run.stderr();
    return run.status();
  }

  /** The last run's standard output as one JSON document on one line. */
  JsonObject stdoutJson() {
    return CliRun.oneJsonLine(stdout);
  }
}
