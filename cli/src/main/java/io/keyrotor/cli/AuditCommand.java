package io.keyrotor.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.keyrotor.api.v1.AuditCheckpoint;
import io.keyrotor.api.v1.AuditExportItem;
import io.keyrotor.api.v1.AuditKeyRegistration;
import io.keyrotor.api.v1.AuditRecord;
import io.keyrotor.api.v1.CreateAuditCheckpointResponse;
import io.keyrotor.api.v1.DestructionReceipt;
import io.keyrotor.api.v1.ExportAuditRequest;
import io.keyrotor.client.audit.AuditKeysPem;
import io.keyrotor.client.audit.AuditTrailVerifier;
import io.keyrotor.client.audit.DestructionReceiptVerifier;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code keyrotor audit export|keys|verify|timeline}: the audit trail for auditors. {@code export}
 * has the leader sign the chain's head first and writes the chain up to that signed head ({@link
 * AuditJson} has the line format); {@code keys} writes the audit public keys as PEM; {@code verify}
 * checks an export against trusted keys with no cluster ({@link AuditTrailVerifier}); {@code
 * verify-receipt} checks one destruction receipt the same way ({@link DestructionReceiptVerifier});
 * {@code timeline} lists what happened to one key.
 */
@Command(
    name = "audit",
    description = "Export, verify and read the signed audit trail (needs READ_AUDIT).",
    subcommands = {
      AuditCommand.Export.class,
      AuditCommand.Keys.class,
      AuditCommand.Verify.class,
      AuditCommand.VerifyReceipt.class,
      AuditCommand.Timeline.class
    })
final class AuditCommand extends CommandArguments.Group {

  @Command(
      name = "export",
      description =
          "Write the audit chain as JSON Lines, ending at a checkpoint signed just before; records"
              + " the filters leave out are written as their hashes, so the export still verifies.")
  static final class Export implements Runnable {
    @Mixin CommandArguments.Invocation invocation;

    @Option(
        names = "--since",
        paramLabel = "TIME",
        converter = Converters.Time.class,
        description = "Start at the first record at or after TIME (RFC 3339).")
    Instant since;

    @Option(
        names = "--until",
        paramLabel = "TIME",
        converter = Converters.Time.class,
        description = "Records after TIME as hashes only.")
    Instant until;

    @Option(
        names = {"--key", "--key-name"},
        paramLabel = "KEY",
        description = "Records of this key in full (--key-name: the same, kept for scripts).")
    String key = "";

    @Option(
        names = "--principal",
        paramLabel = "P",
        description = "Records caused by this principal in full.")
    String principal = "";

    @Option(
        names = "--out",
        paramLabel = "FILE",
        required = true,
        description = "Where to write the export (- for stdout).")
    String out;

    @Override
    public void run() {
      KeyrotorCli root = invocation.root();
      CreateAuditCheckpointResponse signed = root.client().audit().createAuditCheckpoint();
      AuditCheckpoint checkpoint = signed.getCheckpoint();
      ExportAuditRequest.Builder request =
          ExportAuditRequest.newBuilder()
              .setKeyName(key)
              .setPrincipal(principal)
              .setToIndex(checkpoint.getLogIndex());
      if (since != null) {
        request.setSinceUnixMillis(Math.max(1, since.toEpochMilli()));
      }
      if (until != null) {
        request.setUntilUnixMillis(Math.max(1, until.toEpochMilli()));
      }
      long[] counts = new long[2];
      try {
        CliFiles.write(
            root,
            out,
            target -> {
              Writer writer = new OutputStreamWriter(target, StandardCharsets.UTF_8);
              try {
                root.client()
                    .audit()
                    .exportAudit(
                        request.build(),
                        item -> {
                          counts[item.hasRecord() ? 0 : 1]++;
                          writeLine(writer, AuditJson.item(item));
                        });
              } catch (UncheckedIOException e) {
                throw e.getCause();
              }
              writeLine(writer, AuditJson.closing(checkpoint, signed.getRecordIndex()));
              writer.flush();
            });
      } catch (IOException e) {
        throw CliFiles.failure(e);
      }
      if (!CliFiles.isStdio(out)) {
        JsonObject summary = new JsonObject();
        summary.addProperty("records", counts[0]);
        summary.addProperty("hashes_only", counts[1]);
        summary.addProperty("signed_index", checkpoint.getLogIndex());
        summary.addProperty(
            "signer", checkpoint.getSignerNode() + "/" + checkpoint.getKeyVersion());
        root.print(
            summary,
            "exported "
                + counts[0]
                + " records and "
                + counts[1]
                + " hashes to "
                + out
                + ", ending at index "
                + checkpoint.getLogIndex()
                + " signed by "
                + checkpoint.getSignerNode()
                + " (audit key version "
                + checkpoint.getKeyVersion()
                + ")\n");
      }
    }

    private static void writeLine(Writer writer, JsonObject line) {
      try {
        writer.write(JsonOutput.render(line));
        writer.write('\n');
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  @Command(
      name = "keys",
      description = "Write every audit public key of every node, every version, as PEM.")
  static final class Keys implements Runnable {
    @Mixin CommandArguments.Invocation invocation;

    @Option(
        names = "--out",
        paramLabel = "FILE",
        defaultValue = "-",
        description = "Where to write the keys (default: stdout).")
    String out;

    @Override
    public void run() {
      KeyrotorCli root = invocation.root();
      List<AuditKeyRegistration> keys = root.client().audit().auditKeys().getKeysList();
      String pem = AuditKeysPem.write(keys);
      try {
        CliFiles.write(root, out, target -> target.write(pem.getBytes(StandardCharsets.UTF_8)));
      } catch (IOException e) {
        throw CliFiles.failure(e);
      }
    }
  }

  @Command(
      name = "verify",
      description =
          "Check an export against trusted audit keys, with no cluster: exit 0 only when it is"
              + " intact; otherwise each problem is printed and the exit status is 1.")
  static final class Verify extends TrustedAuditKeys.OfflineCheck {
    @Override
    void check(KeyrotorCli root, List<AuditKeyRegistration> trusted) {
      List<String> problems = new ArrayList<>();
      List<AuditExportItem> items = new ArrayList<>();
      List<AuditCheckpoint> closing = new ArrayList<>();
      try (BufferedReader reader =
          new BufferedReader(
              new InputStreamReader(CliFiles.open(root, file), StandardCharsets.UTF_8))) {
        int number = 0;
        for (String line = reader.readLine(); line != null; line = reader.readLine()) {
          number++;
          AuditJson.Line parsed;
          try {
            parsed = AuditJson.parse(line);
          } catch (IllegalArgumentException e) {
            problems.add("line " + number + ": MALFORMED: " + e.getMessage());
            // Keep the positions of the lines after it.
            items.add(AuditExportItem.getDefaultInstance());
            continue;
          }
          if (parsed.closingOrNull() != null) {
            closing.add(parsed.closingOrNull());
          } else if (!closing.isEmpty()) {
            problems.add("line " + number + ": REORDERED: a record after the closing checkpoint");
          } else {
            items.add(parsed.itemOrNull());
          }
        }
      } catch (IOException e) {
        throw CliFiles.failure(e);
      }
      for (String problem : new AuditTrailVerifier(trusted).verify(items, closing)) {
        if (!problem.endsWith("neither a record nor a hash")) {
          problems.add(problem);
        }
      }
      JsonObject result = new JsonObject();
      result.addProperty("intact", problems.isEmpty());
      result.addProperty("lines", items.size() + closing.size());
      JsonArray list = new JsonArray();
      problems.forEach(list::add);
      result.add("problems", list);
      StringBuilder human = new StringBuilder();
      for (String problem : problems) {
        human.append(file).append(": ").append(problem).append('\n');
      }
      if (problems.isEmpty()) {
        human.append(file).append(": intact, ").append(items.size()).append(" lines verified\n");
      }
      root.print(result, human.toString());
      if (!problems.isEmpty()) {
        throw new CliException(
            file + " is NOT intact: " + problems.size() + " problem(s), listed above");
      }
    }
  }

  @Command(
      name = "verify-receipt",
      description =
          "Check a destruction receipt (as 'key receipt NAME VERSION --json' writes it) against"
              + " trusted audit keys, with no cluster: exit 0 only when its signature verifies.")
  static final class VerifyReceipt extends TrustedAuditKeys.OfflineCheck {
    @Override
    void check(KeyrotorCli root, List<AuditKeyRegistration> trusted) {
      DestructionReceipt receipt;
      try (InputStream in = CliFiles.open(root, file)) {
        JsonElement json =
            JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        if (!json.isJsonObject()) {
          throw new IllegalArgumentException("not a JSON object");
        }
        receipt = ReceiptJson.parse(json.getAsJsonObject());
      } catch (IOException e) {
        throw CliFiles.failure(e);
      } catch (RuntimeException e) {
        throw new CliException(file + ": MALFORMED: " + e.getMessage());
      }
      Optional<String> problem = new DestructionReceiptVerifier(trusted).problem(receipt);
      JsonObject result = new JsonObject();
      result.addProperty("verified", problem.isEmpty());
      result.addProperty("key", receipt.getName());
      result.addProperty("version", Integer.toUnsignedLong(receipt.getVersion()));
      result.addProperty("log_index", receipt.getLogIndex());
      result.addProperty("problem", problem.orElse(""));
      String what =
          file + ": " + receipt.getName() + " v" + Integer.toUnsignedLong(receipt.getVersion());
      root.print(
          result,
          problem
              .map(p -> what + ": " + p + "\n")
              .orElse(
                  what
                      + ": signed by "
                      + receipt.getSignature().getSignerNode()
                      + " (audit key version "
                      + receipt.getSignature().getKeyVersion()
                      + "), destroyed at log index "
                      + receipt.getLogIndex()
                      + "; verified\n"));
      if (problem.isPresent()) {
        throw new CliException(file + " is NOT a verified receipt: " + problem.get());
      }
    }
  }

  @Command(
      name = "timeline",
      description =
          "Every rotation, state change and denial of a key, by whom, in log order, from the"
              + " audit chain.")
  static final class Timeline implements Runnable {
    @Mixin CommandArguments.Invocation invocation;

    @Option(
        names = {"--key", "--key-name"},
        paramLabel = "KEY",
        required = true,
        description = "The key (--key-name: the same, kept for scripts).")
    String key;

    @Override
    public void run() {
      KeyrotorCli root = invocation.root().errorContext("key", key);
      List<AuditTimeline.Entry> entries = new ArrayList<>();
      // Denials are recorded in batches that name no key, so the whole chain is read and the
      // records of the key are picked here.
      root.client()
          .audit()
          .exportAudit(
              ExportAuditRequest.getDefaultInstance(),
              item -> {
                if (item.hasRecord()) {
                  AuditRecord record = item.getRecord();
                  AuditTimeline.entryOf(record, key).ifPresent(entries::add);
                }
              });
      root.print(AuditTimeline.json(entries), AuditTimeline.human(key, entries));
    }
  }
}
