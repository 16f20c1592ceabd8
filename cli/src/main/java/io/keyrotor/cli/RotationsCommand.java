package io.keyrotor.cli;

import io.keyrotor.api.v1.ListRotationsRequest;
import io.keyrotor.api.v1.RotationStatus;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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
  @Mixin CommandArguments.Invocation invocation;

  @Option(
      names = "--due-within",
      paramLabel = "DUR",
      converter = Converters.AnyDuration.class,
      description = "Only scheduled rotations due within this long (for example 7d).")
  Duration dueWithin;

  @Override
  public void run() {
    KeyrotorCli root = invocation.root();
    ListRotationsRequest.Builder request = ListRotationsRequest.newBuilder();
    if (dueWithin != null) {
      request.setDueWithin(KeyCommand.toProto(dueWithin));
    }
    List<RotationStatus> rotations =
        root.client().listRotations(request.build()).getRotationsList();
    root.print(JsonOutput.rotations(rotations), HumanOutput.rotations(rotations));
  }
}
