package io.keyrotor.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.keyrotor.proto.internal.v1.NodeRecord;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** When the leader raises the cluster's version: only once every voting member supports it. */
class ClusterVersionDriverTest {
  private static final List<String> VOTING = List.of("n1", "n2", "n3");

  private static NodeRecord node(String id, int supported) {
    return NodeRecord.newBuilder().setId(id).setSupportedClusterVersion(supported).build();
  }

  /** The records of the voters n1, n2 and n3, supporting the versions given in that order. */
  private static Map<String, NodeRecord> voters(int n1, int n2, int n3) {
    return Map.of("n1", node("n1", n1), "n2", node("n2", n2), "n3", node("n3", n3));
  }

  @Test
  void everyVotingMemberSupports2_raisedTo2() {
    Map<String, NodeRecord> nodes = voters(2, 2, 2);
    assertEquals(OptionalInt.of(2), ClusterVersionDriver.target(1, 2, VOTING, nodes));
  }

  @Test
  void membersOnDifferentReleases_raisedToTheLowestTheyAllSupport() {
    Map<String, NodeRecord> mixed =
        Map.of("n1", node("n1", 3), "n2", node("n2", 2), "n3", node("n3", 3));
    Map<String, NodeRecord> upgraded =
        Map.of("n1", node("n1", 3), "n2", node("n2", 3), "n3", node("n3", 3));
    assertEquals(OptionalInt.of(2), ClusterVersionDriver.target(1, 3, VOTING, mixed));
    assertEquals(OptionalInt.empty(), ClusterVersionDriver.target(2, 3, VOTING, mixed));
    assertEquals(OptionalInt.of(3), ClusterVersionDriver.target(2, 3, VOTING, upgraded));
  }

  @Test
  void oneMemberStillOld_notRaised() {
    Map<String, NodeRecord> nodes = voters(2, 1, 2);
    assertEquals(OptionalInt.empty(), ClusterVersionDriver.target(1, 2, VOTING, nodes));
  }

  @Test
  void aMemberThatReportedNothingOrNeverRegistered_countsAsVersion1() {
    Map<String, NodeRecord> unreported = voters(2, 0, 2);
    Map<String, NodeRecord> missing = Map.of("n1", node("n1", 2), "n2", node("n2", 2));
    assertEquals(OptionalInt.empty(), ClusterVersionDriver.target(1, 2, VOTING, unreported));
    assertEquals(OptionalInt.empty(), ClusterVersionDriver.target(1, 2, VOTING, missing));
  }

  @Test
  void aLeaderCappedBelowItsPeers_raisesOnlyToItsOwn() {
    Map<String, NodeRecord> nodes = voters(2, 2, 2);
    assertEquals(OptionalInt.empty(), ClusterVersionDriver.target(1, 1, VOTING, nodes));
  }

  @Test
  void alreadyActive_orANonVotingNodeOld_nothingToDo() {
    Map<String, NodeRecord> nodes =
        Map.of("n1", node("n1", 2), "n2", node("n2", 2), "n3", node("n3", 2), "r1", node("r1", 1));
    assertEquals(OptionalInt.empty(), ClusterVersionDriver.target(2, 2, VOTING, nodes));
    assertEquals(OptionalInt.of(2), ClusterVersionDriver.target(1, 2, VOTING, nodes));
  }
}
