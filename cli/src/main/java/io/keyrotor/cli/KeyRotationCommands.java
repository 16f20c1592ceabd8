package io.keyrotor.cli;

import io.keyrotor.api.v1.BulkRotation;
import io.keyrotor.api.v1.CancelRotationRequest;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.RollbackRotationRequest;
import io.keyrotor.api.v1.RotationPolicy;
import io.keyrotor.api.v1.SetRotationPolicyRequest;
import io.keyrotor.api.v1.StartBulkRotationRequest;
import io.keyrotor.client.Durations;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The rotation engine's {@code keyrotor key ...} commands that decide when keys rotate: policies,
 * bulk rotation, rollback and cancellation, dependents. Destroy and floors are in {@link
 * KeyCommand}, history and the live event stream in {@link KeyEventCommands}.
 */
final class KeyRotationCommands {

  /** How often {@code rotate-all --wait} asks for the job's progress. */
  static final Duration BULK_POLL_INTERVAL = Duration.ofMillis(500);

  private KeyRotationCommands() {}

  private static com.google.protobuf.Timestamp toProto(Instant instant) {
    return com.google.protobuf.Timestamp.newBuilder()
        .setSeconds(instant.getEpochSecond())
        .setNanos(instant.getNano())
        .build();
  }

  private static Instant toInstant(com.google.protobuf.Timestamp timestamp) {
    return Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos());
  }

  @Command(
      name = "set-policy",
      description = {
        "Change a key's rotation policy.",
        "Flags not given keep their current value: the key is read first and the change is merged"
            + " into its policy (a change made by someone else in between is overwritten). With"
            + " --template, the fields not given come from the template instead of the current"
            + " policy. A next-rotation anchor that has passed is dropped."
      })
  static final class SetPolicy implements Runnable {
    @Mixin CommandArguments.KeyName arguments;

    @Option(
        names = "--rotation-period",
        paramLabel = "DUR",
        converter = Converters.AnyDuration.class,
        description =
            "Rotate this long after each version activates; 0 removes the schedule (a template's"
                + " period applies again if the policy names one).")
    Duration rotationPeriod;

    @Option(
        names = "--max-encryptions",
        paramLabel = "N",
        converter = Converters.Count.class,
        description =
            "Encrypt at most N times under one version, rotating ahead of it; 0: the cluster's"
                + " limit, 2^31.")
    Long maxEncryptions;

    @Mixin SharedOptions.ActivationDelay activationDelay;

    @Mixin SharedOptions.DecryptGrace decryptGrace;

    @Option(
        names = "--next-rotation",
        paramLabel = "RFC3339",
        converter = Converters.Time.class,
        description = "An explicit time for the next scheduled rotation (in the future).")
    Instant nextRotation;

    @Mixin SharedOptions.Template template;

    @Override
    public void run() {
      if (rotationPeriod == null
          && maxEncryptions == null
          && activationDelay.activationDelay == null
          && decryptGrace.decryptGrace == null
          && nextRotation == null
          && template.template == null) {
        throw arguments.usageError(
            "nothing to change: give --rotation-period, --max-encryptions, --activation-delay,"
                + " --decrypt-grace, --next-rotation or --template");
      }
      KeyrotorCli root = arguments.root();
      Key current = root.client().getKey(arguments.name);
      Instant now =
          current.hasAsOfTime() ? toInstant(current.getAsOfTime()) : root.clock().instant();
      Key key = root.client().setRotationPolicy(merge(current, now));
      root.printKey(key, "set the policy of key " + arguments.name);
    }

    /** The request: the current policy (or the template) with the given flags applied. */
    SetRotationPolicyRequest merge(Key current, Instant now) {
      RotationPolicy.Builder policy =
          template.template == null
              ? current.getRotationPolicy().toBuilder()
              : RotationPolicy.newBuilder().setTemplate(template.template);
      if (policy.hasNextRotationTime() && !toInstant(policy.getNextRotationTime()).isAfter(now)) {
        policy.clearNextRotationTime(); // used already; the server refuses anchors in the past
      }
      KeyCommand.applyPolicy(
          policy,
          rotationPeriod,
          maxEncryptions,
          activationDelay.activationDelay,
          decryptGrace.decryptGrace);
      if (nextRotation != null) {
        policy.setNextRotationTime(toProto(nextRotation));
      }
      SetRotationPolicyRequest.Builder request =
          SetRotationPolicyRequest.newBuilder().setName(arguments.name).setRotationPolicy(policy);
      if (template.template != null) {
        request.setTemplate(template.template);
      }
      return request.build();
    }
  }

  @Command(
      name = "rotate-all",
      description = {
        "Rotate every key of a zone, or every key carrying all the labels, as one replicated job"
            + " (both narrow the selection).",
        "Prints the job; its id is for bulk-status. --wait polls it until no key is left,"
            + " printing each change of progress (one JSON object per line with --json). A"
            + " rotated key has its new version; with an activation delay it becomes primary at"
            + " its activation time (see: keyrotor rotations)."
      })
  static final class RotateAll implements Runnable {
    @Mixin CommandArguments.Invocation invocation;

    @Mixin SharedOptions.Zone zone;

    @Mixin SharedOptions.Labels labels;

    @Mixin SharedOptions.RotationReasonOption reason;

    @Option(names = "--wait", description = "Wait until every key of the job is rotated.")
    boolean await;

    @Option(
        names = "--timeout",
        paramLabel = "DUR",
        defaultValue = "10m",
        converter = Converters.PositiveDuration.class,
        description = "How long --wait waits (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    public void run() {
      if (zone.zone == null && labels.labels.isEmpty()) {
        throw invocation.usageError("give --zone Z or --label k=v (rotating every key is refused)");
      }
      for (String label : labels.labels.keySet()) {
        if (label.isBlank()) {
          throw invocation.usageError("invalid --label: empty name");
        }
      }
      KeyrotorCli root = invocation.root();
      StartBulkRotationRequest.Builder request =
          StartBulkRotationRequest.newBuilder()
              .putAllLabelSelector(labels.labels)
              .setReason(reason.reason.proto);
      if (zone.zone != null) {
        root.errorContext("zone", zone.zone);
        request.setZone(zone.zone);
      }
      BulkRotation job = root.client().startBulkRotation(request.build());
      if (!await) {
        printJob(
            root,
            job,
            job.getRemaining() == 0
                ? ""
                : "follow it with: keyrotor key bulk-status " + job.getId() + "\n");
        return;
      }
      printJob(root, job, "");
      Instant deadline = root.clock().instant().plus(timeout);
      long reported = job.getRemaining();
      while (job.getRemaining() > 0) {
        if (!root.clock().instant().isBefore(deadline)) {
          throw new CliException(
              "bulk rotation "
                  + job.getId()
                  + " did not finish within "
                  + Durations.format(timeout)
                  + " ("
                  + job.getRemaining()
                  + " of "
                  + job.getTotal()
                  + " keys left); it continues in the background (see: keyrotor key bulk-status "
                  + job.getId()
                  + ")");
        }
        root.sleep(BULK_POLL_INTERVAL);
        job = root.client().getBulkRotation(job.getId());
        if (job.getRemaining() != reported) {
          reported = job.getRemaining();
          printJob(root, job, "");
        }
      }
    }
  }

  @Command(name = "bulk-status", description = "The progress of a bulk rotation.")
  static final class BulkStatus implements Runnable {
    @Mixin CommandArguments.Invocation invocation;

    @Parameters(index = "0", paramLabel = "ID", description = "The job id rotate-all printed.")
    String id;

    @Override
    public void run() {
      KeyrotorCli root = invocation.root();
      printJob(root, root.client().getBulkRotation(id), "");
    }
  }

  /** Prints a bulk rotation job, its table followed by {@code trailer}. */
  private static void printJob(KeyrotorCli root, BulkRotation job, String trailer) {
    root.print(JsonOutput.bulkRotation(job), HumanOutput.bulkRotation(job) + trailer);
  }

  @Command(
      name = "rollback",
      description = {
        "Roll back an activated rotation: the previous version is primary again from now.",
        "The rolled-back version keeps decrypting, so nothing encrypted under it is lost."
      })
  static final class Rollback implements Runnable {
    @Mixin CommandArguments.KeyVersion arguments;

    @Mixin SharedOptions.AuditReason reason;

    @Override
    public void run() {
      RollbackRotationRequest request =
          RollbackRotationRequest.newBuilder()
              .setName(arguments.name)
              .setVersion(arguments.version)
              .setReason(reason.reason)
              .build();
      arguments.change(
          (client, name, version) -> client.rollbackRotation(request),
          key -> "rolled back " + arguments.subject() + "; primary is " + primaryText(key));
    }
  }

  @Command(
      name = "cancel-rotation",
      description =
          "Cancel a pending rotation: the version becomes CANCELLED, the primary stays as it is.")
  static final class CancelRotation implements Runnable {
    @Mixin CommandArguments.KeyVersion arguments;

    @Mixin SharedOptions.AuditReason reason;

    @Override
    public void run() {
      CancelRotationRequest request =
          CancelRotationRequest.newBuilder()
              .setName(arguments.name)
              .setVersion(arguments.version)
              .setReason(reason.reason)
              .build();
      arguments.change(
          (client, name, version) -> client.cancelRotation(request),
          key ->
              "cancelled the rotation to "
                  + arguments.subject()
                  + "; primary is "
                  + primaryText(key));
    }
  }

  private static String primaryText(Key key) {
    return key.getPrimaryVersion() == 0 ? "none" : "v" + key.getPrimaryVersion();
  }

  @Command(
      name = "dependents",
      description = {
        "Declare the keys that rotate after this one (replacing the list; none clears it).",
        "Rotating the key then schedules rotations of its dependents, in dependency order;"
            + " a cycle is refused."
      })
  static final class Dependents implements Runnable {
    @Mixin CommandArguments.KeyName arguments;

    @Parameters(
        index = "1..*",
        paramLabel = "KEY",
        description = "The dependent keys (none: clear the list).")
    List<String> dependents = new ArrayList<>();

    @Override
    public void run() {
      KeyrotorCli root = arguments.root();
      Key key = root.client().setKeyDependents(arguments.name, dependents);
      root.printKey(
          key,
          "key "
              + arguments.name
              + (key.getDependentsCount() == 0
                  ? ": no dependents"
                  : ": dependents " + String.join(", ", key.getDependentsList())));
    }
  }
}
