package io.keyrotor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/** The command tree a command line gets: only the branch it names, or every command. */
class CommandTreeTest {
  @TempDir Path workingDirectory;

  private Class<?> named(String... args) {
    CommandSpec root = new CommandLine(CliRun.cli(workingDirectory)).getCommandSpec();
    return KeyrotorCli.namedCommand(root, args);
  }

  private List<String> topLevel(String... args) {
    return new ArrayList<>(
        CliRun.cli(workingDirectory).commandTree(args).getSubcommands().keySet());
  }

  @Test
  void namedCommand_skipsTheRootsOptionsAndTheirValues() {
    assertEquals(KeyCommand.class, named("key", "get", "K"));
    assertEquals(KeyCommand.class, named("--servers", "h:1", "--json", "key", "get", "K"));
    assertEquals(ClusterCommand.class, named("--cluster-dir=dir", "cluster", "status"));
    // "key" here is --identity's value, not the command.
    assertEquals(ZoneCommand.class, named("--identity", "key", "zone", "status"));
    assertEquals(
        DataCommands.Decrypt.class,
        named("--insecure", "--deadline", "5s", "decrypt", "--in", "-"));
  }

  @Test
  void namedCommand_noneForHelpUnknownWordsAndUnknownOptions() {
    assertNull(named());
    assertNull(named("--help"));
    assertNull(named("help", "key"));
    assertNull(named("kye", "get", "K"));
    assertNull(named("--no-such-option", "key", "get", "K"));
    assertNull(named("--", "key"));
  }

  @Test
  void commandTree_forOneCommand_holdsOnlyItsBranchAndHelp() {
    assertEquals(List.of("key", "help"), topLevel("--json", "key", "get", "K"));
  }

  @Test
  void commandTree_withoutACommand_holdsEveryCommand() {
    List<String> names = topLevel("--help");

    assertEquals(KeyrotorCli.COMMANDS.size() + 2, names.size(), names.toString());
    for (String name : List.of("key", "datakey", "cluster", "zone", "backup", "events", "help")) {
      assertTrue(names.contains(name), name);
    }
    assertTrue(names.contains("generate-completion"), names.toString());
  }

  @Test
  void oneBranch_stillRunsItsCommandWithTheRootsInheritedOptions() {
    CliRun run = CliRun.execute(CliRun.cli(workingDirectory), new byte[0], "key", "get", "--help");

    assertEquals(0, run.status(), run.stderr());
    assertTrue(run.stdout().contains("--cluster-dir"), run.stdout());
    assertTrue(run.stdout().contains("--json"), run.stdout());
  }

  @Test
  void aMistypedCommand_isStillAUsageErrorAgainstEveryCommand() {
    CliRun run = CliRun.execute(CliRun.cli(workingDirectory), new byte[0], "clustr", "status");

    assertEquals(2, run.status());
    assertTrue(run.stderr().contains("clustr"), run.stderr());
  }
}
