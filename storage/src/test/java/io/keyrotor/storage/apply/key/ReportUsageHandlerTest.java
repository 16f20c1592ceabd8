package io.keyrotor.storage.apply.key;

import static io.keyrotor.storage.Commands.create;
import static io.keyrotor.storage.apply.InMemoryState.at;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.keyrotor.proto.internal.v1.Command;
import io.keyrotor.proto.internal.v1.KeyRecord;
import io.keyrotor.proto.internal.v1.NodeRecord;
import io.keyrotor.proto.internal.v1.ReportUsage;
import io.keyrotor.proto.internal.v1.UsageCount;
import io.keyrotor.storage.apply.Effects;
import io.keyrotor.storage.apply.InMemoryState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** ReportUsage: counts per version. */
class ReportUsageHandlerTest {
  private static final long T0 = 1_700_000_000_000L;
  private final InMemoryState view = new InMemoryState();
  private final Map<String, KeyRecord> keys = view.keyMap();

  @BeforeEach
  void threeNodesServeTheDefaultZone() {
    for (String id : List.of("n1", "n2", "n3")) {
      view.nodeMap().put(id, NodeRecord.newBuilder().setId(id).addZones("default").build());
    }
  }

  private Effects apply(Command command) {
    return view.apply(command);
  }

  @Test
  void usageReports_addUpPerVersionAndSkipUnknownKeys() {
    apply(create("c", T0, "k"));
    Command report =
        at(
            T0 + 1,
            Command.newBuilder()
                .setReportUsage(
                    ReportUsage.newBuilder()
                        .setNode("n1")
                        .addCounts(
                            UsageCount.newBuilder().setName("k").setVersion(1).setEncryptions(40))
                        .addCounts(
                            UsageCount.newBuilder()
                                .setName("gone")
                                .setVersion(1)
                                .setEncryptions(9))));
    apply(report);
    apply(at(T0 + 2, report.toBuilder()));

    assertEquals(80, keys.get("k").getVersions(0).getEncryptions());
  }
}
