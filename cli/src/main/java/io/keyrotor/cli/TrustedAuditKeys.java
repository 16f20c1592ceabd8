package io.keyrotor.cli;

import io.keyrotor.api.v1.AuditKeyRegistration;
import io.keyrotor.client.audit.AuditKeysPem;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The audit public keys an offline check trusts ({@code --trust KEYS}: PEM, as {@code audit keys
 * --out} writes them), read the same way by every command that verifies a signature.
 */
final class TrustedAuditKeys {
  private TrustedAuditKeys() {}

  /**
   * The keys in {@code file}; a file that cannot be read or parsed is a {@link CliException} naming
   * it.
   */
  static List<AuditKeyRegistration> read(KeyrotorCli root, String file) {
    try (InputStream in = CliFiles.open(root, file)) {
      return AuditKeysPem.read(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw CliFiles.failure(e);
    } catch (IllegalArgumentException e) {
      throw new CliException(file + ": " + e.getMessage());
    }
  }
}
