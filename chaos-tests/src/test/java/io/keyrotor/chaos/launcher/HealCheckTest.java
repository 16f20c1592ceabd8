package io.keyrotor.chaos.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The heal's check of what is left in a namespace, on listings captured from nft 1.0 and iproute2
 * 6.1 (Debian 12): a healed namespace shows none, a drop rule or a rate limit shows, and a listing
 * that failed is not taken for a clean one.
 */
class HealCheckTest {
  // nft indents with tabs, written as \t: a text block would strip literal ones as indentation.
  private static final String HEALED_TABLE =
      """
      table inet chaos {
      \tchain input {
      \t\ttype filter hook input priority filter - 10; policy accept;
      \t}

      \tchain output {
      \t\ttype filter hook output priority filter - 10; policy accept;
      \t}
      }
      """;
  private static final String CUT_TABLE =
      """
      table inet chaos {
      \tchain input {
      \t\ttype filter hook input priority filter - 10; policy accept;
      \t\tip saddr 10.77.0.2 drop
      \t}

      \tchain output {
      \t\ttype filter hook output priority filter - 10; policy accept;
      \t}
      }
      """;
  private static final String LOSSY_TABLE =
      HEALED_TABLE.replace(
          "policy accept;\n\t}\n\n\tchain output",
          "policy accept;\n\t\tnumgen random mod 100 < 30 drop\n\t}\n\n\tchain output");
  private static final String NO_QDISC = "qdisc noqueue 0: root refcnt 2 \n";
  private static final String TBF =
      "qdisc tbf 8089: root refcnt 3 rate 1Mbit burst 4Kb lat 50ms \n";

  private static Shell.Result ok(String stdout) {
    return new Shell.Result(List.of("listing"), 0, stdout, "");
  }

  private static Shell.Result failed(String stderr) {
    return new Shell.Result(List.of("listing"), 1, "", stderr);
  }

  @Test
  void healedNamespace_hasNothingLeft() {
    assertEquals("", NamespaceFaults.faultsIn(ok(HEALED_TABLE), ok(NO_QDISC)));
  }

  @Test
  void dropRulesAndRateLimits_areLeft() {
    assertTrue(
        NamespaceFaults.faultsIn(ok(CUT_TABLE), ok(NO_QDISC))
            .startsWith("drop rules: table inet chaos"));
    assertTrue(NamespaceFaults.faultsIn(ok(LOSSY_TABLE), ok(NO_QDISC)).contains("numgen random"));
    String both = NamespaceFaults.faultsIn(ok(CUT_TABLE), ok(TBF));
    assertTrue(both.contains("drop rules") && both.contains("rate limit: qdisc tbf"), both);
  }

  @Test
  void aListingThatFailed_isNotAHeal() {
    assertTrue(
        NamespaceFaults.faultsIn(failed("Error: No such file or directory"), ok(NO_QDISC))
            .startsWith("nft list failed"));
    assertTrue(
        NamespaceFaults.faultsIn(ok(HEALED_TABLE), failed("Cannot find device \"eth0\""))
            .startsWith("tc show failed"));
  }
}
