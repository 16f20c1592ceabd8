package io.keyrotor.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The positional parameters that many commands share, as picocli mixins ({@code @Mixin}): the key,
 * key version or zone a command is about, declared once with their labels and help text, and the
 * root of the invocation with that subject recorded to phrase errors.
 */
final class CommandArguments {

  private CommandArguments() {}

  /** {@code NAME}: the key a command is about. */
  static final class KeyName {
    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    @Parameters(index = "0", paramLabel = "NAME", description = "The key's name.")
    String name;

    /** The root command of the invocation, with the key recorded for error messages. */
    KeyrotorCli root() {
      KeyrotorCli root = KeyCommand.root(command);
      root.errorContext("key", name);
      return root;
    }
  }

  /** {@code NAME VERSION}: the key version a command is about. */
  static final class KeyVersion {
    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    @Parameters(index = "0", paramLabel = "NAME", description = "The key's name.")
    String name;

    @Parameters(
        index = "1",
        paramLabel = "VERSION",
        converter = KeyCommand.VersionConverter.class,
        description = "The version number.")
    int version;

    /** The root command of the invocation, with the key and version recorded for error messages. */
    KeyrotorCli root() {
      KeyrotorCli root = KeyCommand.root(command);
      root.errorContext("key", name);
      root.errorContext("version", Integer.toString(version));
      return root;
    }
  }

  /** {@code ZONE}: the zone a command is about. */
  static final class ZoneName {
    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    @Parameters(index = "0", paramLabel = "ZONE", description = "The zone.")
    String zone;

    /** The root command of the invocation, with the zone recorded for error messages. */
    KeyrotorCli root() {
      KeyrotorCli root = KeyCommand.root(command);
      root.errorContext("zone", zone);
      return root;
    }
  }
}
