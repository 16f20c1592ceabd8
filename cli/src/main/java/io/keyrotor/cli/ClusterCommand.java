package io.keyrotor.cli;

import io.keyrotor.api.v1.ClusterStatus;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code keyrotor cluster ...}: the state of the cluster's nodes. */
@Command(
    name = "cluster",
    description = "Inspect the cluster.",
    subcommands = {ClusterCommand.Status.class})
final class ClusterCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand: status");
  }

  @Command(
      name = "status",
      description = "Every node's role, term, applied index and state digest.")
  static final class Status implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      KeyrotorCli root = KeyCommand.root(spec);
      ClusterStatus status = root.client().clusterStatus();
      root.print(JsonOutput.cluster(status), HumanOutput.cluster(status));
    }
  }
}
