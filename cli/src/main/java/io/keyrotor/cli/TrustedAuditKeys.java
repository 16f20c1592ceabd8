package io.keyrotor.cli;

import io.keyrotor.api.v1.AuditKeyRegistration;
import io.keyrotor.client.audit.AuditKeysPem;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The audit public keys an offline check trusts ({@code --trust KEYS}: PEM, as {@code audit keys
 * --out} writes them), read the same way by every command that verifies a signature.
 */
final class TrustedAuditKeys {
  private TrustedAuditKeys() {}

  /**
   * An offline check ({@code audit verify}, {@code audit verify-receipt}): {@code FILE --trust
   * KEYS}, the file checked with no cluster and the keys it must be signed by, read before {@link
   * #check} runs. The help of {@code FILE} is the command's, in {@code OptionHelp.properties}
   * ({@code keyrotor.audit.verify.checked-file}).
   */
  abstract static class OfflineCheck implements Runnable {
    @Mixin CommandArguments.Invocation invocation;

    @Parameters(
        index = "0",
        paramLabel = "FILE",
        descriptionKey = "checked-file",
        description = "The file to check.")
    String file;

    @Option(
        names = "--trust",
        paramLabel = "KEYS",
        required = true,
        description = "The trusted audit public keys (PEM, as 'audit keys' writes them).")
    String trust;

    @Override
    public final void run() {
      KeyrotorCli root = invocation.root();
      check(root, read(root, trust));
    }

    /** Checks {@link #file} against {@code trusted}; a failed check is a {@link CliException}. */
    abstract void check(KeyrotorCli root, List<AuditKeyRegistration> trusted);
  }

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
