package io.keyrotor.storage.golden;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import io.keyrotor.proto.internal.v1.Command;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The two files of the golden log, under {@code src/test/resources/golden/}, and their encodings.
 *
 * <ul>
 *   <li>{@value #COMMANDS_FILE}: the log, one entry after another, each a varint term, a varint
 *       index and a length-delimited {@link Command} (varint length, then the bytes). Indexes
 *       increase by one from 1.
 *   <li>{@value #EXPECTATIONS_FILE}: text. Lines starting with {@code #} are comments; a comment
 *       line right before an expectation names the part of the log it ends. Every other line is
 *       {@code index digest audit_head}: the state digest and audit chain head (both hex, as {@code
 *       KeyStateStore.digest()} and {@code auditHead()} report them) after applying the log up to
 *       and including that index.
 * </ul>
 */
final class GoldenLog {
  /** The command log, a resource under {@code golden/}. */
  static final String COMMANDS_FILE = "commands.bin";

  /** The expected digests and audit heads, a resource under {@code golden/}. */
  static final String EXPECTATIONS_FILE = "expected-state.txt";

  /** The command that regenerates both files (from the repository root). */
  static final String REGENERATE_COMMAND =
      "mvn -B -pl storage -am process-test-classes -Pregenerate-golden-log";

  private GoldenLog() {}

  /** One log entry: a command at (term, index). */
  record Entry(long term, long index, Command command) {}

  /**
   * The state expected after applying the log up to {@code index}.
   *
   * @param label the part of the log that ends at {@code index}, for messages
   */
  record Expectation(long index, String digest, String auditHead, String label) {}

  static void writeEntries(List<Entry> entries, OutputStream out) throws IOException {
    CodedOutputStream coded = CodedOutputStream.newInstance(out);
    for (Entry entry : entries) {
      coded.writeUInt64NoTag(entry.term());
      coded.writeUInt64NoTag(entry.index());
      byte[] command = entry.command().toByteArray();
      coded.writeUInt32NoTag(command.length);
      coded.writeRawBytes(command);
    }
    coded.flush();
  }

  static List<Entry> readEntries(InputStream in) throws IOException {
    CodedInputStream coded = CodedInputStream.newInstance(in);
    coded.setSizeLimit(Integer.MAX_VALUE);
    List<Entry> entries = new ArrayList<>();
    while (!coded.isAtEnd()) {
      long term = coded.readUInt64();
      long index = coded.readUInt64();
      int length = coded.readRawVarint32();
      Command command = Command.parseFrom(coded.readRawBytes(length));
      entries.add(new Entry(term, index, command));
    }
    return entries;
  }

  static void writeExpectations(String header, List<Expectation> expectations, OutputStream out)
      throws IOException {
    StringBuilder text = new StringBuilder(header);
    text.append("#\n# index digest audit_head\n");
    for (Expectation expectation : expectations) {
      text.append("\n# ").append(expectation.label()).append('\n');
      text.append(expectation.index())
          .append(' ')
          .append(expectation.digest())
          .append(' ')
          .append(expectation.auditHead())
          .append('\n');
    }
    out.write(text.toString().getBytes(StandardCharsets.UTF_8));
  }

  static List<Expectation> readExpectations(InputStream in) throws IOException {
    List<Expectation> expectations = new ArrayList<>();
    String label = "";
    String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    for (String line : text.split("\n", -1)) {
      String trimmed = line.trim();
      if (trimmed.isEmpty()) {
        continue;
      }
      if (trimmed.startsWith("#")) {
        label = trimmed.substring(1).trim();
        continue;
      }
      String[] fields = trimmed.split("\\s+", -1);
      if (fields.length != 3) {
        throw new UncheckedIOException(
            new IOException("not an 'index digest audit_head' line: " + trimmed));
      }
      expectations.add(new Expectation(Long.parseLong(fields[0]), fields[1], fields[2], label));
      label = "";
    }
    return expectations;
  }
}
