package io.keyrotor.server.config;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes the node configuration file parser: whatever bytes the file holds, {@link NodeConfig#load}
 * returns a configuration or throws a {@link ConfigException} whose message names the file (so an
 * operator knows where to look); never another exception.
 *
 * <p>The first input byte picks the file's shape: even, the rest of the input is the whole file;
 * odd, it is appended to a valid configuration (later lines override earlier ones), so mutations
 * reach every setting's validation instead of stopping at "node.id is required". Seeds: valid
 * configurations and single bad settings, in
 * src/test/resources/io/keyrotor/server/config/NodeConfigFuzzTestInputs.
 */
class NodeConfigFuzzTest {
  /** A complete valid configuration: three peers, TLS, software HSM, a few optional settings. */
  static final String VALID =
      """
      node.id=n1
      data.dir=data
      node.zones=default,eu
      peer.n1.raft=127.0.0.1:7201
      peer.n1.api=127.0.0.1:7101
      peer.n2.raft=127.0.0.1:7202
      peer.n2.api=127.0.0.1:7102
      peer.n3.raft=127.0.0.1:7203
      peer.n3.api=127.0.0.1:7103
      hsm.software.key-file=zmk.p12
      hsm.software.passphrase-env=KEYROTOR_TEST_PASSPHRASE
      tls.certificate=tls/n1.pem
      tls.private-key=tls/n1-key.pem
      tls.ca=tls/ca.pem
      raft.election-timeout-min=300ms
      raft.election-timeout-max=600ms
      kek-cache.max-entries=100
      kek-cache.idle-timeout=15m
      """;

  private static Path directory;

  @BeforeAll
  static void createDirectory() throws IOException {
    directory = Files.createTempDirectory("keyrotor-config-fuzz");
  }

  @AfterAll
  static void deleteDirectory() throws IOException {
    try (var files = Files.list(directory)) {
      files.forEach(
          f -> {
            try {
              Files.deleteIfExists(f);
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          });
    }
    Files.deleteIfExists(directory);
  }

  @FuzzTest(maxDuration = "10s")
  void load(byte[] input) throws IOException {
    Path file = directory.resolve("node.properties");
    if (input.length > 0 && (input[0] & 1) == 1) {
      byte[] valid = VALID.getBytes(StandardCharsets.UTF_8);
      byte[] combined = new byte[valid.length + input.length - 1];
      System.arraycopy(valid, 0, combined, 0, valid.length);
      System.arraycopy(input, 1, combined, valid.length, input.length - 1);
      Files.write(file, combined);
    } else {
      Files.write(
          file, input.length == 0 ? input : java.util.Arrays.copyOfRange(input, 1, input.length));
    }
    try {
      assertNotNull(NodeConfig.load(file));
    } catch (ConfigException e) {
      String message = e.getMessage();
      assertNotNull(message, "a ConfigException has a message");
      assertTrue(message.contains(file.toString()), () -> "names the file: " + message);
      assertFalse(message.isBlank(), "a message with words in it");
    }
  }
}
