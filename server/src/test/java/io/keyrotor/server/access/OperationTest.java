package io.keyrotor.server.access;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.grpc.MethodDescriptor;
import io.keyrotor.api.v1.AdminServiceGrpc;
import io.keyrotor.api.v1.KeyServiceGrpc;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Every RPC that changes state has an Operation the authoriser decides on, and only those. */
class OperationTest {
  /** The RPCs that read (or serve the data plane from applied state): no Operation. */
  private static final Set<String> READS =
      Set.of(
          "keyrotor.v1.KeyService/GetKey",
          "keyrotor.v1.KeyService/ListKeys",
          "keyrotor.v1.KeyService/GenerateDataKey",
          "keyrotor.v1.KeyService/GenerateDataKeyWithoutPlaintext",
          "keyrotor.v1.KeyService/Encrypt",
          "keyrotor.v1.KeyService/Decrypt",
          "keyrotor.v1.KeyService/ReEncrypt",
          "keyrotor.v1.KeyService/BatchDecrypt",
          "keyrotor.v1.KeyService/BatchReEncrypt",
          "keyrotor.v1.KeyService/WatchKeyEvents",
          "keyrotor.v1.KeyService/GetBulkRotation",
          "keyrotor.v1.KeyService/ListRotations",
          "keyrotor.v1.KeyService/ListKeyEvents",
          "keyrotor.v1.AdminService/GetClusterStatus",
          "keyrotor.v1.AdminService/GetNodeStatus");

  @Test
  void operations_areExactlyTheRpcsThatChangeState() {
    Set<String> rpcs = new TreeSet<>();
    for (var method : KeyServiceGrpc.getServiceDescriptor().getMethods()) {
      rpcs.add(((MethodDescriptor<?, ?>) method).getFullMethodName());
    }
    for (var method : AdminServiceGrpc.getServiceDescriptor().getMethods()) {
      rpcs.add(((MethodDescriptor<?, ?>) method).getFullMethodName());
    }
    rpcs.removeAll(READS);

    Set<String> operations =
        Arrays.stream(Operation.values())
            .map(Operation::fullMethodName)
            .collect(Collectors.toCollection(TreeSet::new));
    assertEquals(rpcs, operations, "a new RPC needs an Operation (or a place among the reads)");
  }

  @Test
  void target_namesWhatItIsForMessages() {
    assertEquals("key \"orders\"", Target.key("orders").toString());
    assertEquals("zone \"eu\"", Target.zone("eu").toString());
    assertEquals("the cluster", Target.cluster().toString());
  }

  @Test
  void permitAll_allowsEveryOperationOnEveryTarget() {
    Authorizer authorizer = new PermitAllAuthorizer();
    for (Operation operation : Operation.values()) {
      for (Target target : Set.of(Target.key("k"), Target.zone("z"), Target.cluster())) {
        assertEquals(Decision.allow(), authorizer.authorize(operation, target));
      }
    }
  }
}
