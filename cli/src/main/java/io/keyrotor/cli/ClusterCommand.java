package io.keyrotor.cli;

import io.keyrotor.api.v1.ClusterStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code keyrotor cluster ...}: the state of the cluster's nodes. */
@Command(
    name = "cluster",
    description = "Inspect the cluster.",
    subcommands = {ClusterCommand.Status.class})
final class ClusterCommand extends CommandArguments.Group {

  @Command(
      name = "status",
      description = "Every node's role, term, applied index and state digest.")
  static final class Status implements Runnable {
    @Mixin CommandArguments.Invocation invocation;

    @Override
    public void run() {
      KeyrotorCli root = invocation.root();
      ClusterStatus status = root.client().clusterStatus();
      root.print(JsonOutput.cluster(status), HumanOutput.cluster(status));
    }
  }
}
