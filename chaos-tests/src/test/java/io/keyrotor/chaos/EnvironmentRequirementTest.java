package io.keyrotor.chaos;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

class EnvironmentRequirementTest {
  private static final List<String> MISSING =
      List.of("root (network namespaces need uid 0)", "nft (apt-get install nftables)");

  private static EnvironmentRequirement with(Map<String, String> environment) {
    return new EnvironmentRequirement(environment::get);
  }

  @Test
  void nothingMissing_runsWithOrWithoutCi() {
    assertDoesNotThrow(() -> with(Map.of()).require("t", List.of(), "install it"));
    assertDoesNotThrow(() -> with(Map.of("CI", "true")).require("t", List.of(), "install it"));
  }

  @Test
  void somethingMissingOutsideCi_skipsNamingWhatIsMissing() {
    TestAbortedException skipped =
        assertThrows(
            TestAbortedException.class,
            () -> with(Map.of()).require("the smoke", MISSING, "Run it as root."));

    assertTrue(skipped.getMessage().contains("the smoke"), skipped.getMessage());
    assertTrue(skipped.getMessage().contains("root (network namespaces"), skipped.getMessage());
    assertTrue(skipped.getMessage().contains("nft (apt-get install"), skipped.getMessage());
    assertTrue(skipped.getMessage().contains("Run it as root."), skipped.getMessage());
  }

  @Test
  void somethingMissingUnderCi_failsNamingWhatIsMissing() {
    AssertionFailedError failed =
        assertThrows(
            AssertionFailedError.class,
            () -> with(Map.of("CI", "true")).require("the smoke", MISSING, "Run it as root."));

    assertTrue(failed.getMessage().startsWith("CI=true"), failed.getMessage());
    assertTrue(failed.getMessage().contains("root (network namespaces"), failed.getMessage());
    assertTrue(failed.getMessage().contains("nft (apt-get install"), failed.getMessage());
  }

  @Test
  void ciIsTrueOnlyWhenTheVariableSaysTrue() {
    assertTrue(with(Map.of("CI", "true")).underCi());
    assertTrue(with(Map.of("CI", " TRUE ")).underCi());
    assertFalse(with(Map.of()).underCi());
    assertFalse(with(Map.of("CI", "false")).underCi());
    assertFalse(with(Map.of("CI", "")).underCi());
    assertThrows(
        TestAbortedException.class,
        () -> with(Map.of("CI", "false")).require("t", MISSING, "install it"));
  }
}
