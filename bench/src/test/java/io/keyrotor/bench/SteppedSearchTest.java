package io.keyrotor.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SteppedSearchTest {
  @Test
  void ascending_stopsAtFirstFailure_returnsLastPassingRate() throws Exception {
    List<Long> tried = new ArrayList<>();
    long best = searchFrom1000(2000, tried);
    assertEquals(1954, best);
    assertEquals(List.of(1000L, 1250L, 1563L, 1954L, 2443L), tried);
  }

  @Test
  void firstStepFails_descendsUntilOnePasses() throws Exception {
    List<Long> tried = new ArrayList<>();
    long best = searchFrom1000(500, tried);
    assertEquals(410, best);
    assertEquals(List.of(1000L, 640L, 410L), tried);
  }

  @Test
  void nothingPasses_withinTheStepBudget_returnsZero() throws Exception {
    assertEquals(0, SteppedSearch.highestPassing(1000, 1.25, 3, rate -> false));
  }

  @Test
  void everythingPasses_returnsTheLastStep() throws Exception {
    assertEquals(1563, SteppedSearch.highestPassing(1000, 1.25, 3, rate -> true));
  }

  /**
   * A search from 1000 in steps of 1.25 (at most 10) where rates up to {@code limit} pass; every
   * rate tried is added to {@code tried}.
   */
  private static long searchFrom1000(long limit, List<Long> tried) throws Exception {
    return SteppedSearch.highestPassing(
        1000,
        1.25,
        10,
        rate -> {
          tried.add(rate);
          return rate <= limit;
        });
  }

  @Test
  void badArguments_areRefused() {
    assertThrows(
        IllegalArgumentException.class, () -> SteppedSearch.highestPassing(0, 1.25, 3, r -> true));
    assertThrows(
        IllegalArgumentException.class, () -> SteppedSearch.highestPassing(10, 1.0, 3, r -> true));
  }
}
