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
import picocli.CommandLine;
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
      CommandLine.Model.CommandSpec spec, String option, Map<String, String> pairs) {
    for (Map.Entry<String, String> pair : pairs.entrySet()) {
      if (pair.getKey().isBlank()) {
        throw new CommandLine.ParameterException(
            spec.commandLine(), "invalid " + option + " \"=" + pair.getValue() + "\": empty key");
      }
    }
    return pairs;
  }

  /** Decodes standard or URL-safe base64 (whitespace ignored), or fails as a usage error. */
  static byte[] base64(CommandLine.Model.CommandSpec spec, String option, String text) {
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
      throw new CommandLine.ParameterException(
          spec.commandLine(), "invalid " + option + ": not base64 or empty");
    }
  }

  static String base64(ByteString bytes) {
    return Base64.getEncoder().encodeToString(bytes.toByteArray());
  }

  @Command(
      name = "datakey",
      description = "Generate a data key: plaintext (once) and wrapped under the key's primary.")
  static final class DataKey implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Mixin CommandArguments.KeyName arguments;

    @Option(
        names = "--context",
        paramLabel = "k=v",
        description = "Encryption context pair bound to the wrapped key; repeat for several.")
    Map<String, String> context = new LinkedHashMap<>();

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
              .putAllContext(pairs(spec, "--context", context))
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
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

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

    @Option(
        names = "--context",
        paramLabel = "k=v",
        description = "Encryption context pair; decrypting needs the same. Repeat for several.")
    Map<String, String> context = new LinkedHashMap<>();

    @Override
    public void run() {
      KeyrotorCli root = arguments.root();
      Map<String, String> pairs = pairs(spec, "--context", context);
      EnvelopeCipher cipher = EnvelopeCipher.builder(root.client()).build();
      long[] counts = new long[2];
      String[] keyAndVersion = new String[2];
      try (InputStream source = CliFiles.open(root, in)) {
        CliFiles.write(
            root,
            out,
            target -> {
              CountingOutputStream counted = new CountingOutputStream(target);
              try (EnvelopeOutputStream envelope =
                  cipher.encryptingStream(counted, arguments.name, pairs)) {
                keyAndVersion[0] = envelope.keyName();
                keyAndVersion[1] = Integer.toString(envelope.keyVersion());
                counts[0] = source.transferTo(envelope);
              }
              counts[1] = counted.count;
            });
      } catch (IOException e) {
        throw CliFiles.failure(e);
      }
      if (CliFiles.isStdio(out)) {
        return; // stdout carries the envelope
      }
      JsonObject json = new JsonObject();
      json.addProperty("key", keyAndVersion[0]);
      json.addProperty("version", Long.parseLong(keyAndVersion[1]));
      json.addProperty("in", in);
      json.addProperty("out", out);
      json.addProperty("plaintext_bytes", counts[0]);
      json.addProperty("envelope_bytes", counts[1]);
      root.print(
          json,
          "encrypted "
              + in
              + " ("
              + counts[0]
              + " bytes) into "
              + out
              + " ("
              + counts[1]
              + " bytes) under "
              + keyAndVersion[0]
              + " v"
              + keyAndVersion[1]
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
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

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

    @Option(
        names = "--context",
        paramLabel = "k=v",
        description = "The encryption context it was sealed with; repeat for several.")
    Map<String, String> context = new LinkedHashMap<>();

    @Override
    public void run() {
      KeyrotorCli root = KeyCommand.root(spec);
      Map<String, String> pairs = pairs(spec, "--context", context);
      if (wrapped != null) {
        if (in != null || out != null) {
          throw new CommandLine.ParameterException(
              spec.commandLine(), "give either --wrapped or --in/--out, not both");
        }
        unwrap(root, pairs);
        return;
      }
      if (in == null || out == null) {
        throw new CommandLine.ParameterException(
            spec.commandLine(), "give --in FILE and --out FILE, or --wrapped B64");
      }
      EnvelopeCipher cipher = EnvelopeCipher.builder(root.client()).build();
      long[] counts = new long[2];
      String[] keyAndVersion = new String[2];
      try (CountingInputStream source = new CountingInputStream(CliFiles.open(root, in))) {
        CliFiles.write(
            root,
            out,
            target -> {
              try (EnvelopeInputStream plaintext = cipher.decryptingStream(source, pairs)) {
                keyAndVersion[0] = plaintext.keyName();
                keyAndVersion[1] = Integer.toString(plaintext.keyVersion());
                counts[1] = plaintext.transferTo(target);
              }
              counts[0] = source.count;
            });
      } catch (IOException e) {
        throw CliFiles.failure(e);
      }
      if (CliFiles.isStdio(out)) {
        return;
      }
      JsonObject json = new JsonObject();
      json.addProperty("key", keyAndVersion[0]);
      json.addProperty("version", Long.parseLong(keyAndVersion[1]));
      json.addProperty("in", in);
      json.addProperty("out", out);
      json.addProperty("envelope_bytes", counts[0]);
      json.addProperty("plaintext_bytes", counts[1]);
      root.print(
          json,
          "decrypted "
              + in
              + " into "
              + out
              + " ("
              + counts[1]
              + " bytes; "
              + keyAndVersion[0]
              + " v"
              + keyAndVersion[1]
              + ")\n");
    }

    private void unwrap(KeyrotorCli root, Map<String, String> pairs) {
      byte[] ciphertext = base64(spec, "--wrapped", wrapped);
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
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(
        names = "--wrapped",
        required = true,
        paramLabel = "B64",
        description = "The wrapped data key (base64).")
    String wrapped;

    @Option(
        names = "--context",
        paramLabel = "k=v",
        description = "The encryption context it is bound to; repeat for several.")
    Map<String, String> context = new LinkedHashMap<>();

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
      KeyrotorCli root = KeyCommand.root(spec);
      if (toKey != null) {
        root.errorContext("key", toKey);
      }
      byte[] ciphertext = base64(spec, "--wrapped", wrapped);
      ReEncryptRequest.Builder request =
          ReEncryptRequest.newBuilder()
              .setCiphertext(ByteString.copyFrom(ciphertext))
              .putAllContext(pairs(spec, "--context", context));
      if (toKey != null) {
        request.setDestinationKeyName(toKey);
      }
      if (!toContext.isEmpty()) {
        request.setDestinationContext(
            EncryptionContext.newBuilder().putAllPairs(pairs(spec, "--to-context", toContext)));
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
