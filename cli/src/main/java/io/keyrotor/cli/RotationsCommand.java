package io.keyrotor.cli;

import io.keyrotor.api.v1.ListRotationsRequest;
import io.keyrotor.api.v1.RotationStatus;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code keyrotor rotations}: what the rotation engine has pending, due, late or failed. */
@Command(
    name = "rotations",
    description = {
      "Rotations that are pending (activation or validation ahead), due, late (due for more than"
          + " a minute), scheduled, or failed (cancelled in the last 24 hours).",
      "Pending, due, late and failed rotations always show; scheduled ones within --due-within"
          + " (default: all)."
    })
final class RotationsCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--due-within",
      paramLabel = "DUR",
      converter = KeyrotorCli.DurationConverter.class,
      description = "Only scheduled rotations due within this long (for example 7d).")
  Duration dueWithin;

  @Override
  public void run() {
    KeyrotorCli root = KeyCommand.root(spec);
    ListRotationsRequest.Builder request = ListRotationsRequest.newBuilder();
    if (dueWithin != null) {
      request.setDueWithin(KeyCommand.toProto(dueWithin));
    }
    List<RotationStatus> rotations =
        root.client().listRotations(request.build()).getRotationsList();
    root.print(JsonOutput.rotations(rotations), HumanOutput.rotations(rotations));
  }
}
