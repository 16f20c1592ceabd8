package io.keyrotor.storage.apply.key;

import static io.keyrotor.storage.CommandBodies.setRotationPolicy;
import static io.keyrotor.storage.apply.InMemoryState.T0;
import static io.keyrotor.storage.apply.InMemoryState.reason;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.rpc.Code;
import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import io.keyrotor.storage.Commands;
import io.keyrotor.storage.apply.InMemoryState;
import org.junit.jupiter.api.Test;

/** SetRotationPolicy through the dispatcher. */
class SetRotationPolicyHandlerTest {
  private final InMemoryState view = new InMemoryState();

  @Test
  void setRotationPolicy_negativePeriod_invalidPolicy() {
    view.apply(Commands.create("r1", T0, "k"));
    RotationPolicyRecord.Builder negative =
        RotationPolicyRecord.newBuilder().setRotationPeriodMillis(-5);

    assertEquals("INVALID_POLICY", reason(view.apply(T0, setRotationPolicy("k", negative))));
  }

  @Test
  void setRotationPolicy_valid_storedWithNewRevision() {
    view.apply(Commands.create("r1", T0, "k"));
    RotationPolicyRecord.Builder policy =
        RotationPolicyRecord.newBuilder().setRotationPeriodMillis(86_400_000L);

    assertEquals(Code.OK_VALUE, view.apply(T0, setRotationPolicy("k", policy)).result().getCode());
    assertEquals(policy.build(), view.key("k").getPolicy());
    assertEquals(2, view.key("k").getRevision());
  }
}
