package io.keyrotor.cli;

import io.keyrotor.api.v1.RotationReason;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The options that several commands take, as picocli mixins ({@code @Mixin}), each declared once.
 * The description here is the option's help in most commands; a command whose help says something
 * else has that text in {@code OptionHelp.properties}, under the command's qualified name and the
 * option's {@code descriptionKey} ({@code keyrotor.key.create.zone}).
 */
final class SharedOptions {

  private SharedOptions() {}

  /** {@code --zone Z}: null when not given. */
  @Command
  static final class Zone {
    @Option(
        names = "--zone",
        paramLabel = "Z",
        descriptionKey = "zone",
        description = "Only keys of this zone.")
    String zone;
  }

  /** {@code --label k=v}, repeatable, in the order given. */
  @Command
  static final class Labels {
    @Option(
        names = "--label",
        paramLabel = "k=v",
        descriptionKey = "label",
        description = "A label; repeat for several.")
    Map<String, String> labels = new LinkedHashMap<>();
  }

  /**
   * {@code --context k=v}, repeatable: an encryption context. Checked on use: a key must not be
   * empty, a value may be.
   */
  @Command
  static final class Context extends CommandArguments.Invocation {
    @Option(
        names = "--context",
        paramLabel = "k=v",
        descriptionKey = "context",
        description = "Encryption context pair bound to the wrapped key; repeat for several.")
    Map<String, String> context = new LinkedHashMap<>();

    /** The pairs given, or a usage error naming the option if one has an empty key. */
    Map<String, String> pairs() {
      return DataCommands.pairs(this, "--context", context);
    }
  }

  /** {@code --activation-delay DUR} (zero allowed): null when not given. */
  @Command
  static final class ActivationDelay {
    @Option(
        names = "--activation-delay",
        paramLabel = "DUR",
        converter = Converters.AnyDuration.class,
        descriptionKey = "activation-delay",
        description = "Delay before the new version becomes primary (default: the key's policy).")
    Duration activationDelay;
  }

  /** {@code --decrypt-grace DUR} (zero allowed): null when not given. */
  @Command
  static final class DecryptGrace {
    @Option(
        names = "--decrypt-grace",
        paramLabel = "DUR",
        converter = Converters.AnyDuration.class,
        descriptionKey = "decrypt-grace",
        description =
            "How long a superseded version keeps decrypting before it is disabled (default or 0:"
                + " until the decryption floor is raised).")
    Duration decryptGrace;
  }

  /** {@code --template NAME}: a policy template, null when not given. */
  @Command
  static final class Template {
    @Option(
        names = "--template",
        paramLabel = "NAME",
        descriptionKey = "template",
        description =
            "A policy template (for example pci-dss, high-sensitivity) that fills the policy"
                + " fields not given here.")
    String template;
  }

  /** {@code --reason manual|compliance|compromise}: why a key rotates (default: manual). */
  @Command
  static final class RotationReasonOption {
    @Option(
        names = "--reason",
        paramLabel = "REASON",
        descriptionKey = "rotation-reason",
        description = "Why: ${COMPLETION-CANDIDATES} (default: manual).")
    Reason reason = Reason.MANUAL;
  }

  /** {@code --reason TEXT}: why, for the audit trail; empty when not given. */
  @Command
  static final class AuditReason {
    @Option(names = "--reason", paramLabel = "TEXT", description = "Why, for the audit trail.")
    String reason = "";
  }

  /** The rotation reasons an operator may give on the command line. */
  enum Reason {
    MANUAL(RotationReason.ROTATION_REASON_MANUAL),
    COMPLIANCE(RotationReason.ROTATION_REASON_COMPLIANCE),
    COMPROMISE(RotationReason.ROTATION_REASON_COMPROMISE);

    final RotationReason proto;

    Reason(RotationReason proto) {
      this.proto = proto;
    }

    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }
}
