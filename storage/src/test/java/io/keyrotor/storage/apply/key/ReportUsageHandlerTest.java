package io.keyrotor.storage.apply.key;

import static io.keyrotor.storage.CommandBodies.reportUsage;
import static io.keyrotor.storage.CommandBodies.usage;
import static io.keyrotor.storage.apply.InMemoryState.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.keyrotor.proto.internal.v1.ReportUsage;
import io.keyrotor.storage.Commands;
import io.keyrotor.storage.apply.InMemoryState;
import org.junit.jupiter.api.Test;

/** ReportUsage: counts per version. */
class ReportUsageHandlerTest {
  private final InMemoryState view = new InMemoryState().threeNodesServeTheDefaultZone();

  @Test
  void usageReports_addUpPerVersionAndSkipUnknownKeys() {
    view.apply(Commands.create("c", T0, "k"));
    ReportUsage.Builder report = reportUsage("n1", usage("k", 1, 40), usage("gone", 1, 9));

    view.apply(T0 + 1, report);
    view.apply(T0 + 2, report);

    assertEquals(80, view.version("k", 1).getEncryptions());
  }
}
