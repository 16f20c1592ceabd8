package io.keyrotor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bash completion script: the one the build writes ({@code target/keyrotor-completion.bash},
 * which scripts/completion installs) completes real commands in bash, and {@code keyrotor
 * generate-completion} prints the same.
 */
class CompletionCliTest {
  @TempDir Path workingDirectory;

  @Test
  void generateCompletion_printsABashScriptCoveringCommandsAndOptions_withoutConnecting() {
    CliRun run = CliRun.execute(CliRun.cli(workingDirectory), new byte[0], "generate-completion");

    assertEquals(0, run.status(), run.stderr());
    String script = run.stdout();
    assertTrue(script.startsWith("#!/usr/bin/env bash"), script);
    assertTrue(script.contains("complete -F _complete_keyrotor"), script);
    for (String word : new String[] {"set-policy", "rotate-all", "datakey", "--cluster-dir"}) {
      assertTrue(script.contains(word), word);
    }
  }

  @Test
  void generateCompletion_isHiddenFromTheCommandList() {
    CliRun run = CliRun.execute(CliRun.cli(workingDirectory), new byte[0], "--help");

    assertEquals(0, run.status(), run.stderr());
    assertTrue(run.stdout().contains("datakey"), run.stdout());
    assertFalse(run.stdout().contains("generate-completion"), run.stdout());
  }

  /** The script the build wrote in process-classes (exec-maven-plugin, cli/pom.xml). */
  private static Path buildTimeScript() {
    Path script = Path.of("target", "keyrotor-completion.bash");
    assertTrue(Files.isRegularFile(script), "the build writes " + script.toAbsolutePath());
    return script;
  }

  @Test
  void buildTimeScript_inBash_completesAPrefixToTheRealSubcommand() throws Exception {
    assertEquals(List.of("cluster"), complete(buildTimeScript(), "keyrotor", "clu"));
  }

  @Test
  void buildTimeScript_inBash_completesNestedCommandsAndTheirOptions() throws Exception {
    Path script = buildTimeScript();

    assertEquals(List.of("rotate", "rotate-all"), complete(script, "keyrotor", "key", "rot"));
    assertTrue(
        complete(script, "keyrotor", "zone", "rotate-master", "--wa").contains("--wait"),
        "zone rotate-master's --wait");
    assertEquals(List.of(), complete(script, "keyrotor", "no-such-prefix"));
  }

  @Test
  void buildTimeScript_isWhatGenerateCompletionPrints() throws IOException {
    CliRun run = CliRun.execute(CliRun.cli(workingDirectory), new byte[0], "generate-completion");

    assertEquals(0, run.status(), run.stderr());
    assertEquals(Files.readString(buildTimeScript(), StandardCharsets.UTF_8), run.stdout());
  }

  /**
   * Sources {@code script} in a fresh bash, completes the last of {@code words} as bash does on TAB
   * (COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT, then the registered function), and returns the
   * candidates in sorted order.
   */
  private List<String> complete(Path script, String... words) throws Exception {
    StringBuilder array = new StringBuilder();
    for (String word : words) {
      array.append(" '").append(word).append('\'');
    }
    String program =
        "source \"$1\" || exit 3\n"
            + "COMP_WORDS=("
            + array
            + ")\n"
            + "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n"
            + "COMP_LINE=\"${COMP_WORDS[*]}\"\n"
            + "COMP_POINT=${#COMP_LINE}\n"
            + "fn=$(complete -p keyrotor | sed -n 's/.*-F \\([^ ]*\\) .*/\\1/p')\n"
            + "[ -n \"$fn\" ] || exit 4\n"
            + "\"$fn\" keyrotor \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD-1]}\"\n"
            + "printf '%s\\n' \"${COMPREPLY[@]}\" | sed '/^$/d' | sort\n";
    Path output = workingDirectory.resolve("completion.out");
    // Outside a real TAB, bash's compopt complains on stderr ("not currently executing
    // completion function"): kept apart from the candidates.
    Path errors = workingDirectory.resolve("completion.err");
    Process bash =
        new ProcessBuilder(
                "bash", "--norc", "--noprofile", "-c", program, "bash", script.toString())
            .redirectOutput(output.toFile())
            .redirectError(errors.toFile())
            .start();
    assertTrue(bash.waitFor(30, TimeUnit.SECONDS), "bash finished");
    String out = Files.readString(output, StandardCharsets.UTF_8);
    assertEquals(0, bash.exitValue(), out + Files.readString(errors, StandardCharsets.UTF_8));
    return out.lines().map(String::strip).filter(line -> !line.isEmpty()).toList();
  }
}
