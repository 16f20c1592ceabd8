package io.keyrotor.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.Timestamp;
import io.keyrotor.api.v1.ClusterStatus;
import io.keyrotor.api.v1.Key;
import io.keyrotor.api.v1.KeyVersion;
import io.keyrotor.api.v1.KeyVersionState;
import io.keyrotor.api.v1.LimitStatus;
import io.keyrotor.api.v1.NodeRole;
import io.keyrotor.api.v1.NodeStatus;
import io.keyrotor.api.v1.RotateKeyResponse;
import io.keyrotor.api.v1.RotationPolicy;
import io.keyrotor.api.v1.RotationReason;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonOutputTest {

  private static Timestamp at(long seconds, int nanos) {
    return Timestamp.newBuilder().setSeconds(seconds).setNanos(nanos).build();
  }

  static final Key PAYMENTS =
      Key.newBuilder()
          .setName("payments")
          .setZone("eu-west")
          .setPrimaryVersion(1)
          .putLabels("team", "pay")
          .putLabels("env", "prod")
          .setCreateTime(at(1_740_830_400L, 0))
          .setRevision(7)
          .addVersions(
              KeyVersion.newBuilder()
                  .setVersion(1)
                  .setState(KeyVersionState.KEY_VERSION_STATE_PRIMARY)
                  .setCreateTime(at(1_740_830_400L, 0))
                  .setActivationTime(at(1_740_830_400L, 0)))
          .addVersions(
              KeyVersion.newBuilder()
                  .setVersion(2)
                  .setState(KeyVersionState.KEY_VERSION_STATE_PENDING)
                  .setCreateTime(at(1_740_830_460L, 0))
                  .setActivationTime(at(1_740_834_060L, 500_000_000))
                  .setRotationReason(RotationReason.ROTATION_REASON_COMPLIANCE))
          .build();

  @Test
  void key_printsDocumentedFieldsFirstWithRfc3339TimesAndBareStateNames() {
    assertEquals(
        "{\"name\":\"payments\",\"zone\":\"eu-west\",\"primary_version\":1,\"versions\":["
            + "{\"version\":1,\"state\":\"PRIMARY\",\"activation_time\":\"2025-03-01T12:00:00Z\","
            + "\"create_time\":\"2025-03-01T12:00:00Z\",\"destroy_time\":null,"
            + "\"rotation_reason\":null,\"required_acknowledgers\":[],\"acknowledged_by\":[],\"validation_deadline\":null,"
            + "\"encryptions\":0,\"status_reason\":null,\"demoted_time\":null},"
            + "{\"version\":2,\"state\":\"PENDING\",\"activation_time\":\"2025-03-01T13:01:00.500Z\","
            + "\"create_time\":\"2025-03-01T12:01:00Z\",\"destroy_time\":null,"
            + "\"rotation_reason\":\"COMPLIANCE\",\"required_acknowledgers\":[],\"acknowledged_by\":[],\"validation_deadline\":null,"
            + "\"encryptions\":0,\"status_reason\":null,\"demoted_time\":null}],"
            + "\"labels\":{\"env\":\"prod\",\"team\":\"pay\"},\"revision\":7,"
            + "\"create_time\":\"2025-03-01T12:00:00Z\",\"policy\":null,"
            + "\"next_rotation_time\":null,\"dependents\":[],\"rotation_requested_by\":null,"
            + "\"min_decryption_version\":0,\"min_encryption_version\":0}",
        JsonOutput.render(JsonOutput.key(PAYMENTS)));
  }

  @Test
  void key_withPolicy_printsDurationsInCliSyntax() {
    Key key =
        PAYMENTS.toBuilder()
            .setRotationPolicy(
                RotationPolicy.newBuilder()
                    .setRotationPeriod(
                        com.google.protobuf.Duration.newBuilder().setSeconds(7_776_000))
                    .setActivationDelay(com.google.protobuf.Duration.newBuilder().setSeconds(5400))
                    .setMaxEncryptions(1_000_000))
            .build();

    String json = JsonOutput.render(JsonOutput.key(key));

    assertEquals(
        true,
        json.endsWith(
            "\"policy\":{\"rotation_period\":\"90d\",\"max_encryptions\":1000000,"
                + "\"activation_delay\":\"1h30m\",\"decrypt_grace\":null,"
                + "\"next_rotation_time\":null,\"template\":null,"
                + "\"destroy_waiting_period\":null,\"require_validation\":false},"
                + "\"next_rotation_time\":null,\"dependents\":[],\"rotation_requested_by\":null,"
                + "\"min_decryption_version\":0,\"min_encryption_version\":0}"),
        json);
  }

  @Test
  void rotation_appendsNewVersionAndActivationTime() {
    RotateKeyResponse response =
        RotateKeyResponse.newBuilder()
            .setKey(PAYMENTS)
            .setNewVersion(2)
            .setActivationTime(at(1_740_834_060L, 500_000_000))
            .build();

    String json = JsonOutput.render(JsonOutput.rotation(response));

    assertEquals(
        true,
        json.endsWith(
            "\"policy\":null,"
                + "\"next_rotation_time\":null,\"dependents\":[],\"rotation_requested_by\":null,"
                + "\"min_decryption_version\":0,\"min_encryption_version\":0,"
                + "\"new_version\":2,\"activation_time\":\"2025-03-01T13:01:00.500Z\"}"),
        json);
  }

  @Test
  void keys_wrapsKeyObjectsInKeysArray() {
    Key bare = Key.newBuilder().setName("b").setZone("default").build();

    assertEquals(
        "{\"keys\":[{\"name\":\"b\",\"zone\":\"default\",\"primary_version\":0,\"versions\":[],"
            + "\"labels\":{},\"revision\":0,\"create_time\":null,\"policy\":null,"
            + "\"next_rotation_time\":null,\"dependents\":[],\"rotation_requested_by\":null,"
            + "\"min_decryption_version\":0,\"min_encryption_version\":0}]}",
        JsonOutput.render(JsonOutput.keys(List.of(bare))));
    assertEquals("{\"keys\":[]}", JsonOutput.render(JsonOutput.keys(List.of())));
  }

  @Test
  void cluster_printsNodesWithBareRolesAndLeaderFlag() {
    ClusterStatus status =
        TestClusters.clusterOf(
            TestClusters.leader("n1", "eu")
                .setTerm(3)
                .setAppliedIndex(42)
                .setStateDigest("ab12")
                .addZones("default")
                .setApiAddress("127.0.0.1:7101")
                .addLimits(
                    LimitStatus.newBuilder()
                        .setSetting("limits.keys-per-cluster")
                        .setValue(100_000)
                        .setCeiling(-1))
                .setSupportedClusterVersion(2)
                .setActiveClusterVersion(1),
            NodeStatus.newBuilder()
                .setId("n2")
                .setRegion("us")
                .setRole(NodeRole.NODE_ROLE_UNREACHABLE)
                .setApiAddress("127.0.0.1:7102")
                .setError("deadline exceeded"));

    assertEquals(
        "{\"nodes\":["
            + "{\"id\":\"n1\",\"region\":\"eu\",\"role\":\"LEADER\",\"term\":3,\"applied_index\":42,"
            + "\"state_digest\":\"ab12\",\"zones\":[\"default\"],\"api_address\":\"127.0.0.1:7101\","
            + "\"leader\":true,\"error\":null,\"hsm\":null,\"transport\":null,\"clock\":null,"
            + "\"throttled\":[],\"limits\":[{\"setting\":\"limits.keys-per-cluster\","
            + "\"value\":100000,\"ceiling\":4294967295}],"
            + "\"supported_cluster_version\":2,\"active_cluster_version\":1},"
            + "{\"id\":\"n2\",\"region\":\"us\",\"role\":\"UNREACHABLE\",\"term\":0,"
            + "\"applied_index\":0,\"state_digest\":\"\",\"zones\":[],"
            + "\"api_address\":\"127.0.0.1:7102\",\"leader\":false,"
            + "\"error\":\"deadline exceeded\",\"hsm\":null,\"transport\":null,\"clock\":null,"
            + "\"throttled\":[],\"limits\":[],"
            + "\"supported_cluster_version\":0,\"active_cluster_version\":0}],"
            + "\"leader_id\":\"n1\",\"active_cluster_version\":1}",
        JsonOutput.render(
            JsonOutput.cluster(status.toBuilder().setActiveClusterVersion(1).build())));
    assertEquals(
        "cluster version: 1 (supported: n1=2 n2=?)",
        HumanOutput.cluster(status.toBuilder().setActiveClusterVersion(1).build())
            .lines()
            .reduce((first, second) -> second)
            .orElseThrow());
  }

  @Test
  void human_keyTable_listsVersionsWithStates() {
    assertEquals(
        """
        name           payments
        zone           eu-west
        primary        v1
        labels         env=prod,team=pay
        policy         none (rotates only when asked)
        next rotation  none scheduled
        VERSION  STATE    ACTIVATION_TIME           REASON      DETAIL
        v1       PRIMARY  2025-03-01T12:00:00Z      -
        v2       PENDING  2025-03-01T13:01:00.500Z  COMPLIANCE  not gated
        """,
        HumanOutput.key(PAYMENTS));
  }
}
