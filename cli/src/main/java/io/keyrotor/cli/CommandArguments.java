package io.keyrotor.cli;

import io.keyrotor.api.v1.Key;
import io.keyrotor.client.KeyrotorClient;
import java.util.List;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * What every command shares, as picocli mixins ({@code @Mixin}): the root of the invocation, usage
 * errors that point at the command's help, and the positional parameters that many commands take
 * (the key, key version or zone a command is about), declared once with their labels and help text,
 * with that subject recorded to phrase errors.
 */
final class CommandArguments {

  private CommandArguments() {}

  /**
   * No parameters: the invocation a command runs in. The base of the other mixins. ({@code Command}
   * with no attributes marks it as a mixin for picocli and adds nothing to the mixee.)
   */
  @Command
  static class Invocation {
    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    /** The root command of the invocation. */
    KeyrotorCli root() {
      return (KeyrotorCli) command.root().userObject();
    }

    /** A usage error (exit status 2) whose line points at this command's {@code --help}. */
    CommandLine.ParameterException usageError(String message) {
      return new CommandLine.ParameterException(command.commandLine(), message);
    }
  }

  /** {@code NAME}: the key a command is about. */
  static class KeyName extends Invocation {
    @Parameters(index = "0", paramLabel = "NAME", description = "The key's name.")
    String name;

    /** The root command of the invocation, with the key recorded for error messages. */
    @Override
    KeyrotorCli root() {
      return super.root().errorContext("key", name);
    }
  }

  /** {@code NAME VERSION}: the key version a command is about. */
  static final class KeyVersion extends KeyName {
    @Parameters(
        index = "1",
        paramLabel = "VERSION",
        converter = Converters.Version.class,
        descriptionKey = "version-number",
        description = "The version number.")
    int version;

    /** The root command of the invocation, with the key and version recorded for error messages. */
    @Override
    KeyrotorCli root() {
      return super.root().errorContext("version", Integer.toString(version));
    }

    /** {@code NAME vVERSION}, as headlines name the version. */
    String subject() {
      return name + " v" + version;
    }

    /**
     * Runs a change of this version and prints the key under {@code "<verb> NAME vVERSION"}.
     *
     * @param verb what happened, in the past tense ({@code disabled})
     */
    void change(VersionChange change, String verb) {
      change(change, key -> verb + " " + key.getName() + " v" + version);
    }

    /** Runs a change of this version and prints the key under {@code headline(key)}. */
    void change(VersionChange change, Function<Key, String> headline) {
      KeyrotorCli root = root();
      Key key = change.apply(root.client(), name, version);
      root.printKey(key, headline.apply(key));
    }
  }

  /** One SDK call that changes a key version and returns the key. */
  @FunctionalInterface
  interface VersionChange {
    Key apply(KeyrotorClient client, String name, int version);
  }

  /** {@code ZONE}: the zone a command is about. */
  static final class ZoneName extends Invocation {
    @Parameters(index = "0", paramLabel = "ZONE", description = "The zone.")
    String zone;

    /** The root command of the invocation, with the zone recorded for error messages. */
    @Override
    KeyrotorCli root() {
      return super.root().errorContext("zone", zone);
    }
  }

  /**
   * A command that only groups subcommands: run alone, it is a usage error naming them ({@code
   * missing subcommand: a, b or c}).
   */
  abstract static class Group implements Runnable {
    @Spec CommandSpec spec;

    @Override
    public void run() {
      List<String> names = List.copyOf(spec.subcommands().keySet());
      String last = names.get(names.size() - 1);
      String list =
          names.size() == 1
              ? last
              : String.join(", ", names.subList(0, names.size() - 1)) + " or " + last;
      throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand: " + list);
    }
  }
}
