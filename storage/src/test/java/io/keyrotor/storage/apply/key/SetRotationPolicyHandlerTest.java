package io.keyrotor.storage.apply.key;

import static io.keyrotor.storage.Commands.create;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.rpc.Code;
import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.RotationPolicyRecord;
import io.keyrotor.proto.internal.v1.SetRotationPolicy;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** SetRotationPolicy through the dispatcher. */
class SetRotationPolicyHandlerTest {
  private static final long T0 = 1_700_000_000_000L;
  private final InMemoryState view = new InMemoryState();
  private final Map<String, KeyRecord> keys = view.keyMap();

  private Effects apply(Command command) {
    return view.apply(command);
  }

  @Test
  void setRotationPolicy_negativePeriod_invalidPolicy() {
    apply(create("r1", T0, "k"));
    Command command =
        Command.newBuilder()
            .setProposedTimeUnixMillis(T0)
            .setSetRotationPolicy(
                SetRotationPolicy.newBuilder()
                    .setName("k")
                    .setPolicy(RotationPolicyRecord.newBuilder().setRotationPeriodMillis(-5)))
            .build();

    assertEquals("INVALID_POLICY", apply(command).result().getReason());
  }

  @Test
  void setRotationPolicy_valid_storedWithNewRevision() {
    apply(create("r1", T0, "k"));
    RotationPolicyRecord policy =
        RotationPolicyRecord.newBuilder().setRotationPeriodMillis(86_400_000L).build();
    Command command =
        Command.newBuilder()
            .setProposedTimeUnixMillis(T0)
            .setSetRotationPolicy(SetRotationPolicy.newBuilder().setName("k").setPolicy(policy))
            .build();

    assertEquals(Code.OK_VALUE, apply(command).result().getCode());
    assertEquals(policy, keys.get("k").getPolicy());
    assertEquals(2, keys.get("k").getRevision());
  }
}
