package io.keyrotor.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.keyrotor.api.v1.AuditKeyRegistration;
import io.keyrotor.api.v1.BackupChunk;
import io.keyrotor.client.BackupCalls;
import io.keyrotor.crypto.backup.BackupHeader;
import io.keyrotor.crypto.backup.BackupVerifier;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code keyrotor backup create|verify}: {@code create} has one node stream a signed backup of the
 * replicated state at one applied index into a file (written beside it and renamed when complete,
 * so a file named FILE is never half a backup), showing progress on stderr; {@code verify} checks a
 * backup with no cluster: framing, the state digest recomputed over its records, and the signature
 * against trusted audit keys.
 */
@Command(
    name = "backup",
    description = "Back up the replicated state (needs ADMINISTER) and verify backups offline.",
    subcommands = {BackupCommand.Create.class, BackupCommand.Verify.class})
final class BackupCommand extends CommandArguments.Group {

  @Command(
      name = "create",
      description =
          "Write a signed backup of the state at one applied index to FILE (wrapped KEKs only,"
              + " never key material).")
  static final class Create implements Runnable {
    @Mixin CommandArguments.Invocation invocation;

    @Option(
        names = "--out",
        paramLabel = "FILE",
        required = true,
        description = "Where to write the backup.")
    String out;

    @Option(
        names = "--timeout",
        paramLabel = "DURATION",
        defaultValue = "1h",
        converter = Converters.PositiveDuration.class,
        description = "The longest the node may take to stream it (default 1h).")
    Duration timeout;

    @Override
    public void run() {
      KeyrotorCli root = invocation.root();
      Path target = root.resolve(out);
      Path partial = target.resolveSibling(target.getFileName() + ".partial");
      FileSink sink = new FileSink(root, partial);
      BackupChunk last;
      try {
        last = root.client().backup().createBackup(sink, timeout);
        sink.close();
        Files.move(partial, target, StandardCopyOption.REPLACE_EXISTING);
      } catch (IOException e) {
        throw CliFiles.failure(e);
      } catch (UncheckedIOException e) {
        throw CliFiles.failure(e.getCause());
      } finally {
        sink.close();
        try {
          Files.deleteIfExists(partial);
        } catch (IOException e) {
          // Best effort: the partial file is named as such.
        }
      }
      JsonObject summary = new JsonObject();
      summary.addProperty("file", out);
      summary.addProperty("applied_index", last.getAppliedIndex());
      summary.addProperty("state_digest", last.getStateDigest());
      summary.addProperty("records", last.getRecordsWritten());
      summary.addProperty("bytes", sink.bytes);
      root.print(
          summary,
          "backup of index "
              + last.getAppliedIndex()
              + " (state digest "
              + last.getStateDigest()
              + "): "
              + last.getRecordsWritten()
              + " records, "
              + sink.bytes
              + " bytes, written to "
              + out
              + "\n");
    }
  }

  /** Writes the chunks to the partial file, starting over on a retried attempt; shows progress. */
  private static final class FileSink implements BackupCalls.Sink {
    private final KeyrotorCli root;
    private final Path file;
    private OutputStream stream;
    private long bytes;
    private long lastReportNanos;

    FileSink(KeyrotorCli root, Path file) {
      this.root = root;
      this.file = file;
    }

    @Override
    public void begin() {
      close();
      bytes = 0;
      try {
        Files.deleteIfExists(file);
        stream = Files.newOutputStream(file);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public void chunk(BackupChunk chunk) {
      try {
        chunk.getData().writeTo(stream);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      bytes += chunk.getData().size();
      long now = System.nanoTime();
      if (now - lastReportNanos > 1_000_000_000L) {
        lastReportNanos = now;
        long estimate = Math.max(chunk.getRecordsEstimated(), chunk.getRecordsWritten());
        root.progress(
            "backup: index "
                + chunk.getAppliedIndex()
                + ", "
                + chunk.getRecordsWritten()
                + " of ~"
                + estimate
                + " records ("
                + (estimate == 0 ? 100 : chunk.getRecordsWritten() * 100 / estimate)
                + "%), "
                + bytes
                + " bytes");
      }
    }

    void close() {
      if (stream != null) {
        try {
          stream.close();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        stream = null;
      }
    }
  }

  @Command(
      name = "verify",
      description =
          "Check a backup with no cluster: exit 0 only when it is intact (and signed by a trusted"
              + " key, with --trust); otherwise each problem is printed and the exit status is 1.")
  static final class Verify implements Runnable {
    @Mixin CommandArguments.Invocation invocation;

    @Parameters(index = "0", paramLabel = "FILE", description = "The backup file.")
    String file;

    @Option(
        names = "--trust",
        paramLabel = "KEYS",
        description =
            "The trusted audit public keys (PEM, as 'audit keys --out' writes them); without it"
                + " the signature is checked against the key the backup names only.")
    String trust;

    @Override
    public void run() {
      KeyrotorCli root = invocation.root();
      List<BackupVerifier.TrustedKey> trusted = List.of();
      if (trust != null) {
        List<AuditKeyRegistration> keys = TrustedAuditKeys.read(root, trust);
        if (keys.isEmpty()) {
          throw new CliException(trust + ": holds no audit public key");
        }
        trusted =
            keys.stream()
                .map(
                    k ->
                        new BackupVerifier.TrustedKey(
                            k.getNode(), k.getKeyVersion(), k.getPublicKey().toByteArray()))
                .toList();
      }
      BackupVerifier.Result result;
      try (InputStream in = new BufferedInputStream(CliFiles.open(root, file), 1 << 16)) {
        result = new BackupVerifier(trusted).verify(in);
      } catch (IOException e) {
        throw CliFiles.failure(e);
      }
      JsonObject json = new JsonObject();
      json.addProperty("intact", result.intact());
      json.addProperty("records", result.records());
      StringBuilder human = new StringBuilder();
      result
          .header()
          .ifPresent(
              header -> {
                json.addProperty("cluster", header.clusterName());
                json.addProperty("node", header.nodeId());
                json.addProperty("applied_index", header.appliedIndex());
                json.addProperty("state_digest", header.stateDigest());
                json.addProperty("signer_key_version", header.signerKeyVersion());
                json.addProperty(
                    "created", Instant.ofEpochMilli(header.createdUnixMillis()).toString());
                describe(human, header);
              });
      JsonArray problems = new JsonArray();
      result.problems().forEach(problems::add);
      json.add("problems", problems);
      for (String problem : result.problems()) {
        human.append(file).append(": ").append(problem).append('\n');
      }
      if (result.intact()) {
        human
            .append(file)
            .append(": intact, ")
            .append(result.records())
            .append(" records, signature and state digest verified")
            .append(trust == null ? " (signer not checked against trusted keys: no --trust)" : "")
            .append('\n');
      }
      root.print(json, human.toString());
      if (!result.intact()) {
        throw new CliException(
            file + " is NOT intact: " + result.problems().size() + " problem(s), listed above");
      }
    }

    private void describe(StringBuilder human, BackupHeader header) {
      human
          .append(file)
          .append(": cluster ")
          .append(header.clusterName())
          .append(", index ")
          .append(header.appliedIndex())
          .append(", state digest ")
          .append(header.stateDigest())
          .append(", taken on ")
          .append(header.nodeId())
          .append(" at ")
          .append(Instant.ofEpochMilli(header.createdUnixMillis()))
          .append(", signed with its audit key version ")
          .append(header.signerKeyVersion())
          .append('\n');
    }
  }
}
