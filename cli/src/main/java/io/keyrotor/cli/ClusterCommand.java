package io.keyrotor.cli;

import io.keyrotor.api.v1.AddNodeRequest;
import io.keyrotor.api.v1.AddNodeResponse;
import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.api.v1.RemoveNodeResponse;
import io.keyrotor.api.v1.ReplaceNodeRequest;
import io.keyrotor.api.v1.ReplaceNodeResponse;
import io.keyrotor.api.v1.TransferLeadershipResponse;
import io.keyrotor.client.Durations;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code keyrotor cluster ...}: the state of the cluster's nodes, and its membership. */
@Command(
    name = "cluster",
    description = "Inspect the cluster and change its members.",
    subcommands = {
      ClusterCommand.Status.class,
      ClusterCommand.AddNode.class,
      ClusterCommand.RemoveNode.class,
      ClusterCommand.ReplaceNode.class,
      ClusterCommand.TransferLeadership.class
    })
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

  /** Where a new node listens and what it serves (add-node, replace-node). */
  static final class NewNode {
    @Option(
        names = "--address",
        required = true,
        description = "The new node's Raft address (host:port).")
    String raftAddress;

    @Option(
        names = "--api-address",
        required = true,
        description = "The new node's API address (host:port).")
    String apiAddress;

    @Option(names = "--region", required = true, description = "The region the node serves.")
    String region;

    @Option(
        names = "--wait",
        defaultValue = "120s",
        description = "How long it may take to catch up and prove its zones (at most 10m).")
    String await;

    AddNodeRequest request(String id) {
      Duration wait = Durations.parsePositive(await);
      return AddNodeRequest.newBuilder()
          .setNodeId(id)
          .setRaftAddress(raftAddress)
          .setApiAddress(apiAddress)
          .setRegion(region)
          .setWaitSeconds((int) Math.min(Integer.MAX_VALUE, Math.max(1, wait.toSeconds())))
          .build();
    }
  }

  @Command(
      name = "add-node",
      description =
          "Add a running node (started with cluster.join=true) to the cluster: it catches up as a"
              + " non-voting listener, proves it can unwrap its zones' KEKs, then votes.")
  static final class AddNode implements Runnable {
    @Mixin CommandArguments.Invocation invocation;

    @Parameters(index = "0", paramLabel = "ID", description = "The new node's id.")
    String id;

    @Mixin NewNode node;

    @Option(
        names = "--replica",
        description =
            "Keep the node a non-voting read replica: it serves reads and its zones' data plane,"
                + " forwards writes, and counts for no majority. Without it, adding a replica"
                + " again makes it a voter.")
    boolean replica;

    @Override
    public void run() {
      KeyrotorCli root = invocation.root().errorContext("node", id);
      AddNodeResponse added =
          root.client().addNode(node.request(id).toBuilder().setReplica(replica).build());
      root.print(
          JsonOutput.membership(
              id, added.getVotersList(), added.getListenersList(), added.getVerifiedZonesList()),
          "added "
              + id
              + (replica ? " as a read replica" : "")
              + " (zones proved: "
              + added.getVerifiedZonesList()
              + "); voters: "
              + added.getVotersList()
              + (added.getListenersCount() == 0
                  ? ""
                  : "; read replicas: " + added.getListenersList()));
    }
  }

  @Command(
      name = "remove-node",
      description =
          "Remove a node from the cluster and from the registry: no validation gate waits for it"
              + " any more. Refused when the rest would have no working majority.")
  static final class RemoveNode implements Runnable {
    @Mixin CommandArguments.Invocation invocation;

    @Parameters(index = "0", paramLabel = "ID", description = "The node to remove.")
    String id;

    @Override
    public void run() {
      KeyrotorCli root = invocation.root().errorContext("node", id);
      RemoveNodeResponse removed = root.client().removeNode(id);
      root.print(
          JsonOutput.membership(id, removed.getVotersList(), List.of()),
          (removed.getAlreadyRemoved()
                  ? id + " was removed already (log index " + removed.getRemovalLogIndex() + ")"
                  : "removed " + id)
              + "; voters: "
              + removed.getVotersList());
    }
  }

  @Command(
      name = "replace-node",
      description =
          "Add NEW (as add-node), then remove OLD (as remove-node). Run again after a timeout: it"
              + " continues where the last call stopped, or says the replacement was done.")
  static final class ReplaceNode implements Runnable {
    @Mixin CommandArguments.Invocation invocation;

    @Parameters(index = "0", paramLabel = "OLD", description = "The node to replace.")
    String old;

    @Parameters(index = "1", paramLabel = "NEW", description = "The node that replaces it.")
    String id;

    @Mixin NewNode node;

    @Override
    public void run() {
      KeyrotorCli root = invocation.root().errorContext("node", old);
      ReplaceNodeResponse replaced =
          root.client()
              .replaceNode(
                  ReplaceNodeRequest.newBuilder()
                      .setOldNodeId(old)
                      .setNewNode(node.request(id))
                      .build());
      root.print(
          JsonOutput.membership(id, replaced.getVotersList(), replaced.getVerifiedZonesList()),
          (replaced.getAlreadyReplaced()
                  ? old
                      + " was replaced by "
                      + id
                      + " already (removed at log index "
                      + replaced.getRemovalLogIndex()
                      + ")"
                  : "replaced " + old + " by " + id)
              + "; voters: "
              + replaced.getVotersList());
    }
  }

  @Command(
      name = "transfer-leadership",
      description = "Hand leadership to another voter (default: the cluster chooses).")
  static final class TransferLeadership implements Runnable {
    @Mixin CommandArguments.Invocation invocation;

    @Option(names = "--to", paramLabel = "ID", description = "The voter that should lead.")
    String to;

    @Override
    public void run() {
      KeyrotorCli root = invocation.root();
      TransferLeadershipResponse moved = root.client().transferLeadership(to == null ? "" : to);
      root.print(JsonOutput.leader(moved.getLeaderId()), "leader: " + moved.getLeaderId());
    }
  }
}
