package io.keyrotor.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.AutoComplete;
import picocli.CommandLine;

/**
 * The bash completion script of the {@code keyrotor} command (picocli's {@link AutoComplete}
 * generator over every command and option), written at build time to {@code
 * cli/target/keyrotor-completion.bash}, which {@code scripts/completion} installs.
 */
public final class CompletionScript {
  private CompletionScript() {}

  /** The script: {@code complete -F _complete_keyrotor keyrotor} and its functions. */
  static String bash() {
    CommandLine everyCommand = new KeyrotorCli(Path.of(""), b -> b).commandTree(new String[0]);
    return AutoComplete.bash("keyrotor", everyCommand);
  }

  /**
   * Writes the script to the file named by the single argument (cli/pom.xml runs it in {@code
   * process-classes}).
   *
   * @throws IOException when the file cannot be written
   */
  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      throw new IllegalArgumentException("usage: CompletionScript OUTPUT_FILE");
    }
    Path file = Path.of(args[0]);
    Files.createDirectories(file.toAbsolutePath().getParent());
    // As "keyrotor generate-completion" prints it (println).
    Files.writeString(file, bash() + "\n", StandardCharsets.UTF_8);
  }
}
