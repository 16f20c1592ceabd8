package io.keyrotor.cli;

import io.keyrotor.client.KeyrotorException;
import java.util.Map;
import picocli.CommandLine;

/**
 * Turns any failure into the one line the CLI prints on stderr: {@code error: <what happened>},
 * ending with the server's reason word in parentheses when there is one. Never a stack trace.
 */
final class ErrorLines {

  private ErrorLines() {}

  /**
   * The error line for a failure.
   *
   * @param context what the command was about ({@code key} and {@code version}), used to phrase
   *     well-known reasons the same way whatever the server's wording
   */
  static String format(Throwable error, Map<String, String> context) {
    return "error: " + oneLine(describe(error, context));
  }

  /** The error line for a command line the parser rejected, pointing at the command's help. */
  static String usage(CommandLine.ParameterException error) {
    String command = error.getCommandLine().getCommandSpec().qualifiedName();
    return "error: " + oneLine(error.getMessage()) + " (see: " + command + " --help)";
  }

  private static String describe(Throwable error, Map<String, String> context) {
    if (error instanceof KeyrotorException keyrotorError) {
      return describe(keyrotorError, context);
    }
    if (error instanceof CliException
        || error instanceof IllegalArgumentException
        || error instanceof io.keyrotor.client.envelope.EnvelopeException) {
      return String.valueOf(error.getMessage());
    }
    String message = error.getMessage() == null ? "" : ": " + error.getMessage();
    return "unexpected " + error.getClass().getSimpleName() + message + " (rerun with --verbose)";
  }

  private static String describe(KeyrotorException error, Map<String, String> context) {
    String key =
        first(error.metadata().get("key"), error.metadata().get("name"), context.get("key"));
    String version = first(error.metadata().get("version"), context.get("version"));
    String phrase =
        key == null
            ? null
            : switch (error.errorReason()) {
              case KEY_NOT_FOUND -> "key \"" + key + "\" not found";
              case KEY_EXISTS -> "key \"" + key + "\" already exists";
              case VERSION_NOT_FOUND ->
                  version == null
                      ? "key \"" + key + "\" has no such version"
                      : "key \"" + key + "\" has no version " + version;
              default -> null;
            };
    if (phrase == null || error.getMessage().contains("; gave up after")) {
      return error.getMessage();
    }
    return phrase + " (" + error.reason() + ")";
  }

  private static String first(String... candidates) {
    for (String candidate : candidates) {
      if (candidate != null && !candidate.isBlank()) {
        return candidate;
      }
    }
    return null;
  }

  private static String oneLine(String text) {
    return text == null ? "" : text.replaceAll("\\s*[\\r\\n]+\\s*", " ").strip();
  }
}
