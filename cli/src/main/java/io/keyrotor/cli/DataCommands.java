package io.keyrotor.cli;

import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import com.google.protobuf.ByteString;
import io.keyrotor.api.v1.DataKeySpec;
import io.keyrotor.api.v1.DecryptRequest;
import io.keyrotor.api.v1.DecryptResponse;
import io.keyrotor.api.v1.EncryptionContext;
import io.keyrotor.api.v1.GenerateDataKeyRequest;
import io.keyrotor.api.v1.GenerateDataKeyResponse;
import io.keyrotor.api.v1.ReEncryptRequest;
import io.keyrotor.api.v1.ReEncryptResponse;
import io.keyrotor.client.envelope.EnvelopeCipher;
import io.keyrotor.client.envelope.EnvelopeInputStream;
import io.keyrotor.client.envelope.EnvelopeOutputStream;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The data-plane commands: {@code datakey}, {@code encrypt}, {@code decrypt} and {@code reencrypt}.
 * Byte strings on the command line and in JSON are standard base64 with padding ({@code _b64}
 * fields); files are envelopes (docs/envelope-format.md).
 */
final class DataCommands {

  private DataCommands() {}

  /** Checks {@code --context}-style pairs: a key must not be empty. */
  static Map<String, String> pairs(
      CommandArguments.Invocation command, String option, Map<String, String> pairs) {
    for (Map.Entry<String, String> pair : pairs.entrySet()) {
      if (pair.getKey().isBlank()) {
        throw command.usageError("invalid " + option + " \"=" + pair.getValue() + "\": empty key");
      }
    }
    return pairs;
  }

  /** Decodes standard or URL-safe base64 (whitespace ignored), or fails as a usage error. */
  static byte[] base64(CommandArguments.Invocation command, String option, String text) {
    String compact = text.replaceAll("\\s+", "");
    try {
      byte[] decoded =
          compact.indexOf('-') >= 0 || compact.indexOf('_') >= 0
              ? Base64.getUrlDecoder().decode(compact)
              : Base64.getDecoder().decode(compact);
      if (decoded.length == 0) {
        throw new IllegalArgumentException("empty");
      }
      return decoded;
    } catch (IllegalArgumentException e) {
      throw command.usageError("invalid " + option + ": not base64 or empty");
    }
  }

  static String base64(ByteString bytes) {
    return Base64.getEncoder().encodeToString(bytes.toByteArray());
  }

  @Command(
      name = "datakey",
      description = "Generate a data key: plaintext (once) and wrapped under the key's primary.")
  static final class DataKey implements Runnable {
    @Mixin CommandArguments.KeyName arguments;

    @Mixin SharedOptions.Context context;

    @Option(
        names = "--no-plaintext",
        description = "Return only the wrapped key (GenerateDataKeyWithoutPlaintext).")
    boolean noPlaintext;

    @Override
    public void run() {
      KeyrotorCli root = arguments.root();
      GenerateDataKeyRequest request =
          GenerateDataKeyRequest.newBuilder()
              .setKeyName(arguments.name)
              .putAllContext(context.pairs())
              .setSpec(DataKeySpec.DATA_KEY_SPEC_AES_256)
              .build();
      GenerateDataKeyResponse response =
          noPlaintext
              ? root.client().generateDataKeyWithoutPlaintext(request)
              : root.client().generateDataKey(request);
      String plaintext = noPlaintext ? null : base64(response.getPlaintext());
      String key = response.getKeyName().isEmpty() ? arguments.name : response.getKeyName();
      JsonObject json = new JsonObject();
      json.addProperty("key", key);
      json.addProperty("version", Integer.toUnsignedLong(response.getKeyVersion()));
      json.add(
          "plaintext_b64", plaintext == null ? JsonNull.INSTANCE : new JsonPrimitive(plaintext));
      json.addProperty("wrapped_b64", base64(response.getWrappedDataKey()));
      HumanOutput.Table table = new HumanOutput.Table();
      table.row("key", key);
      table.row("version", "v" + response.getKeyVersion());
      if (plaintext != null) {
        table.row("plaintext_b64", plaintext);
      }
      table.row("wrapped_b64", base64(response.getWrappedDataKey()));
      root.print(json, table.render());
    }
  }

  @Command(
      name = "encrypt",
      description =
          "Encrypt a file into an envelope under a new data key of NAME (streamed; any size).")
  static final class Encrypt implements Runnable {
    @Mixin CommandArguments.KeyName arguments;

    @Option(
        names = "--in",
        required = true,
        paramLabel = "FILE",
        description = "The plaintext file ('-': standard input).")
    String in;

    @Option(
        names = "--out",
        required = true,
        paramLabel = "FILE",
        description = "The envelope to write ('-': standard output), replaced atomically.")
    String out;

    @Mixin SharedOptions.Context context;

    @Override
    public void run() {
      KeyrotorCli root = arguments.root();
      Map<String, String> pairs = context.pairs();
      Transfer done =
          transfer(
              root,
              in,
              out,
              (cipher, source, target) -> {
                try (EnvelopeOutputStream envelope =
                    cipher.encryptingStream(target, arguments.name, pairs)) {
                  source.transferTo(envelope);
                  return new KeyVersionUsed(envelope.keyName(), envelope.keyVersion());
                }
              });
      if (CliFiles.isStdio(out)) {
        return; // stdout carries the envelope
      }
      root.print(
          done.json(in, out, "plaintext_bytes", "envelope_bytes"),
          "encrypted "
              + in
              + " ("
              + done.bytesRead()
              + " bytes) into "
              + out
              + " ("
              + done.bytesWritten()
              + " bytes) under "
              + done.key().name()
              + " v"
              + done.key().version()
              + "\n");
    }
  }

  @Command(
      name = "decrypt",
      description = {
        "Decrypt an envelope file (--in FILE --out FILE), or have the server unwrap a wrapped"
            + " data key (--wrapped B64).",
        "The output file appears only once the whole envelope has authenticated."
      })
  static final class Decrypt implements Runnable {
    @Mixin CommandArguments.Invocation invocation;

    @Option(
        names = "--in",
        paramLabel = "FILE",
        description = "The envelope to decrypt ('-': standard input).")
    String in;

    @Option(
        names = "--out",
        paramLabel = "FILE",
        description = "Where to write the plaintext ('-': standard output).")
    String out;

    @Option(
        names = "--wrapped",
        paramLabel = "B64",
        description = "A wrapped data key (base64) for the server to decrypt.")
    String wrapped;

    @Mixin SharedOptions.Context context;

    @Override
    public void run() {
      KeyrotorCli root = invocation.root();
      Map<String, String> pairs = context.pairs();
      if (wrapped != null) {
        if (in != null || out != null) {
          throw invocation.usageError("give either --wrapped or --in/--out, not both");
        }
        unwrap(root, pairs);
        return;
      }
      if (in == null || out == null) {
        throw invocation.usageError("give --in FILE and --out FILE, or --wrapped B64");
      }
      Transfer done =
          transfer(
              root,
              in,
              out,
              (cipher, source, target) -> {
                try (EnvelopeInputStream plaintext = cipher.decryptingStream(source, pairs)) {
                  plaintext.transferTo(target);
                  return new KeyVersionUsed(plaintext.keyName(), plaintext.keyVersion());
                }
              });
      if (CliFiles.isStdio(out)) {
        return;
      }
      root.print(
          done.json(in, out, "envelope_bytes", "plaintext_bytes"),
          "decrypted "
              + in
              + " into "
              + out
              + " ("
              + done.bytesWritten()
              + " bytes; "
              + done.key().name()
              + " v"
              + done.key().version()
              + ")\n");
    }

    private void unwrap(KeyrotorCli root, Map<String, String> pairs) {
      byte[] ciphertext = base64(invocation, "--wrapped", wrapped);
      DecryptResponse response =
          root.client()
              .decrypt(
                  DecryptRequest.newBuilder()
                      .setCiphertext(ByteString.copyFrom(ciphertext))
                      .putAllContext(pairs)
                      .build());
      JsonObject json = new JsonObject();
      json.addProperty("plaintext_b64", base64(response.getPlaintext()));
      json.addProperty("key", response.getKeyName());
      json.addProperty("version", Integer.toUnsignedLong(response.getKeyVersion()));
      HumanOutput.Table table = new HumanOutput.Table();
      table.row("key", response.getKeyName());
      table.row("version", "v" + response.getKeyVersion());
      table.row("plaintext_b64", base64(response.getPlaintext()));
      root.print(json, table.render());
    }
  }

  @Command(
      name = "reencrypt",
      description =
          "Re-wrap a wrapped data key under the key's current primary version (or another key),"
              + " without the plaintext leaving the server.")
  static final class ReEncrypt implements Runnable {
    @Mixin CommandArguments.Invocation invocation;

    @Option(
        names = "--wrapped",
        required = true,
        paramLabel = "B64",
        description = "The wrapped data key (base64).")
    String wrapped;

    @Mixin SharedOptions.Context context;

    @Option(
        names = "--to-key",
        paramLabel = "NAME",
        description = "Re-wrap under this key instead (default: the same key).")
    String toKey;

    @Option(
        names = "--to-context",
        paramLabel = "k=v",
        description = "Bind the new wrapping to this context instead (default: the same).")
    Map<String, String> toContext = new LinkedHashMap<>();

    @Override
    public void run() {
      KeyrotorCli root = invocation.root();
      if (toKey != null) {
        root.errorContext("key", toKey);
      }
      byte[] ciphertext = base64(invocation, "--wrapped", wrapped);
      ReEncryptRequest.Builder request =
          ReEncryptRequest.newBuilder()
              .setCiphertext(ByteString.copyFrom(ciphertext))
              .putAllContext(context.pairs());
      if (toKey != null) {
        request.setDestinationKeyName(toKey);
      }
      if (!toContext.isEmpty()) {
        request.setDestinationContext(
            EncryptionContext.newBuilder()
                .putAllPairs(pairs(invocation, "--to-context", toContext)));
      }
      ReEncryptResponse response = root.client().reEncrypt(request.build());
      JsonObject json = new JsonObject();
      json.addProperty("wrapped_b64", base64(response.getCiphertext()));
      json.addProperty("key", response.getKeyName());
      json.addProperty("version", Integer.toUnsignedLong(response.getKeyVersion()));
      json.addProperty("source_version", Integer.toUnsignedLong(response.getSourceKeyVersion()));
      HumanOutput.Table table = new HumanOutput.Table();
      table.row("key", response.getKeyName());
      table.row(
          "version",
          "v" + response.getKeyVersion() + " (was v" + response.getSourceKeyVersion() + ")");
      table.row("wrapped_b64", base64(response.getCiphertext()));
      root.print(json, table.render());
    }
  }

  /** The key version an envelope was sealed under. */
  record KeyVersionUsed(String name, int version) {}

  /**
   * Streams all of {@code source} through an envelope stream of {@code cipher} into {@code target}.
   */
  @FunctionalInterface
  interface EnvelopePipe {
    KeyVersionUsed pipe(EnvelopeCipher cipher, InputStream source, OutputStream target)
        throws IOException;
  }

  /** What one {@code encrypt} or {@code decrypt} did: its key version, bytes read and written. */
  record Transfer(KeyVersionUsed key, long bytesRead, long bytesWritten) {

    /** {@code {"key","version","in","out",<readName>,<writtenName>}}. */
    JsonObject json(String in, String out, String readName, String writtenName) {
      JsonObject json = new JsonObject();
      json.addProperty("key", key.name());
      json.addProperty("version", (long) key.version());
      json.addProperty("in", in);
      json.addProperty("out", out);
      json.addProperty(readName, bytesRead);
      json.addProperty(writtenName, bytesWritten);
      return json;
    }
  }

  /**
   * Runs {@code pipe} with an envelope cipher over the SDK client from the file (or standard input)
   * {@code in} to the file (or standard output) {@code out}, counting the bytes; the output file
   * appears only if the pipe completes.
   */
  static Transfer transfer(KeyrotorCli root, String in, String out, EnvelopePipe pipe) {
    EnvelopeCipher cipher = EnvelopeCipher.builder(root.client()).build();
    KeyVersionUsed[] key = new KeyVersionUsed[1];
    long[] written = new long[1];
    try (CountingInputStream source = new CountingInputStream(CliFiles.open(root, in))) {
      CliFiles.write(
          root,
          out,
          target -> {
            CountingOutputStream counted = new CountingOutputStream(target);
            key[0] = pipe.pipe(cipher, source, counted);
            written[0] = counted.count;
          });
      return new Transfer(key[0], source.count, written[0]);
    } catch (IOException e) {
      throw CliFiles.failure(e);
    }
  }

  /** Counts the bytes that pass. */
  static final class CountingOutputStream extends FilterOutputStream {
    long count;

    CountingOutputStream(OutputStream out) {
      super(out);
    }

    @Override
    public void write(int b) throws IOException {
      out.write(b);
      count++;
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
      out.write(bytes, offset, length);
      count += length;
    }
  }

  /** Counts the bytes that pass. */
  static final class CountingInputStream extends FilterInputStream {
    long count;

    CountingInputStream(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b >= 0) {
        count++;
      }
      return b;
    }

    @Override
    public int read(byte[] bytes, int offset, int length) throws IOException {
      int n = in.read(bytes, offset, length);
      if (n > 0) {
        count += n;
      }
      return n;
    }
  }
}
