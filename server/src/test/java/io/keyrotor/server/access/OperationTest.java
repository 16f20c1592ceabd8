package io.keyrotor.server.access;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.grpc.MethodDescriptor;
import io.keyrotor.api.v1.AdminServiceGrpc;
import io.keyrotor.api.v1.AuditServiceGrpc;
import io.keyrotor.api.v1.BackupServiceGrpc;
import io.keyrotor.api.v1.ComplianceServiceGrpc;
import io.keyrotor.api.v1.DataAuditServiceGrpc;
import io.keyrotor.api.v1.KeyServiceGrpc;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Every RPC that changes state has an Operation the authoriser decides on, and only those. */
class OperationTest {
  @Test
  void operations_coverEveryRpc_andEachNeedsOnePermission() {
    Set<String> rpcs = new TreeSet<>();
    for (var method : KeyServiceGrpc.getServiceDescriptor().getMethods()) {
      rpcs.add(((MethodDescriptor<?, ?>) method).getFullMethodName());
    }
    for (var method : AdminServiceGrpc.getServiceDescriptor().getMethods()) {
      rpcs.add(((MethodDescriptor<?, ?>) method).getFullMethodName());
    }
    for (var method : DataAuditServiceGrpc.getServiceDescriptor().getMethods()) {
      rpcs.add(((MethodDescriptor<?, ?>) method).getFullMethodName());
    }
    for (var method : ComplianceServiceGrpc.getServiceDescriptor().getMethods()) {
      rpcs.add(((MethodDescriptor<?, ?>) method).getFullMethodName());
    }
    for (var method : AuditServiceGrpc.getServiceDescriptor().getMethods()) {
      rpcs.add(((MethodDescriptor<?, ?>) method).getFullMethodName());
    }
    for (var method : BackupServiceGrpc.getServiceDescriptor().getMethods()) {
      rpcs.add(((MethodDescriptor<?, ?>) method).getFullMethodName());
    }
    Set<String> operations =
        Arrays.stream(Operation.values())
            .filter(o -> o != Operation.CHAOS && o != Operation.HTTP_STATUS)
            .map(Operation::fullMethodName)
            .collect(Collectors.toCollection(TreeSet::new));
    assertEquals(rpcs, operations, "a new RPC needs an Operation and its permission");
    Set<String> withoutPermission =
        Arrays.stream(Operation.values())
            .filter(o -> o.permissionOrNull() == null)
            .map(Operation::fullMethodName)
            .collect(Collectors.toCollection(TreeSet::new));
    assertEquals(
        Set.of(
            "keyrotor.v1.AdminService/GetClusterStatus", "keyrotor.v1.AdminService/GetNodeStatus"),
        withoutPermission);
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
