package io.keyrotor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code keyrotor generate-completion}: the script scripts/completion installs. */
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
}
