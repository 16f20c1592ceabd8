package io.keyrotor.chaos.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** W5's slots: consecutive scheduled versions one period apart, rounded. */
class ScheduledSlotsTest {
  private static final long P = 5_000;

  private static List<Long> slots(long... activations) {
    List<NodeApi.VersionView> versions = new ArrayList<>();
    versions.add(new NodeApi.VersionView(1, "DECRYPT_ONLY", 1_000, 1_000, "UNSPECIFIED"));
    for (int i = 0; i < activations.length; i++) {
      versions.add(
          new NodeApi.VersionView(
              i + 2, "DECRYPT_ONLY", activations[i], activations[i], "SCHEDULED"));
    }
    JsonArray out = OperationValues.scheduledSlots(new NodeApi.KeyView("k", 0, 1, versions), P);
    List<Long> slots = new ArrayList<>();
    for (JsonElement e : out) {
      slots.add(e.getAsJsonObject().get("slot").getAsLong());
    }
    return slots;
  }

  @Test
  void normalCadence_oneSlotEach_evenWithTickLateness() {
    assertEquals(List.of(1L, 2L, 3L), slots(6_200, 11_450, 16_700));
  }

  @Test
  void slightlyEarlyRotation_clockStepBetweenDueCheckAndStamp_nextSlot() {
    assertEquals(List.of(1L, 2L, 3L), slots(6_000, 11_000, 15_900));
  }

  @Test
  void twoRotationsForOneDueTime_sameSlot() {
    assertEquals(List.of(1L, 2L, 2L), slots(6_000, 11_000, 11_020));
  }

  @Test
  void aPeriodWithoutRotation_skipsASlot() {
    assertEquals(List.of(1L, 3L), slots(6_000, 16_100));
  }
}
